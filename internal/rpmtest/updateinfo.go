package rpmtest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// WriteUpdateinfo writes an updateinfo.xml of n advisories shaped like
// Fedora's (Bodhi): a title, dates, severity for security updates, a
// description of a few paragraphs, self, Bugzilla and CVE references, and
// a collection of packages named from names, at versions newer than
// 1.0-1. The same seed gives the same document.
func WriteUpdateinfo(w io.Writer, n int, names []string, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 1))
	sevs := []string{"Critical", "Important", "Moderate", "Low", "None"}
	types := []string{"security", "security", "bugfix", "bugfix", "enhancement", "newpackage"}
	words := strings.Fields("the a fix for update this release rebase upstream memory leak crash when parsing " +
		"certificates buffer overflow in handling of malformed input denial of service via crafted " +
		"request regression introduced by previous build also includes documentation changes")
	sentence := func(k int) string {
		var b strings.Builder
		for i := range k {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	bw := &errWriter{w: w}
	bw.printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n")
	for i := range n {
		typ := types[r.IntN(len(types))]
		id := fmt.Sprintf("FEDORA-2024-%010x", r.Uint64()&0xffffffffff)
		pkg := names[r.IntN(len(names))]
		ver := fmt.Sprintf("1.%d", 1+r.IntN(20))
		rel := fmt.Sprintf("%d.fc40", 1+r.IntN(9))
		bw.printf("  <update from=\"updates@fedoraproject.org\" status=\"stable\" type=\"%s\" version=\"2.0\">\n", typ)
		bw.printf("    <id>%s</id>\n    <title>%s-%s-%s</title>\n", id, pkg, ver, rel)
		bw.printf("    <issued date=\"2024-%02d-%02d %02d:%02d:%02d\"/>\n", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
		bw.printf("    <updated date=\"2024-%02d-%02d %02d:%02d:%02d\"/>\n", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
		bw.printf("    <pushcount>1</pushcount>\n")
		if typ == "security" {
			bw.printf("    <severity>%s</severity>\n", sevs[r.IntN(len(sevs))])
		}
		bw.printf("    <summary>%s-%s-%s bodhi update</summary>\n", pkg, ver, rel)
		bw.printf("    <description>")
		for p := range 1 + r.IntN(2) {
			if p > 0 {
				bw.printf("\n\n")
			}
			bw.printf("%s.", sentence(3+r.IntN(10)))
		}
		bw.printf("</description>\n")
		bw.printf("    <references>\n      <reference href=\"https://bodhi.fedoraproject.org/updates/%s\" id=\"%s\" title=\"%s-%s-%s\" type=\"self\"/>\n", id, id, pkg, ver, rel)
		for range r.IntN(3) {
			bz := 2200000 + r.IntN(100000)
			cve := fmt.Sprintf("CVE-2024-%d", 1000+r.IntN(40000))
			bw.printf("      <reference href=\"https://bugzilla.redhat.com/show_bug.cgi?id=%d\" id=\"%d\" title=\"%s %s: %s\" type=\"bugzilla\"/>\n", bz, bz, cve, pkg, sentence(5))
			if typ == "security" {
				bw.printf("      <reference href=\"https://www.cve.org/CVERecord?id=%s\" id=\"%s\" type=\"cve\"/>\n", cve, cve)
			}
		}
		bw.printf("    </references>\n    <pkglist>\n      <collection short=\"F40\">\n        <name>Fedora 40</name>\n")
		for k := range 1 + r.IntN(2) {
			name := pkg
			if k > 0 {
				name = fmt.Sprintf("%s-sub%d", pkg, k)
			}
			arches := []string{"x86_64"}
			if r.IntN(4) == 0 {
				arches = append(arches, "i686")
			}
			for _, arch := range arches {
				bw.printf("        <package name=\"%s\" version=\"%s\" release=\"%s\" epoch=\"0\" arch=\"%s\" src=\"%s-%s-%s.src.rpm\">\n", name, ver, rel, arch, pkg, ver, rel)
				bw.printf("          <filename>%s-%s-%s.%s.rpm</filename>\n        </package>\n", name, ver, rel, arch)
			}
		}
		bw.printf("      </collection>\n    </pkglist>\n  </update>\n")
		_ = i
	}
	bw.printf("</updates>\n")
	return bw.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
