package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"
)

// authenticatedRequest returns one request through the whole handler:
// route match, bearer extraction, Ed25519 verification (a cache hit after
// the first), policy, header stripping and forwarding to an in-process
// upstream over loopback.
func authenticatedRequest(tb testing.TB) func() { return authenticated(tb, "") }

// authenticated is authenticatedRequest with more top-level config.
func authenticated(tb testing.TB, extraYAML string) func() {
	up := benchUpstream(tb)
	g := newGateway(tb, extraYAML+rulesYAML+`
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required, roles: [user]}
`, up.URL)
	authz := "Bearer " + mint(tb, "alice", map[string]any{"preferred_username": "alice", "roles": []string{"user"}})
	return func() { benchRequest(tb, g, authz) }
}

// bareRequest returns the same request to the same kind of upstream
// through a plain httputil.ReverseProxy with a pooled transport and nothing
// else: what authgate adds is the difference between the two.
func bareRequest(tb testing.TB) func() {
	up := benchUpstream(tb)
	target, err := url.Parse(up.URL)
	if err != nil {
		tb.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConns: 100, MaxIdleConnsPerHost: 100, IdleConnTimeout: 90 * time.Second}
	tb.Cleanup(tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: tr,
	}
	authz := "Bearer " + mint(tb, "alice", map[string]any{"preferred_username": "alice", "roles": []string{"user"}})
	return func() { benchRequest(tb, rp, authz) }
}

func benchUpstream(tb testing.TB) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	tb.Cleanup(up.Close)
	return up
}

func benchRequest(tb testing.TB, h http.Handler, authz string) {
	r := httptest.NewRequest("GET", "/todos/1", nil)
	r.Header.Set("Authorization", authz)
	r.Header.Set("X-Auth-Subject", "forged")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// BenchmarkAuthenticatedRequest measures one authenticated request through
// the whole handler; BenchmarkBareReverseProxy is its baseline.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	do := authenticatedRequest(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do()
	}
}

// BenchmarkUncachedRequest is BenchmarkAuthenticatedRequest with the
// verified-token cache off: a full signature check on every request, the
// cost of a client that sends a new token every time.
func BenchmarkUncachedRequest(b *testing.B) {
	do := authenticated(b, "token_cache: {enabled: false}\n")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do()
	}
}

// newTokenTokens is how many distinct tokens BenchmarkNewTokenRequest
// rotates through: more than the default token_cache holds (about 1,350
// access tokens), as in the load harness's "new token per request" case.
const newTokenTokens = 3000

// BenchmarkNewTokenRequest is BenchmarkAuthenticatedRequest with the
// default token cache and a different token on every request (rotating
// through newTokenTokens): what a client that sends a new token each time
// costs, cache misses included. BenchmarkBareReverseProxy is its baseline.
func BenchmarkNewTokenRequest(b *testing.B) {
	up := benchUpstream(b)
	g := newGateway(b, rulesYAML+`
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required, roles: [user]}
`, up.URL)
	authz := make([]string, newTokenTokens)
	for i := range authz {
		authz[i] = "Bearer " + mint(b, "alice", map[string]any{"preferred_username": "alice", "roles": []string{"user"}})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchRequest(b, g, authz[i%len(authz)])
		i++
	}
}

// maxAddedAllocs is what authgate may add, in allocations, to the bare
// ReverseProxy's for one authenticated request.
const maxAddedAllocs = 20

// TestAddedAllocations holds authgate to maxAddedAllocs allocations per
// authenticated request over a bare httputil.ReverseProxy doing the same
// request. Allocations are counted, not timed, so the result does not
// depend on the machine's load. The race detector changes allocation
// (sync.Pool drops items at random under it), so `make bench` runs this
// test without it.
func TestAddedAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector; make bench runs this test")
	}
	authgate, bare := authenticatedRequest(t), bareRequest(t)
	authgate() // the first request verifies the token and fills the cache
	bare()
	a := testing.AllocsPerRun(500, authgate)
	b := testing.AllocsPerRun(500, bare)
	t.Logf("authgate %.0f allocs/request, bare ReverseProxy %.0f: +%.0f", a, b, a-b)
	if a-b > maxAddedAllocs {
		t.Errorf("authgate adds %.0f allocations per request to the bare ReverseProxy's %.0f; at most %d", a-b, b, maxAddedAllocs)
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
// httputil.ReverseProxy with a pooled transport and nothing else.
func BenchmarkBareReverseProxy(b *testing.B) {
	do := bareRequest(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do()
	}
}
