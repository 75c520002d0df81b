package front_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicorn-dev/alicorn/update/front"
)

// A front run as its own process would run it: the public address, a
// control socket an updater adds backends through, and a state file
// that a restarted front restores its rotation from.
func ExampleServe() {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "It works")
	}))
	defer web.Close()
	dir, _ := os.MkdirTemp("", "front")
	defer os.RemoveAll(dir)
	l, _ := net.Listen("tcp", "127.0.0.1:0") // a free port
	public := l.Addr().String()
	l.Close()

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := front.Config{Listen: public, Socket: filepath.Join(dir, "front.sock"), State: filepath.Join(dir, "front.json")}
	go func() { done <- front.Serve(ctx, cfg) }()

	c := front.Client{Socket: cfg.Socket}
	for i := 0; i < 500; i++ { // until the front answers, at most 5s
		if _, err := c.Backends(ctx); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	err := c.Add(ctx, front.Backend{Name: "web-1", Addr: strings.TrimPrefix(web.URL, "http://")},
		front.Health{Expect: "It works", Timeout: 5 * time.Second})
	fmt.Println("add:", err)
	resp, err := http.Get("http://" + public + "/")
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(b))
	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// add: <nil>
	// 200 OK It works
	// stopped: <nil>
}
