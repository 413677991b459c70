package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/token"
)

const routingYAML = tokensYAML + `
routes:
  - name: public
    path: /public
    upstream: ${UPSTREAM}
    auth: none
  - name: todos
    path: /todos
    upstream: ${UPSTREAM}
    auth: required
  - name: api
    path: /api/v1
    strip_prefix: /api
    upstream: ${UPSTREAM}/base
    auth: required
  - name: readonly
    path: /ro
    methods: [GET]
    upstream: ${UPSTREAM}
    auth: none
  - name: tenant
    host: "*.tenants.test"
    path: /
    upstream: ${UPSTREAM}
    auth: none
`

func TestRouting(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, routingYAML, up.URL)
	tok := mint(t, "alice", nil)

	tests := []struct {
		name     string
		method   string
		host     string
		target   string // request-target as sent on the wire
		token    bool
		status   int
		wantPath string // path the upstream must receive ("" = not forwarded)
		wantQ    string
	}{
		{name: "public", target: "/public/x", status: 200, wantPath: "/public/x"},
		{name: "public root", target: "/public", status: 200, wantPath: "/public"},
		{name: "trailing slash kept", target: "/public/", status: 200, wantPath: "/public/"},
		{name: "query kept, not matched", target: "/public?next=/todos", status: 200, wantPath: "/public", wantQ: "next=/todos"},
		{name: "segment boundary", target: "/publicity", status: 404},
		{name: "no route", target: "/nothing", status: 404},
		{name: "protected needs token", target: "/todos", status: 401},
		{name: "protected with token", target: "/todos/1", token: true, status: 200, wantPath: "/todos/1"},
		{name: "double slash cleaned", target: "//todos//1", token: true, status: 200, wantPath: "/todos/1"},
		{name: "dot-dot out of public is protected", target: "/public/../todos", status: 401},
		{name: "encoded dot-dot is protected", target: "/public/%2e%2e/todos", status: 401},
		{name: "encoded slash dot-dot is protected", target: "/public/..%2ftodos", status: 401},
		{name: "dot segment", target: "/./todos", token: true, status: 200, wantPath: "/todos"},
		{name: "dot-dot above root", target: "/../../todos", token: true, status: 200, wantPath: "/todos"},
		{name: "encoded slash forwarded as matched", target: "/todos%2F1", token: true, status: 200, wantPath: "/todos/1"},
		{name: "strip prefix and base path", target: "/api/v1/items?x=1", token: true, status: 200, wantPath: "/base/v1/items", wantQ: "x=1"},
		{name: "method allowed", target: "/ro/a", status: 200, wantPath: "/ro/a"},
		{name: "method not allowed falls through", method: "POST", target: "/ro/a", status: 404},
		{name: "host wildcard", host: "acme.tenants.test:8000", target: "/anything", status: 200, wantPath: "/anything"},
		{name: "host apex not wildcard", host: "tenants.test", target: "/anything", status: 404},
		{name: "backslash refused", target: "/public/a%5Cb", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			r := httptest.NewRequest(method, "http://gateway.test"+tt.target, nil)
			if tt.host != "" {
				r.Host = tt.host
			}
			if tt.token {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			before := up.count()
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if tt.wantPath == "" {
				if up.count() != before {
					t.Fatalf("request was forwarded to %q, want not forwarded", up.last(t).Path)
				}
				errorBody(t, w)
				return
			}
			got := up.last(t)
			if got.Path != tt.wantPath || got.Query != tt.wantQ {
				t.Errorf("upstream got path %q query %q, want %q %q", got.Path, got.Query, tt.wantPath, tt.wantQ)
			}
		})
	}
}

const modesYAML = tokensYAML + `
routes:
  - {name: required, path: /required, upstream: "${UPSTREAM}", auth: required}
  - {name: optional, path: /optional, upstream: "${UPSTREAM}", auth: optional}
  - {name: none, path: /none, upstream: "${UPSTREAM}", auth: none}
`

