package oidc

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authgate/authgate/proxy/oidc/oidctest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// finisher records the identities the Handler admits.
type finisher struct {
	mu  sync.Mutex
	ids []*Identity
	rds []string
}

func (f *finisher) Finish(w http.ResponseWriter, r *http.Request, id *Identity, rd string) {
	f.mu.Lock()
	f.ids, f.rds = append(f.ids, id), append(f.rds, rd)
	f.mu.Unlock()
	fmt.Fprintf(w, "signed in %s", id.Subject)
}

// counts records OIDCSignIn calls.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) OIDCSignIn(provider, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[provider+"/"+result]++
}

// op is a real OpenID Provider (mockoidc) on loopback whose token
// endpoint's ID token a test may rewrite (re-signed with the provider's
// own key unless the rewrite says otherwise), and whose token requests
// it may change.
type op struct {
	*mockoidc.MockOIDC
	mu sync.Mutex
	// tamper rewrites the ID token and returns the key that signs it,
	// nil for none (alg none).
	tamper  func(header, claims map[string]any) *rsa.PrivateKey
	request func(form url.Values)
	// discovery rewrites the discovery document (mockoidc names no
	// end_session_endpoint).
	discovery func(doc map[string]any)
	// gate authenticates a token request (its PostForm parsed) before
	// mockoidc sees it, and may change its form: an error refuses it with
	// invalid_client.
	gate func(r *http.Request) error
}

func startOP(t *testing.T) *op {
	t.Helper()
	o := &op{}
	o.MockOIDC = oidctest.Start(t, oidctest.Discovery(func(doc map[string]any) {
		o.mu.Lock()
		edit := o.discovery
		o.mu.Unlock()
		if edit != nil {
			edit(doc)
		}
	}), o.middleware)
	return o
}

func (o *op) set(tamper func(h, c map[string]any) *rsa.PrivateKey, request func(url.Values)) {
	o.mu.Lock()
	o.tamper, o.request = tamper, request
	o.mu.Unlock()
}

