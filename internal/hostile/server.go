package hostile

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Stall is how a Server misbehaves.
type Stall int

const (
	// NoAnswer accepts connections and never reads from or writes to
	// them: every request to the server stalls, whatever its path.
	NoAnswer Stall = iota
	// BeforeHeaders reads the request and never answers it.
	BeforeHeaders
	// MidBody sends the headers of the real answer (its
	// Content-Length included) and half of its body, then nothing.
	MidBody
	// Endless answers 200 with zeros that never end.
	Endless
	// EndlessAnnounced is Endless announcing a Content-Length of 1 TiB.
	EndlessAnnounced
)

func (s Stall) String() string {
	switch s {
	case NoAnswer:
		return "accepts and never answers"
	case BeforeHeaders:
		return "stalls before headers"
	case MidBody:
		return "stalls mid-body"
	case Endless:
		return "endless body"
	case EndlessAnnounced:
		return "endless body, 1 TiB announced"
	}
	return "Stall(" + strconv.Itoa(int(s)) + ")"
}

// Server is an HTTP server listening on 127.0.0.1 that serves files,
// and stalls on the requests whose path contains a given part. Its
// stalls last until the client leaves or Close is called.
type Server struct {
	// URL is http://127.0.0.1:PORT, without a trailing slash.
	URL string

	l    net.Listener
	srv  *http.Server
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	mu   sync.Mutex
	raw  []net.Conn
	hits int
}

// NewServer starts a server answering with files, except for requests
// whose path contains part (all requests when part is ""), on which it
// misbehaves as s says. With NoAnswer no request is answered, files and
// part aside.
func NewServer(s Stall, files http.Handler, part string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &Server{URL: "http://" + l.Addr().String(), l: l, done: make(chan struct{})}
	if s == NoAnswer {
		srv.wg.Add(1)
		go srv.hold()
		return srv, nil
	}
	srv.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.mu.Lock()
		hit := strings.Contains(r.URL.Path, part)
		if hit {
			srv.hits++
		}
		srv.mu.Unlock()
		if !hit {
			files.ServeHTTP(w, r)
			return
		}
		srv.stall(s, files, w, r)
	})}
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		if err := srv.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err) // Serve fails only when Close has not been called
		}
	}()
	return srv, nil
}

// Hits returns how many requests the server stalled on (NoAnswer: how
// many connections it accepted).
func (srv *Server) Hits() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.hits
}

// hold accepts connections and keeps them open, silent, until Close.
func (srv *Server) hold() {
	defer srv.wg.Done()
	for {
		c, err := srv.l.Accept()
		if err != nil {
			return
		}
		srv.mu.Lock()
		srv.raw = append(srv.raw, c)
		srv.hits++
		srv.mu.Unlock()
	}
}

func (srv *Server) stall(s Stall, files http.Handler, w http.ResponseWriter, r *http.Request) {
	switch s {
	case MidBody:
		rec := httptest.NewRecorder()
		files.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
	case Endless, EndlessAnnounced:
		if s == EndlessAnnounced {
			w.Header().Set("Content-Length", strconv.FormatInt(1<<40, 10))
		}
		w.WriteHeader(http.StatusOK)
		block := bytes.Repeat([]byte{0}, 32<<10)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-srv.done:
				return
			default:
			}
			if _, err := w.Write(block); err != nil {
				return
			}
		}
	}
	select {
	case <-r.Context().Done():
	case <-srv.done:
	}
}

// Close stops the server, ending its stalls and closing every
// connection; it waits for its goroutines.
func (srv *Server) Close() {
	srv.once.Do(func() {
		close(srv.done)
		if srv.srv != nil {
			srv.srv.Close()
		} else {
			srv.l.Close()
		}
		srv.wg.Wait()
		srv.mu.Lock()
		for _, c := range srv.raw {
			c.Close()
		}
		srv.mu.Unlock()
	})
}
