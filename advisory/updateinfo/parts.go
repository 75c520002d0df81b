package updateinfo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/alicorn-dev/alicorn/advisory"
)

// Part receives the advisories of one part of a document from ParseParts.
type Part interface {
	// Add is called with each advisory of the part, in document order,
	// on the goroutine parsing the part. The advisory is lent as
	// Options.Reuse lends it: valid only during the call.
	Add(*advisory.Advisory) error
}

// PartsOptions tune ParseParts.
type PartsOptions struct {
	// Workers is how many parts are parsed at once; 0 means GOMAXPROCS.
	Workers int
	// PartSize is about how many bytes of the document make a part; 0
	// means 128 KiB (Workers+2 parts are in memory at most).
	PartSize int
}

// cut is the end tag after which a document is cut into parts.
const cut = "</update>"

// ParseParts is Parse on several goroutines. The document is cut into
// parts of about PartSize bytes, each ending with an advisory's end tag,
// while it is read; each part is parsed on a goroutine of its own into a
// Part that newPart makes there (so newPart and the parts' Add must be
// safe to call concurrently), and done receives the parts in document
// order on the calling goroutine, once everything before them is known
// to have been parsed well. A part is parsed as if it followed another
// advisory inside <updates>: when that turns out wrong (the cut fell
// inside a comment or CDATA section, the document is not shaped
// <updates><update/>…, or it is not UTF-8), and wherever a part holds an
// error, the document is parsed again from that part's start in one
// piece, on the calling goroutine, into one last Part. So done sees
// exactly the advisories Parse passes to its fn, and the error returned
// is Parse's, line included.
func ParseParts[P Part](ctx context.Context, r io.Reader, opts PartsOptions, newPart func() P, done func(P) error) error {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.PartSize <= 0 {
		opts.PartSize = 128 << 10
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	s := &splitter{r: r, size: opts.PartSize, work: make(chan *chunk, opts.Workers),
		free: make(chan []byte, opts.Workers+2), quota: opts.Workers + 2, exited: make(chan struct{})}
	go s.run(wctx)
	results := make(chan partResult[P], opts.Workers)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := worker{t: &tokenizer{scratch: make([]byte, 0, 64<<10)}}
			for c := range s.work {
				if s.stopped.Load() {
					continue
				}
				part := newPart()
				err, bad := w.parse(wctx, c, part)
				results <- partResult[P]{c: c, part: part, err: err, bad: bad}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	// halt stops the reader and the workers and waits for them.
	halt := func() {
		s.stopped.Store(true)
		stop()
		for range results {
		}
		<-s.exited
	}
	pending := map[int]partResult[P]{}
	next := 0
	for res := range results {
		pending[res.c.k] = res
		for {
			res, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			switch {
			case res.err != nil:
				halt()
				return res.err
			case res.bad:
				halt()
				return again(ctx, s, next, newPart, done)
			}
			if err := done(res.part); err != nil {
				halt()
				return err
			}
			// Lines before a part, for errors found when parsing again.
			s.lines += bytes.Count(res.c.data, []byte{'\n'})
			s.recycle(res.c.data)
			if res.c.final {
				halt()
				return nil
			}
			next++
		}
	}
	// The workers ended before the last part: the reader stopped early.
	<-s.exited
	if err := ctx.Err(); err != nil {
		return err
	}
	return again(ctx, s, next, newPart, done)
}

type partResult[P Part] struct {
	c    *chunk
	part P
	err  error // from Add or the context: returned as it is
	bad  bool  // parse again from the part's start in one piece
}

// chunk is one part of the document.
type chunk struct {
	k     int
	data  []byte
	final bool // the input ended after it
}

// splitter reads the document and cuts it into chunks.
type splitter struct {
	r     io.Reader
	size  int
	work  chan *chunk
	free  chan []byte
	quota int // buffers that may still be made

	// Read once the reader has stopped (exited is closed): every chunk
	// made, in order, what it read after them, and its read error.
	chunks  []*chunk
	rest    []byte
	readErr error
	stopped atomic.Bool
	exited  chan struct{}
	// lines counts the lines of the chunks done.
	lines int
}

func (s *splitter) buffer(ctx context.Context) ([]byte, bool) {
	select {
	case b := <-s.free:
		return b[:0], true
	default:
	}
	if s.quota > 0 {
		s.quota--
		return make([]byte, 0, s.size+s.size/4), true
	}
	select {
	case b := <-s.free:
		return b[:0], true
	case <-ctx.Done():
		return nil, false
	}
}

func (s *splitter) recycle(b []byte) {
	select {
	case s.free <- b:
	default:
	}
}

func (s *splitter) run(ctx context.Context) {
	defer close(s.exited)
	defer close(s.work)
	var carry []byte
	for k := 0; ; k++ {
		buf, ok := s.buffer(ctx)
		if !ok {
			s.rest = carry
			return
		}
		buf = append(buf, carry...)
		c := &chunk{k: k}
		searched := 0
		for {
			if len(buf) >= s.size {
				// The last advisory end in what was read since the last
				// look (advisories are small: it is near the end).
				from := max(0, searched-len(cut))
				if i := bytes.LastIndex(buf[from:], []byte(cut)); i >= 0 {
					end := from + i + len(cut)
					c.data, carry = buf[:end], buf[end:]
					break
				}
				searched = len(buf)
				if len(buf) > max(1<<20, 32*s.size) {
					// No advisory ends here (a huge one, or another
					// vocabulary): the rest is parsed in one piece,
					// streamed, rather than held whole.
					s.rest = buf
					return
				}
			}
			if len(buf) == cap(buf) {
				nb := make([]byte, len(buf), 2*cap(buf))
				copy(nb, buf)
				buf = nb
			}
			n, err := s.r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				if !errors.Is(err, io.EOF) {
					// Parsed again in one piece, with the error where
					// the reader met it.
					s.readErr = err
					s.rest = buf
					return
				}
				c.data, c.final, carry = buf, true, nil
				break
			}
			if ctx.Err() != nil {
				s.rest = buf
				return
			}
		}
		s.chunks = append(s.chunks, c)
		select {
		case s.work <- c:
		case <-ctx.Done():
			s.rest = carry
			return
		}
		if c.final {
			return
		}
		// carry stays where it is (workers only read the buffer, and it
		// comes back to this goroutine alone) until it is copied to the
		// start of the next buffer.
	}
}

// again parses the document from chunk k's start in one piece, once the
// reader and the workers have stopped.
func again[P Part](ctx context.Context, s *splitter, k int, newPart func() P, done func(P) error) error {
	var rs []io.Reader
	final := false
	for _, c := range s.chunks[k:] {
		rs = append(rs, bytes.NewReader(c.data))
		final = c.final
	}
	rs = append(rs, bytes.NewReader(s.rest))
	switch {
	case s.readErr != nil:
		rs = append(rs, errReader{s.readErr})
	case !final:
		rs = append(rs, s.r)
	}
	t := newTokenizer(io.MultiReader(rs...))
	var p parser
	resume(t, &p, k)
	t.line = s.lines
	part := newPart()
	if err := p.run(ctx, part.Add); err != nil {
		return err
	}
	return done(part)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// worker parses chunks with a tokenizer and parser it reuses.
type worker struct {
	t *tokenizer
	p parser
}

// resume puts t and p in the state after an advisory inside <updates>
// (k > 0), or at a document's start.
func resume(t *tokenizer, p *parser, k int) {
	t.err, t.line, t.latin1 = nil, 0, false
	t.selfClose, t.pendEnd, t.ended = false, false, false
	t.stack, t.stackBuf = t.stack[:0], t.stackBuf[:0]
	p.tok, p.reuse = t, true
	p.stack, p.unknown, p.collect, p.text, p.cur, p.coll, p.pkg = p.stack[:0], 0, false, p.text[:0], nil, nil, nil
	if k == 0 {
		t.started, t.prolog = false, false
		p.state, p.sawRoot = stStart, false
		return
	}
	t.started, t.prolog = true, true
	t.stack = append(t.stack, 0)
	t.stackBuf = append(t.stackBuf, "updates"...)
	p.state, p.sawRoot = stUpdates, true
	p.stack = append(p.stack, stStart)
}

// resumable reports whether t and p are in the state resume(k > 0) sets.
func resumable(t *tokenizer, p *parser) bool {
	return t.err == nil && t.pos == len(t.buf) && !t.pendEnd && !t.ended && !t.latin1 &&
		len(t.stack) == 1 && string(t.stackBuf) == "updates" &&
		p.state == stUpdates && len(p.stack) == 1 && p.stack[0] == stStart && p.unknown == 0 && p.cur == nil && !p.collect
}

func (w *worker) parse(ctx context.Context, c *chunk, part Part) (err error, bad bool) {
	t, p := w.t, &w.p
	t.buf, t.pos, t.eof = c.data, 0, true
	resume(t, p, c.k)
	t.partial, p.partial = !c.final, !c.final
	var addErr error
	err = p.run(ctx, func(a *advisory.Advisory) error {
		addErr = part.Add(a)
		return addErr
	})
	bad = err != nil || !c.final && !resumable(t, p)
	t.buf = nil
	switch {
	case addErr != nil:
		return addErr, false
	case ctx.Err() != nil:
		return ctx.Err(), false
	}
	return nil, bad
}