func (o *op) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		tamper, request, gate := o.tamper, o.request, o.gate
		o.mu.Unlock()
		if r.URL.Path == mockoidc.TokenEndpoint && gate != nil {
			_ = r.ParseForm()
			if err := gate(r); err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": err.Error()})
				return
			}
			body := r.PostForm.Encode()
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			r.Form, r.PostForm = nil, nil
		}
		if r.URL.Path != mockoidc.TokenEndpoint || tamper == nil && request == nil {
			next.ServeHTTP(w, r)
			return
		}
		if request != nil {
			_ = r.ParseForm()
			request(r.PostForm)
			body := r.PostForm.Encode()
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			r.Form, r.PostForm = nil, nil
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var resp map[string]any
		if tamper == nil || rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		raw, _ := resp["id_token"].(string)
		parts := strings.Split(raw, ".")
		header, claims := map[string]any{}, map[string]any{}
		for i, into := range []map[string]any{header, claims} {
			b, _ := base64.RawURLEncoding.DecodeString(parts[i])
			_ = json.Unmarshal(b, &into)
		}
		var tok string
		if key := tamper(header, claims); key != nil {
			t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
			t.Header["kid"] = header["kid"]
			tok, _ = t.SignedString(key)
		} else {
			enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
			tok = enc(header) + "." + enc(claims) + "."
		}
		resp["id_token"] = tok
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// rig is a Handler on an httptest server in front of an op.
type rig struct {
	op      *op
	h       *Handler
	srv     *httptest.Server
	fin     *finisher
	metrics *counts
}

func newRig(t *testing.T, change func(p *Provider)) *rig {
	t.Helper()
	o := startOP(t)
	rg := &rig{op: o, fin: &finisher{}, metrics: &counts{m: map[string]int{}}}
	mux := http.NewServeMux()
	rg.srv = httptest.NewServer(mux)
	t.Cleanup(rg.srv.Close)
	p := Provider{
		Name: "mock", DisplayName: "Mock", Issuer: o.Issuer(), ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		RedirectURL: rg.srv.URL + "/auth/oidc/mock/callback", Scopes: []string{"openid", "email", "profile", "groups"},
		Algorithms: []string{"RS256"}, UsernameClaim: "preferred_username", EmailClaim: "email", RolesClaim: "groups",
		RequireEmailVerified: true, CreateUsers: true,
	}
	if change != nil {
		change(&p)
	}
	key := bytes.Repeat([]byte{7}, 32)
	h, err := New(Config{Prefix: "/auth", Providers: []Provider{p}, Key: key, Finisher: rg.fin, Metrics: rg.metrics,
		AllowedHosts: []string{"app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	rg.h = h
	mux.Handle("/", h)
	return rg
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// flow is one browser's sign-in under way: its state cookie and the
// callback URL the provider sent it to.
type flow struct {
	cookie   *http.Cookie
	auth     *url.URL
	callback *url.URL
}

// begin starts a sign-in returning to rd and follows it through the
// provider's authorization endpoint, where user signs in.
func (rg *rig) begin(t *testing.T, user *mockoidc.MockUser, rd string) *flow {
	t.Helper()
	resp := get(t, rg.srv.URL+rg.h.StartURL("mock", rd))
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("start: %d %s", resp.StatusCode, b)
	}
	f := &flow{}
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, stateCookiePrefix) {
			f.cookie = c
		}
	}
	if f.cookie == nil {
		t.Fatal("start set no state cookie")
	}
	if !f.cookie.HttpOnly || !f.cookie.Secure || f.cookie.SameSite != http.SameSiteLaxMode || f.cookie.Path != "/auth/oidc/mock/callback" {
		t.Errorf("state cookie = %+v", f.cookie)
	}
	f.auth, _ = url.Parse(resp.Header.Get("Location"))
	rg.op.QueueUser(user)
	at := get(t, f.auth.String())
	if at.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(at.Body)
		t.Fatalf("authorize: %d %s", at.StatusCode, b)
	}
	f.callback, _ = url.Parse(at.Header.Get("Location"))
	return f
}

func (f *flow) with(change func(q url.Values)) string {
	u := *f.callback
	q := u.Query()
	change(q)
	u.RawQuery = q.Encode()
	return u.String()
}

func alice() *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "alice-sub", Email: "alice@example.com", EmailVerified: true,
		PreferredUsername: "alice", Groups: []string{"staff"}}
}

