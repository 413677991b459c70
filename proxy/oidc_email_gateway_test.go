package proxy_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// TestOIDCVerifiedEmailReachesUpstream: after a sign-in through a provider
// that verified the user's email, the upstream gets it in X-Auth-Email;
// after one with an unverified email (the provider admits those here), and
// for a password user, it gets none, whatever the client sent. Steps run in
// order on one gateway: a later sign-in of the same person without a
// verified email takes the header away again.
func TestOIDCVerifiedEmailReachesUpstream(t *testing.T) {
	up := newUpstream(t)
	m := startMockOP(t)
	yaml := strings.Replace(oidcYAML(m), "accounts: {}", "accounts: {signup: open}", 1)
	yaml = strings.Replace(yaml, "    allowed_groups: [staff]\n", "    allowed_groups: [staff]\n    require_email_verified: false\n", 1)
	g := newAccountsGateway(t, yaml, up.URL)

	person := func(sub, email string, verified bool) *mockoidc.MockUser {
		return &mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: verified,
			PreferredUsername: strings.TrimPrefix(sub, "kc-"), Groups: []string{"staff"}}
	}
	// viaProvider signs p in through the provider and requests /app.
	viaProvider := func(p *mockoidc.MockUser) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			j, code, where := oidcSignIn(t, g, m, p)
			if code != http.StatusSeeOther || where != "/app?x=1" {
				t.Fatalf("sign-in of %s: %d %q", p.Subject, code, where)
			}
			return browserRequest(j, "GET", "/app", nil)
		}
	}
	for _, tc := range []struct {
		name      string
		request   func(t *testing.T) *http.Request
		wantEmail string
	}{
		{"provider verified the email", viaProvider(person("kc-alice", "alice@example.com", true)), "alice@example.com"},
		{"provider did not verify the email", viaProvider(person("kc-bob", "bob@example.com", false)), ""},
		{"the verified user again, now unverified", viaProvider(person("kc-alice", "alice@example.com", false)), ""},
		{"the verified user verified again", viaProvider(person("kc-alice", "alice@example.com", true)), "alice@example.com"},
		{"verified, but another user's address", viaProvider(person("kc-carol", "ALICE@example.com", true)), ""},
		{"password user", func(t *testing.T) *http.Request {
			creds := map[string]string{"username": "dave", "email": "dave@example.com", "password": "correct horse"}
			if code, body := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
				t.Fatalf("signup: %d %v", code, body)
			}
			code, body := call(t, g, "POST", "/auth/login", map[string]string{"username": "dave", "password": "correct horse"}, "")
			if code != 200 {
				t.Fatalf("login: %d %v", code, body)
			}
			access, _ := body["access_token"].(string)
			r, _ := http.NewRequest("GET", "/app", nil)
			r.Header.Set("Authorization", "Bearer "+access)
			return r
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.request(t)
			r.Header.Set("X-Auth-Email", "mallory@evil.test")
			if w := serve(g, r); w.Code != 200 {
				t.Fatalf("app: %d %s", w.Code, w.Body)
			}
			h := up.last(t).Header
			if h.Get("X-Auth-Subject") == "" {
				t.Errorf("upstream got no X-Auth-Subject")
			}
			if got := h.Values("X-Auth-Email"); (tc.wantEmail == "" && len(got) > 0) || (tc.wantEmail != "" && (len(got) != 1 || got[0] != tc.wantEmail)) {
				t.Errorf("upstream X-Auth-Email = %q, want %q", got, tc.wantEmail)
			}
		})
	}
}
