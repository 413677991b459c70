package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// revocations returns what Revocations reports at now.
func revocations(t *testing.T, s accounts.Store, now time.Time) *accounts.RevocationSet {
	t.Helper()
	set, err := s.Revocations(ctx(t), now)
	if err != nil {
		t.Fatalf("Revocations: %v", err)
	}
	if set == nil {
		t.Fatal("Revocations returned a nil set")
	}
	return set
}

// denied returns the denied tokens in force at now, keyed issuer + " " + jti.
func denied(t *testing.T, s accounts.Store, now time.Time) map[string]accounts.DeniedToken {
	t.Helper()
	m := map[string]accounts.DeniedToken{}
	for _, d := range revocations(t, s, now).Tokens {
		k := d.Issuer + " " + d.JTI
		if _, dup := m[k]; dup {
			t.Errorf("Revocations lists %s twice", k)
		}
		m[k] = d
	}
	return m
}

// subjects returns the subject revocations Revocations reports at now.
func subjects(t *testing.T, s accounts.Store, now time.Time) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	for _, sr := range revocations(t, s, now).Subjects {
		m[sr.Subject] = sr.Before
	}
	return m
}

func mustDeny(t *testing.T, s accounts.Store, d accounts.DeniedToken) {
	t.Helper()
	if err := s.DenyAccessToken(ctx(t), d); err != nil {
		t.Fatalf("DenyAccessToken(%s): %v", d.JTI, err)
	}
}

func testRevocations(t *testing.T, open Opener) {
	const iss = "https://authgate.test"
	t.Run("denied token until expiry", func(t *testing.T) {
		s := open(t)
		d := accounts.DeniedToken{Issuer: iss, JTI: "jti-1", ExpiresAt: at(15 * time.Minute)}
		mustDeny(t, s, d)
		for _, tc := range []struct {
			name string
			now  time.Time
			want bool
		}{
			{"before", base, true},
			{"just before expiry", d.ExpiresAt.Add(-time.Millisecond), true},
			{"at expiry", d.ExpiresAt, false},
			{"after expiry", d.ExpiresAt.Add(time.Hour), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, ok := denied(t, s, tc.now)[iss+" jti-1"]
				if ok != tc.want {
					t.Fatalf("in force = %v, want %v", ok, tc.want)
				}
				if ok {
					checkTime(t, "ExpiresAt", got.ExpiresAt, d.ExpiresAt)
				}
			})
		}
	})

	t.Run("deny twice", func(t *testing.T) {
		s := open(t)
		d := accounts.DeniedToken{Issuer: iss, JTI: "jti-1", ExpiresAt: at(15 * time.Minute)}
		mustDeny(t, s, d)
		if err := s.DenyAccessToken(ctx(t), d); err != nil {
			t.Errorf("denying again: %v", err)
		}
		if m := denied(t, s, base); len(m) != 1 {
			t.Errorf("Revocations = %v, want the one token", m)
		}
	})

	t.Run("issuer and jti together are the key", func(t *testing.T) {
		s := open(t)
		for _, d := range []accounts.DeniedToken{
			{Issuer: iss, JTI: "a", ExpiresAt: at(time.Minute)},
			{Issuer: iss, JTI: "b", ExpiresAt: at(time.Minute)},
			{Issuer: "https://other.test", JTI: "a", ExpiresAt: at(time.Minute)},
		} {
			mustDeny(t, s, d)
		}
		if m := denied(t, s, base); len(m) != 3 {
			t.Errorf("Revocations = %v, want 3 tokens", m)
		}
	})

	t.Run("prune", func(t *testing.T) {
		s := open(t)
		now := at(48 * time.Hour)
		mustDeny(t, s, accounts.DeniedToken{Issuer: iss, JTI: "expired", ExpiresAt: now.Add(-time.Minute)})
		mustDeny(t, s, accounts.DeniedToken{Issuer: iss, JTI: "live", ExpiresAt: now.Add(time.Minute)})

		// Subject revocations: one an hour old (must stay: access tokens
		// issued before it may still be unexpired), one a year old (must go).
		recent := mustCreateUser(t, s, user("recent"))
		old := mustCreateUser(t, s, user("old"))
		for _, r := range []struct {
			u  *accounts.User
			at time.Time
		}{{recent, now.Add(-time.Hour)}, {old, now.Add(-366 * 24 * time.Hour)}} {
			if err := s.UpdateUser(ctx(t), r.u.ID, Replace(r.u), &accounts.Revocation{Reason: accounts.ReasonDisabled, At: r.at}); err != nil {
				t.Fatal(err)
			}
		}

		expired := family("expired", recent.ID, "e0")
		expired.ExpiresAt = now.Add(-time.Millisecond)
		mustCreateFamily(t, s, expired)
		mustRotate(t, s, hash("e0"), "e1", at(time.Minute))
		live := family("live", recent.ID, "l0")
		live.ExpiresAt = now.Add(time.Hour)
		mustCreateFamily(t, s, live)

		for range 2 { // Prune is idempotent
			if err := s.Prune(ctx(t), now); err != nil {
				t.Fatalf("Prune: %v", err)
			}
		}

		m := denied(t, s, base) // at base both would still be in force
		if _, ok := m[iss+" expired"]; ok {
			t.Error("expired denied token survived Prune")
		}
		if _, ok := m[iss+" live"]; !ok {
			t.Error("live denied token was pruned")
		}
		subs := subjects(t, s, now)
		if _, ok := subs[old.ID]; ok {
			t.Error("year-old subject revocation survived Prune")
		}
		if before, ok := subs[recent.ID]; !ok {
			t.Error("hour-old subject revocation was pruned")
		} else {
			checkTime(t, "Before", before, now.Add(-time.Hour))
		}
		for _, tok := range []string{"e0", "e1"} {
			if _, err := getFamily(t, s, hash(tok)); !isNotFound(err) {
				t.Errorf("token %s of the expired family: %v, want ErrNotFound", tok, err)
			}
		}
		if f := mustGetFamily(t, s, hash("l0")); f.ID != "live" {
			t.Errorf("live family: got %s", f.ID)
		}
		for _, u := range []*accounts.User{recent, old} {
			if _, err := s.UserByID(ctx(t), u.ID); err != nil {
				t.Errorf("user %s after Prune: %v", u.Username, err)
			}
		}
	})
}

