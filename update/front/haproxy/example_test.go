package haproxy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/front"
	"github.com/alicorn-dev/alicorn/update/front/haproxy"
)

// Front is an update.Front.
var _ update.Front = haproxy.Front{}

// A module's haproxy.cfg, for an HAProxy that runs only this module.
func ExampleConfig() {
	fmt.Print(haproxy.Config("127.0.0.1:8080", "web", "/run/haproxy/admin.sock"))
	// Output:
	// global
	//     stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners
	//
	// defaults
	//     mode http
	//     timeout connect 5s
	//     timeout client 30s
	//     timeout server 30s
	//     timeout http-request 10s
	//     timeout http-keep-alive 10s
	//     timeout queue 30s
	//
	// frontend public
	//     bind 127.0.0.1:8080
	//     default_backend web
	//
	// backend web
	//     balance roundrobin
	//     retries 3
	//     option redispatch 1
	//     retry-on all-retryable-errors
	//     http-request disable-l7-retry unless METH_GET or METH_OPTIONS
	//     http-reuse safe
}

// A new container joins the backend once healthy, and the old one
// leaves it drained. (Not run: it needs an HAProxy; the tests start one.)
func ExampleFront() {
	ctx := context.Background()
	f := haproxy.Front{Socket: "/run/haproxy/admin.sock", Backend: "web"}
	h := front.Health{Path: "/", Expect: "It works", Timeout: 30 * time.Second}
	if err := f.Add(ctx, front.Backend{Name: "3f2a9c0d41b7", Addr: "127.0.0.1:40123"}, h); err != nil {
		fmt.Println(err)
		return
	}
	if err := f.Drain(ctx, "9be0c1a2d3e4", 10*time.Second); err != nil {
		fmt.Println(err)
	}
}
