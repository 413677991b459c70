package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// pathsYAML protects /echo/admin behind a public catch-all: the layout in
// which an upstream that resolves "/echo;x/admin" or "/echo./admin" as
// "/echo/admin" would serve the protected page through the public route.
const pathsYAML = "trusted_proxies: [192.0.2.1/32]\n" + tokensYAML + `
routes:
  - {name: admin, path: /echo/admin, upstream: "${UPSTREAM}", auth: required}
  - {name: public, path: /, upstream: "${UPSTREAM}", auth: none}
`

// upstreamSpellings are request-targets, as sent on the wire, that Tomcat,
// Spring, IIS or Node routers resolve to the protected /echo/admin while
// they do not match it byte for byte. A target with a raw space, which no
// HTTP/1.1 request line can carry, is set as the decoded path directly.
var upstreamSpellings = []struct {
	name, target string
}{
	{"path parameter", "/echo;x/admin"},
	{"encoded path parameter", "/echo%3Bx/admin"},
	{"encoded path parameter, lower case", "/echo%3bx/admin"},
	{"path parameter on the last segment", "/echo/admin;x"},
	{"empty path parameter", "/echo;/admin"},
	{"session id parameter", "/echo;jsessionid=1/admin"},
	{"dot dot parameter", "/echo/x/..;/admin"},
	{"trailing dot", "/echo./admin"},
	{"encoded trailing dot", "/echo%2e/admin"},
	{"encoded trailing dot, upper case", "/echo%2E/admin"},
	{"trailing dot on the last segment", "/echo/admin."},
	{"encoded trailing space", "/echo%20/admin"},
	{"raw trailing space", "/echo /admin"},
	{"encoded trailing space on the last segment", "/echo/admin%20"},
	{"encoded leading space", "/%20echo/admin"},
	{"encoded tab", "/echo%09/admin"},
	{"encoded no-break space", "/echo%C2%A0/admin"},
	{"encoded ideographic space", "/echo/admin%E3%80%80"},
}

// pathRequest returns a GET of target to the gateway; a target with a raw
// space becomes the request's decoded path.
func pathRequest(target string) *http.Request {
	if !strings.Contains(target, " ") {
		return httptest.NewRequest(http.MethodGet, "http://gateway.test"+target, nil)
	}
	r := httptest.NewRequest(http.MethodGet, "http://gateway.test/", nil)
	r.URL.Path, r.URL.RawPath = target, ""
	r.RequestURI = target
	return r
}

// TestUpstreamSpellingsRefused: a spelling some upstream resolves to a
// protected path never reaches the public catch-all's upstream; it is
// refused (400, "invalid request path").
func TestUpstreamSpellingsRefused(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, pathsYAML, up.URL)
	for _, tt := range upstreamSpellings {
		t.Run(tt.name, func(t *testing.T) {
			before := up.count()
			w := serve(g, pathRequest(tt.target))
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400 (body %s)", w.Code, w.Body)
			}
			if up.count() != before {
				t.Fatalf("request was forwarded to %q", up.last(t).Path)
			}
			if msg := errorBody(t, w); msg != "invalid request path" {
				t.Errorf("error = %q, want %q", msg, "invalid request path")
			}
		})
	}
	// The layout itself works: the protected route asks for a token, the
	// catch-all forwards everything else as written.
	if w := serve(g, pathRequest("/echo/admin")); w.Code != http.StatusUnauthorized {
		t.Errorf("/echo/admin: status = %d, want 401", w.Code)
	}
	if w := serve(g, pathRequest("/echo/a%20b/x.y")); w.Code != http.StatusOK || up.last(t).Path != "/echo/a b/x.y" {
		t.Errorf("/echo/a%%20b/x.y: status = %d, upstream path %q; want 200 and the path as written", w.Code, up.last(t).Path)
	}
}

// TestUpstreamSpellingsRefusedByDecisions: the decision endpoints apply the
// same rule to the original request's path, in every dialect.
func TestUpstreamSpellingsRefusedByDecisions(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, pathsYAML, up.URL)
	for _, dialect := range []string{dialectNginx, "ingress-nginx", dialectForward, dialectEnvoy} {
		for _, tt := range upstreamSpellings {
			t.Run(dialect+"/"+tt.name, func(t *testing.T) {
				var r *http.Request
				if dialect == dialectEnvoy && strings.Contains(tt.target, " ") {
					r = ask(dialect, http.MethodGet, "/")
					r.URL.Path, r.URL.RawPath = extAuthzPrefix+tt.target, ""
				} else {
					r = ask(dialect, http.MethodGet, tt.target)
				}
				w := serve(g, r)
				if w.Code != http.StatusBadRequest {
					t.Fatalf("status = %d, want 400 (body %s)", w.Code, w.Body)
				}
				// Raw white space in a header that carries a request target
				// is refused as the header's own fault (it could join two
				// values) before the path is looked at: a 400 either way.
				if msg := errorBody(t, w); !strings.Contains(msg, "path") &&
					!(strings.ContainsAny(tt.target, " \t") && strings.Contains(msg, "more than one value")) {
					t.Errorf("error = %q, want it to be about the path", msg)
				}
				if up.count() != 0 {
					t.Error("a decision request was forwarded upstream")
				}
			})
		}
	}
}

