package proxy_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// credentialedFetch is run in a page of another origin: a GET and a
// text/plain POST (neither needs a preflight) with the browser's cookies,
// as a single-page app on a sibling origin calls an API; it returns what
// the page could read of each, or the name of the error fetch threw (a
// CORS refusal is a TypeError).
const credentialedFetch = `(async () => {
  const attempt = async (init) => {
    try {
      const r = await fetch(%q, Object.assign({credentials: "include"}, init));
      return {status: r.status, body: await r.text()};
    } catch (e) {
      return {error: e.name};
    }
  };
  return JSON.stringify({get: await attempt({}), post: await attempt({method: "POST", headers: {"Content-Type": "text/plain"}, body: "hi"})});
})()`

// TestCORSCredentialsInBrowser: a browser signed in to authgate opens a
// page of another origin that calls a cookie-authenticated route with
// fetch(..., {credentials: "include"}). The route's CORS policy lets one
// origin send credentials: a page there reads the answer, as the signed-in
// user, and may POST. A page of an origin the policy does not list cannot
// read anything, and its POST never reaches the upstream. A listed origin
// on another site (localhost, not 127.0.0.1) gets no session: the cookies
// are SameSite=Lax, so the browser does not send them cross-site.
func TestCORSCredentialsInBrowser(t *testing.T) {
	// The pages: a blank page on each origin, which the test makes call.
	blank := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>page</title>`))
	})
	allowed := httptest.NewServer(blank)
	t.Cleanup(allowed.Close)
	other := httptest.NewServer(blank)
	t.Cleanup(other.Close)
	_, port, _ := strings.Cut(allowed.Listener.Addr().String(), ":")
	crossSite := "http://localhost:" + port

	up := newUpstream(t)
	g := newAccountsGateway(t, tokensYAML+`
store: sqlite:unused.db
accounts: {signup: open}
browser: {}
routes:
  - name: shared
    path: /shared
    upstream: "${UPSTREAM}"
    auth: required
    cors: {allowed_origins: [`+allowed.URL+`, `+crossSite+`], allowed_methods: [GET, POST], allow_credentials: true}
`, up.URL)
	gw := httptest.NewServer(g)
	t.Cleanup(gw.Close)
	if code, body := call(t, g, "POST", "/auth/signup", map[string]string{"username": "testuser", "password": "testpass123"}, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}

	ctx := browserTab(t, 60*time.Second)
	browserStep(t, ctx, "sign in",
		chromedp.Navigate(gw.URL+"/auth/signin?rd=%2Fshared%2Fme"),
		chromedp.SendKeys("#username", "testuser"),
		chromedp.SendKeys("#password", "testpass123"),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("body > pre"), // the upstream's JSON, as Chromium shows it
	)
	if loc := browserValue(t, ctx, "signed in", chromedp.Location()); loc != gw.URL+"/shared/me" {
		browserFail(t, ctx, "signed in", "at %q", loc)
	}
	posts := func() int {
		up.mu.Lock()
		defer up.mu.Unlock()
		n := 0
		for _, r := range up.reqs {
			if r.Method == "POST" {
				n++
			}
		}
		return n
	}

	type result struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
		Error  string `json:"error"`
	}
	fetchFrom := func(t *testing.T, origin string) (get, post result) {
		t.Helper()
		raw := browserValue(t, ctx, "fetch from "+origin, chromedp.Evaluate[string](
			fmt.Sprintf(credentialedFetch, gw.URL+"/shared/items"), chromedp.EvalAwaitPromise))
		var out struct{ Get, Post result }
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("page result %q: %v", raw, err)
		}
		return out.Get, out.Post
	}

	t.Run("allowed origin", func(t *testing.T) {
		browserStep(t, ctx, "open allowed page", chromedp.Navigate(allowed.URL+"/"))
		before := posts()
		get, post := fetchFrom(t, allowed.URL)
		if get.Status != 200 || get.Body != `{"ok":true}` {
			t.Errorf("GET: %+v, want 200 and the upstream's body", get)
		}
		if post.Status != 200 || posts() != before+1 {
			t.Errorf("POST: %+v, want 200 from the upstream", post)
		}
		last := up.last(t)
		if last.Header.Get("X-Auth-Username") != "testuser" || last.Header.Get("Origin") != allowed.URL {
			t.Errorf("the upstream saw username %q from origin %q", last.Header.Get("X-Auth-Username"), last.Header.Get("Origin"))
		}
		if c := last.Header.Get("Cookie"); strings.Contains(c, "authgate") {
			t.Errorf("the upstream received authgate's cookies: %q", c)
		}
	})
	t.Run("origin not allowed", func(t *testing.T) {
		browserStep(t, ctx, "open other page", chromedp.Navigate(other.URL+"/"))
		before := posts()
		get, post := fetchFrom(t, other.URL)
		if get.Error != "TypeError" || post.Error != "TypeError" {
			t.Errorf("GET %+v, POST %+v: want the browser to refuse both (TypeError)", get, post)
		}
		if posts() != before {
			t.Error("the POST of an origin not allowed reached the upstream")
		}
	})
	t.Run("allowed origin on another site", func(t *testing.T) {
		browserStep(t, ctx, "open cross-site page", chromedp.Navigate(crossSite+"/"))
		get, post := fetchFrom(t, crossSite)
		// Readable (the origin is allowed), but without the session.
		if get.Status != 401 || post.Status != 401 {
			t.Errorf("GET %+v, POST %+v: want 401 for both (SameSite=Lax cookies stay home)", get, post)
		}
	})
}
