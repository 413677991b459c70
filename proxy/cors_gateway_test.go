package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// corsYAML has routes with and without CORS policies. ${UPSTREAM} answers
// with CORS headers of its own (see corsUpstream).
const corsYAML = "trusted_proxies: [192.0.2.1/32]\n" + tokensYAML + `
routes:
  - name: api
    path: /api
    upstream: ${UPSTREAM}
    auth: required
    roles: [user]
    cors:
      allowed_origins: [https://app.example.com, "https://*.example.org", "http://localhost:5173"]
      allowed_methods: [GET, PUT, POST]
      exposed_headers: [WWW-Authenticate, X-Request-Id]
      allow_credentials: true
      max_age: 1h
  - name: limited
    path: /limited
    methods: [GET]
    upstream: ${UPSTREAM}
    auth: required
    cors: {allowed_origins: [https://app.example.com]}
  - name: public
    path: /public
    upstream: ${UPSTREAM}
    auth: none
    cors: {allowed_origins: ["*"], allowed_headers: ["*"], max_age: 0s}
  - name: down
    path: /down
    upstream: http://127.0.0.1:1
    auth: none
    cors: {allowed_origins: [https://app.example.com]}
  - name: plain
    path: /plain
    upstream: ${UPSTREAM}
    auth: required
`

// corsUpstream counts the requests it receives and answers 200 with CORS
// headers of its own, which a route with a policy must not pass on.
func corsUpstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "false")
		h.Set("access-control-expose-headers", "X-Secret")
		h.Set("Vary", "Accept-Encoding")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(up.Close)
	return up, &hits
}

// corsWant is what a test expects of the CORS headers of an answer; an
// empty field expects the header absent.
type corsWant struct {
	origin, credentials, methods, headers, expose, maxAge string
}

func checkCORS(t *testing.T, h http.Header, want corsWant) {
	t.Helper()
	for _, c := range []struct{ name, want string }{
		{"Access-Control-Allow-Origin", want.origin},
		{"Access-Control-Allow-Credentials", want.credentials},
		{"Access-Control-Allow-Methods", want.methods},
		{"Access-Control-Allow-Headers", want.headers},
		{"Access-Control-Expose-Headers", want.expose},
		{"Access-Control-Max-Age", want.maxAge},
	} {
		got := h.Values(c.name)
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s = %q, want none", c.name, got)
		case c.want != "" && (len(got) != 1 || got[0] != c.want):
			t.Errorf("%s = %q, want exactly %q", c.name, got, c.want)
		}
	}
	if !varies(h, "Origin") {
		t.Errorf("Vary = %q, want Origin in it", h.Values("Vary"))
	}
}

// varies reports whether the Vary headers of h name header.
func varies(h http.Header, header string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), header) {
				return true
			}
		}
	}
	return false
}

