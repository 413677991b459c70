package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/headers"
)

// testClient returns an HTTP client with a bounded timeout whose idle
// connections are closed when the test ends.
func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// upstreamRecorder is an upstream app that records the identity headers of
// each request it receives, in every spelling, and echoes X-Auth-Subject.
type upstreamRecorder struct {
	mu   sync.Mutex
	seen map[string]map[string][]string // path -> header name -> values
}

func newUpstream(t *testing.T) (*upstreamRecorder, *httptest.Server) {
	u := &upstreamRecorder{seen: map[string]map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := map[string][]string{}
		for name, vals := range r.Header {
			if headers.Fold(name) == "xauthsubject" {
				got[name] = vals
			}
		}
		u.mu.Lock()
		u.seen[r.URL.Path] = got
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"subject": r.Header.Get("X-Auth-Subject")})
	}))
	t.Cleanup(srv.Close)
	return u, srv
}

func (u *upstreamRecorder) headersFor(path string) (map[string][]string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h, ok := u.seen[path]
	return h, ok
}

// startServe runs "serve -config cfg" in a goroutine. Cancel stops it; done
// receives run's result.
func startServe(t *testing.T, cfg string) (cancel context.CancelFunc, done <-chan error, stderr *syncBuffer) {
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	ch := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ch <- run(ctx, []string{"serve", "-config", cfg}, io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return cancel, ch, stderr
}

// waitHealthy polls GET http://admin/healthz until it answers 200.
func waitHealthy(t *testing.T, c *http.Client, admin string, done <-chan error, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\nstderr: %s", err, stderr)
		default:
		}
		resp, err := c.Get("http://" + admin + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if strings.TrimSpace(string(body)) != `{"status":"ok"}` {
					t.Errorf("healthz body = %q", body)
				}
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("admin %s never became healthy\nstderr: %s", admin, stderr)
}

func TestServeEndToEnd(t *testing.T) {
	upstream, upSrv := newUpstream(t)
	dir := t.TempDir()
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeValidConfig(t, dir, testConfig{listen: listen, adminListen: admin, upstream: upSrv.URL})
	out, _, err := runCmd(t, "token", "-config", cfg, "-sub", "alice", "-claim", "roles=admin")
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out)

	cancel, done, stderr := startServe(t, cfg)
	client := testClient(t)
	waitHealthy(t, client, admin, done, stderr)

	forged := map[string]string{"X-Auth-Subject": "mallory", "X_Auth_Subject": "mallory", "x.auth.subject": "mallory"}
	tests := []struct {
		name        string
		path        string
		token       string
		header      map[string]string // set verbatim, spelling kept
		wantStatus  int
		wantRoute   string
		wantSubject string // upstream's X-Auth-Subject and the log's subject
		wantFwd     bool   // reached the upstream
		wantErr     string // JSON {"error"} when not forwarded
		wantChal    string // WWW-Authenticate
	}{
		{name: "no token", path: "/todos", wantStatus: 401, wantRoute: "todos",
			wantErr: "authentication required", wantChal: `Bearer realm="authgate"`},
		{name: "bad token", path: "/todos/1", token: tok + "x", wantStatus: 401, wantRoute: "todos",
			wantErr: "invalid token", wantChal: `Bearer realm="authgate", error="invalid_token", error_description="invalid token"`},
		{name: "token and forged identity", path: "/todos", token: tok, header: forged,
			wantStatus: 200, wantRoute: "todos", wantSubject: "alice", wantFwd: true},
		{name: "public with forged identity", path: "/public", header: forged,
			wantStatus: 200, wantRoute: "public", wantFwd: true},
		{name: "no route", path: "/nope", wantStatus: 404, wantErr: "no route for this request"},
		{name: "not a segment prefix", path: "/todosx", token: tok, wantStatus: 404, wantErr: "no route for this request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+listen+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			for k, v := range tt.header {
				req.Header[k] = []string{v}
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantChal {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChal)
			}
			seen, fwd := upstream.headersFor(tt.path)
			if fwd != tt.wantFwd {
				t.Fatalf("forwarded = %v, want %v", fwd, tt.wantFwd)
			}
			if !tt.wantFwd {
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error != tt.wantErr {
					t.Errorf("body = %s, want {\"error\":%q}", body, tt.wantErr)
				}
				return
			}
			// Every spelling of the forged header is gone; only the
			// verified subject, if any, reaches the upstream.
			want := map[string][]string{}
			if tt.wantSubject != "" {
				want["X-Auth-Subject"] = []string{tt.wantSubject}
			}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Errorf("upstream saw identity headers %v, want %v", seen, want)
			}
			var echo struct{ Subject string }
			if err := json.Unmarshal(body, &echo); err != nil || echo.Subject != tt.wantSubject {
				t.Errorf("upstream echoed %s, want subject %q", body, tt.wantSubject)
			}
		})
	}

	// Stop: run returns nil promptly and the ports are closed.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return within 5s of cancel")
	}
	for _, addr := range []string{listen, admin} {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after serve returned", addr)
		}
	}

	// The log: JSON lines only, one "request" line per traffic request,
	// never the token.
	logs := stderr.String()
	if strings.Contains(logs, tok) || strings.Contains(logs, tok[strings.LastIndex(tok, ".")+1:]) {
		t.Error("the log contains the token")
	}
	if strings.Contains(logs, "mallory") {
		t.Error("the log contains a client-sent header value")
	}
	type accessLine struct {
		Msg, Route, Path, Subject string
		Status                    int
	}
	var access []accessLine
	for _, line := range nonEmptyLines(logs) {
		var l accessLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if l.Msg == "request" {
			access = append(access, l)
		}
	}
	if len(access) != len(tests) {
		t.Fatalf("%d access-log lines for %d requests:\n%s", len(access), len(tests), logs)
	}
	for _, tt := range tests {
		want := accessLine{Msg: "request", Route: tt.wantRoute, Path: tt.path, Subject: tt.wantSubject, Status: tt.wantStatus}
		found := false
		for _, l := range access {
			found = found || l == want
		}
		if !found {
			t.Errorf("no access-log line %+v in:\n%s", want, logs)
		}
	}
	for _, msg := range []string{`"msg":"authgate listening"`, `"msg":"authgate stopped"`} {
		if !strings.Contains(logs, msg) {
			t.Errorf("log lacks %s", msg)
		}
	}
}