func TestAuthModes(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	valid := mint(t, "alice", nil)
	// The gateway's clock runs at testNow; a token that lived one second
	// from testNow-10m has long expired.
	expired := mintAt(t, testNow.Add(-10*time.Minute), time.Second)

	const (
		bare    = `Bearer realm="authgate"`
		invalid = `Bearer realm="authgate", error="invalid_token", error_description="invalid token"`
		expChal = `Bearer realm="authgate", error="invalid_token", error_description="token expired"`
		badReq  = `Bearer realm="authgate", error="invalid_request", error_description="malformed Authorization header"`
	)
	tests := []struct {
		route     string
		authz     string
		status    int
		challenge string
		subject   string // X-Auth-Subject upstream; "" = forwarded anonymously
	}{
		{"required", "", 401, bare, ""},
		{"required", "Basic YWxpY2U6cHc=", 401, bare, ""},
		{"required", "Bearer " + valid, 200, "", "alice"},
		{"required", "Bearer " + valid + "x", 401, invalid, ""},
		{"required", "Bearer " + expired, 401, expChal, ""},
		{"required", "Bearer", 400, badReq, ""},
		{"required", "Bearer a b", 400, badReq, ""},
		{"optional", "", 200, "", ""},
		{"optional", "Basic YWxpY2U6cHc=", 200, "", ""},
		{"optional", "Bearer " + valid, 200, "", "alice"},
		{"optional", "Bearer " + valid + "x", 401, invalid, ""},
		{"optional", "Bearer " + expired, 401, expChal, ""},
		{"optional", "Bearer !!", 400, badReq, ""},
		{"none", "", 200, "", ""},
		{"none", "Bearer garbage", 200, "", ""},
	}
	for _, tt := range tests {
		name := tt.route + "/" + strings.SplitN(tt.authz+" ", " ", 2)[0]
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/"+tt.route, nil)
			if tt.authz != "" {
				r.Header.Set("Authorization", tt.authz)
			}
			before := up.count()
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if tt.status != 200 {
				errorBody(t, w)
				if up.count() != before {
					t.Error("denied request reached the upstream")
				}
				return
			}
			if got := up.last(t).Header.Get("X-Auth-Subject"); got != tt.subject {
				t.Errorf("upstream X-Auth-Subject = %q, want %q", got, tt.subject)
			}
		})
	}
}

// mintAt signs a token issued at iat that lives ttl.
func mintAt(t testing.TB, iat time.Time, ttl time.Duration) string {
	t.Helper()
	k, _ := signingKey(t)
	s := token.NewSigner(k, testIssuer, testAudience, func() time.Time { return iat })
	tok, _, err := s.Sign("alice", nil, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

const rulesYAML = tokensYAML + `
routes:
  - name: admin
    path: /admin
    upstream: ${UPSTREAM}
    auth: required
    roles: [admin, owner]
  - name: write
    path: /write
    upstream: ${UPSTREAM}
    auth: required
    scopes: [todos:read, todos:write]
  - name: acme
    path: /acme
    upstream: ${UPSTREAM}
    auth: required
    claims: {tenant: acme, org.tier: gold}
`

func TestRouteRequirements(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, rulesYAML, up.URL)
	const forbidden = `Bearer realm="authgate", error="insufficient_scope", error_description="insufficient permissions"`
	tests := []struct {
		name   string
		path   string
		claims map[string]any
		status int
	}{
		{"role any-of first", "/admin", map[string]any{"roles": []string{"admin"}}, 200},
		{"role any-of second", "/admin", map[string]any{"roles": []string{"user", "owner"}}, 200},
		{"role missing", "/admin", map[string]any{"roles": []string{"user"}}, 403},
		{"no roles claim", "/admin", nil, 403},
		{"roles as a string is one role", "/admin", map[string]any{"roles": "admin"}, 200},
		{"role string is not split", "/admin", map[string]any{"roles": "user admin"}, 403},
		{"scopes all-of", "/write", map[string]any{"scope": "todos:read todos:write profile"}, 200},
		{"scopes one missing", "/write", map[string]any{"scope": "todos:read"}, 403},
		{"scp array", "/write", map[string]any{"scp": []string{"todos:write", "todos:read"}}, 200},
		{"claims equal incl. nested", "/acme", map[string]any{"tenant": "acme", "org": map[string]any{"tier": "gold"}}, 200},
		{"claim array contains", "/acme", map[string]any{"tenant": []string{"other", "acme"}, "org": map[string]any{"tier": "gold"}}, 200},
		{"claim differs", "/acme", map[string]any{"tenant": "evil", "org": map[string]any{"tier": "gold"}}, 403},
		{"nested claim missing", "/acme", map[string]any{"tenant": "acme"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set("Authorization", "Bearer "+mint(t, "alice", tt.claims))
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if tt.status == 403 {
				if got := w.Header().Get("WWW-Authenticate"); got != forbidden {
					t.Errorf("WWW-Authenticate = %q, want %q", got, forbidden)
				}
				if msg := errorBody(t, w); strings.Contains(msg, "evil") {
					t.Errorf("error %q echoes a claim value", msg)
				}
			}
		})
	}
}
