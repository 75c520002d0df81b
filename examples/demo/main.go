// Command demo builds a small Fedora-like host (an rpm database written by
// rpm), a repository with security advisories (createrepo_c) and a
// web module: an image composed from RPMs by rpm, with a second layer of
// what pip, bundler and a Java build put there, and an OSV feed for those.
// Then it runs dnf-security on them: summary, list with update-notice
// links, info, and the verbose list that names the CVEs of the module's
// non-RPM packages. It needs rpm, rpmbuild and createrepo_c (Debian:
// apt-get install rpm createrepo-c).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alicorn-dev/alicorn/dnfcompat"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

var installed = []rpmtest.Pkg{
	{Name: "bash", Version: "5.2.26", Release: "3.fc40", Arch: "x86_64"},
	{Name: "openssl-libs", Epoch: "1", Version: "3.2.1", Release: "2.fc40", Arch: "x86_64"},
	{Name: "openssl-libs", Epoch: "1", Version: "3.2.1", Release: "2.fc40", Arch: "i686"},
	{Name: "glibc", Version: "2.39", Release: "5.fc40", Arch: "x86_64"},
	{Name: "curl", Version: "8.6.0", Release: "7.fc40", Arch: "x86_64"},
	{Name: "python3-urllib3", Version: "1.26.18", Release: "2.fc40", Arch: "noarch"},
	{Name: "tzdata", Version: "2024a", Release: "5.fc40", Arch: "noarch"},
}

var available = []rpmtest.Pkg{
	{Name: "openssl-libs", Epoch: "1", Version: "3.2.2", Release: "3.fc40", Arch: "x86_64"},
	{Name: "curl", Version: "8.6.0", Release: "10.fc40", Arch: "x86_64"},
}

const updateinfo = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="updates@fedoraproject.org" status="stable" type="security" version="2.0">
    <id>FEDORA-2024-d2f1b9ac14</id>
    <title>openssl-3.2.2-3.fc40</title>
    <issued date="2024-06-20 01:12:43"/>
    <updated date="2024-06-21 02:03:04"/>
    <severity>Important</severity>
    <rights>Copyright (C) 2024 Red Hat, Inc. and others.</rights>
    <description>Rebase to 3.2.2.
Fixes possible denial of service in X.509 name checks and unbounded memory growth with session handling.</description>
    <references>
      <reference href="https://bodhi.fedoraproject.org/updates/FEDORA-2024-d2f1b9ac14" id="FEDORA-2024-d2f1b9ac14" title="openssl-3.2.2-3.fc40" type="self"/>
      <reference href="https://bugzilla.redhat.com/show_bug.cgi?id=2294581" id="2294581" title="CVE-2024-5535 openssl: SSL_select_next_proto buffer overread" type="bugzilla"/>
      <reference href="https://bugzilla.redhat.com/show_bug.cgi?id=2275157" id="2275157" title="CVE-2024-2511 openssl: Unbounded memory growth with session handling in TLSv1.3" type="bugzilla"/>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2024-5535" id="CVE-2024-5535" type="cve"/>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2024-2511" id="CVE-2024-2511" type="cve"/>
    </references>
    <pkglist>
      <collection short="F40">
        <name>Fedora 40</name>
        <package name="openssl-libs" version="3.2.2" release="3.fc40" epoch="1" arch="x86_64" src="openssl-3.2.2-3.fc40.src.rpm">
          <filename>openssl-libs-3.2.2-3.fc40.x86_64.rpm</filename>
        </package>
        <package name="openssl-libs" version="3.2.2" release="3.fc40" epoch="1" arch="i686" src="openssl-3.2.2-3.fc40.src.rpm">
          <filename>openssl-libs-3.2.2-3.fc40.i686.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
  <update from="updates@fedoraproject.org" status="stable" type="security" version="2.0">
    <id>FEDORA-2024-7a9d2e1f55</id>
    <title>curl-8.6.0-10.fc40</title>
    <issued date="2024-07-31 02:30:11"/>
    <severity>Moderate</severity>
    <description>Fix CVE-2024-7264: ASN.1 date parser overread.</description>
    <references>
      <reference href="https://bodhi.fedoraproject.org/updates/FEDORA-2024-7a9d2e1f55" id="FEDORA-2024-7a9d2e1f55" title="curl-8.6.0-10.fc40" type="self"/>
      <reference href="https://bugzilla.redhat.com/show_bug.cgi?id=2301888" id="2301888" title="CVE-2024-7264 curl: libcurl: ASN.1 date parser overread" type="bugzilla"/>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2024-7264" id="CVE-2024-7264" type="cve"/>
    </references>
    <pkglist>
      <collection short="F40">
        <name>Fedora 40</name>
        <package name="curl" version="8.6.0" release="10.fc40" epoch="0" arch="x86_64" src="curl-8.6.0-10.fc40.src.rpm">
          <filename>curl-8.6.0-10.fc40.x86_64.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
  <update from="updates@fedoraproject.org" status="stable" type="security" version="2.0">
    <id>FEDORA-2024-3f0c7b6a21</id>
    <title>python-urllib3-1.26.19-1.fc40</title>
    <issued date="2024-06-28 01:45:00"/>
    <severity>Low</severity>
    <description>Proxy-Authorization header kept on cross-origin redirects.</description>
    <references>
      <reference href="https://bodhi.fedoraproject.org/updates/FEDORA-2024-3f0c7b6a21" id="FEDORA-2024-3f0c7b6a21" title="python-urllib3-1.26.19-1.fc40" type="self"/>
      <reference href="https://bugzilla.redhat.com/show_bug.cgi?id=2292788" id="2292788" title="CVE-2024-37891 python-urllib3: proxy-authorization request header is not stripped during cross-origin redirects" type="bugzilla"/>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2024-37891" id="CVE-2024-37891" type="cve"/>
    </references>
    <pkglist>
      <collection short="F40">
        <name>Fedora 40</name>
        <package name="python3-urllib3" version="1.26.19" release="1.fc40" arch="noarch" src="python-urllib3-1.26.19-1.fc40.src.rpm">
          <filename>python3-urllib3-1.26.19-1.fc40.noarch.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
  <update from="updates@fedoraproject.org" status="stable" type="bugfix" version="2.0">
    <id>FEDORA-2024-55e0c1d9b8</id>
    <title>tzdata-2024a-8.fc40</title>
    <issued date="2024-05-02 01:00:00"/>
    <description>Update tzdata to fix Kazakhstan time zones.</description>
    <references>
      <reference href="https://bodhi.fedoraproject.org/updates/FEDORA-2024-55e0c1d9b8" id="FEDORA-2024-55e0c1d9b8" title="tzdata-2024a-8.fc40" type="self"/>
    </references>
    <pkglist>
      <collection short="F40">
        <name>Fedora 40</name>
        <package name="tzdata" version="2024a" release="8.fc40" arch="noarch" src="tzdata-2024a-8.fc40.src.rpm">
          <filename>tzdata-2024a-8.fc40.noarch.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>