func TestServeFails(t *testing.T) {
	badConfig := `listen: 127.0.0.1:18000
tokens:
  issuer: http://authgate.test
  audience: a
  signing_key: k.pem
routes:
  - name: todos
    path: /todos
    upstream: ftp://127.0.0.1:9000
    auth: required
`
	tests := []struct {
		name string
		// setup writes the config into dir and returns serve's flags.
		setup     func(t *testing.T, dir string) []string
		wantUsage bool
		wantMsg   func(dir string) string // substring of the error
	}{
		{
			name: "invalid config",
			setup: func(t *testing.T, dir string) []string {
				return []string{"-config", writeFile(t, dir, "authgate.yaml", badConfig)}
			},
			wantMsg: func(dir string) string {
				return filepath.Join(dir, "authgate.yaml") + ":9: routes[0].upstream: must be an http:// or https:// URL"
			},
		},
		{
			name: "missing signing key",
			setup: func(t *testing.T, dir string) []string {
				cfg := testConfig{listen: freeAddr(t), adminListen: freeAddr(t), signingKey: "missing.pem"}
				return []string{"-config", writeFile(t, dir, "authgate.yaml", cfg.yaml())}
			},
			wantMsg: func(dir string) string { return filepath.Join(dir, "authgate.yaml") + ": tokens.signing_key" },
		},
		{
			name:      "missing -config",
			setup:     func(t *testing.T, dir string) []string { return nil },
			wantUsage: true, wantMsg: func(string) string { return "-config is required" },
		},
		{
			name: "bogus log format",
			setup: func(t *testing.T, dir string) []string {
				return []string{"-config", writeValidConfig(t, dir, testConfig{}), "-log-format", "bogus"}
			},
			wantUsage: true, wantMsg: func(string) string { return "-log-format" },
		},
		{
			name: "bogus log level",
			setup: func(t *testing.T, dir string) []string {
				return []string{"-config", writeValidConfig(t, dir, testConfig{}), "-log-level", "loud"}
			},
			wantUsage: true, wantMsg: func(string) string { return "-log-level" },
		},
		{
			name: "listen address in use",
			setup: func(t *testing.T, dir string) []string {
				busy := holdPort(t)
				return []string{"-config", writeValidConfig(t, dir, testConfig{listen: busy, adminListen: freeAddr(t)})}
			},
			wantMsg: func(string) string { return "listen: " },
		},
		{
			name: "admin address in use",
			setup: func(t *testing.T, dir string) []string {
				busy := holdPort(t)
				return []string{"-config", writeValidConfig(t, dir, testConfig{listen: freeAddr(t), adminListen: busy})}
			},
			wantMsg: func(string) string { return "admin_listen: " },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"serve"}, tt.setup(t, dir)...)
			// Should serve start by mistake, the timeout stops it and the
			// nil result fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, args, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("serve succeeded, want an error")
			}
			if got := errors.Is(err, errUsage); got != tt.wantUsage {
				t.Errorf("errors.Is(err, errUsage) = %v, want %v (err: %v)", got, tt.wantUsage, err)
			}
			if want := tt.wantMsg(dir); !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, want it to contain %q", err, want)
			}
		})
	}
}

// holdPort listens on a loopback port until the test ends and returns its
// address.
func holdPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestServeAdminInUseReleasesListen checks that when the admin listener
// cannot be opened, the traffic listener opened before it is released.
func TestServeAdminInUseReleasesListen(t *testing.T) {
	dir := t.TempDir()
	listen := freeAddr(t)
	cfg := writeValidConfig(t, dir, testConfig{listen: listen, adminListen: holdPort(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := run(ctx, []string{"serve", "-config", cfg}, io.Discard, io.Discard); err == nil {
		t.Fatal("serve succeeded, want an error")
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("traffic port still held after serve failed: %v", err)
	}
	ln.Close()
}
