package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// findChromium returns a headless-capable Chromium. Missing, the test
// skips with the reason; under CI (CI=true) it fails instead.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required under CI (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// corsPage is the page a browser loads from its own origin: it calls
// authgate (another origin) with fetch, as a single-page app does, and
// posts what it could read back to its own origin.
const corsPage = `<!doctype html><title>cors</title><script>
const B = %q, T = %q;
async function attempt(url, init) {
  try {
    const r = await fetch(B + url, init);
    return {status: r.status, body: await r.text(), challenge: r.headers.get("WWW-Authenticate") || ""};
  } catch (e) {
    return {error: e.name};
  }
}
(async () => {
  const out = {};
  out.allowed = await attempt("/api/items", {method: "PUT", headers: {"Authorization": "Bearer " + T, "Content-Type": "application/json"}, body: "{}"});
  out.denied = await attempt("/api/items", {headers: {"Authorization": "Bearer not-a-token"}});
  out.methodNotAllowed = await attempt("/api/items", {method: "DELETE", headers: {"Authorization": "Bearer " + T}});
  out.noPolicy = await attempt("/plain/x", {headers: {"Authorization": "Bearer " + T}});
  await fetch("/result", {method: "POST", body: JSON.stringify(out)});
})();
</script>`

// browserResult is what the page could read of one fetch: an answer, or
// the name of the error fetch threw (a CORS refusal is a TypeError).
type browserResult struct {
	Status    int    `json:"status"`
	Body      string `json:"body"`
	Challenge string `json:"challenge"`
	Error     string `json:"error"`
}

// TestCORSInBrowser runs a real browser against a gateway: a page of an
// allowed origin can call a route with a policy, with a bearer token (a
// preflight first), and read a 401; a route without a policy, a method not
// allowed and a page of another origin cannot; and no preflight ever
// reaches the upstream.
func TestCORSInBrowser(t *testing.T) {
	chromium := findChromium(t)
	results := make(chan map[string]browserResult, 1)
	var pageHTML string
	// Unstarted: its address is known now, and it starts serving once
	// pageHTML, which needs the gateway's address, is written.
	page := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET" && r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, pageHTML)
		case r.Method == "POST" && r.URL.Path == "/result":
			var out map[string]browserResult
			if err := json.NewDecoder(r.Body).Decode(&out); err != nil {
				t.Errorf("result: %v", err)
			}
			select {
			case results <- out:
			default:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(page.Close)
	pageURL := "http://" + page.Listener.Addr().String()
	_, port, _ := strings.Cut(page.Listener.Addr().String(), ":")

	up := newUpstream(t)
	g := newGateway(t, tokensYAML+`
routes:
  - name: api
    path: /api
    upstream: ${UPSTREAM}
    auth: required
    cors:
      allowed_origins: [`+pageURL+`]
      allowed_methods: [GET, PUT]
      exposed_headers: [WWW-Authenticate]
  - {name: plain, path: /plain, upstream: "${UPSTREAM}", auth: required}
`, up.URL)
	gw := httptest.NewServer(g)
	t.Cleanup(gw.Close)
	pageHTML = fmt.Sprintf(corsPage, gw.URL, mint(t, "alice", nil))
	page.Start()

	visit := func(t *testing.T, url string) map[string]browserResult {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
			"--no-first-run", "--user-data-dir="+t.TempDir(), url)
		// Chromium starts helper processes: run it in a process group of
		// its own, and end the whole group, and wait for it to be gone
		// before its profile directory is removed.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			cancel()
			_ = cmd.Wait()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if syscall.Kill(-cmd.Process.Pid, 0) != nil {
					return // no process of the group is left
				}
			}
			t.Errorf("chromium's processes did not end")
		}()
		select {
		case out := <-results:
			return out
		case <-time.After(60 * time.Second):
			t.Fatal("the page posted no result")
			return nil
		}
	}

	t.Run("allowed origin", func(t *testing.T) {
		out := visit(t, pageURL)
		if got := out["allowed"]; got.Status != 200 || got.Body != `{"ok":true}` {
			t.Errorf("allowed PUT with a bearer token: %+v, want 200 and the upstream's body", got)
		}
		if got := out["denied"]; got.Status != 401 || !strings.Contains(got.Body, `"error"`) ||
			!strings.HasPrefix(got.Challenge, `Bearer realm=`) {
			t.Errorf("bad token: %+v, want a readable 401 with its body and challenge", got)
		}
		for _, k := range []string{"methodNotAllowed", "noPolicy"} {
			if got := out[k]; got.Error != "TypeError" {
				t.Errorf("%s: %+v, want the browser to refuse it (TypeError)", k, got)
			}
		}
	})
	t.Run("origin not allowed", func(t *testing.T) {
		// The same page from localhost: another origin than 127.0.0.1.
		out := visit(t, "http://localhost:"+port+"/")
		for _, k := range []string{"allowed", "denied", "methodNotAllowed", "noPolicy"} {
			if got := out[k]; got.Error != "TypeError" {
				t.Errorf("%s: %+v, want the browser to refuse it (TypeError)", k, got)
			}
		}
	})

	up.mu.Lock()
	defer up.mu.Unlock()
	var methods []string
	for _, r := range up.reqs {
		methods = append(methods, r.Method)
	}
	if !slices.Equal(methods, []string{"PUT"}) {
		t.Errorf("the upstream received %v, want only the allowed PUT (never a preflight)", methods)
	}
	if len(up.reqs) == 1 && up.reqs[0].Header.Get("X-Auth-Subject") != "alice" {
		t.Errorf("the PUT reached the upstream as %q, want alice", up.reqs[0].Header.Get("X-Auth-Subject"))
	}
}
