package repo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// ErrNotCached is returned in cache-only mode when metadata is missing.
var ErrNotCached = errors.New("not in the cache")

// ErrChecksum is returned when a file does not match repomd's checksum
// (or repomd.xml the metalink's).
var ErrChecksum = errors.New("checksum mismatch")

// ErrStalled is returned when a server sends less than the Fetcher's
// MinRate for its LowSpeedTimeout, before the response headers or
// during the body.
var ErrStalled = errors.New("stalled")

// ErrTooLarge is returned when a download exceeds its size: repomd's
// for a metadata file, the Fetcher's MaxSize for the others.
var ErrTooLarge = errors.New("larger than expected")

// Defaults of the Fetcher's download settings, dnf's where dnf has one.
const (
	// DefaultRetries is dnf's retries option.
	DefaultRetries = 10
	// DefaultLowSpeedTimeout is dnf's timeout option.
	DefaultLowSpeedTimeout = 30 * time.Second
	// DefaultMinRate is dnf's minrate option, in bytes per second.
	DefaultMinRate = 1000
	// DefaultRetryWait is the wait before the first retry; it doubles
	// with each further one, up to maxRetryWait.
	DefaultRetryWait = 250 * time.Millisecond
	// DefaultMaxSize bounds repomd.xml, a metalink or a mirrorlist, and
	// metadata files whose size repomd.xml does not give.
	DefaultMaxSize = 64 << 20

	maxRetryWait = 4 * time.Second
)

// Fetcher downloads repository metadata and keeps it in CacheDir.
//
// Every download tries the repository's URLs in order, as librepo does:
// the base URLs, then those of the metalink or mirrorlist. A URL that
// fails (an HTTP error, a refused connection, a truncated or stalled
// transfer, a checksum mismatch) hands the download to the next one.
// When every URL has failed and some failures were transient (a 5xx,
// 408 or 429 status, a reset, timed-out or truncated transfer), those
// URLs are tried again after a wait that doubles each
// time, until Retries retries have been made; a download that still
// fails returns an error naming the repository and each URL with its
// error.
type Fetcher struct {
	// Client fetches http and https URLs; nil means http.DefaultClient.
	Client *http.Client
	// CacheDir holds downloaded metadata, one directory per repository.
	// Empty means no cache: remote files are fetched on every run.
	CacheDir string
	// CacheOnly reads only what the cache holds (dnf -C).
	CacheOnly bool
	// Retries bounds the attempts one download makes beyond one per URL:
	// 0 means DefaultRetries, a negative number none.
	Retries int
	// RetryWait is the wait before the first retry round; 0 means
	// DefaultRetryWait.
	RetryWait time.Duration
	// LowSpeedTimeout and MinRate end a transfer as stalled when it
	// receives less than MinRate bytes a second (on average) for
	// LowSpeedTimeout, as dnf's timeout and minrate options do; waiting
	// for the response headers counts. Zero means DefaultLowSpeedTimeout
	// and DefaultMinRate; a repository's own timeout and minrate
	// (Config) take precedence.
	LowSpeedTimeout time.Duration
	MinRate         int64
	// Throttle caps the download speed, in bytes a second, as dnf's
	// throttle option does; 0 means none. A repository's own (Config's
	// Network.MaxSpeed) takes precedence. A throttle below the minimum
	// rate is an error, as in dnf.
	Throttle int64
	// MaxSize bounds the download of repomd.xml, a metalink, a
	// mirrorlist, and any metadata file repomd.xml gives no size for; 0
	// means DefaultMaxSize. A metadata file is bounded by its size in
	// repomd.xml. A download that goes beyond is cut off, with nothing
	// past the bound written, and fails with ErrTooLarge.
	MaxSize int64
	// Prefetch names metadata types (such as "updateinfo" or "modules")
	// that Fetch downloads into the cache along with repomd.xml, as dnf
	// loads a repository in one go, so that Progress reports the whole
	// download. Without a cache directory it has no effect: files are
	// then downloaded when opened.
	Prefetch []string
	// Progress, when set, is called during and at the end of each
	// repository's metadata download by Fetch: not when repomd.xml is
	// the cached one and every Prefetch file is cached already, nor in
	// cache-only mode, nor for files Open downloads later. Calls for one
	// repository come from one goroutine; Fetch calls for different
	// repositories may run at once, and so may these. It is called for
	// every block read, so it must be quick.
	Progress func(Progress)
}