func TestCORSPreflight(t *testing.T) {
	up, hits := corsUpstream(t)
	g := newGateway(t, corsYAML, up.URL)
	user := mint(t, "alice", map[string]any{"roles": []string{"user"}})

	const app = "https://app.example.com"
	allowed := corsWant{origin: app, credentials: "true", methods: "PUT", headers: "authorization,content-type", maxAge: "3600"}
	tests := []struct {
		name, path, origin, method, reqHeaders string
		extra                                  map[string]string
		status                                 int
		want                                   corsWant
		skipVary                               bool // an answer of no CORS route
	}{
		{name: "allowed", path: "/api/items/1", origin: app, method: "PUT", reqHeaders: "authorization,content-type",
			status: 204, want: allowed},
		{name: "no credentials needed, a forged identity and a bad token ignored", path: "/api/items/1", origin: app, method: "PUT",
			reqHeaders: "authorization,content-type", extra: map[string]string{"X-Auth-Subject": "mallory", "Authorization": "Bearer x"},
			status: 204, want: allowed},
		{name: "origin not allowed", path: "/api", origin: "https://evil.example", method: "PUT", status: 204},
		{name: "origin differs by scheme", path: "/api", origin: "http://app.example.com", method: "GET", status: 204},
		{name: "origin differs by port", path: "/api", origin: "https://app.example.com:8443", method: "GET", status: 204},
		{name: "localhost with its port", path: "/api", origin: "http://localhost:5173", method: "GET", status: 204,
			want: corsWant{origin: "http://localhost:5173", credentials: "true", methods: "GET", maxAge: "3600"}},
		{name: "method not allowed", path: "/api", origin: app, method: "DELETE", status: 204},
		{name: "header not allowed", path: "/api", origin: app, method: "PUT", reqHeaders: "x-custom", status: 204},
		{name: "wildcard subdomain", path: "/api", origin: "https://a.b.example.org", method: "POST", status: 204,
			want: corsWant{origin: "https://a.b.example.org", credentials: "true", methods: "POST", maxAge: "3600"}},
		{name: "wildcard does not cover the domain itself", path: "/api", origin: "https://example.org", method: "POST", status: 204},
		{name: "wildcard does not cover a look-alike", path: "/api", origin: "https://evilexample.org", method: "POST", status: 204},
		{name: "null origin", path: "/api", origin: "null", method: "GET", status: 204},
		{name: "route limited to GET answers the preflight of a GET", path: "/limited/x", origin: app, method: "GET",
			status: 204, want: corsWant{origin: app, methods: "GET", maxAge: "600"}},
		{name: "any origin", path: "/public", origin: "https://anyone.example", method: "POST", reqHeaders: "x-anything",
			status: 204, want: corsWant{origin: "*", methods: "POST", headers: "x-anything", maxAge: "0"}},
		// A route without CORS, or a preflight whose announced request
		// goes to none: as without CORS, a request like any other.
		{name: "route without CORS authenticates", path: "/plain", origin: app, method: "GET", status: 401, skipVary: true},
		{name: "announced method of no route", path: "/limited/x", origin: app, method: "PUT", status: 404, skipVary: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			r := httptest.NewRequest("OPTIONS", tt.path, nil)
			r.Header.Set("Origin", tt.origin)
			r.Header.Set("Access-Control-Request-Method", tt.method)
			if tt.reqHeaders != "" {
				r.Header.Set("Access-Control-Request-Headers", tt.reqHeaders)
			}
			for k, v := range tt.extra {
				r.Header.Set(k, v)
			}
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if n := hits.Load() - before; n != 0 {
				t.Errorf("the upstream received %d requests; a preflight never reaches it", n)
			}
			if tt.skipVary {
				if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
					t.Errorf("Access-Control-Allow-Origin = %q on a route without CORS", got)
				}
				return
			}
			checkCORS(t, w.Header(), tt.want)
			for _, h := range []string{"Access-Control-Request-Method", "Access-Control-Request-Headers"} {
				if !varies(w.Header(), h) {
					t.Errorf("Vary = %q, want %s in it", w.Header().Values("Vary"), h)
				}
			}
			if w.Body.Len() != 0 {
				t.Errorf("body %q, want none", w.Body)
			}
		})
	}

	// An OPTIONS request that is no preflight (no Origin) is a request like
	// any other on a CORS route too: authenticated, then forwarded.
	r := httptest.NewRequest("OPTIONS", "/api", nil)
	r.Header.Set("Access-Control-Request-Method", "PUT")
	if w := serve(g, r); w.Code != http.StatusUnauthorized {
		t.Errorf("OPTIONS without Origin: status %d, want 401", w.Code)
	}
	before := hits.Load()
	r = httptest.NewRequest("OPTIONS", "/api", nil)
	r.Header.Set("Origin", app)
	r.Header.Set("Authorization", "Bearer "+user)
	if w := serve(g, r); w.Code != http.StatusOK || hits.Load() != before+1 {
		t.Errorf("OPTIONS with Origin and a token, no Access-Control-Request-Method: status %d, upstream hits %d; want 200 and forwarded",
			w.Code, hits.Load()-before)
	}
}

