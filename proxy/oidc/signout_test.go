package oidc

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// withEndSession makes the rig's provider name an end_session_endpoint
// (with a query of its own, which must be kept) in its discovery.
func (rg *rig) withEndSession(endpoint string) {
	rg.op.mu.Lock()
	rg.op.discovery = func(doc map[string]any) {
		if endpoint == "" {
			endpoint = rg.op.Addr() + "/oidc/logout?ui_locales=en"
		}
		doc["end_session_endpoint"] = endpoint
	}
	rg.op.mu.Unlock()
}

// signedIn runs a whole sign-in through the rig and returns the identity
// the provider vouched for, its ID token included.
func (rg *rig) signedIn(t *testing.T) *Identity {
	t.Helper()
	f := rg.begin(t, alice(), "/")
	if resp := get(t, f.callback.String(), f.cookie); resp.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	return rg.fin.ids[len(rg.fin.ids)-1]
}

// hintOf returns the sign-out cookie RememberSignIn set, nil for none.
func hintOf(t *testing.T, h *Handler, id *Identity, until time.Time) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	h.RememberSignIn(w, id, until)
	for _, c := range w.Result().Cookies() {
		if c.Name == hintCookie {
			return c
		}
	}
	t.Fatal("RememberSignIn set no cookie")
	return nil
}

func signOutRequest(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://auth.example.com/auth/signout", nil)
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func TestSignOutAtProvider(t *testing.T) {
	rg := newRig(t, func(p *Provider) {
		p.EndSession, p.PostLogoutRedirectURL = true, "https://auth.example.com/auth/signin"
	})
	rg.withEndSession("")
	id := rg.signedIn(t)
	until := time.Now().Add(time.Hour)
	c := hintOf(t, rg.h, id, until)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/auth" ||
		c.MaxAge < 3590 || c.MaxAge > 3600 || len(c.Value) > maxHintValue {
		t.Errorf("sign-out cookie = %+v", c)
	}
	if strings.Contains(c.Value, id.IDToken[:20]) {
		t.Error("the ID token is readable in the cookie")
	}

	u, ok := rg.h.SignOutURL(signOutRequest(c))
	if !ok {
		t.Fatal("SignOutURL: none")
	}
	got, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if want := rg.op.Addr() + "/oidc/logout"; got.Scheme+"://"+got.Host+got.Path != want {
		t.Errorf("sign-out goes to %s, want %s", u, want)
	}
	q := got.Query()
	for k, want := range map[string]string{
		"id_token_hint": id.IDToken, "client_id": rg.op.ClientID,
		"post_logout_redirect_uri": "https://auth.example.com/auth/signin", "ui_locales": "en",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("state")) < 43 {
		t.Errorf("state = %q, want 43+ random characters", q.Get("state"))
	}
	if o := rg.h.SignOutOrigin(signOutRequest(c)); o != rg.op.Addr() {
		t.Errorf("SignOutOrigin = %q, want %q", o, rg.op.Addr())
	}

	// A second sign-out has another state.
	if u2, _ := rg.h.SignOutURL(signOutRequest(c)); u2 == u {
		t.Error("two sign-outs share a state")
	}
}

// TestSignOutFallsBackToLocal: every case in which the browser is not
// sent to the provider.
func TestSignOutFallsBackToLocal(t *testing.T) {
	for _, tc := range []struct {
		name string
		// endpoint is the end_session_endpoint discovery names: "-" none,
		// "" the provider's own.
		endpoint string
		change   func(p *Provider)
		cookie   func(t *testing.T, rg *rig, id *Identity) *http.Cookie
	}{
		{name: "no cookie", cookie: func(*testing.T, *rig, *Identity) *http.Cookie { return nil }},
		{name: "provider without end_session_endpoint", endpoint: "-"},
		{name: "end_session_endpoint over plain http", endpoint: "http://idp.example.com/logout"},
		{name: "end_session_endpoint not a URL", endpoint: "javascript:alert(1)"},
		{name: "sign_out local", change: func(p *Provider) { p.EndSession = false },
			cookie: func(t *testing.T, rg *rig, id *Identity) *http.Cookie {
				// Made by hand: RememberSignIn clears it for a local provider.
				v, err := rg.h.seal(hintCookie, hint{Provider: "mock", IDToken: id.IDToken})
				if err != nil {
					t.Fatal(err)
				}
				return &http.Cookie{Name: hintCookie, Value: v}
			}},
		{name: "tampered cookie", cookie: func(t *testing.T, rg *rig, id *Identity) *http.Cookie {
			c := hintOf(t, rg.h, id, time.Now().Add(time.Hour))
			b := []byte(c.Value)
			b[len(b)/2] ^= 1
			c.Value = string(b)
			return c
		}},
		{name: "cookie of another key", cookie: func(t *testing.T, rg *rig, id *Identity) *http.Cookie {
			other, err := New(Config{Prefix: "/auth", Providers: []Provider{rg.h.order[0].p}, Key: bytes.Repeat([]byte{8}, 32), Finisher: rg.fin})
			if err != nil {
				t.Fatal(err)
			}
			return hintOf(t, other, id, time.Now().Add(time.Hour))
		}},
		{name: "a state cookie's value", cookie: func(t *testing.T, rg *rig, id *Identity) *http.Cookie {
			v, err := rg.h.seal(stateCookiePrefix, hint{Provider: "mock", IDToken: id.IDToken})
			if err != nil {
				t.Fatal(err)
			}
			return &http.Cookie{Name: hintCookie, Value: v}
		}},
		{name: "unknown provider", cookie: func(t *testing.T, rg *rig, id *Identity) *http.Cookie {
			v, err := rg.h.seal(hintCookie, hint{Provider: "other", IDToken: id.IDToken})
			if err != nil {
				t.Fatal(err)
			}
			return &http.Cookie{Name: hintCookie, Value: v}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t, func(p *Provider) {
				p.EndSession = true
				if tc.change != nil {
					tc.change(p)
				}
			})
			if tc.endpoint != "-" {
				rg.withEndSession(tc.endpoint)
			}
			id := rg.signedIn(t)
			var c *http.Cookie
			if tc.cookie != nil {
				c = tc.cookie(t, rg, id)
			} else {
				c = hintOf(t, rg.h, id, time.Now().Add(time.Hour))
			}
			if u, ok := rg.h.SignOutURL(signOutRequest(c)); ok || u != "" {
				t.Errorf("SignOutURL = %q, %v; want none", u, ok)
			}
			if o := rg.h.SignOutOrigin(signOutRequest(c)); o != "" {
				t.Errorf("SignOutOrigin = %q, want none", o)
			}
		})
	}
}