// Progress is the state of one repository's metadata download, as
// Fetcher.Progress receives it.
type Progress struct {
	// ID is the repository's ID.
	ID string
	// Name is the repository's name, or its ID when it has none: what
	// dnf shows.
	Name string
	// Downloaded counts the bytes received of the current step:
	// repomd.xml first, then the Prefetch files together, as librepo
	// reports them to dnf (so the last call counts the metadata files,
	// as dnf's line does). For a local (file://) repository nothing is
	// copied, and the step counts the sizes of the files read in place.
	Downloaded int64
	// Total is the size of the current step when known, else 0.
	Total int64
	// Elapsed is the time since the download began.
	Elapsed time.Duration
	// Done marks the last call for this download.
	Done bool
	// Err is why the download failed, in the last call.
	Err error
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
	cache string   // this repository's cache directory, or ""
	urls  []string // BaseURL first, then the other mirrors
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

// Fetch reads the repository's repomd.xml from the first URL that
// serves it (or, in cache-only mode, from the cache), then downloads
// the Prefetch files the cache lacks.
func (f *Fetcher) Fetch(ctx context.Context, c Config) (*Metadata, error) {
	md := &Metadata{Config: c, f: f, cache: f.cacheDir(c)}
	md.sweep()
	if f.CacheOnly {
		if md.cache == "" {
			return nil, fmt.Errorf("repository %s: cache-only mode needs a cache directory", c.ID)
		}
		b, err := os.ReadFile(filepath.Join(md.cache, "repomd.xml"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("repository %s: %w: run once without -C to fill the cache", c.ID, ErrNotCached)
		}
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", c.ID, err)
		}
		base, _ := os.ReadFile(filepath.Join(md.cache, "baseurl"))
		md.BaseURL = string(base)
		md.urls = []string{md.BaseURL}
		rm, err := ParseRepomd(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("repository %s: the cached %s is damaged (%w): run without -C to download it again",
				c.ID, filepath.Join(md.cache, "repomd.xml"), err)
		}
		md.record(b, rm)
		return md, nil
	}
	t := f.newTracker(c)
	if t != nil && md.cache != "" {
		if _, err := os.Stat(filepath.Join(md.cache, "repomd.xml")); err == nil {
			t.hidden = true // perhaps a cache hit: shown once known not to be
		}
	}
	err := f.fetch(ctx, md, t)
	t.finish(err)
	if err != nil {
		return nil, err
	}
	return md, nil
}

func (f *Fetcher) fetch(ctx context.Context, md *Metadata, t *tracker) error {
	c := md.Config
	urls, sums, err := f.mirrors(ctx, c)
	if err != nil {
		return err
	}
	if len(urls) == 0 {
		return fmt.Errorf("repository %s (%s): no baseurl, metalink or mirrorlist", c.ID, c.Origin)
	}
	var raw []byte
	var rm *Repomd
	i, err := f.tryURLs(ctx, c, "repomd.xml", urls, func(ctx context.Context, base string) error {
		u := join(base, "repodata/repomd.xml")
		var buf bytes.Buffer
		if err := f.get(ctx, c, u, f.limit(&buf, 0), t); err != nil {
			return err
		}
		if err := sums.verify(buf.Bytes()); err != nil {
			t.rewind(Progress{})
			return permanent{fmt.Errorf("%s: %w", u, err)}
		}
		var err error
		if rm, err = ParseRepomd(bytes.NewReader(buf.Bytes())); err != nil {
			t.rewind(Progress{})
			return permanent{fmt.Errorf("%s: %w", u, err)}
		}
		raw = buf.Bytes()
		return nil
	})
	if err != nil {
		return err
	}
	md.BaseURL = urls[i]
	md.urls = append([]string{urls[i]}, append(append([]string{}, urls[:i]...), urls[i+1:]...)...)
	md.record(raw, rm)
	if md.cache == "" {
		t.show()
		return nil
	}
	if err := os.MkdirAll(md.cache, 0o755); err != nil {
		return fmt.Errorf("repository %s: %w", c.ID, err)
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{"repomd.xml", raw}, {"baseurl", []byte(md.BaseURL)}} {
		p := filepath.Join(md.cache, file.name)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, file.data) {
			continue // unchanged: no write on every run
		}
		if file.name == "repomd.xml" {
			t.show() // new metadata: no cache hit
		}
		if err := writeFile(p, file.data); err != nil {
			return fmt.Errorf("repository %s: %w", c.ID, err)
		}
	}
	return md.prefetch(ctx, t)
}

