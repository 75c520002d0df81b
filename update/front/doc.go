// Package front holds a module's public port across updates: a reverse
// proxy in front of the module's containers, which listen on loopback
// ports. A backend joins the rotation only once it passes the module's
// health check (Add), and leaves it drained (Drain): no new request goes
// to it, and those in flight finish, up to a timeout. Requests and errors
// (transport failures and 5xx answers) are counted per backend, for the
// rollout's watch window.
//
// Proxy is the built-in front, an http.Handler, and Client drives one
// over its control socket; package haproxy (update/front/haproxy) has the
// same operations on an HAProxy. Both check a backend's health with
// WaitHealthy.
package front
