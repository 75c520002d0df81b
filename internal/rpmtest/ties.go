package rpmtest

import (
	"fmt"
	"io"
	"math/rand/v2"
)

// WriteTiedUpdateinfo writes an updateinfo.xml of n advisories in which
// many advisories fix the same package NEVRAs on the same date: each
// fixes packages drawn from a small set (a tenth of names, at two
// versions each, as x86_64, i686 and noarch) in one to three
// collections, dated one of four times. dnf lists such rows in the
// order its unstable sort leaves them. The same seed gives the same
// document.
func WriteTiedUpdateinfo(w io.Writer, n int, names []string, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 2))
	type target struct{ name, ver, rel, arch string }
	var targets []target
	for i := 0; i < len(names); i += 10 {
		for _, v := range [][2]string{{"1.0", "1"}, {fmt.Sprintf("1.%d", 1+r.IntN(5)), fmt.Sprintf("%d.fc40", 1+r.IntN(3))}} {
			for _, arch := range []string{"x86_64", "i686", "noarch"} {
				if arch == "x86_64" || r.IntN(3) == 0 {
					targets = append(targets, target{names[i], v[0], v[1], arch})
				}
			}
		}
	}
	sevs := []string{"Critical", "Important", "Moderate", "Low"}
	types := []string{"security", "security", "security", "bugfix", "enhancement"}
	dates := []string{"2024-03-01 10:00:00", "2024-03-01 10:00:00", "2024-06-15 12:30:00", "2024-09-09 09:09:09"}
	bw := &errWriter{w: w}
	bw.printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n")
	for i := range n {
		typ := types[r.IntN(len(types))]
		id := fmt.Sprintf("FEDORA-2024-%010x", uint64(i)*0x9e3779b1&0xffffffffff)
		bw.printf("  <update from=\"updates@fedoraproject.org\" status=\"stable\" type=\"%s\" version=\"2.0\">\n", typ)
		bw.printf("    <id>%s</id>\n    <title>tied update %d</title>\n", id, i)
		bw.printf("    <issued date=\"%s\"/>\n", dates[r.IntN(len(dates))])
		if typ == "security" {
			bw.printf("    <severity>%s</severity>\n", sevs[r.IntN(len(sevs))])
		}
		bw.printf("    <description>Tied update %d.</description>\n    <references>\n", i)
		if r.IntN(3) == 0 {
			cve := fmt.Sprintf("CVE-2024-%d", 1000+r.IntN(400))
			bw.printf("      <reference href=\"https://www.cve.org/CVERecord?id=%s\" id=\"%s\" type=\"cve\"/>\n", cve, cve)
		}
		bw.printf("    </references>\n    <pkglist>\n")
		for range 1 + r.IntN(3) {
			bw.printf("      <collection short=\"F40\">\n        <name>Fedora 40</name>\n")
			for range 1 + r.IntN(3) {
				t := targets[r.IntN(len(targets))]
				bw.printf("        <package name=\"%s\" version=\"%s\" release=\"%s\" epoch=\"0\" arch=\"%s\" src=\"%s-%s-%s.src.rpm\">\n",
					t.name, t.ver, t.rel, t.arch, t.name, t.ver, t.rel)
				bw.printf("          <filename>%s-%s-%s.%s.rpm</filename>\n        </package>\n", t.name, t.ver, t.rel, t.arch)
			}
			bw.printf("      </collection>\n")
		}
		bw.printf("    </pkglist>\n  </update>\n")
	}
	bw.printf("</updates>\n")
	return bw.err
}
