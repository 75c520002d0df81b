// Command image times a scan of a large container image for its installed
// packages against syft on the same oci-archive, side by side: a 1 GB,
// 40-layer image made at benchmark time (cached), whose base layer holds a
// 2,000-package rpm database, whose middle layers hold incompressible
// files, and whose top layer rewrites the rpm database. It prints median
// wall times, the median of the per-pair speed-ups and peak RSS.
//
//	go run ./bench/image [-runs 3] [-mb 1024] [-layers 40] [-dir DIR]
//
// syft: go install github.com/anchore/syft/cmd/syft@latest (on PATH).
package main

import (
	"archive/tar"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/alicorn-dev/alicorn/internal/benchutil"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/oci"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each scanner")
	mb := flag.Int("mb", 1024, "image size in MiB")
	layers := flag.Int("layers", 40, "layers")
	dir := flag.String("dir", "", "fixture directory (default: the user cache directory)")
	scan := flag.String("scan", "", "internal: scan this oci-archive and print the package count")
	prepare := flag.String("prepare", "", "internal: make the image at this path and exit")
	flag.Parse()
	if *prepare != "" {
		if err := makeImage(filepath.Dir(*prepare), *prepare, *mb, *layers); err != nil {
			fmt.Fprintln(os.Stderr, "image:", err)
			os.Exit(1)
		}
		return
	}
	if *scan != "" {
		if err := scanArchive(*scan); err != nil {
			fmt.Fprintln(os.Stderr, "image:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*runs, *mb, *layers, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// scanArchive is our side: open, flatten keeping only rpm databases and
// os-release, and scan.
func scanArchive(path string) error {
	ctx := context.Background()
	img, err := oci.Open(ctx, "oci-archive:"+path)
	if err != nil {
		return err
	}
	defer img.Close()
	x := rpmdb.Extractor{}
	fsys, err := oci.Flatten(ctx, img, oci.Options{Want: func(name string, info fs.FileInfo) bool {
		return x.Required(name, info) || name == "etc/os-release" || name == "usr/lib/os-release"
	}})
	if err != nil {
		return err
	}
	pkgs, err := inventory.Scan(ctx, fsys, []inventory.Extractor{x})
	if err != nil {
		return err
	}
	fmt.Println(len(pkgs), "packages")
	return nil
}

func run(runs, mb, nlayers int, dir string) error {
	if _, err := exec.LookPath("syft"); err != nil {
		return fmt.Errorf("syft is missing: go install github.com/anchore/syft/cmd/syft@latest")
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		dir = filepath.Join(base, "alicorn-bench")
	}
	archive := filepath.Join(dir, fmt.Sprintf("image-%dmb-%dl.tar", mb, nlayers))
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if _, err := os.Stat(archive); err != nil {
		fmt.Println("making the image (cached after the first run)...")
		// By a child: a child starts with its parent's peak RSS, so this
		// process stays small for the ones it measures.
		prep := exec.Command(self, "-prepare", archive, "-mb", fmt.Sprint(mb), "-layers", fmt.Sprint(nlayers))
		prep.Stdout, prep.Stderr = os.Stdout, os.Stderr
		if err := prep.Run(); err != nil {
			return fmt.Errorf("making the image: %w", err)
		}
	}
	st, err := os.Stat(archive)
	if err != nil {
		return err
	}
	env := os.Environ()
	syft, ours, speedup, err := benchutil.Paired(runs, env,
		benchutil.Side{Name: "syft", Args: []string{"scan", "oci-archive:" + archive, "-o", "syft-json", "-q"}},
		benchutil.Side{Name: self, Args: []string{"-scan", archive}})
	if err != nil {
		return err
	}
	fmt.Printf("\nimage: %d layers, %.0f MB oci-archive; %d runs each, alternating\n\n", nlayers, float64(st.Size())/1e6, runs)
	fmt.Printf("%-10s %10s %12s\n", "scanner", "wall", "peak RSS")
	fmt.Printf("%-10s %9.2fs %10.1fMB\n", "syft", syft.Wall.Seconds(), float64(syft.RSS)/1024)
	fmt.Printf("%-10s %9.2fs %10.1fMB\n", "alicorn", ours.Wall.Seconds(), float64(ours.RSS)/1024)
	fmt.Printf("\nspeed-up %.1fx; ours: %s", speedup, ours.Out)
	fmt.Println("target (issue 3): faster than syft, under 200 MB RSS")
	return nil
}

// makeImage writes the benchmark image as an oci-archive.
func makeImage(dir, archive string, mb, nlayers int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := rpmtest.NewBuilder(filepath.Join(dir, "rpms"))
	if err != nil {
		return err
	}
	root := filepath.Join(dir, "host")
	if _, err := os.Stat(filepath.Join(root, rpmtest.DBPath, "rpmdb.sqlite")); err != nil {
		files, err := b.BuildMany("bpkg", 2000)
		if err != nil {
			return err
		}
		os.RemoveAll(root)
		if err := b.RootFromFiles(root, files); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=fedora\nVERSION_ID=40\n"), 0o644); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, "image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	img := empty.Image
	add := func(name string, write func(tw *tar.Writer) error) error {
		p := filepath.Join(tmp, name)
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		tw := tar.NewWriter(f)
		err = write(tw)
		if cerr := tw.Close(); err == nil {
			err = cerr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		l, err := tarball.LayerFromFile(p)
		if err != nil {
			return err
		}
		img, err = mutate.AppendLayers(img, l)
		return err
	}
	if err := add("base.tar", func(tw *tar.Writer) error { return tw.AddFS(os.DirFS(root)) }); err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{1})
	perLayer := int64(mb) << 20 / int64(max(nlayers-2, 1))
	chunk := make([]byte, 1<<20)
	for i := 1; i < nlayers-1; i++ {
		err := add(fmt.Sprintf("layer%02d.tar", i), func(tw *tar.Writer) error {
			for n := int64(0); n < perLayer; n += int64(len(chunk)) {
				r.Read(chunk)
				h := &tar.Header{Name: fmt.Sprintf("srv/data/l%02d/f%05d.bin", i, n>>20), Mode: 0o644,
					Size: int64(len(chunk)), Typeflag: tar.TypeReg}
				if err := tw.WriteHeader(h); err != nil {
					return err
				}
				if _, err := tw.Write(chunk); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// The top layer rewrites the rpm database, as an upgrade does.
	err = add("top.tar", func(tw *tar.Writer) error {
		sub, err := fs.Sub(os.DirFS(root), rpmtest.DBPath[1:])
		if err != nil {
			return err
		}
		return fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			h, err := tar.FileInfoHeader(info, "")
			if err != nil {
				return err
			}
			h.Name = rpmtest.DBPath[1:] + "/" + p
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			f, err := sub.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		})
	})
	if err != nil {
		return err
	}
	lay := filepath.Join(tmp, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img); err != nil {
		return err
	}
	out, err := os.Create(archive + ".part")
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	err = tw.AddFS(os.DirFS(lay))
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(archive+".part", archive)
}
