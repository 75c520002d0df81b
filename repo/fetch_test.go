package repo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const exampleRepo = "../internal/testdata/example/repo"

// server serves the example repository over HTTP, plus a metalink and a
// mirrorlist that point at it, counting the requests for each path.
func server(t *testing.T) (*httptest.Server, map[string]*atomic.Int64) {
	t.Helper()
	counts := map[string]*atomic.Int64{}
	files := http.FileServer(http.Dir(exampleRepo))
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if counts[r.URL.Path] == nil {
			counts[r.URL.Path] = &atomic.Int64{}
		}
		counts[r.URL.Path].Add(1)
		switch {
		case r.URL.Path == "/metalink":
			w.Write([]byte(`<?xml version="1.0"?><metalink version="3.0" xmlns="http://www.metalinker.org/"><files><file name="repomd.xml"><resources>
<url protocol="http" type="http">` + srv.URL + `/repo/repodata/repomd.xml</url></resources></file></files></metalink>`))
		case r.URL.Path == "/mirrorlist":
			w.Write([]byte("# mirrors\n" + srv.URL + "/missing/\n" + srv.URL + "/repo/\n"))
		case strings.HasPrefix(r.URL.Path, "/repo/"):
			http.StripPrefix("/repo", files).ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, counts
}

func advisories(t *testing.T, f *Fetcher, c Config) (int, error) {
	t.Helper()
	md, err := f.Fetch(context.Background(), c)
	if err != nil {
		return 0, err
	}
	as, err := md.Advisories(context.Background(), AdvisoryOptions{})
	return len(as), err
}

func TestFetchHTTPAndCache(t *testing.T) {
	srv, counts := server(t)
	cache := t.TempDir()
	c := Config{ID: "updates", BaseURLs: []string{srv.URL + "/repo/"}, Enabled: true}
	f := &Fetcher{Client: srv.Client(), CacheDir: cache}
	n, err := advisories(t, f, c)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = advisories(t, f, c)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	var updateinfo int64
	for p, k := range counts {
		if strings.Contains(p, "updateinfo") {
			updateinfo += k.Load()
		}
	}
	assert.Equal(t, int64(1), updateinfo, "updateinfo is downloaded once, then read from the cache")
	assert.Equal(t, int64(2), counts["/repo/repodata/repomd.xml"].Load(), "repomd.xml is checked every run")

	// Cache-only works with the server gone.
	srv.Close()
	n, err = advisories(t, &Fetcher{CacheDir: cache, CacheOnly: true}, c)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestMetalinkAndMirrorlist(t *testing.T) {
	srv, _ := server(t)
	for _, c := range []Config{
		{ID: "ml", Metalink: srv.URL + "/metalink", Enabled: true},
		{ID: "mirrors", Mirrorlist: srv.URL + "/mirrorlist", Enabled: true},
	} {
		n, err := advisories(t, &Fetcher{Client: srv.Client(), CacheDir: t.TempDir()}, c)
		require.NoError(t, err, c.ID)
		assert.Equal(t, 1, n, c.ID)
	}
}

func TestHTTPFailures(t *testing.T) {
	srv, _ := server(t)
	_, err := advisories(t, &Fetcher{Client: srv.Client()}, Config{ID: "gone", BaseURLs: []string{srv.URL + "/missing/"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "404")
	assert.Contains(t, err.Error(), "repository gone")

	// A repository whose updateinfo differs from what repomd.xml says.
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(exampleRepo)))
	m, _ := filepath.Glob(filepath.Join(dir, "repodata", "*updateinfo*"))
	require.Len(t, m, 1)
	data, err := os.ReadFile(m[0])
	require.NoError(t, err)
	data[len(data)/2] ^= 0xff
	require.NoError(t, os.WriteFile(m[0], data, 0o644))
	bad := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer bad.Close()
	cache := t.TempDir()
	_, err = advisories(t, &Fetcher{Client: bad.Client(), CacheDir: cache}, Config{ID: "bad", BaseURLs: []string{bad.URL}})
	require.ErrorIs(t, err, ErrChecksum)
	left, _ := filepath.Glob(filepath.Join(cache, "*", "*updateinfo*"))
	assert.Empty(t, left, "nothing unverified is cached")
}
