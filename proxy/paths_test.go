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
				if msg := errorBody(t, w); !strings.Contains(msg, "path") {
					t.Errorf("error = %q, want it to be about the path", msg)
				}
				if up.count() != 0 {
					t.Error("a decision request was forwarded upstream")
				}
			})
		}
	}
}
