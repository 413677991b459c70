// Package storetest is the conformance suite for accounts.Store
// implementations: every Store must pass Run.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) accounts.Store {
//			s, err := mystore.Open(...)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Beyond the accounts.Store documentation, the suite requires:
//   - times round-trip to the millisecond at least, and come back in UTC;
//     the zero time comes back zero;
//   - Roles round-trip in order; nil and empty both come back empty;
//   - Family.Previous is nil until set;
//   - decide receives a copy: changing its argument's slices in place does
//     not change the store;
//   - a denied token is in force while now is before its ExpiresAt;
//   - a revoked family is reported as a session revocation until the
//     earlier of its RevokedAt and ExpiresAt plus
//     accounts.SessionRevocationRetention, and Prune keeps it that long;
//   - Prune keeps a subject revocation at least a day after its cut-off
//     (longer than any access token lives) and has deleted it a year after;
//   - Close may be called twice, and methods called after Close return an
//     error rather than panic.
//
// The suite uses a fixed time base, never the clock, and never sleeps.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// Opener returns a fresh, empty Store for one test, closed when the test
// ends (t.Cleanup); the suite may close it itself first.
type Opener = func(t *testing.T) accounts.Store

// Run runs the conformance suite against stores returned by open, one
// fresh store per subtest.
func Run(t *testing.T, open Opener) {
	t.Run("users", func(t *testing.T) { testUsers(t, open) })
	t.Run("families", func(t *testing.T) { testFamilies(t, open) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("revocations", func(t *testing.T) { testRevocations(t, open) })
	t.Run("sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("lifecycle", func(t *testing.T) { testLifecycle(t, open) })
	t.Run("links", func(t *testing.T) { testLinks(t, open) })
}

// base is the suite's clock: every time is base plus an offset. It has a
// millisecond part so that truncation to seconds is caught.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

// hash is a token hash, 32 bytes like the real ones.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func ctx(t *testing.T) context.Context { return t.Context() }

// user returns a valid user named name, created at base.
func user(name string) *accounts.User {
	return &accounts.User{
		ID: "id-" + name, Username: name, Email: name + "@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + name,
		Roles:        []string{"user"}, CreatedAt: base, UpdatedAt: base,
	}
}

func mustCreateUser(t *testing.T, s accounts.Store, u *accounts.User) *accounts.User {
	t.Helper()
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.Username, err)
	}
	return u
}

// family returns a live family of userID whose first token is hash(first).
func family(id, userID, first string) *accounts.Family {
	return &accounts.Family{
		ID: id, UserID: userID, Current: hash(first),
		CreatedAt: base, LastUsedAt: base, ExpiresAt: at(24 * time.Hour),
	}
}

func mustCreateFamily(t *testing.T, s accounts.Store, f *accounts.Family) *accounts.Family {
	t.Helper()
	if err := s.CreateFamily(ctx(t), f); err != nil {
		t.Fatalf("CreateFamily(%s): %v", f.ID, err)
	}
	return f
}

// getFamily reads the family that issued tokenHash, changing nothing.
func getFamily(t *testing.T, s accounts.Store, tokenHash []byte) (accounts.Family, error) {
	t.Helper()
	var got accounts.Family
	err := s.UpdateFamily(ctx(t), tokenHash, func(f accounts.Family) (*accounts.Family, error) {
		got = f
		return nil, nil
	})
	return got, err
}

func mustGetFamily(t *testing.T, s accounts.Store, tokenHash []byte) accounts.Family {
	t.Helper()
	f, err := getFamily(t, s, tokenHash)
	if err != nil {
		t.Fatalf("UpdateFamily (read): %v", err)
	}
	return f
}

// rotate returns f rotated to the token hash(next) at when, as a refresh
// does.
func rotate(f accounts.Family, next string, when time.Time) *accounts.Family {
	r := f
	r.Previous = f.Current
	r.Current = hash(next)
	r.RotatedAt, r.LastUsedAt = when, when
	return &r
}

func mustRotate(t *testing.T, s accounts.Store, presented []byte, next string, when time.Time) {
	t.Helper()
	err := s.UpdateFamily(ctx(t), presented, func(f accounts.Family) (*accounts.Family, error) {
		return rotate(f, next, when), nil
	})
	if err != nil {
		t.Fatalf("UpdateFamily (rotate to %s): %v", next, err)
	}
}

// checkTime reports a time that does not round-trip.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	switch {
	case want.IsZero():
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", what, got)
		}
	case !got.Equal(want):
		t.Errorf("%s = %v, want %v", what, got, want)
	case got.Location() != time.UTC:
		t.Errorf("%s = %v, want it in UTC", what, got)
	}
}

func checkUser(t *testing.T, got *accounts.User, want *accounts.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("user %s: got nil", want.ID)
	}
	if got.ID != want.ID || got.Username != want.Username || got.Email != want.Email ||
		got.EmailVerified != want.EmailVerified || got.PasswordHash != want.PasswordHash || got.Disabled != want.Disabled {
		t.Errorf("user = %+v\nwant %+v", *got, *want)
	}
	if !slices.Equal(got.Roles, want.Roles) {
		t.Errorf("user %s: Roles = %q, want %q", want.ID, got.Roles, want.Roles)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkFamily(t *testing.T, got accounts.Family, want *accounts.Family) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.RevokeReason != want.RevokeReason {
		t.Errorf("family = {ID:%s UserID:%s RevokeReason:%q}, want {ID:%s UserID:%s RevokeReason:%q}",
			got.ID, got.UserID, got.RevokeReason, want.ID, want.UserID, want.RevokeReason)
	}
	if !bytes.Equal(got.Current, want.Current) {
		t.Errorf("family %s: Current = %x, want %x", want.ID, got.Current, want.Current)
	}
	if !bytes.Equal(got.Previous, want.Previous) {
		t.Errorf("family %s: Previous = %x, want %x", want.ID, got.Previous, want.Previous)
	}
	if want.Previous == nil && got.Previous != nil {
		t.Errorf("family %s: Previous = %#v, want nil", want.ID, got.Previous)
	}
	checkTime(t, "RotatedAt", got.RotatedAt, want.RotatedAt)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTime(t, "RevokedAt", got.RevokedAt, want.RevokedAt)
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func name(format string, a ...any) string { return fmt.Sprintf(format, a...) }
