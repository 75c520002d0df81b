package repo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrNotCached is returned in cache-only mode when metadata is missing.
var ErrNotCached = errors.New("not in the cache")

// ErrChecksum is returned when a file does not match repomd's checksum.
var ErrChecksum = errors.New("checksum mismatch")

// Fetcher downloads repository metadata and keeps it in CacheDir.
type Fetcher struct {
	// Client fetches http and https URLs; nil means http.DefaultClient.
	Client *http.Client
	// CacheDir holds downloaded metadata, one directory per repository.
	// Empty means no cache: remote files are fetched on every run.
	CacheDir string
	// CacheOnly reads only what the cache holds (dnf -C).
	CacheOnly bool
}

// Metadata is a repository whose repomd.xml has been read.
type Metadata struct {
	Config Config
	Repomd *Repomd
	// BaseURL is the URL the metadata came from.
	BaseURL string
	// RepomdChecksum is the SHA-256 of repomd.xml: it changes whenever
	// any metadata file does.
	RepomdChecksum string

	f     *Fetcher
	cache string // this repository's cache directory, or ""
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return http.DefaultClient
}

// cacheDir names a repository's cache directory after its ID and URLs,
// so that a changed baseurl never reads another repository's files.
func (f *Fetcher) cacheDir(c Config) string {
	if f.CacheDir == "" {
		return ""
	}
	h := sha256.Sum256([]byte(strings.Join(append(append([]string{}, c.BaseURLs...), c.Metalink, c.Mirrorlist), "\n")))
	return filepath.Join(f.CacheDir, c.ID+"-"+hex.EncodeToString(h[:8]))
}

// Fetch reads the repository's repomd.xml from the first base URL that
// answers (or, in cache-only mode, from the cache).
func (f *Fetcher) Fetch(ctx context.Context, c Config) (*Metadata, error) {
	md := &Metadata{Config: c, f: f, cache: f.cacheDir(c)}
	var raw []byte
	if f.CacheOnly {
		if md.cache == "" {
			return nil, fmt.Errorf("repository %s: cache-only mode needs a cache directory", c.ID)
		}
		b, err := os.ReadFile(filepath.Join(md.cache, "repomd.xml"))
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w: run once without -C to fill the cache", c.ID, ErrNotCached)
		}
		base, _ := os.ReadFile(filepath.Join(md.cache, "baseurl"))
		raw, md.BaseURL = b, string(base)
	} else {
		urls, err := f.baseURLs(ctx, c)
		if err != nil {
			return nil, err
		}
		if len(urls) == 0 {
			return nil, fmt.Errorf("repository %s (%s): no baseurl, metalink or mirrorlist", c.ID, c.Origin)
		}
		var errs []error
		for _, u := range urls {
			b, err := f.get(ctx, join(u, "repodata/repomd.xml"))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			raw, md.BaseURL = b, u
			break
		}
		if raw == nil {
			return nil, fmt.Errorf("repository %s: cannot download repomd.xml: %w", c.ID, errors.Join(errs...))
		}
	}
	rm, err := ParseRepomd(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("repository %s (%s): %w", c.ID, md.BaseURL, err)
	}
	sum := sha256.Sum256(raw)
	md.Repomd, md.RepomdChecksum = rm, hex.EncodeToString(sum[:])
	if md.cache != "" && !f.CacheOnly {
		if err := os.MkdirAll(md.cache, 0o755); err != nil {
			return nil, err
		}
		for name, data := range map[string][]byte{"repomd.xml": raw, "baseurl": []byte(md.BaseURL)} {
			p := filepath.Join(md.cache, name)
			if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
				continue // unchanged: no write on every run
			}
			if err := writeFile(p, data); err != nil {
				return nil, err
			}
		}
	}
	return md, nil
}

// baseURLs returns the configured base URLs followed by those of the
// metalink or mirrorlist.
func (f *Fetcher) baseURLs(ctx context.Context, c Config) ([]string, error) {
	urls := append([]string{}, c.BaseURLs...)
	if c.Metalink != "" {
		b, err := f.get(ctx, c.Metalink)
		if err != nil {
			return nil, fmt.Errorf("repository %s: metalink: %w", c.ID, err)
		}
		var ml struct {
			URLs []string `xml:"files>file>resources>url"`
		}
		if err := xml.Unmarshal(b, &ml); err != nil {
			return nil, fmt.Errorf("repository %s: metalink %s: %w", c.ID, c.Metalink, err)
		}
		for _, u := range ml.URLs {
			u = strings.TrimSpace(u)
			if strings.HasSuffix(u, "/repodata/repomd.xml") {
				urls = append(urls, strings.TrimSuffix(u, "repodata/repomd.xml"))
			}
		}
	}
	if c.Mirrorlist != "" {
		b, err := f.get(ctx, c.Mirrorlist)
		if err != nil {
			return nil, fmt.Errorf("repository %s: mirrorlist: %w", c.ID, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") {
				urls = append(urls, line)
			}
		}
	}
	return urls, nil
}

func join(base, rel string) string {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + rel
}

