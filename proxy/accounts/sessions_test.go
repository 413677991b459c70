package accounts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

// verify verifies an access token of the env's issuer.
func (e *env) verify(access string) *identity.Identity {
	e.t.Helper()
	id, err := e.ver.Verify(access)
	if err != nil {
		e.t.Fatalf("Verify: %v", err)
	}
	return id
}

// sid returns the session (refresh family) an access token belongs to.
func (e *env) sid(access string) string {
	e.t.Helper()
	sid, _ := e.verify(access).Claims["sid"].(string)
	if sid == "" {
		e.t.Fatal("access token without a sid")
	}
	return sid
}

// TestLogoutLeavesOtherUsersSessions: a token whose "sid" names another
// user's family ends only the token itself, never that family.
func TestLogoutLeavesOtherUsersSessions(t *testing.T) {
	e := newEnv(t, nil)
	aliceAccess, _ := e.mustLogin("alice")
	bobAccess, bobRefresh := e.mustLogin("bob")
	alice := e.verify(aliceAccess).Subject

	forged, _, err := token.NewSigner(key, issuer, audience, e.clock.Now).
		Sign(alice, map[string]any{"sid": e.sid(bobAccess)}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/auth/logout", nil, bearer(forged)); r.code != 200 {
		t.Fatalf("logout: %d %s", r.code, r.raw)
	}
	if e.svc.Revoked(e.verify(bobAccess)) {
		t.Error("bob's access token was revoked by alice's logout")
	}
	if r := e.refresh(bobRefresh); r.code != 200 {
		t.Errorf("bob's refresh after alice's logout: %d %s", r.code, r.raw)
	}
	if !e.svc.Revoked(e.verify(forged)) {
		t.Error("the presented token itself is not revoked")
	}
}

// loginChain logs in and refreshes twice: three access tokens of one
// session, and the refresh token last issued.
func (e *env) loginChain(username string) (access []string, refresh string) {
	e.t.Helper()
	a, rt := e.mustLogin(username)
	access = append(access, a)
	for range 2 {
		r := e.refresh(rt)
		if r.code != 200 {
			e.t.Fatalf("refresh: %d %s", r.code, r.raw)
		}
		access, rt = append(access, r.str("access_token")), r.str("refresh_token")
	}
	return access, rt
}

