package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzNoPathReachesProtectedRouteWithoutToken sends arbitrary request paths
// without a token through a gateway with a public and a protected route, and
// fails if the upstream ever receives a path inside the protected prefix:
// the classic path-normalisation auth bypass.
func FuzzNoPathReachesProtectedRouteWithoutToken(f *testing.F) {
	for _, seed := range []string{
		"/public/x", "/public/../private", "/public/%2e%2e/private", "/public/..%2fprivate",
		"/public/..%2Fprivate", "//private", "/./private", "/public/%2e%2e%2fprivate",
		"/public/..;/private", "/PRIVATE", "/public/..\\private", "/public/%252e%252e/private",
		"/public//..//private/", "/private%00", "/public/.%2e/private", "/%2fprivate",
	} {
		f.Add(seed)
	}
	up := newUpstream(f)
	g := newGateway(f, tokensYAML+`
routes:
  - {name: private, path: /private, upstream: "${UPSTREAM}", auth: required}
  - {name: public, path: /, upstream: "${UPSTREAM}", auth: none}
`, up.URL)

	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := httptest.NewRequest("GET", "http://gateway.test/", nil)
		r.URL = u
		r.RequestURI = target
		before := up.count()
		w := serve(g, r)
		if up.count() == before {
			if w.Code == http.StatusOK {
				t.Fatalf("%q answered 200 without reaching the upstream", target)
			}
			return
		}
		got := up.last(t).Path
		if got == "/private" || strings.HasPrefix(got, "/private/") {
			t.Fatalf("%q reached the protected upstream path %q without a token", target, got)
		}
	})
}