func testLifecycle(t *testing.T, open Opener) {
	t.Run("ping", func(t *testing.T) {
		if err := open(t).Ping(ctx(t)); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("closed", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, user("alice"))
		mustCreateFamily(t, s, family("fam", "id-alice", "t0"))
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		c := ctx(t)
		u := user("bob")
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"Ping", func() error { return s.Ping(c) }},
			{"CreateUser", func() error { return s.CreateUser(c, u) }},
			{"UserByID", func() error { _, err := s.UserByID(c, "id-alice"); return err }},
			{"UserByUsername", func() error { _, err := s.UserByUsername(c, "alice"); return err }},
			{"UserByEmail", func() error { _, err := s.UserByEmail(c, "alice@example.com"); return err }},
			{"ListUsers", func() error { _, err := s.ListUsers(c); return err }},
			{"UpdateUser", func() error { return s.UpdateUser(c, user("alice").ID, Replace(user("alice")), nil) }},
			{"CreateFamily", func() error { return s.CreateFamily(c, family("f2", "id-alice", "x")) }},
			{"UpdateFamily", func() error {
				return s.UpdateFamily(c, hash("t0"), func(f accounts.Family) (*accounts.Family, error) { return &f, nil })
			}},
			{"RevokeFamily", func() error { return s.RevokeFamily(c, "id-alice", "fam", accounts.ReasonLogout, base) }},
			{"DenyAccessToken", func() error {
				return s.DenyAccessToken(c, accounts.DeniedToken{Issuer: "i", JTI: "j", ExpiresAt: base})
			}},
			{"Revocations", func() error { _, err := s.Revocations(c, base); return err }},
			{"Prune", func() error { return s.Prune(c, base) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.call(); err == nil {
					t.Errorf("%s after Close succeeded, want an error", tc.name)
				}
			})
		}
		_ = s.Close() // a second Close must not panic; its error is not specified
	})

	t.Run("canceled context", func(t *testing.T) {
		s := open(t)
		c, cancel := context.WithCancel(ctx(t))
		cancel()
		if err := s.CreateUser(c, user("alice")); err == nil {
			t.Error("CreateUser with a canceled context succeeded")
		}
		if _, err := s.UserByID(ctx(t), "id-alice"); !isNotFound(err) {
			t.Errorf("user created despite the canceled context: %v", err)
		}
	})
}
