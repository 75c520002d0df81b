// Package rpm is the RPM ecosystem: version order (rpmvercmp and EVR
// comparison exactly as rpm 4.18 and libsolv order them), NEVRA parsing
// and the package-URL rules for pkg:rpm.
package rpm
