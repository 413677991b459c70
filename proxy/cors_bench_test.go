package proxy_test

import (
	"net/http/httptest"
	"testing"
)

// corsBenchYAML has the benchmark's route twice: without and with a CORS
// policy.
const corsBenchYAML = rulesYAML + `
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required, roles: [user]}
  - name: cors
    path: /cors
    upstream: ${UPSTREAM}
    auth: required
    roles: [user]
    cors: {allowed_origins: [https://app.example.com], exposed_headers: [X-Request-Id], allow_credentials: true}
`

// corsRequests returns an authenticated request from the page of an
// allowed origin to a route without CORS and to one with it, and a
// preflight to the latter.
func corsRequests(tb testing.TB) (plain, cors, preflight func()) {
	up := benchUpstream(tb)
	g := newGateway(tb, corsBenchYAML, up.URL)
	authz := "Bearer " + mint(tb, "alice", map[string]any{"preferred_username": "alice", "roles": []string{"user"}})
	do := func(method, path string, status int, h map[string]string) func() {
		return func() {
			r := httptest.NewRequest(method, path, nil)
			for k, v := range h {
				r.Header[k] = []string{v}
			}
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != status {
				tb.Fatalf("%s %s: status %d: %s", method, path, w.Code, w.Body)
			}
		}
	}
	actual := map[string]string{"Authorization": authz, "Origin": "https://app.example.com"}
	return do("GET", "/todos/1", 200, actual), do("GET", "/cors/1", 200, actual),
		do("OPTIONS", "/cors/1", 204, map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization"})
}

// BenchmarkCORS measures an authenticated request to a route without and
// with a CORS policy, and a preflight answered by authgate.
func BenchmarkCORS(b *testing.B) {
	plain, cors, preflight := corsRequests(b)
	for _, bc := range []struct {
		name string
		do   func()
	}{{"no_policy", plain}, {"policy", cors}, {"preflight", preflight}} {
		b.Run(bc.name, func(b *testing.B) {
			bc.do()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				bc.do()
			}
		})
	}
}

// maxCORSAllocs is what a route's CORS policy may add, in allocations, to
// an authenticated request from an allowed origin.
const maxCORSAllocs = 2

// TestCORSAllocations holds a CORS policy to maxCORSAllocs allocations per
// request over the same request to a route without one. Allocations are
// counted, not timed.
func TestCORSAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector; make bench runs this test")
	}
	plain, cors, _ := corsRequests(t)
	plain()
	cors()
	a := testing.AllocsPerRun(300, plain)
	c := testing.AllocsPerRun(300, cors)
	t.Logf("without CORS %.0f allocs/request, with %.0f: +%.0f", a, c, c-a)
	if c-a > maxCORSAllocs {
		t.Errorf("a CORS policy adds %.0f allocations per request; at most %d", c-a, maxCORSAllocs)
	}
}