// Route tables for case-insensitive upstreams: /echo/admin is protected; the
// catch-all's upstream (ciCatchAllYAML) or the protected route's
// (ciAdminYAML) resolves paths ignoring case, or neither does (pathsYAML).
const (
	ciCatchAllYAML = "trusted_proxies: [192.0.2.1/32]\n" + tokensYAML + `
routes:
  - {name: admin, path: /echo/admin, upstream: "${UPSTREAM}", auth: required}
  - {name: api, path: /api, strip_prefix: /api, upstream: "${UPSTREAM}/base", auth: required, case_insensitive: true}
  - {name: public, path: /, upstream: "${UPSTREAM}", auth: none, case_insensitive: true}
`
	ciAdminYAML = "trusted_proxies: [192.0.2.1/32]\n" + tokensYAML + `
routes:
  - {name: admin, path: /echo/admin, upstream: "${UPSTREAM}", auth: required, case_insensitive: true}
  - {name: public, path: /, upstream: "${UPSTREAM}", auth: none}
`
)

// TestCaseInsensitiveRoutes: a case variant of a protected path reaches an
// upstream that folds case only with the protected route's auth, on the
// proxy path and through every decision endpoint; the upstream receives
// the path as matched.
func TestCaseInsensitiveRoutes(t *testing.T) {
	tok := mint(t, "alice", nil)
	tests := []struct {
		name, cfg, target string
		token             bool
		status            int
		wantPath          string // path the upstream must receive ("" = not forwarded)
	}{
		{"case-sensitive upstreams: variant is another path", pathsYAML, "/ECHO/admin", false, 200, "/ECHO/admin"},
		{"case-sensitive upstreams: exact is protected", pathsYAML, "/echo/admin", false, 401, ""},

		{"folding catch-all: upper case", ciCatchAllYAML, "/ECHO/admin", false, 401, ""},
		{"folding catch-all: mixed case", ciCatchAllYAML, "/Echo/ADMIN/x", false, 401, ""},
		{"folding catch-all: dotless i", ciCatchAllYAML, "/echo/adm%C4%B1n", false, 401, ""},
		{"folding catch-all: variant with token", ciCatchAllYAML, "/ECHO/Admin", true, 200, "/ECHO/Admin"},
		{"folding catch-all: other path", ciCatchAllYAML, "/ECHO/other", false, 200, "/ECHO/other"},
		{"folding catch-all: segment boundary", ciCatchAllYAML, "/ECHO/adminx", false, 200, "/ECHO/adminx"},
		{"folding route: strip prefix of a variant", ciCatchAllYAML, "/API/v1/x", true, 200, "/base/v1/x"},
		{"folding route: variant needs its auth", ciCatchAllYAML, "/Api/v1", false, 401, ""},

		{"folding protected route: upper case", ciAdminYAML, "/ECHO/ADMIN", false, 401, ""},
		{"folding protected route: dotted capital I", ciAdminYAML, "/echo/adm%C4%B0n/x", false, 401, ""},
		{"folding protected route: with token", ciAdminYAML, "/ECHO/admin", true, 200, "/ECHO/admin"},
		{"folding protected route: other path", ciAdminYAML, "/ECHO", false, 200, "/ECHO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t)
			g := newGateway(t, tt.cfg, up.URL)
			r := pathRequest(tt.target)
			if tt.token {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			switch {
			case tt.wantPath == "" && up.count() != 0:
				t.Fatalf("request was forwarded to %q, want not forwarded", up.last(t).Path)
			case tt.wantPath != "" && up.last(t).Path != tt.wantPath:
				t.Errorf("upstream got path %q, want %q", up.last(t).Path, tt.wantPath)
			}

			for _, dialect := range []string{dialectNginx, "ingress-nginx", dialectForward, dialectEnvoy} {
				r := ask(dialect, http.MethodGet, tt.target)
				if tt.token {
					r.Header.Set("Authorization", "Bearer "+tok)
				}
				before := up.count()
				if w := serve(g, r); w.Code != tt.status {
					t.Errorf("%s decision: status = %d, want %d (body %s)", dialect, w.Code, tt.status, w.Body)
				}
				if up.count() != before {
					t.Errorf("%s decision was forwarded upstream", dialect)
				}
			}
		})
	}
}
