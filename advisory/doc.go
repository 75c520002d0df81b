// Package advisory holds the feed-neutral Advisory: identity, type and
// severity, texts, dates, references (Bugzilla, CVE, the update notice) and
// the packages it fixes, grouped in collections that may be tied to
// modules. Feeds (advisory/updateinfo, later advisory/osv) produce it;
// match consumes it. Version order lives in the ecosystems, not here.
package advisory
