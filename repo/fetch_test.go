package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
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

// mirror serves the example repository, or hands the requests whose path
// contains bad to misbehave. It counts the requests it got.
func mirror(t *testing.T, bad string, misbehave http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	files := http.FileServer(http.Dir(exampleRepo))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if misbehave != nil && strings.Contains(r.URL.Path, bad) {
			misbehave(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// exampleFile returns the content of the example repository's file whose
// name contains part.
func exampleFile(t *testing.T, part string) []byte {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(exampleRepo, "repodata", "*"+part+"*"))
	require.NoError(t, err)
	require.Len(t, m, 1)
	b, err := os.ReadFile(m[0])
	require.NoError(t, err)
	return b
}

// Misbehaving servers.
var (
	status500 = func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusInternalServerError)
	}
	notFound = http.NotFound
)

// halfThenClose sends half of the file, announcing all of it, and drops
// the connection.
func halfThenClose(t *testing.T, part string) http.HandlerFunc {
	b := exampleFile(t, part)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		panic(http.ErrAbortHandler)
	}
}

// stalling serves the example repository on 127.0.0.1, misbehaving as
// st (see hostile.Stall) on the paths that contain part.
func stalling(t *testing.T, st hostile.Stall, part string) *hostile.Server {
	t.Helper()
	srv, err := hostile.NewServer(st, http.FileServer(http.Dir(exampleRepo)), part)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// corrupt serves the file with a byte changed.
func corrupt(t *testing.T, part string) http.HandlerFunc {
	b := bytes.Clone(exampleFile(t, part))
	b[len(b)/2] ^= 0xff
	return func(w http.ResponseWriter, r *http.Request) { w.Write(b) }
}

// quick makes a Fetcher that gives up on a stall and retries fast.
func quick(client *http.Client, cache string) *Fetcher {
	return &Fetcher{Client: client, CacheDir: cache, LowSpeedTimeout: 200 * time.Millisecond, RetryWait: time.Millisecond}
}

func TestMirrorFailover(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  string // the path the first mirror misbehaves on
		do   func(t *testing.T) http.HandlerFunc
		// noCache fetches without a cache directory.
		noCache bool
		// stall, when do is nil, is how the first mirror misbehaves.
		stall hostile.Stall
	}{
		{name: "500 on repomd.xml", bad: "repomd.xml", do: func(*testing.T) http.HandlerFunc { return status500 }},
		{name: "500 on updateinfo", bad: "updateinfo", do: func(*testing.T) http.HandlerFunc { return status500 }},
		{name: "500 on updateinfo, no cache", bad: "updateinfo", noCache: true, do: func(*testing.T) http.HandlerFunc { return status500 }},
		{name: "closed mid-body", bad: "updateinfo", do: func(t *testing.T) http.HandlerFunc { return halfThenClose(t, "updateinfo") }},
		{name: "repomd.xml stalls before headers", bad: "repomd.xml", stall: hostile.BeforeHeaders},
		{name: "updateinfo stalls mid-body", bad: "updateinfo", stall: hostile.MidBody},
		{name: "wrong checksum", bad: "updateinfo", do: func(t *testing.T) http.HandlerFunc { return corrupt(t, "updateinfo") }},
		{name: "wrong checksum, no cache", bad: "updateinfo", noCache: true, do: func(t *testing.T) http.HandlerFunc { return corrupt(t, "updateinfo") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var client *http.Client
			var firstURL string
			var hits func() int64
			if tc.do != nil {
				first, n := mirror(t, tc.bad, tc.do(t))
				client, firstURL, hits = first.Client(), first.URL, n.Load
			} else {
				first := stalling(t, tc.stall, tc.bad)
				firstURL, hits = first.URL, func() int64 { return int64(first.Hits()) }
			}
			second, _ := mirror(t, "", nil)
			cache := t.TempDir()
			if tc.noCache {
				cache = ""
			}
			c := Config{ID: "updates", BaseURLs: []string{firstURL + "/", second.URL + "/"}}
			n, err := advisories(t, quick(client, cache), c)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.Positive(t, hits(), "the first mirror was tried")
			if cache != "" {
				got, err := filepath.Glob(filepath.Join(cache, "*", "*updateinfo.xml.gz"))
				require.NoError(t, err)
				require.Len(t, got, 1)
				b, err := os.ReadFile(got[0])
				require.NoError(t, err)
				assert.Equal(t, exampleFile(t, "updateinfo"), b, "only the verified file is cached")
			}
		})
	}
}

