package main

import (
	"context"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// webApp is the app behind nginx: a page that shows the identity and the
// request URI it received, and records each request's Cookie header. A
// WebSocket handshake is accepted, from any Origin (nginx and authgate
// check it), and greeted with the identity.
type webApp struct {
	mu      sync.Mutex
	cookies []string
}

func (a *webApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.cookies = append(a.cookies, r.Header.Get("Cookie"))
	a.mu.Unlock()
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer c.CloseNow()
		_ = c.Write(r.Context(), websocket.MessageText, []byte("hello "+r.Header.Get("X-Auth-Subject")))
		_ = c.Close(websocket.StatusNormalClosure, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/"})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!doctype html><title>app</title><p id="subject">` + html.EscapeString(r.Header.Get("X-Auth-Subject")) +
		`</p><p id="username">` + html.EscapeString(r.Header.Get("X-Auth-Username")) +
		`</p><p id="email">` + html.EscapeString(r.Header.Get("X-Auth-Email")) +
		`</p><p id="roles">` + html.EscapeString(r.Header.Get("X-Auth-Roles")) +
		`</p><p id="uri">` + html.EscapeString(r.RequestURI) + `</p>`))
}

// checkNoAuthgateCookies fails t if any request reached the app with one
// of authgate's cookies.
func (a *webApp) checkNoAuthgateCookies(t *testing.T) {
	t.Helper()
	for _, c := range a.cookieHeaders() {
		if strings.Contains(strings.ToLower(c), "authgate") {
			t.Errorf("the app received authgate's cookies: %q", c)
		}
	}
}

func (a *webApp) cookieHeaders() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.cookies...)
}

// webStack is nginx (deploy/nginx/webapp.conf) in front of webApp, asking
// a real authgate process (deploy/nginx/authgate.webapp.yaml), on free
// loopback ports, with one account: testuser / testpass123.
type webStack struct {
	front string // nginx's base URL
	app   *webApp
}

// startWebStack runs the deploy files with only ports, paths and the
// access token lifetime replaced (and extraRoutes, its ports replaced
// likewise, appended to authgate's config: more routes, or top-level keys).
func startWebStack(t *testing.T, accessTTL, extraRoutes string) *webStack {
	t.Helper()
	nginx := requireTool(t, "nginx", "apt-get install -y nginx")
	dir := t.TempDir()
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]string{
		"127.0.0.1:8080":  freeAddr(t), // nginx
		"127.0.0.1:8000":  freeAddr(t), // authgate
		"127.0.0.1:9191":  freeAddr(t), // authgate admin
		"127.0.0.1:9000":  appLn.Addr().String(),
		"access_ttl: 15m": "access_ttl: " + accessTTL,
	}
	app := &webApp{}
	srv := httptest.NewUnstartedServer(app)
	srv.Listener.Close()
	srv.Listener = appLn
	srv.Start()
	t.Cleanup(srv.Close)

	genKey(t, filepath.Join(dir, "signing-key.pem"), "EdDSA")
	for from, to := range ports {
		extraRoutes = strings.ReplaceAll(extraRoutes, from, to)
	}
	cfg := writeFile(t, dir, "authgate.webapp.yaml", deployFile(t, "nginx/authgate.webapp.yaml", ports)+extraRoutes)
	if out, err := users(t, "testpass123\n", "add", "-config", cfg, "-username", "testuser"); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
	startProcess(t, cfg, ports["127.0.0.1:9191"])

	conf := writeFile(t, dir, "webapp.conf", deployFile(t, "nginx/webapp.conf", ports))
	cmd := exec.Command(nginx, "-p", dir, "-c", conf, "-g", "daemon off;")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// nginx forks workers: kill the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	front := "http://" + ports["127.0.0.1:8080"]
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := testHTTP.Get(front + "/auth/signin"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not start:\n%s", out.String())
		}
	}
	return &webStack{front: front, app: app}
}

