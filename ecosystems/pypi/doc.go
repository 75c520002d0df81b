// Package pypi is the Python ecosystem: installed distributions found by
// their *.dist-info/METADATA and *.egg-info PKG-INFO, named as PEP 503
// normalises them, ordered as PEP 440 defines (aquasecurity's
// go-pep440-version, checked against the packaging project's own ordered
// version list).
package pypi
