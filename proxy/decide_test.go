package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/token"
)

// decisionYAML trusts 192.0.2.1 (httptest's default peer is 192.0.2.1) as
// the proxy asking for decisions.
const decisionYAML = "trusted_proxies: [192.0.2.1/32]\n" + tokensYAML + `
routes:
  - {name: public, path: /public, upstream: "${UPSTREAM}", auth: none}
  - {name: admin, path: /admin, upstream: "${UPSTREAM}", auth: required, roles: [admin]}
  - {name: app, path: /app, upstream: "${UPSTREAM}", auth: required, identity_token: true}
`

// The decision endpoints and the dialects these tests speak.
const (
	verifyPath     = "/auth/verify"
	forwardPath    = "/auth/forward"
	extAuthzPrefix = "/auth/ext-authz"

	dialectNginx   = "nginx"
	dialectForward = "forward"
	dialectEnvoy   = "envoy"
)

// ask builds a decision request of dialect for method and target.
func ask(dialect, method, target string) *http.Request {
	switch dialect {
	case dialectNginx:
		r := httptest.NewRequest("GET", verifyPath, nil)
		r.Header.Set("X-Original-URI", target)
		r.Header.Set("X-Original-Method", method)
		return r
	case "ingress-nginx":
		r := httptest.NewRequest("GET", verifyPath, nil)
		r.Header.Set("X-Original-URL", "https://app.example.com"+target)
		r.Header.Set("X-Original-Method", method)
		return r
	case dialectForward:
		r := httptest.NewRequest("GET", forwardPath, nil)
		r.Header.Set("X-Forwarded-Method", method)
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("X-Forwarded-Host", "app.example.com")
		r.Header.Set("X-Forwarded-Uri", target)
		return r
	default:
		return httptest.NewRequest(method, extAuthzPrefix+target, nil)
	}
}

