package rpmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BuildMany builds n x86_64 packages named prefix0000 … at
// version 1.0-1 from one spec with n subpackages (far faster than n
// rpmbuild runs), and returns their paths. Results are cached in Dir.
func (b *Builder) BuildMany(prefix string, n int) ([]string, error) {
	dir := filepath.Join(b.Dir, fmt.Sprintf("many-%s-%d", prefix, n))
	done := filepath.Join(dir, ".done")
	list := func() ([]string, error) {
		return filepath.Glob(filepath.Join(dir, "RPMS", "*", prefix+"*.rpm"))
	}
	if _, err := os.Stat(done); err == nil {
		return list()
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "Name: %s-main\nVersion: 1.0\nRelease: 1\nSummary: bench\nLicense: MIT\nVendor: alicorn tests\n", prefix)
	s.WriteString("%description\nbench\n%install\nmkdir -p %{buildroot}/usr/share/bench\n")
	for i := range n {
		fmt.Fprintf(&s, "touch %%{buildroot}/usr/share/bench/%s%04d\n", prefix, i)
	}
	for i := range n {
		name := fmt.Sprintf("%s%04d", prefix, i)
		fmt.Fprintf(&s, "%%package -n %s\nSummary: %s\nProvides: %s-capability = 1.0\n%%description -n %s\n%s\n%%files -n %s\n/usr/share/bench/%s\n",
			name, name, name, name, name, name, name)
	}
	specFile := filepath.Join(dir, "many.spec")
	if err := os.WriteFile(specFile, []byte(s.String()), 0o644); err != nil {
		return nil, err
	}
	err := b.run(dir, "rpmbuild", "-bb", "--quiet", "--define", "_topdir "+dir, "--target", "x86_64",
		"--define", "_build_id_links none", "--define", "__os_install_post %{nil}", specFile)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		return nil, err
	}
	return list()
}

// RootFromFiles makes an install root whose rpmdb records the given RPM
// files (installed with --justdb).
func (b *Builder) RootFromFiles(dir string, files []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := b.run(dir, "rpm", "--root", dir, "--dbpath", DBPath, "--initdb"); err != nil {
		return err
	}
	args := append([]string{"--root", dir, "--dbpath", DBPath, "-i", "--justdb", "--nodeps", "--nosignature",
		"--ignorearch", "--ignoreos", "--replacefiles"}, files...)
	return b.run(dir, "rpm", args...)
}
