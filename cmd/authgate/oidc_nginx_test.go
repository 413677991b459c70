package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/oidc/oidctest"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// TestChromiumOIDCBehindNginx drives headless Chromium through nginx
// auth_request (deploy/nginx/webapp.conf) to a protected page whose people
// sign in at an OpenID Provider: the page sends the browser to authgate's
// sign-in page, its provider button to the provider, and the provider back
// to the URL asked for, where the app receives the provider's identity in
// X-Auth-* headers. Signing out ends the session; a second browser, whose
// user is outside allowed_groups, is refused with a page that says why.
func TestChromiumOIDCBehindNginx(t *testing.T) {
	op := oidctest.Start(t)
	s := startWebStack(t, "15m", `providers:
  - name: mock
    display_name: Mock IdP
    issuer: `+op.Issuer()+`
    client_id: `+op.ClientID+`
    client_secret: `+op.ClientSecret+`
    redirect_url: http://127.0.0.1:8080/auth/oidc/mock/callback
    scopes: [openid, email, profile, groups]
    allowed_groups: [staff]
`)
	const asked = "/reports/q?year=2026&team=a%26b"
	target := s.front + asked

	ctx := browserTab(t, 90*time.Second)
	browserStep(t, ctx, "open protected page",
		chromedp.Navigate(target),
		chromedp.WaitVisible(`a.button[href^="/auth/oidc/mock/start"]`),
	)
	browserScreenshot(t, ctx, "oidc-signin")
	op.QueueUser(&mockoidc.MockUser{Subject: "kc-alice", Email: "alice@example.com", EmailVerified: true,
		PreferredUsername: "alice", Groups: []string{"staff", "ops"}})
	browserStep(t, ctx, "sign in with the provider",
		chromedp.Click(`a.button[href^="/auth/oidc/mock/start"]`),
		chromedp.WaitVisible("#subject"),
	)
	checkAppPage(t, ctx, "after the provider", target, asked)
	for _, h := range []struct{ id, want string }{{"#username", "alice"}, {"#email", "alice@example.com"}, {"#roles", "user,staff,ops"}} {
		if got := browserValue(t, ctx, h.id, chromedp.Text(h.id)); got != h.want {
			browserFail(t, ctx, h.id, "the app received %q, want %q", got, h.want)
		}
	}
	if sub := browserValue(t, ctx, "subject", chromedp.Text("#subject")); sub == "" {
		browserFail(t, ctx, "subject", "the app saw no X-Auth-Subject")
	}
	s.app.checkNoAuthgateCookies(t)

	browserStep(t, ctx, "sign out",
		chromedp.Navigate(s.front+"/auth/signout?rd=%2Freports%2Fq"),
		chromedp.WaitVisible("button[type=submit]"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible(`a.button[href^="/auth/oidc/mock/start"]`),
	)
	jar := browserCookies(t, ctx, s.front+"/", s.front+"/auth/refresh")
	for _, name := range []string{"__Host-authgate-session", "__Secure-authgate-refresh"} {
		if jar[name] != nil {
			t.Errorf("%s is still set after sign-out", name)
		}
	}
	browserStep(t, ctx, "protected page after sign-out",
		chromedp.Navigate(target),
		chromedp.WaitVisible(`a.button[href^="/auth/oidc/mock/start"]`),
	)
	if loc, err := url.Parse(browserValue(t, ctx, "location after sign-out", chromedp.Location())); err != nil || loc.Path != "/auth/signin" {
		browserFail(t, ctx, "location after sign-out", "at %v, want the sign-in page", loc)
	}

	// A second browser: its user is not in allowed_groups.
	other := browserTab(t, 60*time.Second)
	browserStep(t, other, "second browser opens the page",
		chromedp.Navigate(target),
		chromedp.WaitVisible(`a.button[href^="/auth/oidc/mock/start"]`),
	)
	op.QueueUser(&mockoidc.MockUser{Subject: "kc-bob", Email: "bob@example.com", EmailVerified: true,
		PreferredUsername: "bob", Groups: []string{"guests"}})
	browserStep(t, other, "second browser signs in",
		chromedp.Click(`a.button[href^="/auth/oidc/mock/start"]`),
		chromedp.WaitVisible("h1"),
	)
	browserScreenshot(t, other, "oidc-refused")
	if msg := browserValue(t, other, "refusal", chromedp.Text("main")); !strings.Contains(msg, "not in an allowed group") {
		browserFail(t, other, "refusal", "page says %q", msg)
	}
	if c := browserCookies(t, other, s.front+"/")["__Host-authgate-session"]; c != nil {
		t.Error("the refused browser has a session cookie")
	}
	browserStep(t, other, "second browser still refused by the app",
		chromedp.Navigate(target),
		chromedp.WaitVisible(`a.button[href^="/auth/oidc/mock/start"]`),
	)
}
