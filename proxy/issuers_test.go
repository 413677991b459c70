package proxy_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/jwks/jwkstest"
	"github.com/authgate/authgate/proxy/keys"
)

var (
	idpKeysOnce sync.Once
	idpKeys     []*keys.Key
)

// newIDP returns a stand-in IdP with the i-th shared RSA key (RSA
// generation is slow: three keys per test binary). Tokens name their iss.
func newIDP(t *testing.T, i int) *jwkstest.IdP {
	t.Helper()
	idpKeysOnce.Do(func() {
		for range 3 {
			k, err := keys.Generate(keys.RS256)
			if err != nil {
				panic(err)
			}
			idpKeys = append(idpKeys, k)
		}
	})
	return jwkstest.New(t, "", idpKeys[i])
}

const (
	kcIss    = "https://keycloak.test/realms/main"
	auth0Iss = "https://tenant.auth0.test/"
	entraIss = "https://login.microsoftonline.test/7f3c1e9a-0000-4000-8000-000000000001/v2.0"
	entraAud = "api://5b1f2c3d-reports"
)

// issuersYAML trusts three IdPs shaped like Keycloak, Auth0 and Entra ID;
// it has no tokens and no store: a verify-only sidecar.
func issuersYAML(kc, auth0, entra string) string {
	return `
issuers:
  - name: keycloak
    issuer: ` + kcIss + `
    jwks_url: ` + kc + `
    audience: my-api
    algorithms: [RS256]
    typ: [JWT, at+jwt]
    roles_claim: realm_access.roles
  - name: auth0
    issuer: ` + auth0Iss + `
    jwks_url: ` + auth0 + `
    audience: [https://api.example.com, other]
    algorithms: [RS256]
    roles_claim: https://example.com/roles
  - name: entra
    issuer: ` + entraIss + `
    jwks_url: ` + entra + `
    audience: ` + entraAud + `
    algorithms: [RS256]
    scopes_claim: scp
    claim_headers: {X-Auth-Tenant: tid}
routes:
  - {name: kc, path: /kc, upstream: "${UPSTREAM}", auth: required, issuers: [keycloak], roles: [analyst], scopes: ["reports:read"]}
  - {name: auth0, path: /auth0, upstream: "${UPSTREAM}", auth: required, issuers: [auth0], roles: [analyst]}
  - {name: entra, path: /entra, upstream: "${UPSTREAM}", auth: required, issuers: [entra], scopes: [Reports.Read], claims: {tid: 7f3c1e9a-0000-4000-8000-000000000001}}
  - {name: any, path: /any, upstream: "${UPSTREAM}", auth: required}
`
}