func TestSignInSucceeds(t *testing.T) {
	rg := newRig(t, nil)
	f := rg.begin(t, alice(), "/app/page?x=1")
	q := f.auth.Query()
	for k, want := range map[string]string{
		"response_type": "code", "code_challenge_method": "S256", "client_id": rg.op.ClientID,
		"redirect_uri": rg.srv.URL + "/auth/oidc/mock/callback",
	} {
		if q.Get(k) != want {
			t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("authorization request %s = %q, want 43+ random characters", k, q.Get(k))
		}
	}
	resp := get(t, f.callback.String(), f.cookie)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "signed in alice-sub" {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	id := rg.fin.ids[0]
	if id.Provider != "mock" || id.Username != "alice" || id.Email != "alice@example.com" || !id.EmailVerified ||
		len(id.Groups) != 1 || id.Groups[0] != "staff" || id.IDToken == "" {
		t.Errorf("identity = %+v", id)
	}
	if rg.fin.rds[0] != "/app/page?x=1" {
		t.Errorf("rd = %q", rg.fin.rds[0])
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || c.Name == f.cookie.Name && c.MaxAge < 0
	}
	if !cleared {
		t.Error("the state cookie was not cleared")
	}
}

// TestCallbackChecks runs a sign-in that one thing breaks, and expects the
// callback refused with its result.
func TestCallbackChecks(t *testing.T) {
	type env struct {
		rg *rig
		f  *flow
	}
	for _, tc := range []struct {
		name   string
		user   func() *mockoidc.MockUser
		setup  func(t *testing.T, e env)
		call   func(t *testing.T, e env) *http.Response
		status int
		result string
	}{
		{name: "no state cookie", call: func(t *testing.T, e env) *http.Response { return get(t, e.f.callback.String()) },
			status: 400, result: resultBadState},
		{name: "wrong state", call: func(t *testing.T, e env) *http.Response {
			return get(t, e.f.with(func(q url.Values) { q.Set("state", q.Get("state")[:16]+strings.Repeat("A", 27)) }), e.f.cookie)
		}, status: 400, result: resultBadState},
		{name: "tampered state cookie", call: func(t *testing.T, e env) *http.Response {
			c := *e.f.cookie
			b := []byte(c.Value)
			b[len(b)/2] ^= 1
			c.Value = string(b)
			return get(t, e.f.callback.String(), &c)
		}, status: 400, result: resultBadState},
		{name: "replayed state", call: func(t *testing.T, e env) *http.Response {
			if r := get(t, e.f.callback.String(), e.f.cookie); r.StatusCode != 200 {
				t.Fatalf("first callback: %d", r.StatusCode)
			}
			return get(t, e.f.callback.String(), e.f.cookie)
		}, status: 400, result: resultBadState},
		{name: "code injection with another browser's state", call: func(t *testing.T, e env) *http.Response {
			// The attacker's own sign-in gives a code bound to the
			// attacker's PKCE challenge; it is injected into the victim's
			// callback, with the victim's state and cookie.
			mallory := e.rg.begin(t, &mockoidc.MockUser{Subject: "mallory", EmailVerified: true}, "")
			code := mallory.callback.Query().Get("code")
			return get(t, e.f.with(func(q url.Values) { q.Set("code", code) }), e.f.cookie)
		}, status: 502, result: resultExchange},
		{name: "another browser's callback", call: func(t *testing.T, e env) *http.Response {
			other := e.rg.begin(t, alice(), "")
			return get(t, other.callback.String(), e.f.cookie)
		}, status: 400, result: resultBadState},
		{name: "PKCE verifier missing", setup: func(t *testing.T, e env) {
			e.rg.op.set(nil, func(form url.Values) { form.Del("code_verifier") })
		}, status: 502, result: resultExchange},
		{name: "PKCE verifier of another sign-in", setup: func(t *testing.T, e env) {
			e.rg.op.set(nil, func(form url.Values) { form.Set("code_verifier", strings.Repeat("x", 43)) })
		}, status: 502, result: resultExchange},
		{name: "wrong nonce", setup: func(t *testing.T, e env) {
			e.rg.op.set(func(h, c map[string]any) *rsa.PrivateKey { c["nonce"] = "another"; return e.rg.op.Keypair.PrivateKey }, nil)
		}, status: 400, result: resultBadNonce},
		{name: "no nonce", setup: func(t *testing.T, e env) {
			e.rg.op.set(func(h, c map[string]any) *rsa.PrivateKey { delete(c, "nonce"); return e.rg.op.Keypair.PrivateKey }, nil)
		}, status: 400, result: resultBadNonce},
		{name: "ID token of another issuer", setup: func(t *testing.T, e env) {
			e.rg.op.set(func(h, c map[string]any) *rsa.PrivateKey {
				c["iss"] = "https://evil.example.com"
				return e.rg.op.Keypair.PrivateKey
			}, nil)
		}, status: 502, result: resultBadToken},
		{name: "ID token for another audience", setup: func(t *testing.T, e env) {
			e.rg.op.set(func(h, c map[string]any) *rsa.PrivateKey {
				c["aud"] = "another-client"
				return e.rg.op.Keypair.PrivateKey
			}, nil)
		}, status: 502, result: resultBadToken},
		{name: "expired ID token", setup: func(t *testing.T, e env) {
			e.rg.op.set(func(h, c map[string]any) *rsa.PrivateKey {
				c["iat"], c["exp"] = c["iat"].(float64)-7200, c["iat"].(float64)-3600
				return e.rg.op.Keypair.PrivateKey
			}, nil)
		}, status: 502, result: resultBadToken},
		{name: "alg none", setup: func(t *testing.T, e env) {
			e.rg.op.set(func(h, c map[string]any) *rsa.PrivateKey { h["alg"] = "none"; return nil }, nil)
		}, status: 502, result: resultBadToken},
		{name: "signature of another key", setup: func(t *testing.T, e env) {
			other, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			e.rg.op.set(func(h, c map[string]any) *rsa.PrivateKey { return other }, nil)
		}, status: 502, result: resultBadToken},
		{name: "mix-up: iss of another provider", call: func(t *testing.T, e env) *http.Response {
			return get(t, e.f.with(func(q url.Values) { q.Set("iss", "https://evil.example.com") }), e.f.cookie)
		}, status: 400, result: resultMixUp},
		{name: "iss of this provider accepted", call: func(t *testing.T, e env) *http.Response {
			return get(t, e.f.with(func(q url.Values) { q.Set("iss", e.rg.op.Issuer()) }), e.f.cookie)
		}, status: 200, result: "finished"},
		{name: "provider error", call: func(t *testing.T, e env) *http.Response {
			return get(t, e.f.with(func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }), e.f.cookie)
		}, status: 403, result: resultDenied},
		{name: "email not verified", user: func() *mockoidc.MockUser { u := alice(); u.EmailVerified = false; return u },
			status: 403, result: resultForbidden},
		{name: "not in an allowed group", user: func() *mockoidc.MockUser { u := alice(); u.Groups = []string{"guests"}; return u },
			status: 403, result: resultForbidden},
		{name: "email outside allowed domains", user: func() *mockoidc.MockUser { u := alice(); u.Email = "alice@evil.example"; return u },
			status: 403, result: resultForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t, func(p *Provider) {
				p.AllowedGroups = []string{"staff"}
				p.AllowedEmailDomains = []string{"example.com"}
			})
			user := alice()
			if tc.user != nil {
				user = tc.user()
			}
			f := rg.begin(t, user, "/back")
			e := env{rg, f}
			if tc.setup != nil {
				tc.setup(t, e)
			}
			call := tc.call
			if call == nil {
				call = func(t *testing.T, e env) *http.Response { return get(t, e.f.callback.String(), e.f.cookie) }
			}
			resp := call(t, e)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.result == "finished" {
				if len(rg.fin.ids) != 1 {
					t.Fatalf("finished %d sign-ins, want 1", len(rg.fin.ids))
				}
				return
			}
			for _, id := range rg.fin.ids {
				if id.Subject == user.Subject && tc.name != "replayed state" {
					t.Fatalf("refused sign-in reached the finisher: %+v", id)
				}
			}
			if tc.name == "replayed state" && len(rg.fin.ids) != 1 {
				t.Fatalf("finished %d sign-ins, want the first only", len(rg.fin.ids))
			}
			if n := rg.metrics.m["mock/"+tc.result]; n != 1 {
				t.Errorf("metrics %v, want mock/%s once", rg.metrics.m, tc.result)
			}
			if !strings.Contains(string(body), "Sign-in refused") {
				t.Errorf("refusal page: %s", body)
			}
		})
	}
}