// TestNginxBrowserFlow drives headless Chromium through nginx auth_request
// and authgate's pages, as deployed from deploy/nginx/webapp.conf: a
// protected page sends the browser to sign in, a wrong password is shown,
// signing in lands back on the URL asked for (its whole query string), a
// reload stays signed in, a reload after the access token expired is
// renewed silently, and signing out sends the browser to sign in again.
func TestNginxBrowserFlow(t *testing.T) {
	const ttl = 3 * time.Second
	s := startWebStack(t, ttl.String(), "")
	ctx := browserTab(t, 90*time.Second)
	// Several parameters, an escaped "&", a "+" and a non-ASCII letter:
	// all must survive the trip through the sign-in page.
	const asked = "/page/x?a=1&b=two%26x&c=a+b&d=%C3%A9"
	target := s.front + asked

	browserStep(t, ctx, "open protected page",
		chromedp.Navigate(target),
		chromedp.WaitVisible("#password"),
	)
	loc, err := url.Parse(browserValue(t, ctx, "sign-in location", chromedp.Location()))
	if err != nil || loc.Path != "/auth/signin" || loc.Query().Get("rd") != target {
		browserFail(t, ctx, "sign-in location", "at %v, want the sign-in page with rd=%s", loc, target)
	}
	browserScreenshot(t, ctx, "signin")

	browserStep(t, ctx, "wrong password",
		chromedp.SendKeys("#username", "testuser"),
		chromedp.SendKeys("#password", "not-the-password"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#form-error"),
	)
	if msg := browserValue(t, ctx, "error text", chromedp.Text("#form-error")); msg != "The username or password is not correct." {
		browserFail(t, ctx, "error text", "message %q", msg)
	}
	browserScreenshot(t, ctx, "signin-failed")
	if n := len(s.app.cookieHeaders()); n != 0 {
		t.Fatalf("the app saw %d requests before sign-in", n)
	}

	browserStep(t, ctx, "sign in",
		chromedp.SendKeys("#password", "testpass123"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#subject"),
	)
	checkAppPage(t, ctx, "after sign-in", target, asked)
	subject := browserValue(t, ctx, "subject", chromedp.Text("#subject"))
	if subject == "" {
		browserFail(t, ctx, "subject", "the app saw no X-Auth-Subject")
	}

	browserStep(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible("#subject"))
	checkAppPage(t, ctx, "after reload", target, asked)
	refresh := browserCookies(t, ctx, s.front+"/auth/refresh")["__Secure-authgate-refresh"]
	if refresh == nil {
		browserFail(t, ctx, "refresh cookie", "none after sign-in")
	}

	// The access cookie lives as long as its token: wait until the
	// browser has dropped it, then reload.
	for deadline := time.Now().Add(ttl + 30*time.Second); browserCookies(t, ctx, s.front+"/")["__Host-authgate-session"] != nil; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			browserFail(t, ctx, "session cookie expiry", "the access cookie outlived its token")
		}
	}
	browserStep(t, ctx, "reload after expiry", chromedp.Reload(), chromedp.WaitVisible("#subject"))
	checkAppPage(t, ctx, "after renewal", target, asked)
	if sub := browserValue(t, ctx, "subject after renewal", chromedp.Text("#subject")); sub != subject {
		browserFail(t, ctx, "subject after renewal", "%q, want %q", sub, subject)
	}
	jar := browserCookies(t, ctx, s.front+"/", s.front+"/auth/refresh")
	if jar["__Host-authgate-session"] == nil {
		browserFail(t, ctx, "renewed session", "no access cookie after the renewal")
	}
	if r := jar["__Secure-authgate-refresh"]; r == nil || r.Value == refresh.Value {
		browserFail(t, ctx, "renewed session", "the refresh token was not rotated")
	}
	checkNginxWebSocket(t, s, jar["__Host-authgate-session"].Value, subject)
	s.app.checkNoAuthgateCookies(t)

	browserStep(t, ctx, "sign out",
		chromedp.Navigate(s.front+"/auth/signout?rd=%2Fpage%2Fx"),
		chromedp.WaitVisible("button[type=submit]"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#password"),
	)
	browserStep(t, ctx, "protected page after sign-out",
		chromedp.Navigate(target),
		chromedp.WaitVisible("#password"),
	)
	if loc, err := url.Parse(browserValue(t, ctx, "location after sign-out", chromedp.Location())); err != nil || loc.Path != "/auth/signin" {
		browserFail(t, ctx, "location after sign-out", "at %v, want the sign-in page", loc)
	}
	jar = browserCookies(t, ctx, s.front+"/", s.front+"/auth/refresh")
	for _, name := range []string{"__Host-authgate-session", "__Secure-authgate-refresh"} {
		if jar[name] != nil {
			t.Errorf("%s is still set after sign-out", name)
		}
	}
}

// checkAppPage checks that the tab shows the app's page at target, and
// that the app received exactly the request URI asked.
func checkAppPage(t *testing.T, ctx context.Context, name, target, asked string) {
	t.Helper()
	if loc := browserValue(t, ctx, "location "+name, chromedp.Location()); loc != target {
		browserFail(t, ctx, "location "+name, "at %q, want %q", loc, target)
	}
	if uri := browserValue(t, ctx, "uri "+name, chromedp.Text("#uri")); uri != asked {
		browserFail(t, ctx, "uri "+name, "the app received %q, want %q", uri, asked)
	}
}

// checkNginxWebSocket opens WebSockets through nginx with the browser's
// session cookie: from the page's own origin the app greets the user;
// from another origin authgate refuses the handshake (nginx passes the
// Upgrade header on to the decision, see webapp.conf).
func checkNginxWebSocket(t *testing.T, s *webStack, session, subject string) {
	t.Helper()
	u, _ := url.Parse(s.front)
	for _, tt := range []struct {
		name, origin string
		want         int
	}{
		{"same origin", s.front, http.StatusSwitchingProtocols},
		{"foreign origin", "https://evil.example", http.StatusForbidden},
		{"same host, other port", "http://" + u.Hostname() + ":1", http.StatusForbidden},
		{"no origin", "", http.StatusForbidden},
	} {
		t.Run("websocket "+tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": {"__Host-authgate-session=" + session}}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, "ws://"+u.Host+"/socket", &websocket.DialOptions{HTTPHeader: h})
			if resp == nil || resp.StatusCode != tt.want {
				t.Fatalf("handshake: %v (%+v), want %d", err, resp, tt.want)
			}
			if err != nil {
				return
			}
			defer c.CloseNow()
			if _, msg, err := c.Read(ctx); err != nil || string(msg) != "hello "+subject {
				t.Errorf("greeting %q, %v; want the app to see %s", msg, err, subject)
			}
		})
	}
}