// open returns a reader of the resource at u: a local file for file://
// URLs, otherwise an HTTP response body.
func (f *Fetcher) open(ctx context.Context, u string) (io.ReadCloser, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	switch pu.Scheme {
	case "file":
		return os.Open(pu.Path)
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := f.client().Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %s", u, resp.Status)
		}
		return resp.Body, nil
	}
	return nil, fmt.Errorf("%s: unsupported URL scheme %q", u, pu.Scheme)
}

func (f *Fetcher) get(ctx context.Context, u string) ([]byte, error) {
	r, err := f.open(ctx, u)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, 256<<20))
}

func writeFile(name string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func newHash(typ string) (hash.Hash, error) {
	switch strings.ToLower(typ) {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha1", "sha":
		return sha1.New(), nil
	case "sha224":
		return sha256.New224(), nil
	}
	return nil, fmt.Errorf("unsupported checksum type %q", typ)
}

// verifier hashes what it reads and, at the end, fails unless the
// digest is the expected one.
type verifier struct {
	r    io.Reader
	h    hash.Hash
	want string
	name string
	done bool
	err  error
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.done {
		return 0, v.eof()
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		v.done = true
		if got := hex.EncodeToString(v.h.Sum(nil)); !strings.EqualFold(got, strings.TrimSpace(v.want)) {
			v.err = fmt.Errorf("%s: %w: repomd.xml says %s, the file is %s", v.name, ErrChecksum, strings.TrimSpace(v.want), got)
		}
		return n, v.eof()
	}
	return n, err
}

func (v *verifier) eof() error {
	if v.err != nil {
		return v.err
	}
	return io.EOF
}

// Open returns the decompressed content of the metadata file of type typ
// (such as "updateinfo" or "primary"), verified against repomd's
// checksum as it is read: the reader's final Read fails on a mismatch,
// so a caller that reads to the end never accepts altered data. It
// returns nil and no error when the repository has no such file.
func (m *Metadata) Open(ctx context.Context, typ string) (*File, *Data, error) {
	d := m.Repomd.Find(typ)
	if d == nil {
		return nil, nil, nil
	}
	h, err := newHash(d.Checksum.Type)
	if err != nil {
		return nil, nil, fmt.Errorf("repository %s: %s: %w", m.Config.ID, d.Location.Href, err)
	}
	name := path.Base(d.Location.Href)
	raw, err := m.openRaw(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	label := m.BaseURL + d.Location.Href
	if !strings.Contains(m.BaseURL, "://") || strings.HasPrefix(m.BaseURL, "file://") {
		label = strings.TrimPrefix(join(m.BaseURL, d.Location.Href), "file://")
	}
	v := &verifier{r: raw, h: h, want: d.Checksum.Value, name: label}
	z, err := Decompress(v, name)
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	return &File{Reader: z, v: v, closers: []io.Closer{z, raw}}, d, nil
}

// File is an open metadata file: reads give the decompressed content.
type File struct {
	io.Reader
	v       *verifier
	closers []io.Closer
}

// Verify reads whatever the decompressor left of the compressed file and
// checks the whole file against repomd's checksum.
func (r *File) Verify() error {
	if _, err := io.Copy(io.Discard, r.v); err != nil {
		return err
	}
	return r.v.err
}

// Close releases the file.
func (r *File) Close() error {
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// openRaw opens the compressed file: from the repository itself when it
// is local, else from the cache, downloading it there first if needed.
func (m *Metadata) openRaw(ctx context.Context, d *Data) (io.ReadCloser, error) {
	u := join(m.BaseURL, d.Location.Href)
	if strings.HasPrefix(u, "file://") && !m.f.CacheOnly {
		r, err := m.f.open(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", m.Config.ID, err)
		}
		return r, nil
	}
	if m.cache == "" {
		r, err := m.f.open(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", m.Config.ID, err)
		}
		return r, nil
	}
	cached := filepath.Join(m.cache, strings.TrimSpace(d.Checksum.Value)+"-"+path.Base(d.Location.Href))
	if r, err := os.Open(cached); err == nil {
		return r, nil
	}
	if m.f.CacheOnly {
		if strings.HasPrefix(u, "file://") {
			return m.f.open(ctx, u)
		}
		return nil, fmt.Errorf("repository %s: %s: %w", m.Config.ID, d.Location.Href, ErrNotCached)
	}
	r, err := m.f.open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", m.Config.ID, err)
	}
	defer r.Close()
	tmp, err := os.CreateTemp(m.cache, ".download-*")
	if err != nil {
		return nil, err
	}
	h, err := newHash(d.Checksum.Type)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	_, err = io.Copy(tmp, io.TeeReader(r, h))
	if err == nil && !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), strings.TrimSpace(d.Checksum.Value)) {
		err = fmt.Errorf("%s: %w: repomd.xml says %s", u, ErrChecksum, d.Checksum.Value)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("repository %s: %w", m.Config.ID, err)
	}
	if err := os.Rename(tmp.Name(), cached); err != nil {
		return nil, err
	}
	return os.Open(cached)
}

// CacheFile returns a path in the repository's cache directory for a
// file derived from its metadata (such as parsed advisories), or "" when
// there is no cache.
func (m *Metadata) CacheFile(name string) string {
	if m.cache == "" {
		return ""
	}
	return filepath.Join(m.cache, name)
}
