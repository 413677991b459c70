package proxy_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath returns Debian's chromium. Without it the test skips
// locally and fails under CI=true.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium); CI=true needs it")
	}
	t.Skip("chromium is not installed (apt-get install chromium): the real-browser test needs it")
	return ""
}

// htmlUpstream is an app that shows the identity authgate sent it, and
// records the Cookie header of every request. Its first page sets a
// cookie of its own.
type htmlUpstream struct {
	*httptest.Server
	mu      sync.Mutex
	cookies []string
}

func newHTMLUpstream(t *testing.T) *htmlUpstream {
	u := &htmlUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.cookies = append(u.cookies, strings.Join(r.Header.Values("Cookie"), "; "))
		u.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>app</title><p id="subject">` + html.EscapeString(r.Header.Get("X-Auth-Subject")) +
			`</p><p id="username">` + html.EscapeString(r.Header.Get("X-Auth-Username")) + `</p>`))
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *htmlUpstream) cookieHeaders() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.cookies...)
}

// browserTab starts a headless chromium with a fresh profile and returns
// a tab's context, bounded by timeout.
func browserTab(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// browserStep runs actions in the tab; on failure it saves a screenshot
// and the page's HTML in the test's artifact directory (kept with
// go test -artifacts) and fails the test.
func browserStep(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		browserFail(t, ctx, name, "%v", err)
	}
}

func browserFail(t *testing.T, ctx context.Context, name, format string, args ...any) {
	t.Helper()
	dir := t.ArtifactDir()
	// A fresh context: the tab's own may be what timed out.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	file := strings.NewReplacer(" ", "-", "/", "-").Replace(name)
	if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(90)); err == nil {
		p := filepath.Join(dir, file+".png")
		if os.WriteFile(p, png, 0o644) == nil {
			t.Logf("screenshot: %s", p)
		}
	}
	if doc, err := chromedp.Run(sctx, chromedp.OuterHTML("html")); err == nil {
		t.Logf("page at %s:\n%s", name, doc)
	}
	if loc, err := chromedp.Run(sctx, chromedp.Location()); err == nil {
		t.Logf("location: %s", loc)
	}
	t.Fatalf("%s: "+format, append([]any{name}, args...)...)
}

// browserValue runs one action returning a string, failing like browserStep.
func browserValue(t *testing.T, ctx context.Context, name string, a chromedp.Action[string]) string {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		browserFail(t, ctx, name, "%v", err)
	}
	return v
}

// browserCookies returns the cookies the browser holds for base and its
// refresh endpoint, by name.
func browserCookies(t *testing.T, ctx context.Context, base string) map[string]*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/", base + "/auth/refresh"}})
	if err != nil {
		browserFail(t, ctx, "cookies", "%v", err)
	}
	out := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		out[c.Name] = c
	}
	return out
}

// TestChromiumSignIn drives a real browser through the sign-in flow: a
// protected page sends it to sign in, a wrong password is shown on the
// page, the right one brings it back to the page it asked for with the
// upstream seeing the identity and never authgate's cookies, an open
// redirect is refused, and signing out ends the session.
func TestChromiumSignIn(t *testing.T) {
	up := newHTMLUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	code, body := call(t, g, "POST", "/auth/signup", map[string]string{"username": "testuser", "password": "testpass123"}, "")
	if code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	user, _ := body["user"].(map[string]any)
	ctx := browserTab(t, 50*time.Second)

	// A protected page sends the browser to sign in, through the renewal.
	browserStep(t, ctx, "open protected page",
		chromedp.Navigate(srv.URL+"/app/page?x=1"),
		chromedp.WaitVisible("#username"),
	)
	if loc := browserValue(t, ctx, "location", chromedp.Location()); loc != srv.URL+"/auth/signin?rd=%2Fapp%2Fpage%3Fx%3D1" {
		browserFail(t, ctx, "sign-in location", "at %q", loc)
	}

	// A wrong password: the page says so, and nothing was forwarded.
	browserStep(t, ctx, "wrong password",
		chromedp.SendKeys("#username", "testuser"),
		chromedp.SendKeys("#password", "not-the-password"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#form-error"),
	)
	if msg := browserValue(t, ctx, "error text", chromedp.Text("#form-error")); msg != "The username or password is not correct." {
		browserFail(t, ctx, "error text", "message %q", msg)
	}
	if n := len(up.cookieHeaders()); n != 0 {
		t.Fatalf("the upstream saw %d requests before sign-in", n)
	}

	// The right password: back on the page asked for, as testuser.
	browserStep(t, ctx, "sign in",
		chromedp.SendKeys("#password", "testpass123"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#subject"),
	)
	if loc := browserValue(t, ctx, "location after sign-in", chromedp.Location()); loc != srv.URL+"/app/page?x=1" {
		browserFail(t, ctx, "location after sign-in", "at %q", loc)
	}
	if sub := browserValue(t, ctx, "subject", chromedp.Text("#subject")); sub == "" || sub != user["id"] {
		browserFail(t, ctx, "subject", "upstream saw X-Auth-Subject %q, want %v", sub, user["id"])
	}
	// Again, now with the app's own cookie: it goes upstream, authgate's do not.
	browserStep(t, ctx, "reload", chromedp.Navigate(srv.URL+"/app/page"), chromedp.WaitVisible("#subject"))
	seen := up.cookieHeaders()
	for _, c := range seen {
		if strings.Contains(strings.ToLower(c), "authgate") {
			t.Errorf("the upstream received authgate's cookies: %q", c)
		}
	}
	if last := seen[len(seen)-1]; last != "theme=dark" {
		t.Errorf("the upstream's last Cookie header is %q, want the app's own cookie", last)
	}
	// The browser holds the session cookies, and scripts cannot read them.
	jar := browserCookies(t, ctx, srv.URL)
	for _, name := range []string{"__Host-authgate-session", "__Secure-authgate-refresh"} {
		if c := jar[name]; c == nil || !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax {
			browserFail(t, ctx, "session cookies", "%s is %+v", name, c)
		}
	}
	js, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie"))
	if err != nil || strings.Contains(js, "authgate-session") || strings.Contains(js, "authgate-refresh") {
		browserFail(t, ctx, "document.cookie", "scripts see %q (%v)", js, err)
	}

	// An open redirect is refused.
	browserStep(t, ctx, "open redirect",
		chromedp.Navigate(srv.URL+"/auth/signin?rd=https%3A%2F%2Fevil.example%2F"),
		chromedp.WaitVisible("#form-error"),
	)
	if msg := browserValue(t, ctx, "open redirect text", chromedp.Text("#form-error")); !strings.Contains(msg, "does not send people") {
		browserFail(t, ctx, "open redirect text", "message %q", msg)
	}
	if n := browserValue(t, ctx, "no form", chromedp.Evaluate[string](`String(document.querySelectorAll("form").length)`)); n != "0" {
		browserFail(t, ctx, "no form", "%s forms on the refusal page", n)
	}

	// Signing out ends the session: the protected page asks to sign in again.
	browserStep(t, ctx, "sign out",
		chromedp.Navigate(srv.URL+"/auth/signout?rd=%2Fapp%2Fpage"),
		chromedp.WaitVisible("button[type=submit]"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#password"),
	)
	if loc := browserValue(t, ctx, "location after sign-out", chromedp.Location()); !strings.HasPrefix(loc, srv.URL+"/auth/signin?rd=") {
		browserFail(t, ctx, "location after sign-out", "at %q", loc)
	}
	browserStep(t, ctx, "protected page after sign-out",
		chromedp.Navigate(srv.URL+"/app/page"),
		chromedp.WaitVisible("#password"),
	)
	jar = browserCookies(t, ctx, srv.URL)
	for _, name := range []string{"__Host-authgate-session", "__Secure-authgate-refresh"} {
		if jar[name] != nil {
			t.Errorf("%s is still set after sign-out", name)
		}
	}
	raw, _ := json.Marshal(up.cookieHeaders())
	t.Logf("upstream Cookie headers: %s", raw)
}
