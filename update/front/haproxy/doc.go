// Package haproxy is the front of a module on a host that runs HAProxy
// (module [front] kind = "haproxy"): the module's containers are dynamic
// servers of one HAProxy backend, added, drained and removed through
// HAProxy's runtime API (HAProxy 2.4 or later; tested with 2.6). Front
// implements update.Front as the built-in front (package front) does:
// Add checks a backend's health itself before HAProxy sends it anything.
//
// # Server names
//
// A backend's name (podman's container ID: 64 hex digits; or a container
// name such as web-2) is the server's name, unchanged, so that Backends
// gives back the names Add was given. HAProxy allows letters, digits,
// '-', '_', '.' and ':' in a name; a name with any other character is
// refused with an error rather than mapped (which would also keep a name
// from smuggling a second command, after ';' or a newline, to the
// runtime API).
//
// # What haproxy.cfg needs
//
// Config writes a whole configuration for one module. A sysadmin who
// keeps their own haproxy.cfg needs, for the module's backend:
//
//	global
//	    # The runtime API, at [front] socket; "level admin" for add server,
//	    # del server and set server; "expose-fd listeners" keeps the
//	    # listening sockets across a reload (haproxy -sf).
//	    stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners
//
//	backend web  # [front] backend (default: the module's name)
//	    mode http
//	    # A dynamic load-balancing algorithm (not static-rr, first or a
//	    # hash): HAProxy refuses "add server" otherwise.
//	    balance roundrobin
//	    # A request that fails on a server (refused connection, cut or
//	    # empty answer, timeout, 500/502/503/504) is tried again, up to 3
//	    # times, each time on another server: a client sees no failure
//	    # when one container dies or answers errors while another works.
//	    retries 3
//	    option redispatch 1
//	    retry-on all-retryable-errors
//	    # Only a connection failure is retried for the methods that may
//	    # change something (POST, PATCH…).
//	    http-request disable-l7-retry unless METH_GET or METH_OPTIONS
//	    http-reuse safe
//
// and no static "server" line for the module's containers: alicorn adds
// and removes them. Servers added at run time are lost by a reload or a
// restart of HAProxy (they are in no file); the next update adds them
// again. HAProxy's own health checks of dynamic servers are off unless
// Front.Server holds "check" (with "option httpchk" in the backend).
//
// # Runtime API
//
// Each command is one connection in non-interactive mode: the command
// and a newline are sent, HAProxy answers and closes. An answer other
// than the one a command gives when it works ("New server registered.",
// "Server deleted.", or nothing) is HAProxy's error message and becomes
// the error ("No such server.", "Permission denied", "Only servers in
// maintenance mode can be deleted.", …). The commands used are add
// server, enable server, enable health, set server … state drain|maint,
// shutdown sessions server, del server, show stat and show servers
// state.
package haproxy
