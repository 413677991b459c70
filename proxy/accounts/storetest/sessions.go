package storetest

import (
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// retention is how long a revoked session stays in force after it ended.
const retention = accounts.SessionRevocationRetention

// sessions returns the session revocations Revocations reports at now,
// family ID → Until.
func sessions(t *testing.T, s accounts.Store, now time.Time) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	for _, sr := range revocations(t, s, now).Sessions {
		if _, dup := m[sr.FamilyID]; dup {
			t.Errorf("Revocations lists session %s twice", sr.FamilyID)
		}
		m[sr.FamilyID] = sr.Until
	}
	return m
}

// checkSessions compares the session revocations in force at now with want.
func checkSessions(t *testing.T, s accounts.Store, now time.Time, want map[string]time.Time) {
	t.Helper()
	got := sessions(t, s, now)
	for id, until := range want {
		if g, ok := got[id]; !ok {
			t.Errorf("at %s: session %s not revoked", now.Sub(base), id)
		} else {
			checkTime(t, "Until of "+id, g, until)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("at %s: session %s revoked, want it not listed", now.Sub(base), id)
		}
	}
}

func testSessions(t *testing.T, open Opener) {
	t.Run("revoked by RevokeFamily until retention", func(t *testing.T) {
		s := open(t)
		alice := mustCreateUser(t, s, user("alice"))
		mustCreateFamily(t, s, family("fam", alice.ID, "t0"))
		mustCreateFamily(t, s, family("live", alice.ID, "l0"))
		checkSessions(t, s, at(time.Minute), nil)
		if err := s.RevokeFamily(ctx(t), alice.ID, "fam", accounts.ReasonLogout, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		until := at(time.Hour).Add(retention)
		for _, tc := range []struct {
			name string
			now  time.Time
			want map[string]time.Time
		}{
			{"at once", at(time.Hour), map[string]time.Time{"fam": until}},
			{"after the family expired", at(25 * time.Hour), map[string]time.Time{"fam": until}},
			{"just before the end", until.Add(-time.Millisecond), map[string]time.Time{"fam": until}},
			{"at the end", until, nil},
			{"long after", until.Add(24 * time.Hour), nil},
		} {
			t.Run(tc.name, func(t *testing.T) { checkSessions(t, s, tc.now, tc.want) })
		}
	})

	t.Run("revoked by UpdateFamily", func(t *testing.T) {
		s := open(t)
		alice := mustCreateUser(t, s, user("alice"))
		mustCreateFamily(t, s, family("fam", alice.ID, "t0"))
		mustRotate(t, s, hash("t0"), "t1", at(time.Minute))
		err := s.UpdateFamily(ctx(t), hash("t0"), func(f accounts.Family) (*accounts.Family, error) {
			f.RevokedAt, f.RevokeReason = at(2*time.Hour), accounts.ReasonReuse
			return &f, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkSessions(t, s, at(2*time.Hour), map[string]time.Time{"fam": at(2 * time.Hour).Add(retention)})
	})

	t.Run("revoked by UpdateUser", func(t *testing.T) {
		s := open(t)
		alice := mustCreateUser(t, s, user("alice"))
		bob := mustCreateUser(t, s, user("bob"))
		mustCreateFamily(t, s, family("fam-a1", alice.ID, "a1"))
		mustCreateFamily(t, s, family("fam-a2", alice.ID, "a2"))
		mustCreateFamily(t, s, family("fam-b", bob.ID, "b"))
		rev := &accounts.Revocation{Reason: accounts.ReasonPasswordChange, At: at(3 * time.Hour)}
		if err := s.UpdateUser(ctx(t), alice.ID, Replace(alice), rev); err != nil {
			t.Fatal(err)
		}
		until := rev.At.Add(retention)
		checkSessions(t, s, rev.At, map[string]time.Time{"fam-a1": until, "fam-a2": until})
	})

	t.Run("revoked after expiry ends at expiry", func(t *testing.T) {
		s := open(t)
		alice := mustCreateUser(t, s, user("alice"))
		f := family("fam", alice.ID, "t0")
		f.ExpiresAt = at(time.Hour)
		mustCreateFamily(t, s, f)
		if err := s.RevokeFamily(ctx(t), alice.ID, "fam", accounts.ReasonLogout, at(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		checkSessions(t, s, at(2*time.Hour), map[string]time.Time{"fam": f.ExpiresAt.Add(retention)})
	})

	t.Run("prune keeps a revoked family while its session revocation is in force", func(t *testing.T) {
		s := open(t)
		alice := mustCreateUser(t, s, user("alice"))
		revoked := family("revoked", alice.ID, "r0")
		revoked.ExpiresAt = at(time.Hour)
		mustCreateFamily(t, s, revoked)
		expired := family("expired", alice.ID, "e0")
		expired.ExpiresAt = at(time.Hour)
		mustCreateFamily(t, s, expired)
		if err := s.RevokeFamily(ctx(t), alice.ID, "revoked", accounts.ReasonLogout, at(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		until := at(30 * time.Minute).Add(retention)

		if err := s.Prune(ctx(t), at(2*time.Hour)); err != nil {
			t.Fatalf("Prune: %v", err)
		}
		if _, err := getFamily(t, s, hash("e0")); !isNotFound(err) {
			t.Errorf("expired live family after Prune: %v, want ErrNotFound", err)
		}
		if f := mustGetFamily(t, s, hash("r0")); f.ID != "revoked" {
			t.Errorf("revoked family: got %s", f.ID)
		}
		checkSessions(t, s, at(2*time.Hour), map[string]time.Time{"revoked": until})

		if err := s.Prune(ctx(t), until); err != nil {
			t.Fatalf("Prune: %v", err)
		}
		if _, err := getFamily(t, s, hash("r0")); !isNotFound(err) {
			t.Errorf("revoked family after its session revocation ended: %v, want ErrNotFound", err)
		}
		checkSessions(t, s, until.Add(-time.Hour), nil) // pruned: no longer listed even before its end
	})
}
