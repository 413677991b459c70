package main

import (
	"crypto/tls"
	"sync/atomic"

	"github.com/authgate/authgate/config"
)

// certificate is the traffic listener's TLS certificate, swapped on reload
// without restarting the listener.
type certificate struct {
	cur atomic.Pointer[tls.Certificate]
}

// tlsConfig serves the current certificate. HTTP/2 is negotiated by
// http.Server when it serves TLS.
func (c *certificate) tlsConfig(t *config.TLS) *tls.Config {
	minVersion := uint16(tls.VersionTLS12)
	if t.MinVersion == "1.3" {
		minVersion = tls.VersionTLS13
	}
	return &tls.Config{
		MinVersion: minVersion,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
