// Package dnfplugin holds the tests of alicorn.py, the dnf 4 plugin beside
// this file that adds `dnf alicorn report` and `dnf alicorn upgrade`. The
// plugin is Python; these tests run it in Debian's real dnf 4.14, on
// install roots and repositories built with rpm and createrepo_c.
package dnfplugin
