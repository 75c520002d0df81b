// Package archivetest writes small zip and tar archives in memory, for
// tests, benchmarks and demos that need jars, wheels or image layers.
package archivetest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"path"
	"sort"
)

// Zip returns a zip (a jar, a wheel) of name, data pairs, deflated.
func Zip(nameData ...string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(nameData); i += 2 {
		w, err := zw.Create(nameData[i])
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(nameData[i+1])); err != nil {
			return nil, err
		}
	}
	err := zw.Close()
	return buf.Bytes(), err
}

// Tar returns a tar (an image layer) of files by slash-separated path,
// each directory written once before its first file.
func Tar(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		var chain []string
		for d := path.Dir(n); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			chain = append([]string{d}, chain...)
		}
		for _, d := range chain {
			if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
				return nil, err
			}
		}
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n]))}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}