func TestRememberSignIn(t *testing.T) {
	rg := newRig(t, func(p *Provider) { p.EndSession = true })
	rg.withEndSession("")
	id := rg.signedIn(t)
	for _, tc := range []struct {
		name     string
		change   func(h *Handler, id *Identity)
		cleared  bool
		wantHint bool
	}{
		{name: "ID token kept", wantHint: true},
		{name: "ID token too long for a cookie: client_id alone",
			change: func(_ *Handler, id *Identity) { id.IDToken = strings.Repeat("x", 4000) }},
		{name: "provider signing out locally clears",
			change: func(h *Handler, _ *Identity) { h.order[0].p.EndSession = false }, cleared: true},
		{name: "unknown provider clears", change: func(_ *Handler, id *Identity) { id.Provider = "other" }, cleared: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := *id
			rg.h.order[0].p.EndSession = true
			if tc.change != nil {
				tc.change(rg.h, &id)
			}
			c := hintOf(t, rg.h, &id, time.Now().Add(time.Hour))
			if tc.cleared {
				if c.MaxAge >= 0 || c.Value != "" {
					t.Errorf("cookie = %+v, want it cleared", c)
				}
				return
			}
			if len(c.Value) > maxHintValue {
				t.Errorf("cookie value of %d bytes, at most %d", len(c.Value), maxHintValue)
			}
			u, ok := rg.h.SignOutURL(signOutRequest(c))
			if !ok {
				t.Fatal("SignOutURL: none")
			}
			q, _ := url.Parse(u)
			if hinted := q.Query().Get("id_token_hint") == id.IDToken; hinted != tc.wantHint {
				t.Errorf("id_token_hint sent %v, want %v", hinted, tc.wantHint)
			}
			if q.Query().Get("client_id") != rg.op.ClientID {
				t.Errorf("client_id = %q", q.Query().Get("client_id"))
			}
		})
	}
	w := httptest.NewRecorder()
	rg.h.ForgetSignIn(w)
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Name != hintCookie || c[0].MaxAge >= 0 || c[0].Path != "/auth" {
		t.Errorf("ForgetSignIn set %+v", c)
	}
}
