package accounts_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

func TestLogout(t *testing.T) {
	tests := []struct {
		name          string
		useAccess     bool
		useRefresh    bool
		wantStatus    int
		accessRevoked bool
	}{
		{"access token only", true, false, 200, true},
		{"refresh token only", false, true, 200, true},
		{"both", true, true, 200, true},
		{"neither", false, false, 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			access, refresh := e.mustLogin("alice")
			var body any
			if tt.useRefresh {
				body = map[string]string{"refresh_token": refresh}
			}
			var hdr map[string]string
			if tt.useAccess {
				hdr = bearer(access)
			}
			r := e.do("POST", "/auth/logout", body, hdr)
			if r.code != tt.wantStatus {
				t.Fatalf("logout: %d %s", r.code, r.raw)
			}
			if r.code != 200 {
				return
			}
			if r.str("message") != "Logged out" {
				t.Errorf("message %q", r.str("message"))
			}
			// Either way the login (family) has ended.
			if r := e.refresh(refresh); r.code != 401 {
				t.Errorf("refresh after logout: %d, want 401", r.code)
			}
			id, err := e.ver.Verify(access)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.svc.Revoked(id); got != tt.accessRevoked {
				t.Errorf("access token revoked = %v, want %v", got, tt.accessRevoked)
			}
			if tt.accessRevoked {
				if r := e.do("GET", "/auth/me", nil, bearer(access)); r.code != 401 {
					t.Errorf("me with revoked token: %d", r.code)
				}
				// The denial is in the store: a fresh index loaded from it agrees.
				fresh := accounts.NewRevocations()
				if err := fresh.Load(t.Context(), e.store, e.clock.Now()); err != nil {
					t.Fatal(err)
				}
				if !fresh.Revoked(id) {
					t.Error("revocation not persisted")
				}
			}
		})
	}
	e := newEnv(t, nil)
	access, _ := e.mustLogin("alice")
	if r := e.do("POST", "/auth/logout", nil, bearer(access+"x")); r.code != 401 {
		t.Errorf("logout with a bad access token: %d", r.code)
	}
	if r := e.do("POST", "/auth/logout", map[string]string{"refresh_token": strings.Repeat("a", 64)}, nil); r.code != 401 {
		t.Errorf("logout with an unknown refresh token: %d", r.code)
	}
}

func TestPasswordChangeEndsEverySession(t *testing.T) {
	e := newEnv(t, nil)
	access1, refresh1 := e.mustLogin("alice")
	_, refresh2 := e.mustLogin("alice") // a second device
	e.clock.Advance(2 * time.Second)
	if err := e.svc.SetPassword(t.Context(), "alice", "battery staple"); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{refresh1, refresh2} {
		if r := e.refresh(rt); r.code != 401 {
			t.Errorf("refresh after password change: %d, want 401", r.code)
		}
	}
	id, _ := e.ver.Verify(access1)
	if !e.svc.Revoked(id) {
		t.Error("access token issued before the change is not revoked")
	}
	if r := e.login("alice", "correct horse"); r.code != 401 {
		t.Errorf("old password: %d", r.code)
	}
	e.clock.Advance(time.Second)
	r := e.login("alice", "battery staple")
	if r.code != 200 {
		t.Fatalf("new password: %d %s", r.code, r.raw)
	}
	id, _ = e.ver.Verify(r.str("access_token"))
	if e.svc.Revoked(id) {
		t.Error("a token issued after the change is revoked")
	}
	if err := e.svc.SetPassword(t.Context(), "alice", "short"); err == nil {
		t.Error("SetPassword accepted a password below the policy")
	}
}

func TestDisableAndRoles(t *testing.T) {
	e := newEnv(t, nil)
	_, refresh := e.mustLogin("alice")
	if err := e.svc.SetRoles(t.Context(), "alice", []string{"admin", "user"}); err != nil {
		t.Fatal(err)
	}
	r := e.refresh(refresh)
	if r.code != 200 {
		t.Fatal(r.raw)
	}
	id, _ := e.ver.Verify(r.str("access_token"))
	if strings.Join(id.Roles, ",") != "admin,user" {
		t.Errorf("roles after refresh = %v", id.Roles)
	}
	e.clock.Advance(time.Second)
	if err := e.svc.SetDisabled(t.Context(), "alice", true); err != nil {
		t.Fatal(err)
	}
	if r := e.refresh(r.str("refresh_token")); r.code != 401 {
		t.Errorf("refresh of a disabled user: %d", r.code)
	}
	if err := e.svc.SetRoles(t.Context(), "nobody", []string{"x"}); err == nil {
		t.Error("SetRoles on an unknown user succeeded")
	}
}

func TestCookieModeWithCSRF(t *testing.T) {
	e := newEnv(t, func(c *accounts.Config) { c.Cookie = true })
	e.signup("alice", "correct horse")
	r := e.login("alice", "correct horse")
	if r.code != 200 {
		t.Fatal(r.raw)
	}
	if _, ok := r.body["refresh_token"]; ok {
		t.Error("cookie mode put the refresh token in the body")
	}
	csrf := r.str("csrf_token")
	cookies := (&http.Response{Header: r.header}).Cookies()
	var refreshC, csrfC *http.Cookie
	for _, c := range cookies {
		switch c.Name {
		case "__Secure-authgate-refresh":
			refreshC = c
		case "__Secure-authgate-csrf":
			csrfC = c
		}
	}
	if refreshC == nil || csrfC == nil {
		t.Fatalf("cookies = %v", cookies)
	}
	if !refreshC.HttpOnly || !refreshC.Secure || refreshC.SameSite != http.SameSiteStrictMode ||
		refreshC.Path != "/auth/refresh" || refreshC.MaxAge <= 0 || refreshC.MaxAge > 24*3600 {
		t.Errorf("refresh cookie attributes: %+v", refreshC)
	}
	if csrfC.Value != csrf || csrfC.HttpOnly {
		t.Errorf("csrf cookie: %+v", csrfC)
	}
	cookieHdr := refreshC.Name + "=" + refreshC.Value + "; " + csrfC.Name + "=" + csrfC.Value

	tests := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"no CSRF header", map[string]string{"Cookie": cookieHdr}, 403},
		{"wrong CSRF header", map[string]string{"Cookie": cookieHdr, accounts.CSRFHeader: "nope"}, 403},
		{"no cookie", map[string]string{accounts.CSRFHeader: csrf}, 400},
		{"cookie and CSRF", map[string]string{"Cookie": cookieHdr, accounts.CSRFHeader: csrf}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/auth/refresh", nil, tt.hdr)
			if r.code != tt.status {
				t.Fatalf("status %d, want %d: %s", r.code, tt.status, r.raw)
			}
		})
	}
}
