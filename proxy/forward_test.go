package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestIdentityHeadersCannotBeForged(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	tok := mint(t, "alice", map[string]any{"preferred_username": "alice", "roles": []string{"user", "admin"}})

	forged := map[string]string{
		"X-Auth-Subject":  "mallory",
		"x-auth-username": "mallory",
		"X_Auth_Subject":  "mallory",
		"x_auth_email":    "mallory@evil.test",
		"X.Auth.Roles":    "admin",
		"X-AUTH-EMAIL":    "mallory@evil.test",
	}
	tests := []struct {
		name  string
		route string
		token bool
		want  map[string]string // identity headers the upstream must see; others absent
	}{
		{"required route", "/required", true, map[string]string{"X-Auth-Subject": "alice", "X-Auth-Username": "alice", "X-Auth-Roles": "user,admin"}},
		{"optional route anonymous", "/optional", false, nil},
		{"public route", "/none", false, nil},
	}
	for _, tt := range tests {
		for _, conn := range []string{"", "X-Auth-Subject, X-Auth-Roles, X-Auth-Username"} {
			t.Run(tt.name+"/connection="+conn, func(t *testing.T) {
				r := httptest.NewRequest("GET", tt.route, nil)
				for k, v := range forged {
					r.Header[k] = []string{v} // exactly as sent, not canonicalised
				}
				if conn != "" {
					r.Header.Set("Connection", conn)
				}
				if tt.token {
					r.Header.Set("Authorization", "Bearer "+tok)
				}
				if w := serve(g, r); w.Code != 200 {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				got := up.last(t).Header
				for name, vals := range got {
					folded := strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(name))
					if !strings.HasPrefix(folded, "xauth") {
						continue
					}
					if want, ok := tt.want[name]; !ok || len(vals) != 1 || vals[0] != want {
						t.Errorf("upstream got %s: %q, want %q", name, vals, tt.want[name])
					}
				}
				for name, want := range tt.want {
					if got.Get(name) != want {
						t.Errorf("upstream %s = %q, want %q", name, got.Get(name), want)
					}
				}
			})
		}
	}
}

func TestAuthorizationForwarding(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, tokensYAML+`
routes:
  - {name: hidden, path: /hidden, upstream: "${UPSTREAM}", auth: required}
  - {name: passed, path: /passed, upstream: "${UPSTREAM}", auth: required, forward_authorization: true}
  - {name: anon, path: /anon, upstream: "${UPSTREAM}", auth: optional}
`, up.URL)
	tok := mint(t, "alice", nil)
	tests := []struct {
		path, authz, want string
	}{
		{"/hidden", "Bearer " + tok, ""},
		{"/passed", "Bearer " + tok, "Bearer " + tok},
		{"/anon", "Basic YTpi", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set("Authorization", tt.authz)
			if w := serve(g, r); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got := up.last(t).Header.Get("Authorization"); got != tt.want {
				t.Errorf("upstream Authorization = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClaimWithControlCharactersIsRefused(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	for _, bad := range []string{"alice\r\nX-Auth-Roles: admin", "alice\nx", "nul\x00"} {
		r := httptest.NewRequest("GET", "/required", nil)
		r.Header.Set("Authorization", "Bearer "+mint(t, "alice", map[string]any{"preferred_username": bad}))
		w := serve(g, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("claim %q: status %d, want 401", bad, w.Code)
		}
	}
	if up.count() != 0 {
		t.Errorf("upstream received %d requests, want 0", up.count())
	}
}

func TestXForwardedHeadersTrustedOnlyFromTrustedProxies(t *testing.T) {
	up := newUpstream(t)
	base := tokensYAML + `
routes:
  - {name: none, path: /none, upstream: "${UPSTREAM}", auth: none}
`
	tests := []struct {
		name                string
		trusted             string
		wantXFF, wantXFHost string
	}{
		{"untrusted peer", "", "192.0.2.1", "gateway.test"},
		{"trusted peer", "trusted_proxies: [192.0.2.0/24]\n", "203.0.113.9, 192.0.2.1", "public.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, tt.trusted+base, up.URL)
			r := httptest.NewRequest("GET", "http://gateway.test/none", nil)
			r.RemoteAddr = "192.0.2.1:4444"
			r.Header.Set("X-Forwarded-For", "203.0.113.9")
			r.Header.Set("X-Forwarded-Host", "public.example")
			r.Header.Set("Forwarded", "for=203.0.113.66")
			if w := serve(g, r); w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			h := up.last(t).Header
			if got := h.Get("X-Forwarded-For"); got != tt.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tt.wantXFF)
			}
			if got := h.Get("X-Forwarded-Host"); got != tt.wantXFHost {
				t.Errorf("X-Forwarded-Host = %q, want %q", got, tt.wantXFHost)
			}
			if got := h.Get("Forwarded"); got != "" {
				t.Errorf("Forwarded = %q, want it removed", got)
			}
		})
	}
}

func TestUpstreamFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // nothing listens there any more

	tests := []struct {
		name     string
		upstream string
		status   int
		msg      string
	}{
		{"connection refused", downURL, http.StatusBadGateway, "upstream unavailable"},
		{"response header timeout", slow.URL, http.StatusGatewayTimeout, "upstream timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, tokensYAML+`
routes:
  - {name: r, path: /, upstream: "${UPSTREAM}", auth: none, timeout: 200ms}
`, tt.upstream)
			w := serve(g, httptest.NewRequest("GET", "/x", nil))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			if got := errorBody(t, w); got != tt.msg {
				t.Errorf("error = %q, want %q", got, tt.msg)
			}
		})
	}
}

// TestStreamingFlushes checks that a streamed response reaches the client
// chunk by chunk, before the upstream has finished.
func TestStreamingFlushes(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "data: second\n\n")
	}))
	t.Cleanup(up.Close)
	defer close(release)
	g := newGateway(t, tokensYAML+`
routes:
  - {name: events, path: /events, upstream: "${UPSTREAM}", auth: none}
`, up.URL)
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)

	resp, err := http.Get(front.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "data: first\n" {
			t.Errorf("first line = %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first event not delivered while the upstream was still streaming")
	}
}

func TestWebSocketUpgradePassesThrough(t *testing.T) {
	var sawSubject string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawSubject = r.Header.Get("X-Auth-Subject")
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		// Echo raw bytes: enough to prove a bidirectional tunnel.
		buf := make([]byte, 5)
		if _, err := io.ReadFull(brw, buf); err == nil {
			_, _ = conn.Write(buf)
		}
	}))
	t.Cleanup(up.Close)
	g := newGateway(t, modesYAML, up.URL)
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)

	conn, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET /required/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Authorization: Bearer " + mint(t, "alice", nil) + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", resp.StatusCode)
	}
	if _, err := io.WriteString(conn, "hello"); err != nil {
		t.Fatal(err)
	}
	echo := make([]byte, 5)
	if _, err := io.ReadFull(br, echo); err != nil || string(echo) != "hello" {
		t.Fatalf("echo = %q, %v", echo, err)
	}
	if sawSubject != "alice" {
		t.Errorf("upstream X-Auth-Subject = %q, want alice", sawSubject)
	}
}

func TestReloadSwapsRoutes(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	if w := serve(g, httptest.NewRequest("GET", "/none", nil)); w.Code != 200 {
		t.Fatalf("before reload: status %d", w.Code)
	}
	next := parseConfig(t, tokensYAML+`
routes:
  - {name: other, path: /other, upstream: "${UPSTREAM}", auth: none}
`, up.URL)
	if err := g.Reload(next); err != nil {
		t.Fatal(err)
	}
	if w := serve(g, httptest.NewRequest("GET", "/none", nil)); w.Code != 404 {
		t.Errorf("removed route: status %d, want 404", w.Code)
	}
	if w := serve(g, httptest.NewRequest("GET", "/other", nil)); w.Code != 200 {
		t.Errorf("added route: status %d, want 200", w.Code)
	}

	bad := parseConfig(t, tokensYAML+`
routes:
  - {name: other, path: /other, upstream: "${UPSTREAM}", auth: none}
`, up.URL)
	bad.Tokens.SigningKey = "/nonexistent/key.pem"
	if err := g.Reload(bad); err == nil || !strings.Contains(err.Error(), "tokens.signing_key") {
		t.Fatalf("Reload(bad) = %v, want an error naming tokens.signing_key", err)
	}
	if w := serve(g, httptest.NewRequest("GET", "/other", nil)); w.Code != 200 {
		t.Errorf("after a refused reload the old config must keep serving: status %d", w.Code)
	}
}
