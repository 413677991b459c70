package jwks

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// trust makes c (from NewClient) trust srv's certificate.
func trust(t *testing.T, c *http.Client, srv *httptest.Server) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c.Transport.(*capTransport).base.(*http.Transport).TLSClientConfig.RootCAs = pool
}

func TestNewClientSettings(t *testing.T) {
	c := NewClient(3*time.Second, 1000)
	tr := c.Transport.(*capTransport)
	base := tr.base.(*http.Transport)
	if base.Proxy != nil {
		t.Error("the client uses a proxy")
	}
	if base.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS min version = %x", base.TLSClientConfig.MinVersion)
	}
	if c.Timeout != 3*time.Second || tr.maxBytes != 1000 {
		t.Errorf("timeout %v, max bytes %d", c.Timeout, tr.maxBytes)
	}
	d := NewClient(0, 0)
	if d.Timeout != defaultFetchTimeout || d.Transport.(*capTransport).maxBytes != defaultMaxBytes {
		t.Errorf("defaults: timeout %v, max bytes %d", d.Timeout, d.Transport.(*capTransport).maxBytes)
	}
}

func TestNewClientRedirects(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /hops/N redirects N more times, then answers.
		if n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hops/")); err == nil && n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/hops/%d", n-1), http.StatusFound)
			return
		}
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer tlsSrv.Close()

	tests := []struct {
		name    string
		url     string
		wantErr string // "" for success
	}{
		{"no redirect", plain.URL + "/hops/0", ""},
		{"3 redirects", plain.URL + "/hops/3", ""},
		{"4 redirects", plain.URL + "/hops/4", "stopped after 3 redirects"},
		{"https to https", tlsSrv.URL + "/?to=" + tlsSrv.URL + "/done", ""},
		{"https to loopback http", tlsSrv.URL + "/?to=" + plain.URL + "/done", "from https to http"},
		{"loopback http to remote http", plain.URL + "/?to=http://idp.example/jwks", "loopback"},
		{"loopback http to file", plain.URL + "/?to=file:///etc/passwd", "https"},
		{"loopback http to https", plain.URL + "/?to=" + tlsSrv.URL + "/done", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(5*time.Second, 1<<10)
			trust(t, c, tlsSrv)
			resp, err := c.Get(tt.url)
			if err == nil {
				resp.Body.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Get: %v", err)
			case tt.wantErr == "" && resp.StatusCode != http.StatusOK:
				t.Errorf("status %d", resp.StatusCode)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Get: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewClientBodyCap(t *testing.T) {
	const max = 1000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		body := strings.Repeat("x", n)
		if r.URL.Query().Get("length") != "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
			io.WriteString(w, body)
			return
		}
		for len(body) > 0 { // streamed: no Content-Length
			k := min(100, len(body))
			io.WriteString(w, body[:k])
			w.(http.Flusher).Flush()
			body = body[k:]
		}
	}))
	defer srv.Close()
	tests := []struct {
		n          int
		length     bool
		wantGetErr bool
		wantErr    bool
	}{
		{0, false, false, false},
		{max, false, false, false},
		{max + 1, false, false, true},
		{10 * max, false, false, true},
		{max, true, false, false},
		{max + 1, true, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d bytes, Content-Length %v", tt.n, tt.length), func(t *testing.T) {
			u := fmt.Sprintf("%s/?n=%d", srv.URL, tt.n)
			if tt.length {
				u += "&length=1"
			}
			resp, err := NewClient(5*time.Second, max).Get(u)
			if (err != nil) != tt.wantGetErr {
				t.Fatalf("Get: %v, want error = %v", err, tt.wantGetErr)
			}
			if err != nil {
				if !errors.Is(err, errTooLarge) {
					t.Errorf("Get: %v, want errTooLarge", err)
				}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("read: %v, want error = %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, errTooLarge) {
				t.Errorf("read: %v, want errTooLarge", err)
			}
			if len(b) > max {
				t.Errorf("read %d bytes, more than the cap", len(b))
			}
			if err == nil && len(b) != tt.n {
				t.Errorf("read %d bytes, want %d", len(b), tt.n)
			}
		})
	}
}

// TestInjectedClientIsCapped checks that a Source caps bodies itself when
// its Client is not from NewClient, and leaves that Client unchanged.
func TestInjectedClientIsCapped(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, pubJWK(t, k.ecA, "a"))
	srv.setMode(modeHuge)
	client := &http.Client{Timeout: 5 * time.Second}
	cfg := testConfig(srv.url(), "ES256")
	cfg.Client = client
	src := newSource(t, cfg)
	eventually(t, "the failure is reported", func() bool { return src.Status().LastError != "" })
	if st := src.Status(); st.HasKeys || !strings.Contains(st.LastError, "too large") {
		t.Errorf("Status = %+v, want no keys and a size error", st)
	}
	if client.Transport != nil {
		t.Error("the Source changed the caller's Client")
	}
	srv.setMode(modeOK)
	eventually(t, "keys arrive", func() bool { return src.Status().HasKeys })
}