// record keeps repomd.xml as parsed and the checksum of its content.
func (m *Metadata) record(raw []byte, rm *Repomd) {
	sum := sha256.Sum256(raw)
	m.Repomd, m.RepomdChecksum = rm, hex.EncodeToString(sum[:])
}

// prefetch downloads the Fetcher's Prefetch files the cache lacks, as
// one step of the progress.
func (m *Metadata) prefetch(ctx context.Context, t *tracker) error {
	if m.local() && (t == nil || t.hidden) {
		return nil // read in place: nothing to do, nothing new to report
	}
	var want []*Data
	var total int64
	for _, typ := range m.f.Prefetch {
		d := m.Repomd.Find(typ)
		if d == nil {
			continue
		}
		if _, err := os.Stat(m.cachedName(d)); err == nil && !m.local() {
			continue
		}
		want = append(want, d)
		total += d.Size
	}
	if len(want) == 0 {
		return nil
	}
	t.show()
	t.step(total)
	for _, d := range want {
		if m.local() {
			// Read in place when opened: counted, not copied.
			if st, err := os.Stat(strings.TrimPrefix(join(m.BaseURL, d.Location.Href), "file://")); err == nil {
				t.add(st.Size())
			}
			continue
		}
		if err := m.download(ctx, d, t); err != nil {
			return err
		}
	}
	return nil
}

// mirrors returns the configured base URLs followed by those of the
// metalink or mirrorlist, and the metalink's checksums of repomd.xml.
func (f *Fetcher) mirrors(ctx context.Context, c Config) ([]string, checksums, error) {
	urls := append([]string{}, c.BaseURLs...)
	var sums checksums
	if c.Metalink != "" {
		var b bytes.Buffer
		if _, err := f.tryURLs(ctx, c, "metalink", []string{c.Metalink}, func(ctx context.Context, u string) error {
			b.Reset()
			return f.get(ctx, c, u, f.limit(&b, 0), nil)
		}); err != nil {
			return nil, nil, err
		}
		ml, err := parseMetalink(b.Bytes())
		if err != nil {
			return nil, nil, fmt.Errorf("repository %s: metalink %s: %w", c.ID, c.Metalink, err)
		}
		urls = append(urls, ml.urls...)
		sums = ml.sums
	}
	if c.Mirrorlist != "" {
		var b bytes.Buffer
		if _, err := f.tryURLs(ctx, c, "mirrorlist", []string{c.Mirrorlist}, func(ctx context.Context, u string) error {
			b.Reset()
			return f.get(ctx, c, u, f.limit(&b, 0), nil)
		}); err != nil {
			return nil, nil, err
		}
		for line := range strings.SplitSeq(b.String(), "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") {
				urls = append(urls, line)
			}
		}
	}
	return urls, sums, nil
}