func TestStartRefusesOpenRedirect(t *testing.T) {
	rg := newRig(t, nil)
	for _, rd := range []string{"https://evil.example.com/", "//evil.example.com/x", "/\\evil.example.com", "https://app.example.com.evil.example/"} {
		resp := get(t, rg.srv.URL+rg.h.StartURL("mock", rd))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("rd %q: status %d, want 400", rd, resp.StatusCode)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("rd %q: cookies set %v", rd, resp.Cookies())
		}
	}
	f := rg.begin(t, alice(), "https://app.example.com/ok")
	if resp := get(t, f.callback.String(), f.cookie); resp.StatusCode != 200 || rg.fin.rds[0] != "https://app.example.com/ok" {
		t.Errorf("allowed host: %d, rd %q", resp.StatusCode, rg.fin.rds)
	}
}

func TestProviderDown(t *testing.T) {
	rg := newRig(t, func(p *Provider) { p.Issuer = "http://127.0.0.1:1/nothing" })
	resp := get(t, rg.srv.URL+rg.h.StartURL("mock", ""))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "Signing in with Mock is unavailable") {
		t.Errorf("start: %d %s", resp.StatusCode, body)
	}
	if b := rg.h.Buttons(""); len(b) != 1 || !b[0].Unavailable {
		t.Errorf("buttons = %+v", b)
	}
	if st := rg.h.Status(t.Context()); st["mock"] == nil {
		t.Errorf("status = %v, want an error for mock", st)
	}
}
