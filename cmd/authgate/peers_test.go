package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireTool finds a program the integration tests need. Missing, the test
// skips with the reason; under CI (CI=true) it fails instead, since .ci/run
// installs it.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI (%s): %v", name, install, err)
	}
	t.Skipf("%s is not installed (%s); skipping the integration test", name, install)
	return ""
}

// stack is app + authgate + a real peer proxy, on free loopback ports, run
// from the files under deploy/ with only ports and paths replaced.
type stack struct {
	front string // the peer's base URL
	cfg   string // authgate's config
}

// deployFile reads deploy/<rel> and replaces the ports the deploy files use
// with free ones.
func deployFile(t *testing.T, rel string, ports map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", rel))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for from, to := range ports {
		s = strings.ReplaceAll(s, from, to)
	}
	return s
}

// startStack starts todoapp (built from cmd/todoapp), authgate (this test
// binary as a child process) and the peer (start gets the work dir and the
// port map and returns the running command).
func startStack(t *testing.T, peerDir string, start func(dir string, ports map[string]string) *exec.Cmd) *stack {
	t.Helper()
	dir := t.TempDir()
	ports := map[string]string{
		"127.0.0.1:8080": freeAddr(t), // the peer
		"127.0.0.1:8000": freeAddr(t), // authgate
		"127.0.0.1:9191": freeAddr(t), // authgate admin
		"127.0.0.1:9000": freeAddr(t), // the app
	}
	// The peer also answers by name on its port.
	_, peerPort, _ := net.SplitHostPort(ports["127.0.0.1:8080"])
	ports["localhost:8080"] = "localhost:" + peerPort
	app := filepath.Join(dir, "todoapp")
	if out, err := exec.Command("go", "build", "-o", app, "../todoapp").CombinedOutput(); err != nil {
		t.Fatalf("build todoapp: %v\n%s", err, out)
	}
	appCmd := exec.Command(app, "-listen", ports["127.0.0.1:9000"])
	if err := appCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = appCmd.Process.Kill(); _ = appCmd.Wait() })

	genKey(t, filepath.Join(dir, "signing-key.pem"), "EdDSA")
	// The deploy file, and one route with a CORS policy (routes is its last
	// key) for checkPeerCORS.
	cfg := writeFile(t, dir, "authgate.yaml", deployFile(t, peerDir+"/authgate.yaml", ports)+corsRoute)
	startProcess(t, cfg, ports["127.0.0.1:9191"])

	peer := start(dir, ports)
	var peerOut syncBuffer
	peer.Stdout, peer.Stderr = &peerOut, &peerOut
	// nginx forks workers: run the peer in its own process group and kill
	// the whole group, and don't wait long for pipes a straggler holds.
	peer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	peer.WaitDelay = 2 * time.Second
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-peer.Process.Pid, syscall.SIGKILL)
		_ = peer.Wait()
	})
	front := "http://" + ports["127.0.0.1:8080"]
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := testHTTP.Get(front + "/headers"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start:\n%s", peerDir, peerOut.String())
		}
	}
	return &stack{front: front, cfg: cfg}
}

// token mints an access token for alice with roles.
func (s *stack) token(t *testing.T, roles string) string {
	t.Helper()
	out, _, err := runCmd(t, "token", "-config", s.cfg, "-sub", "alice", "-claim", "roles="+roles)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// get sends GET path through the peer with headers; it returns the status,
// the WWW-Authenticate header and, for /headers, the X-Auth-Subject the app
// received.
func (s *stack) get(t *testing.T, path string, hdr map[string]string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.front+path, nil)
	for k, v := range hdr {
		req.Header[k] = []string{v} // exactly as written: aliases included
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var echo struct {
		Headers map[string][]string `json:"headers"`
	}
	_ = json.Unmarshal(body, &echo)
	var seen []string
	for name, v := range echo.Headers {
		if strings.EqualFold(strings.NewReplacer("_", "-", ".", "-").Replace(name), "X-Auth-Subject") {
			seen = append(seen, v...)
		}
	}
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.Join(seen, ",")
}

// checkPeer runs the same checks through nginx or Caddy.
func checkPeer(t *testing.T, s *stack) {
	user := s.token(t, "user")
	forged := map[string]string{
		"X-Auth-Subject": "mallory", "X_Auth_Subject": "mallory", "x.auth.subject": "mallory",
		"X-Original-URI": "/headers", "X-Original-Method": "GET", "X-Original-URL": "http://x/headers",
		"X-Forwarded-Uri": "/headers", "X-Forwarded-Method": "GET",
	}
	tests := []struct {
		name        string
		path        string
		bearer      string
		forge       bool
		status      int
		challenge   bool
		wantSubject string
	}{
		{"no token on a protected route", "/todos", "", false, 401, true, ""},
		{"no token, forged original-request headers", "/todos", "", true, 401, true, ""},
		{"valid token", "/headers", user, false, 200, false, "alice"},
		{"valid token, forged identity headers", "/headers", user, true, 200, false, "alice"},
		{"anonymous, forged identity headers", "/headers", "", true, 200, false, ""},
		{"role rule", "/admin", user, false, 403, false, ""}, // nginx copies WWW-Authenticate on 401 only
		{"bad token", "/headers", user + "x", false, 401, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.forge {
				for k, v := range forged {
					hdr[k] = v
				}
			}
			if tt.bearer != "" {
				hdr["Authorization"] = "Bearer " + tt.bearer
			}
			status, challenge, subject := s.get(t, tt.path, hdr)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if tt.challenge && !strings.HasPrefix(challenge, "Bearer realm=") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", challenge)
			}
			if status == 200 && subject != tt.wantSubject {
				t.Errorf("the app saw X-Auth-Subject %q, want %q", subject, tt.wantSubject)
			}
		})
	}
}