func join(base, rel string) string {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + rel
}

// permanent marks an error after which a URL is not tried again for the
// same download.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// statusError is an HTTP response other than 200.
type statusError struct {
	url    string
	code   int
	status string
}

func (e *statusError) Error() string { return e.url + ": " + e.status }

// retryable tells whether a failure may go away if the same URL is
// tried again: a server error, a reset, a timeout, a truncated transfer.
// Refused connections, unknown hosts, missing files and checksum
// mismatches stay as they are, and a server that stalled for the whole
// low-speed timeout is not waited for again (nor does librepo).
func retryable(err error) bool {
	var p permanent
	var se *statusError
	var dns *net.DNSError
	switch {
	case errors.As(err, &p):
		return false
	case errors.As(err, &se):
		c := se.code
		return c == http.StatusRequestTimeout || c == http.StatusTooManyRequests ||
			c >= 500 && c != http.StatusNotImplemented && c != http.StatusHTTPVersionNotSupported
	case errors.Is(err, ErrChecksum), errors.Is(err, ErrStalled), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, os.ErrNotExist):
		return false
	case errors.As(err, &dns):
		return dns.IsTimeout || dns.IsTemporary
	}
	return true
}

// urlError is the last failure of each URL of a download.
type urlError struct {
	repo, what string
	urls       []string
	errs       []error
}

func (e *urlError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "repository %s: cannot download %s: ", e.repo, e.what)
	if len(e.urls) > 1 {
		fmt.Fprintf(&b, "all %d URLs failed: ", len(e.urls))
	}
	for i, err := range e.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *urlError) Unwrap() []error { return e.errs }

// tryURLs calls try with each URL in turn until one succeeds, retrying
// those that failed transiently, and returns the index of the one that
// succeeded. what names the file for errors.
func (f *Fetcher) tryURLs(ctx context.Context, c Config, what string, urls []string, try func(context.Context, string) error) (int, error) {
	retries := f.Retries
	if c.Retries != 0 {
		retries = c.Retries
	}
	if retries == 0 {
		retries = DefaultRetries
	}
	wait := f.RetryWait
	if wait <= 0 {
		wait = DefaultRetryWait
	}
	last := make([]error, len(urls))
	again := make([]bool, len(urls))
	for i := range again {
		again[i] = true
	}
	for round := 0; ; round++ {
		left := false
		for i, u := range urls {
			if !again[i] {
				continue
			}
			if round > 0 {
				if retries <= 0 {
					break
				}
				retries--
			}
			err := try(ctx, u)
			if err == nil {
				return i, nil
			}
			if ctx.Err() != nil {
				return -1, fmt.Errorf("repository %s: %s: %w", c.ID, what, context.Cause(ctx))
			}
			last[i], again[i] = err, retryable(err)
			left = left || again[i]
		}
		if !left || retries <= 0 {
			break
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("repository %s: %s: %w", c.ID, what, context.Cause(ctx))
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRetryWait)
	}
	e := &urlError{repo: c.ID, what: what}
	for i, u := range urls {
		if last[i] != nil {
			e.urls, e.errs = append(e.urls, u), append(e.errs, last[i])
		}
	}
	return -1, e
}

// lowSpeed returns the stall limits for a repository.
func (f *Fetcher) lowSpeed(c Config) (time.Duration, int64) {
	timeout, rate := f.LowSpeedTimeout, f.MinRate
	if c.Timeout > 0 {
		timeout = c.Timeout
	}
	if c.MinRate > 0 {
		rate = c.MinRate
	}
	if timeout <= 0 {
		timeout = DefaultLowSpeedTimeout
	}
	if rate <= 0 {
		rate = DefaultMinRate
	}
	return timeout, rate
}

