package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/sqlite"

	"github.com/oauth2-proxy/mockoidc"
)

// TestOIDCRouteProvider: a route's provider sends a navigation without a
// session through the renewal straight to that provider's sign-in, with
// the URL asked for carried along; other routes still get the page.
func TestOIDCRouteProvider(t *testing.T) {
	up := newUpstream(t)
	m := startMockOP(t)
	yaml := strings.Replace(oidcYAML(m),
		`  - {name: app, path: /app, upstream: "${UPSTREAM}", auth: required, browser: true}`,
		`  - {name: app, path: /app, upstream: "${UPSTREAM}", auth: required, browser: true, provider: mock}
  - {name: other, path: /other, upstream: "${UPSTREAM}", auth: required, browser: true}`, 1)
	g := newAccountsGateway(t, yaml, up.URL)

	// follow walks the redirects of a navigation to target, up to the
	// first page of another handler, and returns the Locations.
	follow := func(target string) []string {
		var locs []string
		for range 5 {
			w := serve(g, browserRequest(jar{}, "GET", target, nil))
			loc := w.Header().Get("Location")
			if loc == "" || !strings.HasPrefix(loc, "/") {
				return append(locs, loc)
			}
			locs = append(locs, loc)
			if strings.Contains(loc, "/oidc/") {
				return locs
			}
			target = loc
		}
		return locs
	}
	tests := []struct {
		name, target string
		want         []string
	}{
		{"route with provider", "/app?x=1&y=2", []string{
			"/auth/refresh?provider=mock&rd=%2Fapp%3Fx%3D1%26y%3D2",
			"/auth/signin?provider=mock&rd=%2Fapp%3Fx%3D1%26y%3D2",
			"/auth/oidc/mock/start?rd=%2Fapp%3Fx%3D1%26y%3D2",
		}},
		{"route without provider", "/other", []string{"/auth/refresh?rd=%2Fother", "/auth/signin?rd=%2Fother", ""}},
		{"unknown provider shows the page", "/auth/signin?provider=nope&rd=%2Fapp", []string{""}},
		{"password=1 shows the page", "/auth/signin?provider=mock&password=1", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := follow(tt.target)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("redirects %q, want %q", got, tt.want)
			}
		})
	}

	// The start leads to the provider, which brings the browser back to
	// the URL asked for.
	w := serve(g, browserRequest(jar{}, "GET", "/auth/oidc/mock/start?rd=%2Fapp%3Fx%3D1", nil))
	if u, err := url.Parse(w.Header().Get("Location")); w.Code != http.StatusFound || err != nil ||
		!strings.HasPrefix(u.String(), m.Issuer()) || u.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("start: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// TestOIDCPasswordsOff: with accounts.passwords: false the sign-in page
// shows the providers alone, and password logins, the page's form and
// signup are refused.
func TestOIDCPasswordsOff(t *testing.T) {
	up := newUpstream(t)
	m := startMockOP(t)
	yaml := strings.Replace(oidcYAML(m), "accounts: {}", "accounts: {passwords: false}", 1)
	g := newAccountsGateway(t, yaml, up.URL)

	j := jar{}
	w := serve(g, browserRequest(j, "GET", "/auth/signin?rd=%2Fapp", nil))
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "Sign in with Mock IdP") || strings.Contains(body, `name="password"`) ||
		strings.Contains(body, "Create an account") {
		t.Fatalf("sign-in page: %d %s", w.Code, body)
	}
	j.take(w)
	w = serve(g, browserRequest(j, "POST", "/auth/signin", url.Values{
		"username": {"alice"}, "password": {"whatever1"}, "rd": {"/app"}, "csrf": {j["__Host-authgate-csrf"]}}))
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Password sign-in is turned off here") {
		t.Errorf("form sign-in: %d %s", w.Code, w.Body)
	}
	for _, tt := range []struct{ path, want string }{
		{"/auth/login", "password sign-in is turned off"},
		{"/auth/signup", "signup is closed"},
	} {
		code, got := call(t, g, "POST", tt.path, map[string]string{"username": "alice", "password": "whatever1"}, "")
		if code != http.StatusForbidden || !strings.Contains(got["error"].(string), tt.want) {
			t.Errorf("%s: %d %v", tt.path, code, got)
		}
	}

	// The provider still signs people in.
	_, code, where := oidcSignIn(t, g, m, staffUser())
	if code != http.StatusSeeOther || where != "/app?x=1" {
		t.Errorf("provider sign-in: %d %q", code, where)
	}
}

// staffUser is someone the provider of oidcYAML admits.
func staffUser() *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "kc-carol", Email: "carol@example.com", EmailVerified: true,
		PreferredUsername: "carol", Groups: []string{"staff"}}
}

// TestOIDCAccessLog: the access-log line of a provider's callback names
// the provider and the sign-in's result.
func TestOIDCAccessLog(t *testing.T) {
	up := newUpstream(t)
	m := startMockOP(t)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var buf bytes.Buffer
	g, err := build(t, parseConfig(t, oidcYAML(m), up.URL), assemble.Options{
		Store: store, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// callbackLine is the access-log line of the last callback.
	callbackLine := func() map[string]any {
		t.Helper()
		var last map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(l), &e) == nil && e["msg"] == "request" &&
				strings.HasSuffix(fmt.Sprint(e["path"]), "/callback") {
				last = e
			}
		}
		if last == nil {
			t.Fatalf("no access-log line of a callback in:\n%s", buf.String())
		}
		return last
	}
	outsider := staffUser()
	outsider.Subject, outsider.Groups = "kc-dave", []string{"guests"}
	tests := []struct {
		name   string
		sign   func()
		status float64
		signin string
	}{
		{"success", func() { oidcSignIn(t, g, m, staffUser()) }, 303, "success"},
		{"refused", func() { oidcSignIn(t, g, m, outsider) }, 403, "forbidden"},
		{"bad state", func() {
			serve(g, browserRequest(jar{}, "GET", "/auth/oidc/mock/callback?state=0123456789abcdefXYZ&code=x", nil))
		}, 400, "bad_state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			tt.sign()
			e := callbackLine()
			if e["route"] != "accounts" || e["status"] != tt.status || e["signin"] != tt.signin || e["provider"] != "mock" {
				t.Errorf("access log = %v", e)
			}
		})
	}
	// Other requests carry no sign-in fields.
	buf.Reset()
	serve(g, browserRequest(jar{}, "GET", "/auth/signin", nil))
	if strings.Contains(buf.String(), `"signin"`) || strings.Contains(buf.String(), `"provider"`) {
		t.Errorf("sign-in page line has sign-in fields: %s", buf.String())
	}
}