func TestAllMirrorsFail(t *testing.T) {
	a, _ := mirror(t, "/", notFound)
	b, _ := mirror(t, "/", notFound)
	_, err := advisories(t, quick(a.Client(), t.TempDir()), Config{ID: "gone", BaseURLs: []string{a.URL + "/", b.URL + "/"}})
	require.Error(t, err)
	t.Log(err)
	for _, want := range []string{"repository gone", a.URL + "/repodata/repomd.xml: 404", b.URL + "/repodata/repomd.xml: 404"} {
		assert.Contains(t, err.Error(), want)
	}

	// Checksum mismatches on every mirror: each is named, and the error
	// is still a checksum mismatch.
	a, _ = mirror(t, "updateinfo", corrupt(t, "updateinfo"))
	b, _ = mirror(t, "updateinfo", corrupt(t, "updateinfo"))
	_, err = advisories(t, quick(a.Client(), t.TempDir()), Config{ID: "bad", BaseURLs: []string{a.URL, b.URL}})
	require.ErrorIs(t, err, ErrChecksum)
	assert.Contains(t, err.Error(), a.URL+"/repodata/")
	assert.Contains(t, err.Error(), b.URL+"/repodata/")
}

func TestStall(t *testing.T) {
	for _, headers := range []bool{false, true} {
		st := hostile.BeforeHeaders
		if headers {
			st = hostile.MidBody
		}
		srv := stalling(t, st, "repomd.xml")
		f := quick(nil, t.TempDir())
		f.Retries = 1
		c := Config{ID: "slow", BaseURLs: []string{srv.URL}}
		if headers {
			// The repository's timeout (dnf's repo option) wins.
			f.LowSpeedTimeout, c.Timeout = time.Hour, 200*time.Millisecond
		}
		_, err := f.Fetch(context.Background(), c)
		require.ErrorIs(t, err, ErrStalled)
		t.Log(err)
		assert.Contains(t, err.Error(), "repository slow")
		assert.Contains(t, err.Error(), srv.URL+"/repodata/repomd.xml: stalled")
		assert.Equal(t, 1, srv.Hits(), "a server that stalled is not waited for again")
	}
}

func TestRetryTransient(t *testing.T) {
	var fails atomic.Int64
	fails.Store(3)
	srv, hits := mirror(t, "updateinfo", func(w http.ResponseWriter, r *http.Request) {
		if fails.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		http.FileServer(http.Dir(exampleRepo)).ServeHTTP(w, r)
	})
	n, err := advisories(t, quick(srv.Client(), t.TempDir()), Config{ID: "busy", BaseURLs: []string{srv.URL}})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, int64(5), hits.Load(), "repomd.xml, three 503s, then updateinfo")

	// Retries bounds the attempts; a permanent error is not retried.
	fails.Store(100)
	f := quick(srv.Client(), t.TempDir())
	f.Retries = 2
	_, err = advisories(t, f, Config{ID: "busy", BaseURLs: []string{srv.URL}})
	require.ErrorContains(t, err, "503")
	left := fails.Load()
	assert.Equal(t, int64(97), left, "one attempt and two retries")

	// Nor is a refused connection.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err = advisories(t, quick(srv.Client(), ""), Config{ID: "closed", BaseURLs: []string{closed.URL}})
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Contains(t, err.Error(), "repository closed: cannot download repomd.xml: "+closed.URL)

	gone, hits := mirror(t, "/", notFound)
	_, err = advisories(t, quick(gone.Client(), ""), Config{ID: "gone", BaseURLs: []string{gone.URL}})
	require.ErrorContains(t, err, "404")
	assert.Equal(t, int64(1), hits.Load(), "a 404 is not retried")
}

