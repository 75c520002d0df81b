// Package front holds a module's public port across updates: a reverse
// proxy in front of the module's containers, which listen on loopback
// ports. A backend joins the rotation only once it passes the module's
// health check (Add), and leaves it drained (Drain): no new request goes
// to it, and those in flight finish, up to a timeout. Requests and errors
// (transport failures and 5xx answers) are counted per backend, for the
// rollout's watch window.
//
// A request a backend fails (a transport error, or a 5xx answer) is sent
// again to another backend when that is safe: GET, HEAD and OPTIONS
// after any failure, other methods only when the backend refused the
// connection; bodies up to MaxReplayBody are buffered for it. The
// failure still counts against the backend, and the client sees none
// while another backend works: a bad container is rolled back without
// failed requests.
//
// Proxy is the built-in front, an http.Handler, and Client drives one
// over its control socket (ServeControl); Serve runs it as a long-lived
// process that keeps its rotation in a state file across restarts.
// Package haproxy (update/front/haproxy) has the same operations on an
// HAProxy. Both check a backend's health with WaitHealthy.
package front
