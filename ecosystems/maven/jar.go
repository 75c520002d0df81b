package maven

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/internal/ctxio"
	"github.com/alicorn-dev/alicorn/internal/tempfile"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Ecosystem is Java's, as Maven names artifacts.
type Ecosystem struct{}

// Type is the purl type.
func (Ecosystem) Type() string { return packageurl.TypeMaven }

// OSV is the ecosystem's name in OSV.
func (Ecosystem) OSV() string { return "Maven" }

// Compare orders two Maven versions; it never fails.
func (Ecosystem) Compare(a, b string) (int, error) { return Compare(a, b), nil }

// Extractors returns the archive extractor with its default limits.
func (Ecosystem) Extractors() []inventory.Extractor { return []inventory.Extractor{Archive{}} }

var _ ecosystems.Ecosystem = Ecosystem{}

// Limits of the archive extractor, used where Archive leaves them zero.
const (
	// DefaultMaxDepth is how deep archives nest: an ear's war's jar is 2.
	DefaultMaxDepth = 3
	// DefaultMaxInflated bounds the bytes inflated for one top-level
	// archive, nested archives and metadata files together.
	DefaultMaxInflated = 1 << 30
	// DefaultMaxNested bounds one nested archive. A stored one is read in
	// place; a compressed one is inflated into memory up to inMemory
	// bytes, else into a temporary file.
	DefaultMaxNested = 256 << 20
	// inMemory is the largest compressed nested archive inflated into
	// memory (charged to the memory budget); larger ones go to a
	// temporary file (charged to the disk budget).
	inMemory = 8 << 20
	// maxMeta bounds one pom.properties or MANIFEST.MF.
	maxMeta = 1 << 20
	// maxEntries bounds the entries of one archive's directory.
	maxEntries = 1 << 20
)

// ErrLimit is wrapped by errors for archives past the extractor's limits
// (zip bombs, archives nested too deep).
var ErrLimit = errors.New("past the archive limits")

// Archive finds Maven artifacts in jar, war and ear files.
type Archive struct {
	// MaxDepth, MaxInflated and MaxNested override the defaults when set.
	MaxDepth    int
	MaxInflated int64
	MaxNested   int64
}

// Name identifies the extractor.
func (Archive) Name() string { return "maven/archive" }

func isArchive(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jar", ".war", ".ear":
		return true
	}
	return false
}

// Required reports whether p is a jar, war or ear file.
func (Archive) Required(p string, info fs.FileInfo) bool {
	return isArchive(p) && info.Mode().IsRegular()
}

// Extract lists the artifacts of the archive and of the archives nested
// in it. Their locations are the file's path, and for nested ones the
// path inside it after "!/" as Java's jar URLs write it.
//
// What it holds is charged to in.Limits: the archives' directories and
// nested archives inflated into memory to the memory budget, nested
// archives inflated into temporary files to the disk budget.
func (x Archive) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	ra, size, closeFile, err := in.OpenReaderAt()
	if err != nil {
		return nil, err
	}
	defer closeFile()
	x = x.withDefaults()
	w := &walker{ctx: ctx, x: x, layer: in.Layer, budget: x.MaxInflated, lim: in.Limits}
	err = w.archive(ra, size, in.Path, path.Base(in.Path), 0)
	return w.out, err
}

// WantsHead reports whether head can start a jar: a zip archive, or a
// launch script before one (Spring Boot's fully executable jars).
func (Archive) WantsHead(_ string, head []byte) bool { return zipHead(head) }

func zipHead(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK")) || bytes.HasPrefix(head, []byte("#!"))
}

func (x Archive) withDefaults() Archive {
	if x.MaxDepth == 0 {
		x.MaxDepth = DefaultMaxDepth
	}
	if x.MaxInflated == 0 {
		x.MaxInflated = DefaultMaxInflated
	}
	if x.MaxNested == 0 {
		x.MaxNested = DefaultMaxNested
	}
	return x
}

type walker struct {
	ctx    context.Context
	x      Archive
	layer  string
	budget int64 // bytes left to inflate
	lim    inventory.Limits
	out    []inventory.Package
}

