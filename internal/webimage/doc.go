// Package webimage builds alicorn's demo web-server module image from
// real RPMs: rpmbuild makes three packages from the spec files beside it
// (a base filesystem; BusyBox's httpd, from Debian's busybox-static, with
// web-init as PID 1; the pages under DocRoot) and update/rebuild.Compose
// installs them with rpm into an image whose rpm database owns every
// file. examples/web-module runs the module; update/gate's tests test
// candidates built from it. It needs rpm, rpmbuild and busybox-static.
package webimage
