package accounts_test

import (
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/identity"
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