func TestCORSActualRequests(t *testing.T) {
	up, hits := corsUpstream(t)
	g := newGateway(t, corsYAML, up.URL)
	user := mint(t, "alice", map[string]any{"roles": []string{"user"}})
	guest := mint(t, "bob", map[string]any{"roles": []string{"guest"}})

	const app = "https://app.example.com"
	credentialed := corsWant{origin: app, credentials: "true", expose: "Www-Authenticate, X-Request-Id"}
	tests := []struct {
		name, method, path, origin, token string
		status                            int
		forwarded                         bool
		want                              corsWant
		upstreamCORS                      bool // the upstream's own headers pass (no policy)
	}{
		{name: "allowed, upstream's answer", method: "GET", path: "/api/items", origin: app, token: user,
			status: 200, forwarded: true, want: credentialed},
		{name: "no token: 401 readable", method: "GET", path: "/api/items", origin: app,
			status: 401, want: credentialed},
		{name: "bad token: 401 readable", method: "PUT", path: "/api/items/1", origin: app, token: user + "x",
			status: 401, want: credentialed},
		{name: "role missing: 403 readable", method: "POST", path: "/api/items", origin: app, token: guest,
			status: 403, want: credentialed},
		{name: "origin not allowed: no CORS headers, upstream's dropped", method: "GET", path: "/api/items",
			origin: "https://evil.example", token: user, status: 200, forwarded: true},
		{name: "no Origin: no CORS headers, upstream's dropped", method: "GET", path: "/api/items", token: user,
			status: 200, forwarded: true},
		{name: "method not allowed", method: "DELETE", path: "/api/items/1", origin: app, token: user,
			status: 200, forwarded: true},
		{name: "any origin", method: "GET", path: "/public", origin: "https://anyone.example",
			status: 200, forwarded: true, want: corsWant{origin: "*"}},
		{name: "upstream down: 502 readable", method: "GET", path: "/down", origin: app,
			status: 502, want: corsWant{origin: app}},
		{name: "route without CORS: the upstream's own headers", method: "GET", path: "/plain", origin: app, token: user,
			status: 200, forwarded: true, upstreamCORS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.token != "" {
				r.Header.Set("Authorization", "Bearer "+tt.token)
			}
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if got := hits.Load() - before; (got == 1) != tt.forwarded {
				t.Errorf("upstream received %d requests, forwarded = %v", got, tt.forwarded)
			}
			if tt.status >= 400 {
				errorBody(t, w) // the JSON error, for the page to read
			}
			if tt.status == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.upstreamCORS {
				if got := w.Header().Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{"*"}) {
					t.Errorf("Access-Control-Allow-Origin = %q, want the upstream's [*]", got)
				}
				return
			}
			checkCORS(t, w.Header(), tt.want)
			if tt.forwarded && !varies(w.Header(), "Accept-Encoding") {
				t.Errorf("Vary = %q, want the upstream's Accept-Encoding kept", w.Header().Values("Vary"))
			}
		})
	}
}

// accountsCORSYAML serves accounts with a CORS policy.
const accountsCORSYAML = tokensYAML + `
store: sqlite:unused.db
accounts:
  signup: open
  cors:
    allowed_origins: [https://app.example.com]
    allow_credentials: true
routes:
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required}
`

