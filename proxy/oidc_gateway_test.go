package proxy_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// startMockOP runs a real OpenID Provider (mockoidc) on loopback.
func startMockOP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

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
