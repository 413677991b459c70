package proxy_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/oidc/oidctest"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// logoutOP is mockoidc with an end_session_endpoint, on an origin of its
// own (mockoidc serves no such path): it records the parameters of each
// RP-initiated logout and sends the browser to post_logout_redirect_uri.
type logoutOP struct {
	*mockoidc.MockOIDC
	end     *httptest.Server
	mu      sync.Mutex
	logouts []map[string]string
}

func startLogoutOP(t *testing.T) *logoutOP {
	t.Helper()
	o := &logoutOP{}
	o.end = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		o.mu.Lock()
		o.logouts = append(o.logouts, map[string]string{"id_token_hint": q.Get("id_token_hint"),
			"client_id": q.Get("client_id"), "post_logout_redirect_uri": q.Get("post_logout_redirect_uri"), "state": q.Get("state")})
		o.mu.Unlock()
		http.Redirect(w, r, q.Get("post_logout_redirect_uri"), http.StatusFound)
	}))
	t.Cleanup(o.end.Close)
	o.MockOIDC = oidctest.Start(t, oidctest.Discovery(func(doc map[string]any) {
		doc["end_session_endpoint"] = o.end.URL + "/logout"
	}))
	return o
}

// TestChromiumOIDCSignOut drives a real browser through a sign-in at a
// provider and the sign-out: the sign-out form's post is sent on (303)
// to the provider's end_session_endpoint, which the page's CSP
// form-action must allow, with the ID token as id_token_hint, and the
// provider sends the browser back to post_logout_redirect_uri. The
// end_session_endpoint is on another origin than the issuer, as some
// providers have it.
func TestChromiumOIDCSignOut(t *testing.T) {
	up := newHTMLUpstream(t)
	op := startLogoutOP(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	yaml := strings.Replace(oidcYAML(op.MockOIDC), "https://example.com/auth/oidc/mock/callback", base+"/auth/oidc/mock/callback", 1)
	yaml = strings.Replace(yaml, "    allowed_groups: [staff]\n",
		"    allowed_groups: [staff]\n    post_logout_redirect_url: "+base+"/auth/signin\n", 1)
	g := newAccountsGateway(t, yaml, up.URL)
	srv := httptest.NewUnstartedServer(g)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	op.QueueUser(&mockoidc.MockUser{Subject: "kc-alice", Email: "alice@example.com", EmailVerified: true,
		PreferredUsername: "alice", Groups: []string{"staff"}})
	ctx := browserTab(t, 50*time.Second)

	browserStep(t, ctx, "sign in at the provider",
		chromedp.Navigate(base+"/app/page"),
		chromedp.WaitVisible(".provider a"),
		chromedp.Click(".provider a"),
		chromedp.WaitVisible("#username"),
	)
	if name := browserValue(t, ctx, "username", chromedp.Text("#username")); name != "alice" {
		browserFail(t, ctx, "username", "upstream saw %q", name)
	}
	if c := browserCookies(t, ctx, base+"/auth")[signOutCookie]; c == nil || !c.HTTPOnly || !c.Secure || c.Path != "/auth" {
		browserFail(t, ctx, "sign-out cookie", "%+v", c)
	}

	browserStep(t, ctx, "sign out",
		chromedp.Navigate(base+"/auth/signout?rd=%2Fapp%2Fpage"),
		chromedp.WaitVisible("button[type=submit]"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#password"),
	)
	if loc := browserValue(t, ctx, "location after sign-out", chromedp.Location()); loc != base+"/auth/signin" {
		browserFail(t, ctx, "location after sign-out", "at %q", loc)
	}
	op.mu.Lock()
	logouts := op.logouts
	op.mu.Unlock()
	if len(logouts) != 1 {
		t.Fatalf("the provider saw %d sign-outs, want 1", len(logouts))
	}
	if l := logouts[0]; l["id_token_hint"] == "" || l["client_id"] != op.ClientID || l["post_logout_redirect_uri"] != base+"/auth/signin" || l["state"] == "" {
		t.Errorf("end_session request: %v", l)
	}
	if _, err := op.Keypair.VerifyJWT(logouts[0]["id_token_hint"], op.Now); err != nil {
		t.Errorf("id_token_hint: %v", err)
	}
	jar := browserCookies(t, ctx, base+"/auth")
	for _, name := range []string{"__Host-authgate-session", "__Secure-authgate-refresh", signOutCookie} {
		if jar[name] != nil {
			t.Errorf("%s is still set after sign-out", name)
		}
	}
}