func TestCORSAccountEndpoints(t *testing.T) {
	up := newUpstream(t)
	const app = "https://app.example.com"
	g := newAccountsGateway(t, accountsCORSYAML, up.URL)

	r := httptest.NewRequest("OPTIONS", "/auth/login", nil)
	r.Header.Set("Origin", app)
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type")
	w := serve(g, r)
	if w.Code != http.StatusNoContent {
		t.Fatalf("preflight: status %d, want 204: %s", w.Code, w.Body)
	}
	checkCORS(t, w.Header(), corsWant{origin: app, credentials: "true", methods: "POST", headers: "content-type", maxAge: "600"})

	for _, tt := range []struct {
		name, path, body string
		status           int
	}{
		{"failed login", "/auth/login", `{"username":"nobody","password":"wrong password"}`, 401},
		{"signup", "/auth/signup", `{"username":"carol","password":"a long passphrase"}`, 201},
		{"bad refresh", "/auth/refresh", `{"refresh_token":"nope"}`, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Origin", app)
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			checkCORS(t, w.Header(), corsWant{origin: app, credentials: "true"})
		})
	}

	// Without accounts.cors, nothing changes: no CORS headers, and the
	// preflight is the endpoint's to answer.
	plain := newAccountsGateway(t, accountsYAML, up.URL)
	r = httptest.NewRequest("OPTIONS", "/auth/login", nil)
	r.Header.Set("Origin", app)
	r.Header.Set("Access-Control-Request-Method", "POST")
	w = serve(plain, r)
	if w.Code == http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without accounts.cors: status %d, Access-Control-Allow-Origin %q; want the endpoint's own refusal",
			w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSDecisionEndpoints(t *testing.T) {
	up, hits := corsUpstream(t)
	g := newGateway(t, corsYAML, up.URL)
	const app = "https://app.example.com"

	for _, dialect := range []string{dialectNginx, "ingress-nginx", dialectForward, dialectEnvoy} {
		tests := []struct {
			name, method, target, origin, acrm string
			status                             int
			want                               corsWant
			noCORS                             bool
		}{
			{name: "preflight on a CORS route: anonymous allow", method: "OPTIONS", target: "/api/items", origin: app, acrm: "PUT",
				status: 200, want: corsWant{origin: app, credentials: "true", methods: "PUT", maxAge: "3600"}},
			{name: "preflight of an origin not allowed: still allowed, without CORS headers", method: "OPTIONS",
				target: "/api/items", origin: "https://evil.example", acrm: "PUT", status: 200},
			{name: "preflight on a route limited to GET", method: "OPTIONS", target: "/limited", origin: app, acrm: "GET",
				status: 200, want: corsWant{origin: app, methods: "GET", maxAge: "600"}},
			{name: "preflight on a route without CORS: authenticated", method: "OPTIONS", target: "/plain", origin: app, acrm: "GET",
				status: 401, noCORS: true},
			{name: "actual request without a token: 401 readable", method: "GET", target: "/api/items", origin: app,
				status: 401, want: corsWant{origin: app, credentials: "true", expose: "Www-Authenticate, X-Request-Id"}},
			{name: "OPTIONS without Access-Control-Request-Method: authenticated", method: "OPTIONS", target: "/api/items", origin: app,
				status: 401, want: corsWant{origin: app, credentials: "true", expose: "Www-Authenticate, X-Request-Id"}},
		}
		for _, tt := range tests {
			t.Run(dialect+"/"+tt.name, func(t *testing.T) {
				before := hits.Load()
				r := ask(dialect, tt.method, tt.target)
				r.Header.Set("Origin", tt.origin)
				if tt.acrm != "" {
					r.Header.Set("Access-Control-Request-Method", tt.acrm)
				}
				w := serve(g, r)
				if w.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
				}
				if hits.Load() != before {
					t.Error("a decision request reached the upstream")
				}
				if tt.status == 200 {
					// Allowed anonymously: every identity header present and
					// empty, so the peer overwrites a client's copies.
					if v, ok := w.Header()["X-Auth-Subject"]; !ok || len(v) != 1 || v[0] != "" {
						t.Errorf("X-Auth-Subject = %q (present %v), want present and empty", v, ok)
					}
				}
				if tt.noCORS {
					if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
						t.Errorf("Access-Control-Allow-Origin = %q on a route without CORS", got)
					}
					return
				}
				checkCORS(t, w.Header(), tt.want)
			})
		}
	}

	// Only trusted proxies may ask, preflight or not.
	r := ask(dialectForward, "OPTIONS", "/api/items")
	r.RemoteAddr = "198.51.100.7:1234"
	r.Header.Set("Origin", app)
	r.Header.Set("Access-Control-Request-Method", "PUT")
	if w := serve(g, r); w.Code != http.StatusForbidden {
		t.Errorf("preflight decision from an untrusted peer: status %d, want 403", w.Code)
	}
}

// TestCORSReload: a reload puts the new policy in service, and removing a
// route's cors block makes its preflights requests like any other again.
func TestCORSReload(t *testing.T) {
	up, hits := corsUpstream(t)
	g := newGateway(t, corsYAML, up.URL)
	preflight := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("OPTIONS", "/public", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "GET")
		return serve(g, r)
	}
	if w := preflight("https://anyone.example"); w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("before: status %d, Access-Control-Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	narrowed := strings.Replace(corsYAML, `cors: {allowed_origins: ["*"], allowed_headers: ["*"], max_age: 0s}`,
		`cors: {allowed_origins: [https://app.example.com]}`, 1)
	if err := g.Reload(parseConfig(t, narrowed, up.URL)); err != nil {
		t.Fatal(err)
	}
	if w := preflight("https://anyone.example"); w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("narrowed: status %d, Access-Control-Allow-Origin %q; want 204 without", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	if w := preflight("https://app.example.com"); w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("narrowed, allowed origin: Access-Control-Allow-Origin %q", w.Header().Get("Access-Control-Allow-Origin"))
	}
	removed := strings.Replace(narrowed, `    cors: {allowed_origins: [https://app.example.com]}
  - name: down`, `  - name: down`, 1)
	if err := g.Reload(parseConfig(t, removed, up.URL)); err != nil {
		t.Fatal(err)
	}
	before := hits.Load()
	if w := preflight("https://app.example.com"); w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "*" || hits.Load() != before+1 {
		t.Errorf("without cors: status %d, Access-Control-Allow-Origin %q, upstream hits %d; want the preflight forwarded (auth: none) and the upstream's own headers",
			w.Code, w.Header().Get("Access-Control-Allow-Origin"), hits.Load()-before)
	}
}