// maxSpeed returns a repository's throttle in bytes a second, 0 for none.
func (f *Fetcher) maxSpeed(c Config) int64 {
	if s := c.MaxSpeed(); s > 0 || c.IsSet("throttle") {
		return s
	}
	return max(f.Throttle, 0)
}

// limit bounds what is written to w at size bytes, or the Fetcher's
// MaxSize when size is not positive.
func (f *Fetcher) limit(w io.Writer, size int64) *limitedWriter {
	what := "bytes, repomd.xml's size"
	if size <= 0 {
		size, what = f.MaxSize, "bytes, the most allowed"
		if size <= 0 {
			size = DefaultMaxSize
		}
	}
	return &limitedWriter{w: w, n: size, max: size, what: what}
}

// watchdog cancels a transfer that receives less than need bytes in a
// window, as curl's low-speed limit does.
type watchdog struct {
	timer  *time.Timer
	window time.Duration
	need   int64
	got    chan int64 // bytes received, from the reader
	seen   int64      // bytes in this window, owned by the timer
	cancel context.CancelCauseFunc
	url    string
	rate   int64
	header bool // headers received
	hdr    chan struct{}
}

func newWatchdog(cancel context.CancelCauseFunc, u string, window time.Duration, rate int64) *watchdog {
	need := int64(float64(rate) * window.Seconds())
	w := &watchdog{window: window, need: max(need, 1), got: make(chan int64, 1), cancel: cancel, url: u, rate: rate,
		hdr: make(chan struct{}, 1)}
	w.timer = time.AfterFunc(window, w.check)
	return w
}

// add records n bytes received.
func (w *watchdog) add(n int) {
	for {
		select {
		case w.got <- int64(n):
			return
		case old := <-w.got:
			n += int(old)
		}
	}
}

// headers records that the response headers arrived.
func (w *watchdog) headers() {
	select {
	case w.hdr <- struct{}{}:
	default:
	}
}

func (w *watchdog) check() {
	select {
	case n := <-w.got:
		w.seen += n
	default:
	}
	select {
	case <-w.hdr:
		w.header = true
	default:
	}
	if w.seen < w.need {
		when := "before the response headers"
		if w.header {
			when = "during the transfer"
		}
		w.cancel(fmt.Errorf("%s: %w %s: less than %d bytes/s for %s", w.url, ErrStalled, when, w.rate, w.window))
		return
	}
	w.seen = 0
	w.timer.Reset(w.window)
}

func (w *watchdog) stop() { w.timer.Stop() }

