// Package ecosystemtest is the conformance suite every Ecosystem runs,
// the core ones and third parties' alike: a version order that is a
// total order on the cases given, extractors that find exactly the
// packages of a sample tree with well-formed package URLs, and that
// neither panic nor run away on damaged copies of their files.
package ecosystemtest