// read inflates a zip entry, at most limit bytes, charged to the budget.
func (w *walker) read(zf *zip.File, limit int64) ([]byte, error) {
	if int64(zf.UncompressedSize64) > limit || zf.UncompressedSize64 > 1<<62 {
		return nil, fmt.Errorf("%s: %d bytes: %w", zf.Name, zf.UncompressedSize64, ErrLimit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	defer rc.Close()
	// The directory's size may lie: read one byte past it to find out.
	max := min(limit, w.budget)
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: inflates past %d bytes: %w", zf.Name, max, ErrLimit)
	}
	w.budget -= int64(len(b))
	return b, nil
}

// archive lists one archive's artifacts; loc is its location, file its
// base name.
func (w *walker) archive(ra io.ReaderAt, size int64, loc, file string, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	zr, release, err := inventory.NewZipReader(ra, size, w.lim.Memory)
	if err != nil {
		return fmt.Errorf("%s: %w", loc, err)
	}
	defer release()
	if len(zr.File) > maxEntries {
		return fmt.Errorf("%s: %d entries: %w", loc, len(zr.File), ErrLimit)
	}
	var errs []error
	var manifest *zip.File
	found := 0
	var nested []*zip.File
	for _, zf := range zr.File {
		name := zf.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && path.Base(name) == "pom.properties":
			b, err := w.read(zf, maxMeta)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s!/%w", loc, err))
				continue
			}
			a, err := ParsePomProperties(b)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s!/%s: %w", loc, name, err))
				continue
			}
			w.add(a, loc)
			found++
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			manifest = zf
		case isArchive(name) && !zf.FileInfo().IsDir():
			nested = append(nested, zf)
		}
	}
	if found == 0 && manifest != nil {
		b, err := w.read(manifest, maxMeta)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s!/%w", loc, err))
		} else if a, ok := FromManifest(b, file); ok {
			w.add(a, loc)
		}
	}
	for _, zf := range nested {
		inner := loc + "!/" + zf.Name
		if depth+1 > w.x.MaxDepth {
			errs = append(errs, fmt.Errorf("%s: nested deeper than %d: %w", inner, w.x.MaxDepth, ErrLimit))
			continue
		}
		r, n, done, err := w.nested(ra, zf)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s!/%w", loc, err))
			if errors.Is(err, ErrLimit) && w.budget <= 0 {
				break
			}
			continue
		}
		err = w.archive(r, n, inner, path.Base(zf.Name), depth+1)
		done()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// nested opens a nested archive for random access: in place when it is