// get copies the resource at u into dst: a local file for file:// URLs,
// otherwise an HTTP response body, ended as stalled when it comes too
// slowly. t, when set, counts the bytes.
func (f *Fetcher) get(ctx context.Context, c Config, u string, dst io.Writer, t *tracker) (err error) {
	pu, err := url.Parse(u)
	if err != nil {
		return permanent{err}
	}
	mark := t.mark()
	defer func() {
		if err != nil {
			t.rewind(mark)
		}
	}()
	switch pu.Scheme {
	case "file":
		r, err := os.Open(pu.Path)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(dst, &countingReader{r: r, t: t})
		if err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		return nil
	case "http", "https":
	default:
		return permanent{fmt.Errorf("%s: unsupported URL scheme %q", u, pu.Scheme)}
	}
	window, rate := f.lowSpeed(c)
	speed := f.maxSpeed(c)
	if speed > 0 && speed < rate {
		return permanent{fmt.Errorf("%s: maximum download speed (throttle %d bytes/s) is lower than the minimum (minrate %d bytes/s)", u, speed, rate)}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := newWatchdog(cancel, u, window, rate)
	defer wd.stop()
	stalled := func(err error) error {
		if cause := context.Cause(ctx); cause != nil && errors.Is(cause, ErrStalled) {
			return cause
		}
		return fmt.Errorf("%s: %w", u, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return permanent{err}
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return stalled(err)
	}
	defer resp.Body.Close()
	wd.headers()
	if resp.StatusCode != http.StatusOK {
		return &statusError{url: u, code: resp.StatusCode, status: resp.Status}
	}
	if lw, ok := dst.(*limitedWriter); ok && resp.ContentLength > lw.n {
		return permanent{fmt.Errorf("%s: %w: Content-Length %d > %d %s", u, ErrTooLarge, resp.ContentLength, lw.max, lw.what)}
	}
	t.sized(resp.ContentLength)
	cr := &countingReader{r: resp.Body, t: t, wd: wd}
	if speed > 0 {
		cr.throttle = &throttle{ctx: ctx, rate: speed, start: time.Now()}
	}
	if _, err := io.Copy(dst, cr); err != nil {
		return stalled(err)
	}
	return nil
}

// countingReader reports what it reads to a tracker and a watchdog,
// and slows down to its throttle, if any.
type countingReader struct {
	r        io.Reader
	t        *tracker
	wd       *watchdog
	throttle *throttle
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.throttle != nil {
		p = p[:min(len(p), c.throttle.chunk())]
	}
	n, err := c.r.Read(p)
	if n > 0 {
		if c.wd != nil {
			c.wd.add(n)
		}
		c.t.add(int64(n))
		if c.throttle != nil {
			if werr := c.throttle.wait(n); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return n, err
}

// throttle paces a transfer at rate bytes a second on average.
type throttle struct {
	ctx   context.Context
	rate  int64
	start time.Time
	got   int64
}

// chunk is how much to read at once: a quarter second's worth, so that
// the transfer flows evenly.
func (t *throttle) chunk() int { return int(max(t.rate/4, 512)) }

// wait records n bytes received and sleeps until they are due.
func (t *throttle) wait(n int) error {
	t.got += int64(n)
	due := t.start.Add(time.Duration(float64(t.got) / float64(t.rate) * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.ctx.Done():
		return context.Cause(t.ctx)
	case <-timer.C:
		return nil
	}
}

// limitedWriter fails, writing nothing of the block, once more than n
// bytes would be written. max and what describe the bound for errors.
type limitedWriter struct {
	w    io.Writer
	n    int64
	max  int64
	what string
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, permanent{fmt.Errorf("%w: more than %d %s", ErrTooLarge, l.max, l.what)}
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// tracker reports a repository's download to Fetcher.Progress.
type tracker struct {
	f      func(Progress)
	p      Progress
	start  time.Time
	hidden bool // not reported (yet): perhaps a cache hit
	shown  bool // something was reported
}

func (f *Fetcher) newTracker(c Config) *tracker {
	if f.Progress == nil {
		return nil
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	return &tracker{f: f.Progress, p: Progress{ID: c.ID, Name: name}, start: time.Now()}
}

func (t *tracker) report() {
	if t == nil || t.hidden {
		return
	}
	t.p.Elapsed = time.Since(t.start)
	t.shown = true
	t.f(t.p)
}

// show reports from now on: the download is no cache hit.
func (t *tracker) show() {
	if t != nil && t.hidden {
		t.hidden = false
		t.report()
	}
}

// step starts counting the next step, of total bytes (0 if unknown).
func (t *tracker) step(total int64) {
	if t != nil {
		t.p.Downloaded, t.p.Total = 0, total
	}
}

// sized sets an unknown total from a Content-Length.
func (t *tracker) sized(n int64) {
	if t != nil && t.p.Total == 0 && n > 0 {
		t.p.Total = t.p.Downloaded + n
	}
}

func (t *tracker) add(n int64) {
	if t != nil {
		t.p.Downloaded += n
		t.report()
	}
}

func (t *tracker) mark() Progress {
	if t == nil {
		return Progress{}
	}
	return t.p
}

// rewind forgets the bytes of a failed attempt.
func (t *tracker) rewind(p Progress) {
	if t != nil {
		t.p.Downloaded, t.p.Total = p.Downloaded, p.Total
	}
}

// finish makes the last report, shown when anything was or when the
// download failed.
func (t *tracker) finish(err error) {
	if t == nil || t.hidden && err == nil {
		return
	}
	t.hidden = false
	t.p.Done, t.p.Err = true, err
	t.report()
}

func writeFile(name string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), tempfile.Pattern(tempWrite))
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

// local tells whether the repository's metadata is read in place.
func (m *Metadata) local() bool { return strings.HasPrefix(m.BaseURL, "file://") }

// cachedName is where the cache keeps a metadata file.
func (m *Metadata) cachedName(d *Data) string {
	return filepath.Join(m.cache, strings.TrimSpace(d.Checksum.Value)+"-"+path.Base(d.Location.Href))
}

// openRaw opens the compressed file: from the repository itself when it
// is local, else from the cache, downloading it there first if needed
// (without a cache, into a temporary file that is gone once closed).
func (m *Metadata) openRaw(ctx context.Context, d *Data) (io.ReadCloser, error) {
	u := join(m.BaseURL, d.Location.Href)
	if m.local() && (!m.f.CacheOnly || m.cache == "") {
		r, err := os.Open(strings.TrimPrefix(u, "file://"))
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", m.Config.ID, err)
		}
		return r, nil
	}
	if m.cache == "" {
		tmp, err := m.fetchVerified(ctx, d, "", nil)
		if err != nil {
			return nil, err
		}
		os.Remove(tmp.Name()) // the open file stays readable
		return tmp, nil
	}
	if r, err := os.Open(m.cachedName(d)); err == nil {
		return r, nil
	}
	if m.f.CacheOnly {
		if m.local() {
			return os.Open(strings.TrimPrefix(u, "file://"))
		}
		return nil, fmt.Errorf("repository %s: %s: %w", m.Config.ID, d.Location.Href, ErrNotCached)
	}
	if err := m.download(ctx, d, nil); err != nil {
		return nil, err
	}
	return os.Open(m.cachedName(d))
}

// download puts a verified copy of a metadata file in the cache.
func (m *Metadata) download(ctx context.Context, d *Data, t *tracker) error {
	tmp, err := m.fetchVerified(ctx, d, m.cache, t)
	if err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("repository %s: %w", m.Config.ID, err)
	}
	if err := os.Rename(tmp.Name(), m.cachedName(d)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("repository %s: %w", m.Config.ID, err)
	}
	return nil
}

// fetchVerified downloads a metadata file into a new file in dir (the
// system's temporary directory when empty) from the first mirror that
// serves it whole and matching repomd's checksum, and returns it open at
// its start.
func (m *Metadata) fetchVerified(ctx context.Context, d *Data, dir string, t *tracker) (*os.File, error) {
	if _, err := newHash(d.Checksum.Type); err != nil {
		return nil, fmt.Errorf("repository %s: %s: %w", m.Config.ID, d.Location.Href, err)
	}
	tmp, err := createDownload(dir)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", m.Config.ID, err)
	}
	_, err = m.f.tryURLs(ctx, m.Config, d.Location.Href, m.urls, func(ctx context.Context, base string) error {
		u := join(base, d.Location.Href)
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return permanent{err}
		}
		if err := tmp.Truncate(0); err != nil {
			return permanent{err}
		}
		h, _ := newHash(d.Checksum.Type)
		mark := t.mark()
		if err := m.f.get(ctx, m.Config, u, m.f.limit(io.MultiWriter(tmp, h), d.Size), t); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, strings.TrimSpace(d.Checksum.Value)) {
			t.rewind(mark)
			return fmt.Errorf("%s: %w: repomd.xml says %s, the file is %s", u, ErrChecksum, strings.TrimSpace(d.Checksum.Value), got)
		}
		return nil
	})
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return tmp, nil
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
