// Package rpmdb reads installed packages from an rpm database: SQLite
// (rpmdb.sqlite, rpm >= 4.16), rpm's own ndb (Packages.db) and Berkeley DB
// hash (Packages, rpm <= 4.15). The format is recognised by content; Find
// looks in /usr/lib/sysimage/rpm, /var/lib/rpm and /usr/share/rpm under a
// root. Every record is decoded by one header reader that checks each
// claimed size against the record before using it.
package rpmdb
