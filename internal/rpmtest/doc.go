// Package rpmtest makes real RPM fixtures for tests and benchmarks: RPMs
// built by rpmbuild (memoised on disk by NEVRA), install roots whose
// rpmdb is written by rpm, and repositories made by createrepo_c and
// modifyrepo_c. It needs Debian's rpm and createrepo-c packages.
package rpmtest
