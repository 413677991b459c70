package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"
)

// BenchmarkAuthenticatedRequest measures one request through the whole
// handler: route match, bearer extraction, Ed25519 verification, policy,
// header stripping and forwarding to an in-process upstream over loopback.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	b.Cleanup(up.Close)
	g := newGateway(b, rulesYAML+`
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required, roles: [user]}
`, up.URL)
	authz := "Bearer " + mint(b, "alice", map[string]any{"preferred_username": "alice", "roles": []string{"user"}})

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/todos/1", nil)
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Auth-Subject", "forged")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkDeniedRequest measures the cheapest path: no token on a
// protected route.
func BenchmarkDeniedRequest(b *testing.B) {
	g := newGateway(b, modesYAML, "http://127.0.0.1:1")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("GET", "/required", nil))
		if w.Code != http.StatusUnauthorized {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkBareReverseProxy is the baseline of BenchmarkAuthenticatedRequest:
// the same request to the same kind of upstream through a plain
// httputil.ReverseProxy with a pooled transport and nothing else. What
// authgate adds is the difference between the two.
func BenchmarkBareReverseProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	b.Cleanup(up.Close)
	target, err := url.Parse(up.URL)
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConns: 100, MaxIdleConnsPerHost: 100, IdleConnTimeout: 90 * time.Second}
	b.Cleanup(tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: tr,
	}
	authz := "Bearer " + mint(b, "alice", map[string]any{"preferred_username": "alice", "roles": []string{"user"}})

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/todos/1", nil)
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Auth-Subject", "forged")
		w := httptest.NewRecorder()
		rp.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
