package haproxy

import "fmt"

// Config returns a whole haproxy.cfg for one module: the runtime API on
// socket (level admin, as Front needs), a frontend on listen (HOST:PORT)
// and backend, with no server (Front adds them), spreading requests round
// robin and retrying a request that failed on one server on another one
// (see the package documentation for why each line is there).
func Config(listen, backend, socket string) string {
	return fmt.Sprintf(`global
    stats socket %[3]s mode 600 level admin expose-fd listeners

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 30s

frontend public
    bind %[1]s
    default_backend %[2]s

backend %[2]s
    balance roundrobin
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
    http-request disable-l7-retry unless METH_GET or METH_OPTIONS
    http-reuse safe
`, listen, backend, socket)
}
