package main

import (
	"crypto/tls"
	"net/http"
)

// insecureTransport talks to registries over plain HTTP or unverified
// TLS (--tls-verify=false).
func insecureTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	return t
}