func TestRetryCanceled(t *testing.T) {
	// The first attempt fails and cancels: the wait before the next is
	// an hour, which the cancellation ends.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, _ := mirror(t, "/", func(w http.ResponseWriter, r *http.Request) {
		status500(w, r)
		w.(http.Flusher).Flush()
		cancel()
	})
	f := &Fetcher{Client: srv.Client(), RetryWait: time.Hour}
	_, err := f.Fetch(ctx, Config{ID: "down", BaseURLs: []string{srv.URL}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "repository down")
}

func TestMetalinkChecksum(t *testing.T) {
	good, _ := mirror(t, "", nil)
	stale, _ := mirror(t, "repomd.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Replace(exampleFile(t, "repomd.xml"), []byte("<revision>"), []byte("<revision>1"), 1))
	})
	sum := sha256.Sum256(exampleFile(t, "repomd.xml"))
	ml := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<?xml version="1.0"?><metalink version="3.0" xmlns="http://www.metalinker.org/" xmlns:mm0="http://fedorahosted.org/mirrormanager">
<files><file name="repomd.xml"><verification><hash type="md5">ignored</hash><hash type="sha256">%x</hash></verification>
<mm0:alternates><mm0:alternate><verification><hash type="sha256">0000</hash></verification></mm0:alternate></mm0:alternates>
<resources><url protocol="http" type="http">%s/repodata/repomd.xml</url><url protocol="http" type="http">%s/repodata/repomd.xml</url></resources></file></files></metalink>`,
			sum, stale.URL, good.URL)
	}))
	defer ml.Close()
	md, err := quick(ml.Client(), t.TempDir()).Fetch(context.Background(), Config{ID: "ml", Metalink: ml.URL})
	require.NoError(t, err)
	assert.Equal(t, good.URL+"/", md.BaseURL, "the mirror whose repomd.xml the metalink does not list is passed over")
}

func TestProgress(t *testing.T) {
	srv, counts := server(t)
	updateinfo := int64(len(exampleFile(t, "updateinfo")))
	local, err := FromPath("local," + exampleRepo)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		c    Config
		// want is the last call's Downloaded.
		want int64
	}{
		{name: "http", c: Config{ID: "updates", Name: "Fedora 40 - Updates", BaseURLs: []string{srv.URL + "/repo/"}}, want: updateinfo},
		{name: "file", c: local, want: updateinfo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []Progress
			f := &Fetcher{Client: srv.Client(), CacheDir: t.TempDir(), Prefetch: []string{"updateinfo", "modules"},
				Progress: func(p Progress) { calls = append(calls, p) }}
			_, err := f.Fetch(context.Background(), tc.c)
			require.NoError(t, err)
			require.NotEmpty(t, calls)
			last := calls[len(calls)-1]
			assert.True(t, last.Done)
			assert.NoError(t, last.Err)
			assert.Equal(t, tc.c.ID, last.ID)
			assert.Equal(t, tc.c.Name, last.Name)
			assert.Equal(t, tc.want, last.Downloaded, "the metadata files' bytes, as dnf counts them")
			assert.Equal(t, tc.want, last.Total)
			for i, p := range calls[:len(calls)-1] {
				assert.False(t, p.Done, i)
				assert.LessOrEqual(t, p.Elapsed, last.Elapsed, i)
			}

			// A warm run downloads nothing new and reports nothing.
			calls = nil
			md, err := f.Fetch(context.Background(), tc.c)
			require.NoError(t, err)
			assert.Empty(t, calls, "a cache hit is not reported")
			_, err = md.Advisories(context.Background(), AdvisoryOptions{})
			require.NoError(t, err)
		})
	}
	var got int64
	for p, k := range counts {
		if strings.Contains(p, "updateinfo") {
			got += k.Load()
		}
	}
	assert.Equal(t, int64(1), got, "prefetched once, then read from the cache")

	// A failed download is reported, with its error.
	var calls []Progress
	f := &Fetcher{Client: srv.Client(), CacheDir: t.TempDir(), Progress: func(p Progress) { calls = append(calls, p) }}
	_, err = f.Fetch(context.Background(), Config{ID: "gone", BaseURLs: []string{srv.URL + "/missing/"}})
	require.Error(t, err)
	require.NotEmpty(t, calls)
	assert.True(t, calls[len(calls)-1].Done)
	assert.ErrorContains(t, calls[len(calls)-1].Err, "404")
	assert.Equal(t, "gone", calls[len(calls)-1].Name, "a repository without a name shows its ID")
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&statusError{code: 500}, true},
		{&statusError{code: 503}, true},
		{&statusError{code: 429}, true},
		{&statusError{code: 408}, true},
		{&statusError{code: 501}, false},
		{&statusError{code: 404}, false},
		{&statusError{code: 403}, false},
		{fmt.Errorf("u: %w", io.ErrUnexpectedEOF), true},
		{fmt.Errorf("u: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("u: %w less than", ErrStalled), false},
		{fmt.Errorf("u: %w", syscall.ECONNREFUSED), false},
		{fmt.Errorf("u: %w", ErrChecksum), false},
		{&net.DNSError{Err: "no such host", IsNotFound: true}, false},
		{&net.DNSError{Err: "timeout", IsTimeout: true}, true},
		{permanent{errors.New("bad XML")}, false},
		{fmt.Errorf("open: %w", os.ErrNotExist), false},
	} {
		assert.Equal(t, tc.want, retryable(tc.err), "%v", tc.err)
	}
}

// TestNoAnswerDefaultClient checks that a mirror that never answers, with
// the default HTTP client, ends in an error naming the URL, and that the
// next mirror is then used.
func TestNoAnswerDefaultClient(t *testing.T) {
	for _, tc := range []struct {
		stall hostile.Stall
		file  string // the file that stalls
	}{
		{hostile.NoAnswer, "repomd.xml"},
		{hostile.BeforeHeaders, "repomd.xml"},
		{hostile.MidBody, "updateinfo"},
	} {
		t.Run(tc.stall.String(), func(t *testing.T) {
			bad := stalling(t, tc.stall, tc.file).URL
			f := &Fetcher{CacheDir: t.TempDir(), LowSpeedTimeout: 200 * time.Millisecond, RetryWait: time.Millisecond}
			_, err := advisories(t, f, Config{ID: "slow", BaseURLs: []string{bad}})
			require.ErrorIs(t, err, ErrStalled)
			assert.Contains(t, err.Error(), "repository slow")
			assert.Contains(t, err.Error(), bad+"/repodata/")
			assert.Contains(t, err.Error(), tc.file)

			good, _ := mirror(t, "", nil)
			f.CacheDir = t.TempDir()
			n, err := advisories(t, f, Config{ID: "slow", BaseURLs: []string{bad, good.URL}})
			require.NoError(t, err, "the next mirror serves it")
			assert.Equal(t, 1, n)
		})
	}
}

func TestTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bad      string
		announce bool
		maxSize  int64
	}{
		{name: "updateinfo without end", bad: "updateinfo"},
		{name: "updateinfo announced too large", bad: "updateinfo", announce: true},
		{name: "repomd.xml without end", bad: "repomd.xml", maxSize: 1 << 20},
		{name: "repomd.xml without end, default bound", bad: "repomd.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := hostile.Endless
			if tc.announce {
				st = hostile.EndlessAnnounced
			}
			srv := stalling(t, st, tc.bad)
			cache := t.TempDir()
			f := quick(nil, cache)
			f.MaxSize = tc.maxSize
			_, err := advisories(t, f, Config{ID: "big", BaseURLs: []string{srv.URL}})
			require.ErrorIs(t, err, ErrTooLarge)
			t.Log(err)
			assert.Contains(t, err.Error(), "repository big")
			assert.Contains(t, err.Error(), srv.URL+"/repodata/")
			assert.Contains(t, err.Error(), tc.bad)
			var files []string
			require.NoError(t, filepath.Walk(cache, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					files = append(files, p)
					assert.LessOrEqual(t, info.Size(), int64(len(exampleFile(t, "repomd.xml"))), p)
				}
				return err
			}))
			for _, p := range files {
				assert.NotContains(t, filepath.Base(p), "updateinfo", "nothing unverified is cached")
			}

			// The next mirror serves it.
			good, _ := mirror(t, "", nil)
			n, err := advisories(t, quick(nil, t.TempDir()), Config{ID: "big", BaseURLs: []string{srv.URL, good.URL}})
			require.NoError(t, err)
			assert.Equal(t, 1, n)
		})
	}
}

func TestLimitedWriter(t *testing.T) {
	var b bytes.Buffer
	w := (&Fetcher{}).limit(&b, 5)
	n, err := w.Write([]byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	n, err = w.Write([]byte("def"))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Zero(t, n)
	assert.Equal(t, "abc", b.String(), "nothing beyond the bound is written")
	assert.Equal(t, int64(DefaultMaxSize), (&Fetcher{}).limit(&b, 0).n)
	assert.Equal(t, int64(7), (&Fetcher{MaxSize: 7}).limit(&b, -1).n)
}

func TestThrottle(t *testing.T) {
	srv, _ := mirror(t, "", nil)
	// A throttle above the minimum rate: the download goes through.
	f := quick(srv.Client(), t.TempDir())
	f.Throttle = 1 << 20
	n, err := advisories(t, f, Config{ID: "slow", BaseURLs: []string{srv.URL}})
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Below it, an error naming the URL, as dnf's.
	for _, c := range []Config{
		{ID: "slow", BaseURLs: []string{srv.URL}, Network: Network{Throttle: 500}},
		{ID: "slow", BaseURLs: []string{srv.URL}, Network: Network{ThrottlePercent: 10, Bandwidth: 5000}},
	} {
		_, err = advisories(t, quick(srv.Client(), t.TempDir()), c)
		require.ErrorContains(t, err, srv.URL+"/repodata/repomd.xml: maximum download speed")
	}
	// A percentage without a bandwidth throttles nothing.
	assert.Zero(t, (&Fetcher{Throttle: 1000}).maxSpeed(Config{Network: Network{ThrottlePercent: 50}}))
	assert.Equal(t, int64(1000), (&Fetcher{Throttle: 1000}).maxSpeed(Config{}))

	// The wait ends with the transfer.
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrStalled)
	th := &throttle{ctx: ctx, rate: 1, start: time.Now()}
	require.ErrorIs(t, th.wait(1000), ErrStalled)
	assert.Equal(t, 512, th.chunk())
}

func TestConfigRetries(t *testing.T) {
	var fails atomic.Int64
	fails.Store(100)
	srv, _ := mirror(t, "repomd.xml", func(w http.ResponseWriter, r *http.Request) {
		fails.Add(-1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	for _, tc := range []struct {
		retries int
		want    int64
	}{{-1, 99}, {2, 97}} {
		fails.Store(100)
		f := quick(srv.Client(), "")
		f.Retries = 5
		_, err := f.Fetch(context.Background(), Config{ID: "busy", BaseURLs: []string{srv.URL}, Network: Network{Retries: tc.retries}})
		require.ErrorContains(t, err, "503")
		assert.Equal(t, tc.want, fails.Load(), "the repository's retries win")
	}
}
