package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/oidc/oidctest"
	"github.com/oauth2-proxy/mockoidc"
)

// startMockOP runs a real OpenID Provider (mockoidc) on loopback.
func startMockOP(t *testing.T) *mockoidc.MockOIDC { return oidctest.Start(t) }

// oidcYAML serves the sign-in page with one provider, m, admitting the
// group staff.
func oidcYAML(m *mockoidc.MockOIDC) string {
	return tokensYAML + `
store: sqlite:unused.db
accounts: {}
browser: {allowed_redirect_hosts: [app.example.com]}
providers:
  - name: mock
    display_name: Mock IdP
    issuer: ` + m.Issuer() + `
    client_id: ` + m.ClientID + `
    client_secret: ` + m.ClientSecret + `
    redirect_url: https://example.com/auth/oidc/mock/callback
    scopes: [openid, email, profile, groups]
    allowed_groups: [staff]
routes:
  - {name: app, path: /app, upstream: "${UPSTREAM}", auth: required, browser: true}
`
}

// oidcSignIn signs user in through the sign-in page's button and the
// provider, starting from a navigation to /app?x=1, and returns the
// browser's cookies and the last answer of the gateway.
func oidcSignIn(t *testing.T, g http.Handler, m *mockoidc.MockOIDC, user *mockoidc.MockUser) (jar, int, string) {
	t.Helper()
	j := jar{}
	w := serve(g, browserRequest(j, "GET", "/auth/signin?rd=%2Fapp%3Fx%3D1", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `href="/auth/oidc/mock/start?rd=%2Fapp%3Fx%3D1"`) ||
		!strings.Contains(w.Body.String(), "Sign in with Mock IdP") {
		t.Fatalf("sign-in page: %d %s", w.Code, w.Body)
	}
	j.take(w)
	w = serve(g, browserRequest(j, "GET", "/auth/oidc/mock/start?rd=%2Fapp%3Fx%3D1", nil))
	if w.Code != http.StatusFound {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	j.take(w)
	m.QueueUser(user)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Path != "/auth/oidc/mock/callback" {
		t.Fatalf("provider sent the browser to %q", resp.Header.Get("Location"))
	}
	w = serve(g, browserRequest(j, "GET", back.RequestURI(), nil))
	j.take(w)
	if loc := w.Header().Get("Location"); loc != "" {
		return j, w.Code, loc
	}
	return j, w.Code, w.Body.String()
}

func TestOIDCSignInThroughGateway(t *testing.T) {
	up := newUpstream(t)
	m := startMockOP(t)
	g := newAccountsGateway(t, oidcYAML(m), up.URL)

	user := &mockoidc.MockUser{Subject: "kc-alice", Email: "alice@example.com", EmailVerified: true,
		PreferredUsername: "alice", Groups: []string{"staff", "ops"}}
	j, code, where := oidcSignIn(t, g, m, user)
	if code != http.StatusSeeOther || where != "/app?x=1" {
		t.Fatalf("callback: %d %q", code, where)
	}
	w := serve(g, browserRequest(j, "GET", "/app?x=1", nil))
	if w.Code != 200 {
		t.Fatalf("app with the session: %d %s", w.Code, w.Body)
	}
	got := up.last(t).Header
	if got.Get("X-Auth-Username") != "alice" || got.Get("X-Auth-Roles") != "user,staff,ops" || got.Get("X-Auth-Subject") == "" {
		t.Errorf("identity headers: %v", got)
	}
	sub := got.Get("X-Auth-Subject")

	// The second sign-in finds the same user by (provider, subject).
	j2, code, _ := oidcSignIn(t, g, m, user)
	if code != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", code)
	}
	serve(g, browserRequest(j2, "GET", "/app", nil))
	if s := up.last(t).Header.Get("X-Auth-Subject"); s != sub {
		t.Errorf("second sign-in subject %q, want %q", s, sub)
	}

	// Someone outside allowed_groups is refused with a page saying why.
	bob := &mockoidc.MockUser{Subject: "kc-bob", Email: "bob@example.com", EmailVerified: true,
		PreferredUsername: "bob", Groups: []string{"guests"}}
	_, code, body := oidcSignIn(t, g, m, bob)
	if code != http.StatusForbidden || !strings.Contains(body, "not in an allowed group") {
		t.Errorf("bob: %d %s", code, body)
	}
}

func TestOIDCProviderDownIsReportedNotFatal(t *testing.T) {
	up := newUpstream(t)
	m := startMockOP(t)
	yaml := strings.Replace(oidcYAML(m), "issuer: "+m.Issuer(), "issuer: http://127.0.0.1:1/down", 1)
	g := newAccountsGateway(t, yaml, up.URL)
	r := g.Readiness(t.Context())
	if !r.Ready || r.Checks["provider:mock"] == "ok" || r.Checks["provider:mock"] == "" {
		t.Errorf("readiness = %+v, want ready with provider:mock failing", r)
	}
	w := serve(g, browserRequest(jar{}, "GET", "/auth/signin", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Mock IdP is unavailable right now.") {
		t.Errorf("sign-in page: %d %s", w.Code, w.Body)
	}
	w = serve(g, browserRequest(jar{}, "GET", "/auth/oidc/mock/start", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("start: %d", w.Code)
	}
}

// startMockOPWithEndSession is startMockOP whose discovery names an
// end_session_endpoint, as Keycloak's, Entra ID's and Okta's do
// (mockoidc's names none).
func startMockOPWithEndSession(t *testing.T) *mockoidc.MockOIDC {
	var m *mockoidc.MockOIDC
	m = oidctest.Start(t, oidctest.Discovery(func(doc map[string]any) {
		doc["end_session_endpoint"] = m.Addr() + "/oidc/logout"
	}))
	return m
}

const signOutCookie = "__Secure-authgate-signout"

// TestOIDCSignOut: sign-out ends authgate's session and, for a provider
// with an end_session_endpoint and sign_out: provider, sends the browser
// there; otherwise to rd.
func TestOIDCSignOut(t *testing.T) {
	for _, tc := range []struct {
		name       string
		endSession bool
		signOut    string // "" for the default
		expired    bool   // the access cookie is gone: sign-out goes by the refresh endpoint
		toProvider bool
	}{
		{name: "provider sign-out by default", endSession: true, toProvider: true},
		{name: "provider sign-out with the access cookie expired", endSession: true, expired: true, toProvider: true},
		{name: "sign_out local", endSession: true, signOut: "local"},
		{name: "provider without end_session_endpoint", endSession: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t)
			start := startMockOP
			if tc.endSession {
				start = startMockOPWithEndSession
			}
			m := start(t)
			yaml := oidcYAML(m)
			extra := "    post_logout_redirect_url: https://example.com/auth/signin\n"
			if tc.signOut != "" {
				extra = "    sign_out: " + tc.signOut + "\n"
			}
			yaml = strings.Replace(yaml, "    allowed_groups: [staff]\n", "    allowed_groups: [staff]\n"+extra, 1)
			g := newAccountsGateway(t, yaml, up.URL)

			user := &mockoidc.MockUser{Subject: "kc-alice", Email: "alice@example.com", EmailVerified: true,
				PreferredUsername: "alice", Groups: []string{"staff"}}
			j, code, _ := oidcSignIn(t, g, m, user)
			if code != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", code)
			}
			if _, ok := j[signOutCookie]; ok != (tc.signOut != "local") {
				t.Errorf("sign-out cookie kept: %v", ok)
			}
			access := j["__Host-authgate-session"]

			w := serve(g, browserRequest(j, "GET", "/auth/signout?rd=/app", nil))
			csp := w.Header().Get("Content-Security-Policy")
			if allows := strings.Contains(csp, "form-action 'self' "+m.Addr()+" "); allows != tc.toProvider {
				t.Errorf("sign-out page CSP %q: allows the provider %v, want %v", csp, allows, tc.toProvider)
			}
			form := url.Values{"rd": {"/app"}, "csrf": {j["__Host-authgate-csrf"]}}
			if tc.expired {
				delete(j, "__Host-authgate-session")
				w = serve(g, browserRequest(j, "POST", "/auth/signout", form))
				if w.Code != http.StatusTemporaryRedirect {
					t.Fatalf("sign-out without an access cookie: %d", w.Code)
				}
				w = serve(g, browserRequest(j, "POST", "/auth/refresh", form))
			} else {
				w = serve(g, browserRequest(j, "POST", "/auth/signout", form))
			}
			loc := w.Header().Get("Location")
			if w.Code != http.StatusSeeOther {
				t.Fatalf("sign-out: %d %s", w.Code, w.Body)
			}
			j.take(w)
			if len(j) != 0 {
				t.Errorf("sign-out left cookies: %v", j)
			}
			if !tc.toProvider {
				if loc != "/app" {
					t.Errorf("sign-out sent the browser to %q, want /app", loc)
				}
			} else {
				u, err := url.Parse(loc)
				if err != nil || u.Scheme+"://"+u.Host+u.Path != m.Addr()+"/oidc/logout" {
					t.Fatalf("sign-out sent the browser to %q", loc)
				}
				q := u.Query()
				if q.Get("id_token_hint") == "" || q.Get("client_id") != m.ClientID ||
					q.Get("post_logout_redirect_uri") != "https://example.com/auth/signin" || q.Get("state") == "" {
					t.Errorf("end_session parameters: %v", q)
				}
				// The hint is the ID token the provider issued to authgate.
				if _, err := m.Keypair.VerifyJWT(q.Get("id_token_hint"), m.Now); err != nil {
					t.Errorf("id_token_hint does not verify: %v", err)
				}
			}
			r := httptest.NewRequest("GET", "/app", nil)
			r.Header.Set("Authorization", "Bearer "+access)
			if w := serve(g, r); w.Code != http.StatusUnauthorized {
				t.Errorf("access token after sign-out: %d, want 401", w.Code)
			}
		})
	}
}