// corsRoute is a route with a CORS policy, added to the deploy file's
// routes. The app has no /api: a request that reaches it gets its 404.
const corsRoute = `  - {name: api, path: /api, upstream: "http://127.0.0.1:9000", auth: required, cors: {allowed_origins: [` + corsOrigin + `]}}
`

const corsOrigin = "https://app.example.com"

// checkPeerCORS checks CORS through the peer: a preflight to a route with
// a policy is allowed by authgate without a token and reaches the app
// (which answers it: a 2xx decision cannot be the preflight's answer); on a
// route without one it is refused like any request; and a denial of an
// actual request carries the policy's headers when the peer returns
// authgate's answer as it is (Caddy; nginx keeps only WWW-Authenticate of
// a 401).
func checkPeerCORS(t *testing.T, s *stack, denialReadable bool) {
	send := func(t *testing.T, method, path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.front+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := testHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	preflight := map[string]string{"Origin": corsOrigin, "Access-Control-Request-Method": "PUT",
		"Access-Control-Request-Headers": "authorization"}
	t.Run("preflight to a route with a policy reaches the app", func(t *testing.T) {
		resp, body := send(t, "OPTIONS", "/api/items", preflight)
		// authgate never answers a decision 404; the app's is {"error":"not found"}.
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"not found"`) {
			t.Errorf("status %d, body %q: want the app's own 404, past authgate", resp.StatusCode, body)
		}
	})
	t.Run("preflight to a route without a policy is refused", func(t *testing.T) {
		if resp, body := send(t, "OPTIONS", "/todos", preflight); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, body %q: want 401", resp.StatusCode, body)
		}
	})
	t.Run("denial of an actual request", func(t *testing.T) {
		resp, _ := send(t, "GET", "/api/items", map[string]string{"Origin": corsOrigin})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		want := ""
		if denialReadable {
			want = corsOrigin
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, want)
		}
	})
}

func TestNginxAuthRequest(t *testing.T) {
	nginx := requireTool(t, "nginx", "apt-get install -y nginx")
	s := startStack(t, "nginx", func(dir string, ports map[string]string) *exec.Cmd {
		// Exactly the file's Run line, in a directory holding nothing
		// else nginx needs.
		conf := writeFile(t, dir, "nginx.conf", deployFile(t, "nginx/nginx.conf", ports))
		return exec.Command(nginx, "-p", dir, "-c", conf, "-g", "daemon off;")
	})
	checkPeer(t, s)
	checkPeerCORS(t, s, false)
}

func TestCaddyForwardAuth(t *testing.T) {
	caddy := requireTool(t, "caddy", "apt-get install -y caddy")
	s := startStack(t, "caddy", func(dir string, ports map[string]string) *exec.Cmd {
		conf := writeFile(t, dir, "Caddyfile", deployFile(t, "caddy/Caddyfile", ports))
		cmd := exec.Command(caddy, "run", "--config", conf, "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
		return cmd
	})
	checkPeer(t, s)
	checkPeerCORS(t, s, true)

	// http://localhost:<port> is the same site as http://127.0.0.1:<port>:
	// authgate's 401, not Caddy's empty 200 for a host it does not serve.
	u, err := url.Parse(s.front)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, s.front+"/todos", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "localhost:" + u.Port()
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("GET /todos with Host %s: status %d, WWW-Authenticate %q; want authgate's 401 with a Bearer challenge",
			req.Host, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
