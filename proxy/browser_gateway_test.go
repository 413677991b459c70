package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// browserYAML serves accounts, the sign-in pages, a browser route and an
// API route in front of ${UPSTREAM}.
const browserYAML = tokensYAML + `
store: sqlite:unused.db
accounts: {signup: open}
browser: {allowed_redirect_hosts: [app.example.com]}
routes:
  - {name: app, path: /app, upstream: "${UPSTREAM}", auth: required, browser: true}
  - {name: api, path: /api, upstream: "${UPSTREAM}", auth: required}
`

// jar keeps the cookies a browser would, by name (the tests use one host).
type jar map[string]string

// take stores the cookies of a response; Max-Age < 0 deletes.
func (j jar) take(w *httptest.ResponseRecorder) {
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(j, c.Name)
		} else {
			j[c.Name] = c.Value
		}
	}
}

// header is the Cookie header a browser sends to path (the refresh cookie
// only to the refresh endpoint, as its Path says).
func (j jar) header(path string) string {
	var parts []string
	for k, v := range j {
		if k == "__Secure-authgate-refresh" && !strings.HasPrefix(path, "/auth/refresh") {
			continue
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

// browserRequest is a request as Chromium would send it: a navigation for
// GET, a same-origin form post for POST.
func browserRequest(j jar, method, target string, form url.Values) *http.Request {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "http://example.com")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		r = httptest.NewRequest(method, target, nil)
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	if c := j.header(r.URL.Path); c != "" {
		r.Header.Set("Cookie", c)
	}
	return r
}

// signIn creates testuser and signs in through the page; it returns the
// browser's cookies.
func signIn(t *testing.T, g http.Handler) jar {
	t.Helper()
	creds := map[string]string{"username": "testuser", "password": "testpass123"}
	if code, body := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	j := jar{}
	w := serve(g, browserRequest(j, "GET", "/auth/signin?rd=%2Fapp%3Fx%3D1", nil))
	if w.Code != 200 {
		t.Fatalf("sign-in page: %d", w.Code)
	}
	j.take(w)
	w = serve(g, browserRequest(j, "POST", "/auth/signin", url.Values{
		"username": {"testuser"}, "password": {"testpass123"}, "rd": {"/app?x=1"}, "csrf": {j["__Host-authgate-csrf"]}}))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/app?x=1" {
		t.Fatalf("sign-in: %d to %q: %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	j.take(w)
	return j
}

func TestBrowserSignInFlow(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)

	// Without a session: a navigation goes to renew, then to sign in.
	j := jar{}
	w := serve(g, browserRequest(j, "GET", "/app?x=1", nil))
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/auth/refresh?rd=%2Fapp%3Fx%3D1" {
		t.Fatalf("navigation without a session: %d to %q", w.Code, w.Header().Get("Location"))
	}
	w = serve(g, browserRequest(j, "GET", w.Header().Get("Location"), nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/auth/signin?rd=%2Fapp%3Fx%3D1" {
		t.Fatalf("renewal without a refresh cookie: %d to %q", w.Code, w.Header().Get("Location"))
	}
	// A script's fetch gets 401 JSON, and so does any caller of a route
	// that is not a browser route.
	r := httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Sec-Fetch-Mode", "cors")
	r.Header.Set("Accept", "text/html")
	if w := serve(g, r); w.Code != 401 || errorBody(t, w) != "authentication required" {
		t.Errorf("fetch without a session: %d", w.Code)
	}
	if w := serve(g, browserRequest(j, "GET", "/api/x", nil)); w.Code != 401 {
		t.Errorf("navigation to an API route: %d, want 401", w.Code)
	}
	if up.count() != 0 {
		t.Fatal("a request without a session reached the upstream")
	}

	j = signIn(t, g)
	for name, want := range map[string]string{
		"__Host-authgate-session":   "HttpOnly; Secure; SameSite=Lax; Path=/",
		"__Secure-authgate-refresh": "HttpOnly; Secure; SameSite=Lax; Path=/auth/refresh",
		"__Host-authgate-csrf":      "Secure; SameSite=Lax; Path=/",
	} {
		if j[name] == "" {
			t.Errorf("sign-in did not set %s (%v)", name, want)
		}
	}

	// The session cookie authenticates; authgate's cookies stay here, the
	// app's own go on.
	r = browserRequest(j, "GET", "/app?x=1", nil)
	r.Header.Add("Cookie", "theme=dark; __host-AUTHGATE-session=forged")
	if w := serve(g, r); w.Code != 200 {
		t.Fatalf("app with the session cookie: %d %s", w.Code, w.Body)
	}
	got := up.last(t)
	if got.Header.Get("X-Auth-Subject") == "" || got.Header.Get("X-Auth-Username") != "testuser" {
		t.Errorf("upstream identity headers: %v", got.Header)
	}
	if c := strings.Join(got.Header.Values("Cookie"), " | "); c != "theme=dark" {
		t.Errorf("upstream Cookie = %q, want only the app's cookie", c)
	}
}

func TestBrowserCookieSetAttributes(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	creds := map[string]string{"username": "testuser", "password": "testpass123"}
	if code, _ := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
		t.Fatal("signup")
	}
	j := jar{}
	w := serve(g, browserRequest(j, "GET", "/auth/signin", nil))
	j.take(w)
	w = serve(g, browserRequest(j, "POST", "/auth/signin", url.Values{
		"username": {"testuser"}, "password": {"testpass123"}, "csrf": {j["__Host-authgate-csrf"]}}))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("sign-in without rd: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("sign-in redirect Cache-Control = %q, want no-store", cc)
	}
	set := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		set[c.Name] = c
	}
	for _, c := range []struct {
		name, path string
		httpOnly   bool
	}{{"__Host-authgate-session", "/", true}, {"__Secure-authgate-refresh", "/auth/refresh", true}, {"__Host-authgate-csrf", "/", false}} {
		got := set[c.name]
		switch {
		case got == nil:
			t.Errorf("%s not set", c.name)
		case got.Path != c.path || !got.Secure || got.HttpOnly != c.httpOnly || got.SameSite != http.SameSiteLaxMode || got.Domain != "" || got.MaxAge <= 0:
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}

func TestBrowserHeaderWins(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	j := signIn(t, g)
	good := j["__Host-authgate-session"]

	// A bad cookie does not spoil a good header.
	r := httptest.NewRequest("GET", "/api/x", nil)
	r.Header.Set("Authorization", "Bearer "+good)
	r.Header.Set("Cookie", "__Host-authgate-session=garbage")
	if w := serve(g, r); w.Code != 200 {
		t.Errorf("good header, bad cookie: %d", w.Code)
	}
	// A bad header is not rescued by a good cookie.
	r = httptest.NewRequest("GET", "/api/x", nil)
	r.Header.Set("Authorization", "Bearer "+good+"x")
	r.Header.Set("Cookie", "__Host-authgate-session="+good)
	if w := serve(g, r); w.Code != 401 {
		t.Errorf("bad header, good cookie: %d, want 401", w.Code)
	}
	// A bad cookie alone: a navigation is sent to renew, a fetch gets 401.
	j2 := jar{"__Host-authgate-session": good + "x"}
	if w := serve(g, browserRequest(j2, "GET", "/app", nil)); w.Code != http.StatusFound {
		t.Errorf("navigation with a bad cookie: %d, want 302", w.Code)
	}
	r = httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Cookie", "__Host-authgate-session="+good+"x")
	if w := serve(g, r); w.Code != 401 || errorBody(t, w) != "invalid token" {
		t.Errorf("fetch with a bad cookie: %d", w.Code)
	}
}

func TestBrowserCSRF(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	j := signIn(t, g)
	csrf := j["__Host-authgate-csrf"]

	for _, c := range []struct {
		name    string
		method  string
		headers map[string]string
		bearer  bool
		want    int
	}{
		{"GET cross-site", "GET", map[string]string{"Origin": "https://evil.com", "Sec-Fetch-Site": "cross-site"}, false, 200},
		{"POST same origin", "POST", map[string]string{"Origin": "http://example.com"}, false, 200},
		{"POST allowed host", "POST", map[string]string{"Origin": "https://app.example.com"}, false, 200},
		{"POST Sec-Fetch-Site same-origin", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, false, 200},
		{"POST cross-site origin", "POST", map[string]string{"Origin": "https://evil.com"}, false, 403},
		{"POST same host, other port", "POST", map[string]string{"Origin": "http://example.com:8080"}, false, 403},
		{"POST look-alike origin", "POST", map[string]string{"Origin": "http://example.com.evil.com"}, false, 403},
		{"POST null origin", "POST", map[string]string{"Origin": "null"}, false, 403},
		{"POST null origin cross-site", "POST", map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}, false, 403},
		{"POST null origin same-origin", "POST", map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, false, 200},
		{"DELETE cross-site", "DELETE", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 403},
		{"PUT same-site sibling", "PUT", map[string]string{"Sec-Fetch-Site": "same-site"}, false, 403},
		{"POST no origin headers", "POST", nil, false, 403},
		{"POST double-submit", "POST", map[string]string{"X-CSRF-Token": csrf}, false, 200},
		{"POST wrong double-submit", "POST", map[string]string{"X-CSRF-Token": strings.Repeat("0", 64)}, false, 403},
		{"POST bearer cross-site", "POST", map[string]string{"Origin": "https://evil.com"}, true, 200},
		{"WebSocket same origin", "GET", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Origin": "http://example.com"}, false, 200},
		{"WebSocket allowed host", "GET", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Origin": "https://app.example.com:8443"}, false, 200},
		{"WebSocket same host, other port", "GET", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Origin": "http://example.com:8080"}, false, 403},
		{"WebSocket null origin", "GET", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Origin": "null"}, false, 403},
		{"WebSocket key without Upgrade, cross-site", "GET", map[string]string{"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "https://evil.com"}, false, 403},
		{"WebSocket cross-site", "GET", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Origin": "https://evil.com"}, false, 403},
		{"WebSocket without origin", "GET", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}, false, 403},
		{"WebSocket bearer cross-site", "GET", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Origin": "https://evil.com"}, true, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := up.count()
			r := httptest.NewRequest(c.method, "/api/x", nil)
			if c.bearer {
				r.Header.Set("Authorization", "Bearer "+j["__Host-authgate-session"])
			} else {
				r.Header.Set("Cookie", j.header("/api/x"))
			}
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			w := serve(g, r)
			// An upgrade the upstream does not take answers 200 here.
			if w.Code != c.want {
				t.Fatalf("%d, want %d: %s", w.Code, c.want, w.Body)
			}
			if c.want == 403 {
				if msg := errorBody(t, w); msg != "cross-site request refused" {
					t.Errorf("message %q", msg)
				}
				if up.count() != before {
					t.Error("a refused request reached the upstream")
				}
			}
		})
	}
}

// TestBrowserCSRFWithCORS: a route whose CORS policy lets an origin send
// credentials takes that origin's cookie-authenticated writes; a policy
// without credentials, or another origin, does not widen the CSRF check.
func TestBrowserCSRFWithCORS(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, tokensYAML+`
store: sqlite:unused.db
accounts: {signup: open}
browser: {allowed_redirect_hosts: [app.example.com]}
routes:
  - name: shared
    path: /shared
    upstream: "${UPSTREAM}"
    auth: required
    cors: {allowed_origins: ["https://spa.example.net"], allowed_methods: [GET, POST], allow_credentials: true}
  - name: open
    path: /open
    upstream: "${UPSTREAM}"
    auth: required
    cors: {allowed_origins: ["https://spa.example.net"], allowed_methods: [GET, POST]}
`, up.URL)
	j := signIn(t, g)
	for _, c := range []struct {
		name, path, origin string
		want               int
	}{
		{"credentialed policy, its origin", "/shared/x", "https://spa.example.net", 200},
		{"credentialed policy, another origin", "/shared/x", "https://evil.example.net", 403},
		{"credentialed policy, null origin", "/shared/x", "null", 403},
		{"policy without credentials", "/open/x", "https://spa.example.net", 403},
		{"allowed redirect host", "/open/x", "https://app.example.com", 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := up.count()
			r := httptest.NewRequest("POST", c.path, nil)
			r.Header.Set("Cookie", j.header(c.path))
			r.Header.Set("Origin", c.origin)
			w := serve(g, r)
			if w.Code != c.want {
				t.Fatalf("%d, want %d: %s", w.Code, c.want, w.Body)
			}
			if reached := up.count() != before; reached != (c.want == 200) {
				t.Errorf("upstream reached: %v", reached)
			}
		})
	}
}

func TestBrowserWrongPasswordAndRD(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	creds := map[string]string{"username": "testuser", "password": "testpass123"}
	if code, _ := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
		t.Fatal("signup")
	}
	j := jar{}
	w := serve(g, browserRequest(j, "GET", "/auth/signin?rd=/app", nil))
	j.take(w)
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Cache-Control", "Referrer-Policy"} {
		if w.Header().Get(h) == "" {
			t.Errorf("sign-in page lacks %s", h)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if !strings.Contains(w.Body.String(), `<label for="password">`) {
		t.Error("the page has no password label")
	}
	var bodies []string
	for _, user := range []string{"testuser", "nobody"} {
		w := serve(g, browserRequest(j, "POST", "/auth/signin", url.Values{
			"username": {user}, "password": {"wrong-password"}, "rd": {"/app"}, "csrf": {j["__Host-authgate-csrf"]}}))
		if w.Code != 401 || !strings.Contains(w.Body.String(), "The username or password is not correct.") ||
			!strings.Contains(w.Body.String(), `role="alert"`) {
			t.Errorf("wrong password for %s: %d %s", user, w.Code, w.Body)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Errorf("a failed sign-in set cookies: %v", w.Result().Cookies())
		}
		bodies = append(bodies, strings.ReplaceAll(w.Body.String(), user, "USER"))
	}
	if bodies[0] != bodies[1] {
		t.Error("known and unknown users get different pages")
	}
	// A post without the form's CSRF token, or from elsewhere, signs nobody in.
	form := url.Values{"username": {"testuser"}, "password": {"testpass123"}, "rd": {"/app"}, "csrf": {strings.Repeat("0", 64)}}
	if w := serve(g, browserRequest(j, "POST", "/auth/signin", form)); w.Code != 403 {
		t.Errorf("wrong form token: %d", w.Code)
	}
	form.Set("csrf", j["__Host-authgate-csrf"])
	r := browserRequest(j, "POST", "/auth/signin", form)
	r.Header.Set("Origin", "https://evil.com")
	if w := serve(g, r); w.Code != 403 {
		t.Errorf("cross-site post: %d", w.Code)
	}
	// An open redirect is refused, on the page and on the post.
	for _, rd := range []string{"https://evil.com/", "//evil.com", "/\\evil.com", "https:evil.com", "/%2F%2Fevil.com"} {
		if w := serve(g, browserRequest(j, "GET", "/auth/signin?rd="+url.QueryEscape(rd), nil)); w.Code != 400 {
			t.Errorf("sign-in page with rd %q: %d", rd, w.Code)
		}
		if w := serve(g, browserRequest(j, "GET", "/auth/refresh?rd="+url.QueryEscape(rd), nil)); w.Code != 400 {
			t.Errorf("renewal with rd %q: %d", rd, w.Code)
		}
		form.Set("rd", rd)
		if w := serve(g, browserRequest(j, "POST", "/auth/signin", form)); w.Code != 400 || len(w.Result().Cookies()) != 0 {
			t.Errorf("sign-in with rd %q: %d", rd, w.Code)
		}
	}
	form.Set("rd", "https://app.example.com/x")
	if w := serve(g, browserRequest(j, "POST", "/auth/signin", form)); w.Code != 303 || w.Header().Get("Location") != "https://app.example.com/x" {
		t.Errorf("sign-in to an allowed host: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestBrowserRenewalAndSignOut(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	j := signIn(t, g)
	oldRefresh := j["__Secure-authgate-refresh"]

	// The access cookie is gone (it lives as long as the token): the
	// navigation renews from the refresh cookie and comes back.
	delete(j, "__Host-authgate-session")
	w := serve(g, browserRequest(j, "GET", "/app", nil))
	w = serve(g, browserRequest(j, "GET", w.Header().Get("Location"), nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/app" {
		t.Fatalf("renewal: %d to %q", w.Code, w.Header().Get("Location"))
	}
	j.take(w)
	if j["__Host-authgate-session"] == "" || j["__Secure-authgate-refresh"] == oldRefresh {
		t.Fatal("renewal did not set a new access cookie and rotate the refresh cookie")
	}
	if w := serve(g, browserRequest(j, "GET", "/app", nil)); w.Code != 200 {
		t.Fatalf("app after renewal: %d", w.Code)
	}

	// Reuse of the rotated refresh token ends the login, access cookie included.
	stolen := jar{"__Secure-authgate-refresh": oldRefresh}
	w = serve(g, browserRequest(stolen, "GET", "/auth/refresh?rd=/app", nil))
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/auth/signin") {
		t.Fatalf("reused refresh cookie: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if w := serve(g, browserRequest(j, "GET", "/app", nil)); w.Code != http.StatusFound {
		t.Fatalf("app after reuse detection: %d, want 302", w.Code)
	}

	// Sign out with a live access cookie.
	j = jar{}
	creds := map[string]string{"username": "second", "password": "testpass123"}
	if code, _ := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
		t.Fatal("signup")
	}
	j.take(serve(g, browserRequest(j, "GET", "/auth/signin", nil)))
	w = serve(g, browserRequest(j, "POST", "/auth/signin", url.Values{
		"username": {"second"}, "password": {"testpass123"}, "csrf": {j["__Host-authgate-csrf"]}}))
	j.take(w)
	access := j["__Host-authgate-session"]
	w = serve(g, browserRequest(j, "GET", "/auth/signout?rd=/app", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `action="/auth/signout"`) {
		t.Fatalf("sign-out page: %d", w.Code)
	}
	// Without the form token, nothing ends.
	if w := serve(g, browserRequest(j, "POST", "/auth/signout", url.Values{"rd": {"/app"}})); w.Code != 403 {
		t.Errorf("sign-out without the CSRF token: %d", w.Code)
	}
	w = serve(g, browserRequest(j, "POST", "/auth/signout", url.Values{"rd": {"/app"}, "csrf": {j["__Host-authgate-csrf"]}}))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/app" {
		t.Fatalf("sign-out: %d to %q", w.Code, w.Header().Get("Location"))
	}
	refresh := j["__Secure-authgate-refresh"]
	j.take(w)
	if len(j) != 0 {
		t.Errorf("sign-out left cookies: %v", j)
	}
	r := httptest.NewRequest("GET", "/api/x", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	if w := serve(g, r); w.Code != 401 {
		t.Errorf("access token after sign-out: %d, want 401", w.Code)
	}
	if w := serve(g, browserRequest(jar{"__Secure-authgate-refresh": refresh}, "GET", "/auth/refresh?rd=/app", nil)); !strings.HasPrefix(w.Header().Get("Location"), "/auth/signin") {
		t.Errorf("refresh cookie after sign-out renews: %d to %q", w.Code, w.Header().Get("Location"))
	}
}

// TestBrowserSignOutExpiredAccess: with the access cookie gone, sign-out is
// sent on to the refresh endpoint (307 keeps the form), which ends the
// login by the refresh cookie.
func TestBrowserSignOutExpiredAccess(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	j := signIn(t, g)
	access := j["__Host-authgate-session"]
	delete(j, "__Host-authgate-session")
	form := url.Values{"rd": {"/app"}, "csrf": {j["__Host-authgate-csrf"]}}
	w := serve(g, browserRequest(j, "POST", "/auth/signout", form))
	if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != "/auth/refresh" {
		t.Fatalf("sign-out without an access cookie: %d to %q", w.Code, w.Header().Get("Location"))
	}
	w = serve(g, browserRequest(j, "POST", "/auth/refresh", form))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/app" {
		t.Fatalf("sign-out by refresh cookie: %d to %q: %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	r := httptest.NewRequest("GET", "/api/x", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	if w := serve(g, r); w.Code != 401 {
		t.Errorf("access token of the ended login: %d, want 401", w.Code)
	}
	// The JSON refresh endpoint is unchanged.
	if code, _ := call(t, g, "POST", "/auth/refresh", map[string]string{"refresh_token": strings.Repeat("a", 64)}, ""); code != 401 {
		t.Errorf("JSON refresh: %d", code)
	}
}

// browserDecisionYAML is browserYAML with a trusted proxy asking for
// decisions.
const browserDecisionYAML = "trusted_proxies: [192.0.2.1/32]\n" + browserYAML

// TestBrowserDecisions: the decision endpoints accept the session cookie
// the proxy passes on; a navigation without a session is sent to renew in
// Traefik's and Caddy's dialect (they relay the 302), and answered 401 in
// nginx's (which follows its own auth-signin).
func TestBrowserDecisions(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserDecisionYAML, up.URL)
	j := signIn(t, g)
	nav := func(r *http.Request) *http.Request {
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.Header.Set("Accept", "text/html")
		return r
	}

	for _, dialect := range []string{dialectNginx, "ingress-nginx", dialectForward} {
		r := nav(ask(dialect, "GET", "/app?x=1"))
		r.Header.Set("Cookie", j.header("/app")+"; theme=dark")
		w := serve(g, r)
		if w.Code != 200 || w.Header().Get("X-Auth-Username") != "testuser" {
			t.Errorf("%s with the session cookie: %d %v", dialect, w.Code, w.Header())
		}
		// The answer names the cookies the app may have.
		if got := w.Header().Values("Cookie"); len(got) != 1 || got[0] != "theme=dark" {
			t.Errorf("%s answer's Cookie = %q, want the app's own cookies", dialect, got)
		}
		// A cross-site post with the cookie is refused here too.
		r = ask(dialect, "POST", "/app")
		r.Header.Set("Cookie", j.header("/app"))
		r.Header.Set("Origin", "https://evil.com")
		if w := serve(g, r); w.Code != 403 {
			t.Errorf("%s cross-site post: %d, want 403", dialect, w.Code)
		}
		// A WebSocket handshake, as the peer asks about it: without the
		// hop-by-hop Upgrade, with its Sec-WebSocket-Key and Origin.
		for origin, want := range map[string]int{"https://evil.com": 403, "https://app.example.com": 200} {
			r = ask(dialect, "GET", "/app/socket")
			r.Header.Set("Cookie", j.header("/app"))
			r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			r.Header.Set("Sec-WebSocket-Version", "13")
			r.Header.Set("Origin", origin)
			if w := serve(g, r); w.Code != want {
				t.Errorf("%s WebSocket handshake from %s: %d, want %d", dialect, origin, w.Code, want)
			}
		}
	}

	w := serve(g, nav(ask(dialectForward, "GET", "/app?x=1")))
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/auth/refresh?rd=https%3A%2F%2Fapp.example.com%2Fapp%3Fx%3D1" {
		t.Errorf("forward navigation without a session: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if w := serve(g, ask(dialectForward, "GET", "/app")); w.Code != 401 {
		t.Errorf("forward fetch without a session: %d, want 401", w.Code)
	}
	for _, dialect := range []string{dialectNginx, "ingress-nginx"} {
		if w := serve(g, nav(ask(dialect, "GET", "/app"))); w.Code != 401 {
			t.Errorf("%s navigation without a session: %d, want 401 (auth-signin redirects)", dialect, w.Code)
		}
	}
	// The renewal accepts the absolute rd on the app's host.
	r := browserRequest(jar{}, "GET", "/auth/refresh?rd=https%3A%2F%2Fapp.example.com%2Fapp", nil)
	r.Host = "app.example.com"
	if w := serve(g, r); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/auth/signin?rd=https%3A%2F%2Fapp.example.com%2Fapp" {
		t.Errorf("renewal from the forward dialect: %d to %q", w.Code, w.Header().Get("Location"))
	}
}

func TestBrowserSignUpPage(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	j := jar{}
	w := serve(g, browserRequest(j, "GET", "/auth/signup?rd=/app", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<label for="password2">`) {
		t.Fatalf("sign-up page: %d", w.Code)
	}
	j.take(w)
	form := url.Values{"username": {"newuser"}, "password": {"testpass123"}, "password2": {"testpass123"},
		"rd": {"/app"}, "csrf": {j["__Host-authgate-csrf"]}}
	w = serve(g, browserRequest(j, "POST", "/auth/signup", form))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/app" {
		t.Fatalf("sign-up: %d to %q: %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	j.take(w)
	if w := serve(g, browserRequest(j, "GET", "/app", nil)); w.Code != 200 || up.last(t).Header.Get("X-Auth-Username") != "newuser" {
		t.Fatalf("app after sign-up: %d", w.Code)
	}
	// A taken name, differing passwords and a short password are shown.
	for _, c := range []struct {
		change func(url.Values)
		status int
		msg    string
	}{
		{func(url.Values) {}, 409, "Username or email already registered."},
		{func(f url.Values) { f.Set("username", "other"); f.Set("password2", "x") }, 400, "The two passwords differ."},
		{func(f url.Values) {
			f.Set("username", "other")
			f.Set("password", "short")
			f.Set("password2", "short")
		}, 400, "password"},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("csrf", j["__Host-authgate-csrf"])
		c.change(f)
		w := serve(g, browserRequest(j, "POST", "/auth/signup", f))
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.msg) {
			t.Errorf("sign-up %v: %d, want %d with %q: %s", f, w.Code, c.status, c.msg, w.Body)
		}
	}
	// The JSON endpoint is unchanged.
	if code, _ := call(t, g, "POST", "/auth/signup", map[string]string{"username": "jsonuser", "password": "testpass123"}, ""); code != 201 {
		t.Errorf("JSON signup: %d", code)
	}
}