// TestOIDCPasswordSignInForgetsProvider: a password sign-in after a
// provider's clears the sign-out cookie, so its sign-out stays local.
func TestOIDCPasswordSignInForgetsProvider(t *testing.T) {
	up := newUpstream(t)
	m := startMockOPWithEndSession(t)
	g := newAccountsGateway(t, strings.Replace(oidcYAML(m), "accounts: {}", "accounts: {signup: open}", 1), up.URL)
	user := &mockoidc.MockUser{Subject: "kc-alice", Email: "alice@example.com", EmailVerified: true,
		PreferredUsername: "alice", Groups: []string{"staff"}}
	j, code, _ := oidcSignIn(t, g, m, user)
	if code != http.StatusSeeOther || j[signOutCookie] == "" {
		t.Fatalf("sign-in: %d, cookies %v", code, j)
	}
	creds := map[string]string{"username": "bob", "password": "testpass123"}
	if code, body := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	w := serve(g, browserRequest(j, "POST", "/auth/signin", url.Values{
		"username": {"bob"}, "password": {"testpass123"}, "csrf": {j["__Host-authgate-csrf"]}}))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("password sign-in: %d", w.Code)
	}
	j.take(w)
	if _, ok := j[signOutCookie]; ok {
		t.Fatal("the password sign-in kept the provider's sign-out cookie")
	}
	w = serve(g, browserRequest(j, "POST", "/auth/signout", url.Values{"rd": {"/app"}, "csrf": {j["__Host-authgate-csrf"]}}))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/app" {
		t.Errorf("sign-out: %d to %q, want /app", w.Code, w.Header().Get("Location"))
	}
}
