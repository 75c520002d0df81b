package front

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Retries, as HAProxy's "retry-on conn-failure empty-response" and 5xx
// answers, with "option redispatch": a request a backend fails is sent
// again to another backend of the rotation, so that a container that
// exits, crashes, or answers 5xx after passing its health check costs
// the clients nothing while it is rolled back. (A backend that accepts
// requests and never answers is not timed out: a slow answer may be
// right, and the rollout's health checks catch a hung container.)
//
// Which requests are sent again:
//   - GET, HEAD and OPTIONS (safe methods, RFC 9110 9.2.1), after any
//     failure: a transport error (connection refused or reset, EOF
//     before the response's headers) or a 5xx answer. The backend may
//     have run them; running them twice is harmless by definition.
//   - Any other method only when its connection could not be opened
//     (the dial failed: the backend never saw the request), never after
//     a 5xx or a connection lost with the request sent, since a POST the
//     backend half-ran must not run twice.
//
// Either way a request body is sent again only when it was buffered:
// bodies of a known length up to MaxReplayBody are read in full before
// the first attempt; larger or chunked bodies are streamed to one
// backend and the request is not retried. Each backend is tried at most
// once per request and at most MaxAttempts are; when all fail, the last
// answer goes to the client as it is (a 5xx), or 502 after a transport
// error. A request whose client went away is neither retried nor
// counted against the backend.

// MaxAttempts is the most backends one request is sent to.
const MaxAttempts = 3

// MaxReplayBody is the largest request body the front buffers so that it
// can send the request again to another backend.
const MaxReplayBody = 64 << 10

// replay is how far a request may be sent again.
type replay int

const (
	replayNone   replay = iota // a streamed body: sent once
	replayUnsent               // unsafe methods: again only if never sent
	replayAll                  // safe methods: again after any failure
)

// reverseProxy returns p's reverse proxy: one for all backends, whose
// transport picks a backend for each attempt.
func (p *Proxy) reverseProxy() *httputil.ReverseProxy {
	base := &http.Transport{
		Proxy: nil, // backends are on loopback, never behind a proxy
		// A backend on loopback that does not accept within 2s is gone
		// or swamped: the request is better retried on another.
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256, // kept-alive clients get kept-alive backend connections
		IdleConnTimeout:       30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	p.transport = base
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The Host header stays the public one; the backend's
			// address is set per attempt by the transport.
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "backend.invalid"
			pr.SetXForwarded()
		},
		Transport:      &retrier{p: p, base: base},
		ModifyResponse: checkUpgrade,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, ErrNoBackend) {
				http.Error(w, ErrNoBackend.Error(), http.StatusServiceUnavailable)
				return
			}
			http.Error(w, "bad gateway", http.StatusBadGateway)
		},
	}
}

// checkUpgrade refuses a 101 answer that switches to another protocol
// than the request's, as the reverse proxy would, but through
// ModifyResponse: the proxy then closes the answer's body, and its
// backend is no longer in flight (the proxy's own refusal leaves the
// body open).
func checkUpgrade(resp *http.Response) error {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil
	}
	req, res := upgradeType(resp.Request.Header), upgradeType(resp.Header)
	if res == "" || !strings.EqualFold(req, res) || strings.ContainsFunc(res, func(r rune) bool { return r < ' ' || r > '~' }) {
		return fmt.Errorf("backend switched to protocol %q when %q was asked for", res, req)
	}
	return nil
}

// upgradeType is the protocol a request or answer upgrades to: its
// Upgrade header when its Connection header lists "upgrade".
func upgradeType(h http.Header) string {
	for _, v := range h.Values("Connection") {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return h.Get("Upgrade")
			}
		}
	}
	return ""
}

// retrier is the reverse proxy's transport: it sends each attempt to a
// backend of the rotation through base and counts it.
type retrier struct {
	p    *Proxy
	base http.RoundTripper
}

// RoundTrip sends req to a backend, and again to others as the rules
// above allow. The response's body keeps its backend in flight until it
// is closed.
func (t *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	how, body, err := buffer(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	b := t.p.pick(nil)
	if b == nil {
		return nil, ErrNoBackend
	}
	tried := make([]*backend, 0, MaxAttempts)
	for attempt := 1; ; attempt++ {
		tried = append(tried, b)
		b.requests.Add(1)
		resp, err := t.base.RoundTrip(attemptOf(req, b, body))
		retry := false
		switch {
		case err != nil && ctx.Err() != nil:
			// The client went away: not the backend's failure.
			b.inflight.Done()
			return nil, err
		case err != nil:
			b.errors.Add(1)
			b.inflight.Done()
			retry = how == replayAll || how == replayUnsent && unsent(err)
			err = fmt.Errorf("backend %s (%s): %w", b.Name, b.Addr, err)
		case resp.StatusCode >= 500:
			b.errors.Add(1)
			retry = how == replayAll
		}
		var next *backend
		if retry && attempt < MaxAttempts {
			next = t.p.pick(tried)
		}
		if next == nil {
			if err != nil {
				return nil, err
			}
			resp.Body = track(ctx, resp.Body, b)
			return resp, nil
		}
		if resp != nil {
			// Read a little of the failed answer so that its
			// connection may be used again.
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			b.inflight.Done()
		}
		b = next
	}
}

// buffer tells how far req may be sent again, and reads its body when it
// is small enough to be sent again (nil when there is none).
func buffer(req *http.Request) (replay, []byte, error) {
	how := replayUnsent
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		how = replayAll
	}
	if req.Body == nil || req.Body == http.NoBody {
		return how, nil, nil
	}
	if req.ContentLength <= 0 || req.ContentLength > MaxReplayBody {
		return replayNone, nil, nil
	}
	defer req.Body.Close()
	body := make([]byte, req.ContentLength)
	if _, err := io.ReadFull(req.Body, body); err != nil {
		return replayNone, nil, fmt.Errorf("reading the request's body: %w", err)
	}
	return how, body, nil
}

// attemptOf returns req addressed to b, with a fresh reader of body.
func attemptOf(req *http.Request, b *backend, body []byte) *http.Request {
	out := new(http.Request)
	*out = *req
	u := *req.URL
	u.Host = b.Addr
	out.URL = &u
	if body != nil {
		out.ContentLength = int64(len(body))
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return out
}

// unsent tells whether err means the request never reached the backend:
// its connection could not be opened.
func unsent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// track wraps a response body so that its backend stays in flight until
// the body is closed, after the reverse proxy copied all of it to the
// client, and so that a read error (the backend died mid-body) counts
// against the backend. A 101 answer's body is also the connection's
// writer, and stays one.
func track(ctx context.Context, body io.ReadCloser, b *backend) io.ReadCloser {
	t := &tracked{ReadCloser: body, b: b, ctx: ctx}
	if w, ok := body.(io.Writer); ok {
		return trackedRW{t, w}
	}
	return t
}

type tracked struct {
	io.ReadCloser
	b      *backend
	ctx    context.Context
	failed atomic.Bool
	once   sync.Once
}

func (t *tracked) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if err != nil && err != io.EOF && t.ctx.Err() == nil && t.failed.CompareAndSwap(false, true) {
		t.b.errors.Add(1)
	}
	return n, err
}

func (t *tracked) Close() error {
	err := t.ReadCloser.Close()
	t.once.Do(t.b.inflight.Done)
	return err
}

type trackedRW struct {
	*tracked
	w io.Writer
}

func (t trackedRW) Write(p []byte) (int, error) { return t.w.Write(p) }
