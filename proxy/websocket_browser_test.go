package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// wsUpstream is an app with a WebSocket endpoint: it greets each
// connection with the username authgate forwarded, then echoes one
// message. Any other request gets a small page. It takes every Origin
// (coder/websocket's own check is off): authgate's check is under test.
type wsUpstream struct {
	*httptest.Server
	accepted atomic.Int32
}

func newWSUpstream(t *testing.T) *wsUpstream {
	t.Helper()
	u := &wsUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><title>app</title><p id="app">app</p>`))
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		u.accepted.Add(1)
		defer c.CloseNow()
		ctx := r.Context()
		if err := c.Write(ctx, websocket.MessageText, []byte("hello "+r.Header.Get("X-Auth-Username"))); err != nil {
			return
		}
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		_ = c.Write(ctx, typ, msg)
		_ = c.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(u.Close)
	return u
}

// wsYAML: a browser page, and a WebSocket route whose CORS policy lets
// one other origin send credentials.
const wsYAML = tokensYAML + `
store: sqlite:unused.db
accounts: {signup: open}
browser: {allowed_redirect_hosts: [app.example.com]}
routes:
  - {name: app, path: /app, upstream: "${UPSTREAM}", auth: required, browser: true}
  - name: ws
    path: /ws
    upstream: "${UPSTREAM}"
    auth: required
    cors: {allowed_origins: ["https://spa.example.net"], allowed_methods: [GET], allow_credentials: true}
`

// TestWebSocketOrigin: a WebSocket handshake authenticated by the session
// cookie reaches a real WebSocket app, through the proxy, only from the
// request's own origin, an allowed host or an origin the route's CORS
// policy lets send credentials; any other Origin, or none, gets 403 and
// never reaches the app. A bearer token's handshake is not a browser's
// ambient credential and passes from anywhere.
func TestWebSocketOrigin(t *testing.T) {
	up := newWSUpstream(t)
	g := newAccountsGateway(t, wsYAML, up.URL)
	j := signIn(t, g)
	gw := httptest.NewServer(g)
	t.Cleanup(gw.Close)
	wsURL := "ws" + strings.TrimPrefix(gw.URL, "http") + "/ws/echo"

	for _, tt := range []struct {
		name   string
		cookie bool
		bearer bool
		origin string
		want   int // 101: the echo works
	}{
		{"cookie, same origin", true, false, gw.URL, 101},
		{"cookie, allowed host", true, false, "https://app.example.com", 101},
		{"cookie, CORS origin with credentials", true, false, "https://spa.example.net", 101},
		{"cookie, foreign origin", true, false, "https://evil.example", 403},
		{"cookie, same host, other port", true, false, "http://127.0.0.1:1", 403},
		{"cookie, look-alike origin", true, false, "https://spa.example.net.evil.example", 403},
		{"cookie, null origin", true, false, "null", 403},
		{"cookie, no origin", true, false, "", 403},
		{"bearer, foreign origin", false, true, "https://evil.example", 101},
		{"bearer, no origin", false, true, "", 101},
		{"no credentials", false, false, gw.URL, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := up.accepted.Load()
			h := http.Header{}
			if tt.cookie {
				h.Set("Cookie", j.header("/ws/echo"))
			}
			if tt.bearer {
				h.Set("Authorization", "Bearer "+j["__Host-authgate-session"])
			}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: h})
			if tt.want != 101 {
				if err == nil {
					c.CloseNow()
					t.Fatal("the handshake succeeded")
				}
				if resp == nil || resp.StatusCode != tt.want {
					t.Fatalf("handshake: %v (%+v), want %d", err, resp, tt.want)
				}
				if up.accepted.Load() != before {
					t.Error("the refused handshake reached the app")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer c.CloseNow()
			if _, msg, err := c.Read(ctx); err != nil || string(msg) != "hello testuser" {
				t.Fatalf("greeting %q, %v: want the app to see testuser", msg, err)
			}
			if err := c.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			if _, msg, err := c.Read(ctx); err != nil || string(msg) != "ping" {
				t.Fatalf("echo %q, %v", msg, err)
			}
			var ce websocket.CloseError
			if _, _, err := c.Read(ctx); !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure {
				t.Errorf("close: %v", err)
			}
		})
	}
}

// openSocket is run in a page: it opens a WebSocket to %q and resolves to
// the first message, or "error" when the handshake fails.
const openSocket = `new Promise(resolve => {
  const ws = new WebSocket(%q);
  ws.onmessage = e => { resolve(e.data); ws.close(); };
  ws.onerror = () => resolve("error");
})`

// TestWebSocketInBrowser: Chromium, signed in with the session cookie,
// opens a WebSocket from the app's own page (it works, as the signed-in
// user) and from a page of another origin on the same host (the browser
// sends the cookie, as the site is the same, and authgate refuses the
// handshake on its Origin).
func TestWebSocketInBrowser(t *testing.T) {
	up := newWSUpstream(t)
	g := newAccountsGateway(t, wsYAML, up.URL)
	gw := httptest.NewServer(g)
	t.Cleanup(gw.Close)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>other</title>`))
	}))
	t.Cleanup(other.Close)
	if code, body := call(t, g, "POST", "/auth/signup", map[string]string{"username": "testuser", "password": "testpass123"}, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	ctx := browserTab(t, 60*time.Second)
	browserStep(t, ctx, "sign in",
		chromedp.Navigate(gw.URL+"/app/page"),
		chromedp.WaitVisible("#password"),
		chromedp.SendKeys("#username", "testuser"),
		chromedp.SendKeys("#password", "testpass123"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#app"),
	)
	open := chromedp.Evaluate[string](fmt.Sprintf(openSocket, "ws"+strings.TrimPrefix(gw.URL, "http")+"/ws/echo"), chromedp.EvalAwaitPromise)
	if msg := browserValue(t, ctx, "socket from the app's page", open); msg != "hello testuser" {
		browserFail(t, ctx, "socket from the app's page", "got %q, want the app's greeting", msg)
	}
	before := up.accepted.Load()
	browserStep(t, ctx, "other origin", chromedp.Navigate(other.URL+"/"))
	if msg := browserValue(t, ctx, "socket from another origin", open); msg != "error" {
		browserFail(t, ctx, "socket from another origin", "got %q, want the handshake refused", msg)
	}
	if up.accepted.Load() != before {
		t.Error("the handshake from another origin reached the app")
	}
}