// waitForKeys polls readiness until every issuer has keys.
func waitForKeys(t *testing.T, g *Gateway) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !g.Readiness(context.Background()).Ready {
		if time.Now().After(deadline) {
			t.Fatalf("issuers have no keys: %+v", g.Readiness(context.Background()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExternalIssuers(t *testing.T) {
	kc, auth0, entra := newIDP(t, 0), newIDP(t, 1), newIDP(t, 2)
	up := newUpstream(t)
	cfg := parseConfig(t, issuersYAML(kc.Server.URL, auth0.Server.URL, entra.Server.URL), up.URL)
	g, err := build(t, cfg, assemble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitForKeys(t, g)

	keycloak := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": kcIss, "sub": "f81d4fae-kc", "aud": []string{"account", "my-api"},
			"azp": "frontend", "preferred_username": "kate", "scope": "openid profile reports:read",
			"realm_access": map[string]any{"roles": []string{"offline_access", "analyst"}}}
	}
	auth0Claims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": auth0Iss, "sub": "auth0|42", "aud": []string{"https://api.example.com", auth0Iss + "userinfo"},
			"scope": "openid reports:read", "https://example.com/roles": []string{"analyst"}}
	}
	entraClaims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": entraIss, "sub": "AAAAentra", "aud": entraAud, "ver": "2.0",
			"tid": "7f3c1e9a-0000-4000-8000-000000000001", "scp": "Reports.Read User.Read", "roles": []string{"Admin"}}
	}
	hsConfusion := func() string {
		der, _ := x509.MarshalPKIXPublicKey(kc.Key.VerificationKey().(*rsa.PublicKey))
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, keycloak())
		tok.Header["kid"] = kc.Key.ID
		s, _ := tok.SignedString(pemKey)
		return s
	}
	with := func(c jwt.MapClaims, k string, v any) jwt.MapClaims { c[k] = v; return c }
	without := func(c jwt.MapClaims, k string) jwt.MapClaims { delete(c, k); return c }
	algNone := func() string {
		h := b64url(`{"alg":"none","typ":"JWT","kid":"` + kc.Key.ID + `"}`)
		body, _ := json.Marshal(keycloak())
		return h + "." + b64url(string(body)) + "."
	}

	tests := []struct {
		name       string
		path       string
		token      string
		status     int
		sub, roles string
		tenant     string
	}{
		{"keycloak", "/kc", kc.Sign(t, "JWT", keycloak()), 200, "f81d4fae-kc", "offline_access,analyst", ""},
		{"auth0 namespaced roles claim", "/auth0", auth0.Sign(t, "", auth0Claims()), 200, "auth0|42", "analyst", ""},
		{"entra scp and tenant header", "/entra", entra.Sign(t, "JWT", entraClaims()), 200, "AAAAentra", "Admin", "7f3c1e9a-0000-4000-8000-000000000001"},
		{"any issuer on an unrestricted route", "/any", entra.Sign(t, "JWT", entraClaims()), 200, "AAAAentra", "Admin", "7f3c1e9a-0000-4000-8000-000000000001"},
		{"issuer not accepted on the route", "/kc", auth0.Sign(t, "", auth0Claims()), 401, "", "", ""},
		{"role missing", "/kc", kc.Sign(t, "JWT", with(keycloak(), "realm_access", map[string]any{"roles": []string{"user"}})), 403, "", "", ""},
		{"scope missing", "/kc", kc.Sign(t, "JWT", with(keycloak(), "scope", "openid")), 403, "", "", ""},
		{"claim differs", "/entra", entra.Sign(t, "JWT", with(entraClaims(), "tid", "other-tenant")), 403, "", "", ""},
		{"wrong audience", "/kc", kc.Sign(t, "JWT", with(keycloak(), "aud", "account")), 401, "", "", ""},
		{"no audience", "/kc", kc.Sign(t, "JWT", without(keycloak(), "aud")), 401, "", "", ""},
		{"unknown issuer", "/any", kc.Sign(t, "JWT", with(keycloak(), "iss", "https://evil.test/")), 401, "", "", ""},
		{"issuer A signed with B's key", "/any", auth0.Sign(t, "JWT", keycloak()), 401, "", "", ""},
		{"HS256 keyed with the RSA public key", "/kc", hsConfusion(), 401, "", "", ""},
		{"alg none", "/kc", algNone(), 401, "", "", ""},
		{"typ not accepted (id token)", "/kc", kc.Sign(t, "id+jwt", keycloak()), 401, "", "", ""},
		{"expired", "/kc", kc.Sign(t, "JWT", with(keycloak(), "exp", time.Now().Add(-time.Hour).Unix())), 401, "", "", ""},
		{"no exp", "/kc", kc.Sign(t, "JWT", with(keycloak(), "exp", nil)), 401, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set("Authorization", "Bearer "+tt.token)
			r.Header.Set("X-Auth-Tenant", "forged")
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 403 && !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Errorf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
			}
			if tt.status != 200 {
				return
			}
			h := up.last(t).Header
			if h.Get("X-Auth-Subject") != tt.sub || h.Get("X-Auth-Roles") != tt.roles || h.Get("X-Auth-Tenant") != tt.tenant {
				t.Errorf("upstream got subject %q roles %q tenant %q, want %q %q %q", h.Get("X-Auth-Subject"),
					h.Get("X-Auth-Roles"), h.Get("X-Auth-Tenant"), tt.sub, tt.roles, tt.tenant)
			}
		})
	}
}

// TestIdPDownAtStart: startup does not wait for an unreachable IdP; its
// tokens get 401 and readiness names it until its keys arrive.
func TestIdPDownAtStart(t *testing.T) {
	kc, auth0, entra := newIDP(t, 0), newIDP(t, 1), newIDP(t, 2)
	kc.SetDown(true)
	up := newUpstream(t)
	g, err := build(t, parseConfig(t, issuersYAML(kc.Server.URL, auth0.Server.URL, entra.Server.URL), up.URL), assemble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := kc.Sign(t, "JWT", jwt.MapClaims{"iss": kcIss, "sub": "kate", "aud": "my-api",
		"scope": "reports:read", "realm_access": map[string]any{"roles": []string{"analyst"}}})
	call := func() int {
		r := httptest.NewRequest("GET", "/kc", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return serve(g, r).Code
	}
	if code := call(); code != 401 {
		t.Errorf("token of an issuer without keys: %d, want 401", code)
	}
	rd := g.Readiness(context.Background())
	if rd.Ready || rd.Checks["issuer:keycloak"] == "ok" {
		t.Errorf("readiness with keycloak down = %+v", rd)
	}
	kc.SetDown(false)
	waitForKeys(t, g)
	if code := call(); code != 200 {
		t.Errorf("after the IdP came up: %d, want 200", code)
	}
	// A later outage keeps the last good keys.
	kc.SetDown(true)
	if code := call(); code != 200 {
		t.Errorf("during a later outage: %d, want 200", code)
	}
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