`

func main() {
	dir := flag.String("dir", "", "where to build the demo host and repository (default: the user cache directory)")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if m := rpmtest.Missing(); len(m) > 0 {
		return fmt.Errorf("missing %v: apt-get install rpm createrepo-c util-linux", m)
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		dir = filepath.Join(base, "alicorn", "demo")
	}
	b, err := rpmtest.NewBuilder(filepath.Join(dir, "rpms"))
	if err != nil {
		return err
	}
	root, repoDir := filepath.Join(dir, "root"), filepath.Join(dir, "repo")
	os.RemoveAll(root)
	os.RemoveAll(repoDir)
	if err := b.Root(root, installed); err != nil {
		return err
	}
	if err := b.Repo(repoDir, available, []byte(updateinfo), "xz"); err != nil {
		return err
	}
	if err := webModule(context.Background(), b, dir, root); err != nil {
		return err
	}
	common := []string{"--installroot=" + root, "--setopt=reposdir=/nonexistent", "--releasever=40",
		"--repofrompath=updates,file://" + repoDir, "--setopt=cachedir=" + filepath.Join(dir, "cache"), "-q"}
	for _, cmd := range [][]string{
		{"updateinfo", "--security"},
		{"updateinfo", "list", "--with-links"},
		{"updateinfo", "list", "--with-cve", "--security"},
		{"updateinfo", "info", "--security", "--with-links"},
		{"updateinfo", "list", "--security", "-v"},
	} {
		args := append(append([]string{}, common...), cmd...)
		fmt.Printf("$ dnf-security %s\n", strings.Join(args, " "))
		if code := dnfcompat.Run(context.Background(), args, dnfcompat.Env{Stdout: os.Stdout, Stderr: os.Stderr}); code != 0 {
			return fmt.Errorf("dnf-security exited %d", code)
		}
		fmt.Println()
	}
	fmt.Printf("The demo host is %s and its repository %s. Run the reporter on them yourself with\n"+
		"  go run ./examples/dnf-security %s updateinfo list\n"+
		"and dnf with the same options (on Debian, whose rpm looks for the database in ~/.rpmdb, put\n"+
		"%%_dbpath /usr/lib/sysimage/rpm in the ~/.rpmmacros of the HOME dnf runs with).\n",
		root, repoDir, strings.Join(common, " "))
	return nil
}