// stored (as Spring Boot stores its BOOT-INF/lib jars), else inflated,
// charged to the inflation budget, into memory or a temporary file
// charged to the run's budgets. done releases it. Contents that do not
// start as a zip archive are refused before anything is inflated.
func (w *walker) nested(ra io.ReaderAt, zf *zip.File) (r io.ReaderAt, size int64, done func(), err error) {
	size = int64(zf.UncompressedSize64)
	if zf.UncompressedSize64 > uint64(w.x.MaxNested) {
		return nil, 0, nil, fmt.Errorf("%s: %d bytes: %w", zf.Name, zf.UncompressedSize64, ErrLimit)
	}
	head := make([]byte, 2)
	if zf.Method == zip.Store && zf.CompressedSize64 == zf.UncompressedSize64 {
		off, err := zf.DataOffset()
		if err != nil {
			return nil, 0, nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		if off > math.MaxInt64-size {
			return nil, 0, nil, fmt.Errorf("%s: %w", zf.Name, zip.ErrFormat)
		}
		sr := io.NewSectionReader(ra, off, size)
		if _, err := sr.ReadAt(head, 0); err != nil || !zipHead(head) {
			return nil, 0, nil, fmt.Errorf("%s: not a zip archive", zf.Name)
		}
		return sr, size, func() {}, nil
	}
	if size > w.budget {
		return nil, 0, nil, fmt.Errorf("%s: inflates past %d bytes: %w", zf.Name, w.budget, ErrLimit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, head); err != nil || !zipHead(head) {
		return nil, 0, nil, fmt.Errorf("%s: not a zip archive", zf.Name)
	}
	// archive/zip fails a read past the recorded size (and a checksum
	// mismatch at the end): the size can be trusted to allocate.
	rest := io.MultiReader(bytes.NewReader(head), rc)
	w.budget -= size
	if size <= inMemory {
		if err := w.lim.Memory.Take(size); err != nil {
			return nil, 0, nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(rest, b); err != nil {
			w.lim.Memory.Give(size)
			return nil, 0, nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		return bytes.NewReader(b), size, func() { w.lim.Memory.Give(size) }, nil
	}
	if err := w.lim.Disk.Take(size); err != nil {
		return nil, 0, nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	f, err := os.CreateTemp(w.lim.TempDir, tempfile.Pattern(inventory.TempSpool))
	if err != nil {
		w.lim.Disk.Give(size)
		return nil, 0, nil, err
	}
	done = func() {
		f.Close()
		os.Remove(f.Name())
		w.lim.Disk.Give(size)
	}
	if _, err := io.Copy(f, ctxio.NewReader(w.ctx, io.LimitReader(rest, size))); err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	return f, size, done, nil
}

func (w *walker) add(a Artifact, loc string) {
	w.out = append(w.out, inventory.Package{
		PURL: packageurl.PackageURL{Type: packageurl.TypeMaven, Namespace: a.GroupID, Name: a.ArtifactID,
			Version: a.Version},
		Name:      a.GroupID + ":" + a.ArtifactID,
		Version:   a.Version,
		Locations: []inventory.Location{{Path: loc, Layer: w.layer}},
	})
}

// Artifact is a Maven coordinate.
type Artifact struct {
	GroupID, ArtifactID, Version string
}

// ParsePomProperties reads the groupId, artifactId and version of a
// pom.properties (a Java properties file as Maven writes it).
func ParsePomProperties(b []byte) (Artifact, error) {
	var a Artifact
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxMeta)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		k, v := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		switch k {
		case "groupId":
			a.GroupID = v
		case "artifactId":
			a.ArtifactID = v
		case "version":
			a.Version = v
		}
	}
	if err := sc.Err(); err != nil {
		return a, err
	}
	if a.GroupID == "" || a.ArtifactID == "" || a.Version == "" {
		return a, fmt.Errorf("no groupId, artifactId and version")
	}
	return a, nil
}

// FromManifest names the artifact of a jar without a pom.properties from
// its MANIFEST.MF, when the manifest says enough: the version from
// Implementation-Version or Bundle-Version; the group from
// Implementation-Vendor-Id, else from an OSGi Bundle-SymbolicName
// "group.artifact"; the artifact from the file name "artifact-version.jar",
// else from the symbolic name. ok is false when a part is missing: a
// guessed coordinate would match the wrong advisories.
func FromManifest(b []byte, file string) (a Artifact, ok bool) {
	attrs := parseManifest(b)
	a.Version = first(attrs["Implementation-Version"], attrs["Bundle-Version"])
	if a.Version == "" {
		return a, false
	}
	base := strings.TrimSuffix(file, path.Ext(file))
	if strings.HasSuffix(base, "-"+a.Version) {
		a.ArtifactID = strings.TrimSuffix(base, "-"+a.Version)
	}
	sym, _, _ := strings.Cut(attrs["Bundle-SymbolicName"], ";")
	sym = strings.TrimSpace(sym)
	a.GroupID = attrs["Implementation-Vendor-Id"]
	if sym != "" && a.ArtifactID != "" && a.GroupID == "" && strings.HasSuffix(sym, "."+a.ArtifactID) {
		a.GroupID = strings.TrimSuffix(sym, "."+a.ArtifactID)
	}
	if a.ArtifactID == "" && a.GroupID != "" && strings.HasPrefix(sym, a.GroupID+".") {
		a.ArtifactID = strings.TrimPrefix(sym, a.GroupID+".")
	}
	return a, a.GroupID != "" && a.ArtifactID != ""
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseManifest reads a manifest's main section: "Name: value" lines,
// continued by lines that start with a space, ending at an empty line.
func parseManifest(b []byte) map[string]string {
	attrs := map[string]string{}
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case line == "":
			return attrs
		case line[0] == ' ':
			if last != "" {
				attrs[last] += line[1:]
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				last = ""
				continue
			}
			last = strings.TrimSpace(k)
			attrs[last] = strings.TrimSpace(v)
		}
	}
	return attrs
}

// PURLName splits OSV's "groupId:artifactId" into the purl namespace and
// name.
func (Ecosystem) PURLName(osvName string) (namespace, name string) {
	g, a, ok := strings.Cut(osvName, ":")
	if !ok {
		return "", osvName
	}
	return g, a
}
