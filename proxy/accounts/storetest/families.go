package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

func testFamilies(t *testing.T, open Opener) {
	t.Run("create and find by current", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    *accounts.Family
		}{
			{"fresh", family("fam", "id-alice", "t0")},
			{"every field set", &accounts.Family{
				ID: "fam", UserID: "id-alice", Current: hash("t1"), Previous: hash("t0"),
				RotatedAt: at(time.Minute), CreatedAt: base, LastUsedAt: at(2 * time.Minute),
				ExpiresAt: at(24 * time.Hour), RevokedAt: at(3 * time.Minute), RevokeReason: accounts.ReasonLogout,
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				mustCreateUser(t, s, user("alice"))
				mustCreateFamily(t, s, tc.f)
				checkFamily(t, mustGetFamily(t, s, tc.f.Current), tc.f)
			})
		}
	})

	t.Run("rotation", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, user("alice"))
		f := mustCreateFamily(t, s, family("fam", "id-alice", "t0"))
		other := mustCreateFamily(t, s, family("other", "id-alice", "o0"))

		mustRotate(t, s, hash("t0"), "t1", at(time.Minute))
		want := rotate(*f, "t1", at(time.Minute))
		for _, tok := range []string{"t1", "t0"} {
			checkFamily(t, mustGetFamily(t, s, hash(tok)), want)
		}

		mustRotate(t, s, hash("t1"), "t2", at(2*time.Minute))
		want = rotate(*want, "t2", at(2*time.Minute))
		// The new token, the previous one and the original one all lead to
		// the family.
		for _, tok := range []string{"t2", "t1", "t0"} {
			t.Run(tok, func(t *testing.T) {
				checkFamily(t, mustGetFamily(t, s, hash(tok)), want)
			})
		}
		checkFamily(t, mustGetFamily(t, s, hash("o0")), other)
	})

	t.Run("unknown token", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, user("alice"))
		mustCreateFamily(t, s, family("fam", "id-alice", "t0"))
		called := false
		err := s.UpdateFamily(ctx(t), hash("never issued"), func(f accounts.Family) (*accounts.Family, error) {
			called = true
			return &f, nil
		})
		wantErr(t, "UpdateFamily(unknown)", err, accounts.ErrNotFound)
		if called {
			t.Error("decide was called for an unknown token")
		}
	})

	errDecide := errors.New("decided against")
	for _, tc := range []struct {
		name    string
		decide  func(f accounts.Family) (*accounts.Family, error)
		wantErr error
		// want is the stored family given the one decide saw.
		want func(f accounts.Family) *accounts.Family
	}{
		{
			name:    "decide error without state stores nothing",
			decide:  func(f accounts.Family) (*accounts.Family, error) { return nil, errDecide },
			wantErr: errDecide,
			want:    func(f accounts.Family) *accounts.Family { return &f },
		},
		{
			name: "decide error with state stores the state",
			decide: func(f accounts.Family) (*accounts.Family, error) {
				f.RevokedAt, f.RevokeReason = at(time.Hour), accounts.ReasonReuse
				return &f, errDecide
			},
			wantErr: errDecide,
			want: func(f accounts.Family) *accounts.Family {
				f.RevokedAt, f.RevokeReason = at(time.Hour), accounts.ReasonReuse
				return &f
			},
		},
		{
			name:   "nil state and nil error change nothing",
			decide: func(f accounts.Family) (*accounts.Family, error) { return nil, nil },
			want:   func(f accounts.Family) *accounts.Family { return &f },
		},
		{
			name: "decide gets a copy",
			decide: func(f accounts.Family) (*accounts.Family, error) {
				f.Current[0] ^= 0xff
				f.Previous[0] ^= 0xff
				return nil, nil
			},
			want: func(f accounts.Family) *accounts.Family { return &f },
		},
		{
			name: "rotation in place is recorded",
			decide: func(f accounts.Family) (*accounts.Family, error) {
				f.Previous = bytes.Clone(f.Current)
				copy(f.Current, hash("t2"))
				f.RotatedAt, f.LastUsedAt = at(time.Hour), at(time.Hour)
				return &f, nil
			},
			want: func(f accounts.Family) *accounts.Family { return rotate(f, "t2", at(time.Hour)) },
		},
		{
			name: "rotation with an error is stored",
			decide: func(f accounts.Family) (*accounts.Family, error) {
				return rotate(f, "t2", at(time.Hour)), errDecide
			},
			wantErr: errDecide,
			want:    func(f accounts.Family) *accounts.Family { return rotate(f, "t2", at(time.Hour)) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			mustCreateUser(t, s, user("alice"))
			mustCreateFamily(t, s, family("fam", "id-alice", "t0"))
			mustRotate(t, s, hash("t0"), "t1", at(time.Minute))
			before := mustGetFamily(t, s, hash("t1"))
			want := tc.want(before)
			want.Current = bytes.Clone(want.Current)
			want.Previous = bytes.Clone(want.Previous)

			err := s.UpdateFamily(ctx(t), hash("t1"), tc.decide)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("UpdateFamily: %v", err)
			}
			if tc.wantErr != nil {
				wantErr(t, "UpdateFamily", err, tc.wantErr)
			}
			checkFamily(t, mustGetFamily(t, s, hash("t0")), want)
			checkFamily(t, mustGetFamily(t, s, want.Current), want)
		})
	}

	t.Run("revoke by id", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, user("alice"))
		f := mustCreateFamily(t, s, family("fam", "id-alice", "t0"))
		other := mustCreateFamily(t, s, family("other", "id-alice", "o0"))
		if err := s.RevokeFamily(ctx(t), "id-alice", "fam", accounts.ReasonLogout, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		want := *f
		want.RevokedAt, want.RevokeReason = at(time.Hour), accounts.ReasonLogout
		checkFamily(t, mustGetFamily(t, s, hash("t0")), &want)

		// Revoking again is not an error and keeps the first revocation.
		if err := s.RevokeFamily(ctx(t), "id-alice", "fam", accounts.ReasonDisabled, at(2*time.Hour)); err != nil {
			t.Errorf("revoking a revoked family: %v", err)
		}
		checkFamily(t, mustGetFamily(t, s, hash("t0")), &want)
		checkFamily(t, mustGetFamily(t, s, hash("o0")), other)

		wantErr(t, "RevokeFamily(unknown)",
			s.RevokeFamily(ctx(t), "id-alice", "no-such-family", accounts.ReasonLogout, at(time.Hour)), accounts.ErrNotFound)
	})

	t.Run("revoke another user's family", func(t *testing.T) {
		s := open(t)
		alice := mustCreateUser(t, s, user("alice"))
		bob := mustCreateUser(t, s, user("bob"))
		bobs := mustCreateFamily(t, s, family("fam-b", bob.ID, "b0"))
		wantErr(t, "RevokeFamily(alice, bob's family)",
			s.RevokeFamily(ctx(t), alice.ID, "fam-b", accounts.ReasonLogout, at(time.Hour)), accounts.ErrNotFound)
		checkFamily(t, mustGetFamily(t, s, hash("b0")), bobs)
		if got := sessions(t, s, at(time.Hour)); len(got) != 0 {
			t.Errorf("session revocations = %v, want none", got)
		}
	})
}