func TestDecisionEndpoints(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, decisionYAML, up.URL)
	admin := mint(t, "alice", map[string]any{"roles": []string{"admin"}, "preferred_username": "alice"})
	user := mint(t, "bob", map[string]any{"roles": []string{"user"}})

	for _, dialect := range []string{dialectNginx, "ingress-nginx", dialectForward, dialectEnvoy} {
		tests := []struct {
			name, method, target, token string
			status                      int
			subject                     string
		}{
			{"anonymous on a public route", "GET", "/public/x", "", 200, ""},
			{"no token on a protected route", "GET", "/admin", "", 401, ""},
			{"valid token", "POST", "/admin/users?x=1", admin, 200, "alice"},
			{"role missing", "GET", "/admin", user, 403, ""},
			{"bad token", "GET", "/admin", admin + "x", 401, ""},
			{"no route", "GET", "/nowhere", admin, 403, ""},
			{"dot segments out of a public route", "GET", "/public/../admin", "", 401, ""},
			{"encoded dot segments", "GET", "/public/%2e%2e/admin", "", 401, ""},
		}
		for _, tt := range tests {
			t.Run(dialect+"/"+tt.name, func(t *testing.T) {
				r := ask(dialect, tt.method, tt.target)
				if tt.token != "" {
					r.Header.Set("Authorization", "Bearer "+tt.token)
				}
				r.Header.Set("X-Auth-Subject", "mallory")
				before := up.count()
				w := serve(g, r)
				if w.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
				}
				if up.count() != before {
					t.Error("a decision request was forwarded upstream")
				}
				switch tt.status {
				case 200:
					if w.Body.Len() != 0 {
						t.Errorf("allowed decision has a body: %q", w.Body)
					}
					if got := w.Header().Values("X-Auth-Subject"); len(got) != 1 || got[0] != tt.subject {
						t.Errorf("X-Auth-Subject = %q, want exactly %q (empty overwrites a client copy)", got, tt.subject)
					}
					if w.Header().Get("Cache-Control") != "no-store" {
						t.Errorf("Cache-Control = %q", w.Header().Get("Cache-Control"))
					}
				case 401, 403:
					if tt.name != "no route" && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Bearer realm="authgate"`) {
						t.Errorf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
					}
					errorBody(t, w)
				}
			})
		}
	}
}

func TestDecisionRefusals(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, decisionYAML, up.URL)
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		msg    string
	}{
		{"untrusted peer", func() *http.Request {
			r := ask(dialectNginx, "GET", "/public")
			r.RemoteAddr = "203.0.113.9:5555"
			return r
		}, 403, "trusted proxies"},
		{"untrusted peer, envoy", func() *http.Request {
			r := ask(dialectEnvoy, "GET", "/public")
			r.RemoteAddr = "203.0.113.9:5555"
			return r
		}, 403, "trusted proxies"},
		{"nginx without original URI", func() *http.Request {
			r := httptest.NewRequest("GET", verifyPath, nil)
			r.Header.Set("X-Original-Method", "GET")
			return r
		}, 400, "X-Original-URI"},
		{"nginx without method", func() *http.Request {
			r := httptest.NewRequest("GET", verifyPath, nil)
			r.Header.Set("X-Original-URI", "/public")
			return r
		}, 400, "X-Original-Method"},
		{"ingress-nginx relative URL", func() *http.Request {
			r := ask("ingress-nginx", "GET", "/public")
			r.Header.Set("X-Original-URL", "/public")
			return r
		}, 400, "absolute"},
		{"nginx with both original URL and URI", func() *http.Request {
			r := ask(dialectNginx, "GET", "/admin")
			r.Header.Set("X-Original-URL", "https://app.example.com/public")
			return r
		}, 400, "different requests"},
		{"forward without URI", func() *http.Request {
			r := ask(dialectForward, "GET", "/public")
			r.Header.Del("X-Forwarded-Uri")
			return r
		}, 400, "X-Forwarded-Uri"},
		{"forward with an absolute URI", func() *http.Request {
			return ask(dialectForward, "GET", "http://evil.example/public")
		}, 400, "X-Forwarded-Uri"},
		// The forward dialect never reads nginx's headers, and the reverse.
		{"nginx headers sent to the forward endpoint", func() *http.Request {
			r := ask(dialectNginx, "GET", "/public")
			r.URL.Path = forwardPath
			return r
		}, 400, "X-Forwarded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(g, tt.req())
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if msg := errorBody(t, w); !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q does not mention %q", msg, tt.msg)
			}
		})
	}
}

// TestIdentityToken: a route with identity_token gives the upstream (proxy
// path) and the peer (decision path) a short-lived JWT of the identity that
// verifies against the published JWKS, for that route only.
func TestIdentityToken(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, decisionYAML, up.URL)
	jwksResp := serve(g, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(jwksResp.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	access := mint(t, "alice", map[string]any{"roles": []string{"admin"}, "preferred_username": "alice"})

	r := httptest.NewRequest("GET", "/app/x", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	r.Header.Set("X-Auth-Token", "forged")
	if w := serve(g, r); w.Code != 200 {
		t.Fatalf("proxy path: %d %s", w.Code, w.Body)
	}
	viaProxy := up.last(t).Header.Get("X-Auth-Token")

	d := ask(dialectEnvoy, "GET", "/app/x")
	d.Header.Set("Authorization", "Bearer "+access)
	w := serve(g, d)
	if w.Code != 200 {
		t.Fatalf("decision: %d", w.Code)
	}
	viaDecision := w.Header().Get("X-Auth-Token")

	for name, tok := range map[string]string{"proxy path": viaProxy, "decision": viaDecision} {
		if tok == "" || tok == "forged" {
			t.Fatalf("%s: X-Auth-Token = %q", name, tok)
		}
		parsed, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithValidMethods([]string{"EdDSA"}),
			jwt.WithIssuer(testIssuer), jwt.WithAudience("app"), jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(func() time.Time { return testNow }))
		if err != nil {
			t.Fatalf("%s: identity token does not verify: %v", name, err)
		}
		c := parsed.Claims.(jwt.MapClaims)
		exp, _ := c.GetExpirationTime()
		iat, _ := c.GetIssuedAt()
		if c["sub"] != "alice" || c["idp"] != token.OwnIssuerName || c["preferred_username"] != "alice" ||
			parsed.Header["typ"] != "JWT" || exp.Sub(iat.Time) > time.Minute {
			t.Errorf("%s: claims %v header %v", name, c, parsed.Header)
		}
		// It is not an access token: the gateway refuses it as a bearer.
		r := httptest.NewRequest("GET", "/app", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if w := serve(g, r); w.Code != 401 {
			t.Errorf("%s: identity token accepted as an access token: %d", name, w.Code)
		}
	}
	// Routes without identity_token carry none, and never a client's.
	r = httptest.NewRequest("GET", "/admin", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	r.Header.Set("X-Auth-Token", "forged")
	serve(g, r)
	if got := up.last(t).Header.Get("X-Auth-Token"); got != "" {
		t.Errorf("route without identity_token: X-Auth-Token = %q", got)
	}
}
