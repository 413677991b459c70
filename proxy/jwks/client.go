package jwks

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// maxRedirects is how many redirects a key fetch follows.
const maxRedirects = 3

// NewClient returns an HTTP client for fetching keys and discovery
// documents. timeout bounds each request, from dialing to the end of the
// body; a response body larger than maxBytes fails to read with an error
// (and a Content-Length above it fails the request at once), so that a
// JSON decoder reading it fails rather than buffering an unbounded body.
// A timeout or maxBytes of zero or less selects the default (5 seconds,
// 512 KiB).
//
// The client ignores proxy environment variables, requires TLS 1.2 or
// later, and follows at most 3 redirects, each to an https URL or an http
// URL of a loopback host, and never from https to http.
func NewClient(timeout time.Duration, maxBytes int64) *http.Client {
	if timeout <= 0 {
		timeout = defaultFetchTimeout
	}
	if maxBytes <= 0 {
		maxBytes = defaultMaxBytes
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           4,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     &capTransport{base: transport, maxBytes: maxBytes},
		CheckRedirect: checkRedirect,
		Timeout:       timeout,
	}
}

// checkRedirect is the redirect policy of NewClient.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("jwks: stopped after %d redirects", maxRedirects)
	}
	if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("jwks: refusing redirect from https to %s", req.URL.Scheme)
	}
	if err := checkParsedURL(req.URL); err != nil {
		return fmt.Errorf("jwks: refusing redirect: %w", err)
	}
	return nil
}

// errTooLarge is the error of reading a response body past its cap.
var errTooLarge = errors.New("jwks: response body too large")

// capTransport caps the size of response bodies.
type capTransport struct {
	base     http.RoundTripper
	maxBytes int64
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.maxBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: Content-Length %d, at most %d bytes allowed", errTooLarge, resp.ContentLength, t.maxBytes)
	}
	resp.Body = &capReader{body: resp.Body, left: t.maxBytes, max: t.maxBytes}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// underlying transport.
func (t *capTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// capReader reads at most max bytes of body; reading past them is an error
// wrapping errTooLarge, not a silent truncation, so the body is never taken
// for a complete document.
type capReader struct {
	body      io.ReadCloser
	left, max int64
	err       error
}

func (r *capReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1] // one byte more than allowed shows the body is too long
	}
	n, err := r.body.Read(p)
	if int64(n) > r.left {
		n = int(r.left)
		r.left = 0
		r.err = fmt.Errorf("%w: more than %d bytes", errTooLarge, r.max)
		return n, r.err
	}
	r.left -= int64(n)
	return n, err
}

func (r *capReader) Close() error { return r.body.Close() }

// readAll reads body to its end, but fails with an error wrapping
// errTooLarge after max bytes. It is the cap a Source applies itself, for
// clients not made by NewClient.
func readAll(body io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, max)
	}
	return b, nil
}
