package hostile

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
)

// Bomb describes a nested-jar bomb: a jar holding Fanout jars, each
// holding Fanout jars, Depth levels down, the innermost jars holding
// Fanout entries of Size zero bytes each, named like jars (zero-I.jar)
// so that a scanner inflates them to open them. Every jar also holds a
// pom.properties naming the artifact bomb:lN:1 (N its level), so that a
// scanner has something real to find.
//
// Deflate shrinks zeros about a thousandfold, and the deflated zeros of
// one level are themselves repetitive, so that each level shrinks again:
// Bomb{Depth: 1, Fanout: 4, Size: 32 << 20} inflates to 512 MiB of
// innermost entries (Fanout^(Depth+1) × Size) from a jar of about
// 4 KB.
//
// With Entries set, the innermost jars are instead real jars of Entries
// empty entries each (dir-I.jar): a directory bomb, whose directories,
// not contents, take a reader's memory (about 200 bytes an entry).
type Bomb struct {
	Depth, Fanout int
	Size          int64
	Entries       int
}

// Inflated returns the bytes of the innermost entries together.
func (b Bomb) Inflated() int64 {
	n := b.Size
	for range b.Depth + 1 {
		n *= int64(b.Fanout)
	}
	return n
}

// Write writes the outer jar to w, streaming: the generator holds no
// level in memory.
func (b Bomb) Write(w io.Writer) error { return b.jar(w, 0) }

func (b Bomb) jar(w io.Writer, level int) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	pom, err := zw.Create("META-INF/maven/bomb/l" + fmt.Sprint(level) + "/pom.properties")
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(pom, "groupId=bomb\nartifactId=l%d\nversion=1\n", level); err != nil {
		return err
	}
	for i := range b.Fanout {
		if level == b.Depth && b.Entries > 0 {
			e, err := zw.Create(fmt.Sprintf("dir-%d.jar", i))
			if err != nil {
				return err
			}
			if err := emptyEntries(e, b.Entries); err != nil {
				return err
			}
			continue
		}
		if level == b.Depth {
			e, err := zw.Create(fmt.Sprintf("zero-%d.jar", i))
			if err != nil {
				return err
			}
			if _, err := io.Copy(e, io.LimitReader(Zeros{}, b.Size)); err != nil {
				return err
			}
			continue
		}
		e, err := zw.Create(fmt.Sprintf("l%d-%d.jar", level+1, i))
		if err != nil {
			return err
		}
		if err := b.jar(e, level+1); err != nil {
			return err
		}
	}
	return zw.Close()
}

// emptyEntries writes a zip of n empty stored entries.
func emptyEntries(w io.Writer, n int) error {
	zw := zip.NewWriter(w)
	for i := range n {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("%08d", i), Method: zip.Store}); err != nil {
			return err
		}
	}
	return zw.Close()
}

// LargeJar writes a real jar of about size bytes: the pom.properties of
// the artifact big:jar:1 and a stored entry of zeros. A scanner must read
// it in place, however large (a Spring Boot fat jar can be hundreds of
// MB); gzip shrinks it about a thousandfold in a layer.
func LargeJar(w io.Writer, size int64) error {
	zw := zip.NewWriter(w)
	pom, err := zw.Create("META-INF/maven/big/jar/pom.properties")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(pom, "groupId=big\nartifactId=jar\nversion=1\n"); err != nil {
		return err
	}
	data, err := zw.CreateHeader(&zip.FileHeader{Name: "data.bin", Method: zip.Store})
	if err != nil {
		return err
	}
	if _, err := io.Copy(data, io.LimitReader(Zeros{}, size)); err != nil {
		return err
	}
	return zw.Close()
}