// checkRevoked checks, for each access token, that this process and a
// fresh index loaded from the store (another process sharing it) agree
// that it is revoked, or not.
func (e *env) checkRevoked(want bool, access ...string) {
	e.t.Helper()
	other := accounts.NewRevocations()
	if err := other.Load(e.t.Context(), e.store, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	for i, a := range access {
		id := e.verify(a)
		if got := e.svc.Revoked(id); got != want {
			e.t.Errorf("access token %d: revoked = %v, want %v", i, got, want)
		}
		if got := other.Revoked(id); got != want {
			e.t.Errorf("access token %d: revoked after a load from the store = %v, want %v", i, got, want)
		}
		wantCode := 200
		if want {
			wantCode = 401
		}
		if r := e.do("GET", "/auth/me", nil, bearer(a)); r.code != wantCode {
			e.t.Errorf("access token %d: me = %d, want %d", i, r.code, wantCode)
		}
	}
}

// TestLogoutEndsTheWholeSession: logging out refuses every access token of
// the session, not just the one presented, and no other session's.
func TestLogoutEndsTheWholeSession(t *testing.T) {
	tests := []struct {
		name   string
		logout func(e *env, access []string, refresh string) resp
	}{
		{"with an earlier access token", func(e *env, access []string, _ string) resp {
			return e.do("POST", "/auth/logout", nil, bearer(access[1]))
		}},
		{"with the refresh token", func(e *env, _ []string, refresh string) resp {
			return e.do("POST", "/auth/logout", map[string]string{"refresh_token": refresh}, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			access, refresh := e.loginChain("alice")
			otherDevice, _ := e.mustLogin("alice")
			e.checkRevoked(false, access...)

			if r := tt.logout(e, access, refresh); r.code != 200 {
				t.Fatalf("logout: %d %s", r.code, r.raw)
			}
			e.checkRevoked(true, access...)
			e.checkRevoked(false, otherDevice)
		})
	}
}

// TestReuseEndsTheSessionsAccessTokens: presenting a rotated refresh token
// again revokes the family and every access token issued in it.
func TestReuseEndsTheSessionsAccessTokens(t *testing.T) {
	e := newEnv(t, nil)
	a0, r0 := e.mustLogin("alice")
	r := e.refresh(r0)
	if r.code != 200 {
		t.Fatal(r.raw)
	}
	a1 := r.str("access_token")
	otherDevice, _ := e.mustLogin("alice")
	if r := e.refresh(r0); r.code != 401 {
		t.Fatalf("reuse: %d %s", r.code, r.raw)
	}
	e.checkRevoked(true, a0, a1)
	e.checkRevoked(false, otherDevice)
}

// TestUserChangeInTheSameSecond: iat has whole seconds, yet a password
// change or disable refuses a token issued earlier in the same second (by
// its session), while a new login after it in that second is accepted.
func TestUserChangeInTheSameSecond(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env) error
		pw     string // the password after the change
	}{
		{"password change", func(e *env) error {
			return e.svc.SetPassword(e.t.Context(), "alice", "battery staple")
		}, "battery staple"},
		{"disable, then enable", func(e *env) error {
			if err := e.svc.SetDisabled(e.t.Context(), "alice", true); err != nil {
				return err
			}
			return e.svc.SetDisabled(e.t.Context(), "alice", false)
		}, "correct horse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			before, _ := e.mustLogin("alice")
			e.clock.Advance(300 * time.Millisecond)
			if err := tt.change(e); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(300 * time.Millisecond)
			r := e.login("alice", tt.pw)
			if r.code != 200 {
				t.Fatalf("login after the change: %d %s", r.code, r.raw)
			}
			after := r.str("access_token")
			if b, a := e.verify(before).IssuedAt, e.verify(after).IssuedAt; !b.Equal(a) {
				t.Fatalf("tokens issued in different seconds (%v, %v): the test proves nothing", b, a)
			}
			e.checkRevoked(true, before)
			e.checkRevoked(false, after)
		})
	}
}

// TestLogoutRefusesExternalTokens: a token of an external issuer, even one
// whose sub and sid name a real user's session, ends nothing: logout
// refuses it before touching the store.
func TestLogoutRefusesExternalTokens(t *testing.T) {
	const idp = "https://idp.test"
	idpKey, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvIssuers(t, nil, token.Issuer{
		Name: "partner", Issuer: idp, Audience: []string{audience},
		Algorithms: token.Algorithms(idpKey), Keys: token.StaticKeys(idpKey),
	})
	access, refresh := e.mustLogin("alice")
	alice := e.verify(access)
	external, _, err := token.NewSigner(idpKey, idp, audience, e.clock.Now).
		Sign(alice.Subject, map[string]any{"sid": e.sid(access)}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if id := e.verify(external); id.Issuer != "partner" {
		t.Fatalf("external token verified as issuer %q", id.Issuer)
	}

	for name, body := range map[string]any{
		"bearer only":                nil,
		"bearer and a refresh token": map[string]string{"refresh_token": refresh},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do("POST", "/auth/logout", body, bearer(external))
			if r.code != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("logout with an external token: %d %s %q", r.code, r.raw, r.header.Get("WWW-Authenticate"))
			}
			set, err := e.store.Revocations(t.Context(), e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Tokens) != 0 || len(set.Sessions) != 0 || len(set.Subjects) != 0 {
				t.Errorf("the store was changed: %+v", set)
			}
			e.checkRevoked(false, access)
		})
	}
	if r := e.refresh(refresh); r.code != 200 {
		t.Errorf("alice's refresh after the refused logouts: %d %s", r.code, r.raw)
	}
}
