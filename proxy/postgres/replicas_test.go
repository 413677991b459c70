package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

var (
	errLost  = errors.New("lost the race")
	errReuse = errors.New("reuse")
)

// twoReplicas opens two Stores, each with its own pool, on one fresh
// database, as two authgate processes would.
func twoReplicas(t *testing.T) [2]*Store {
	t.Helper()
	a, dbURL := openFresh(t, Options{})
	b, err := Open(context.Background(), dbURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return [2]*Store{a, b}
}

// TestReplicasRotateOnce races refreshes that present the same token
// through two replicas: exactly one rotates.
func TestReplicasRotateOnce(t *testing.T) {
	t.Parallel()
	const n = 50
	presented := hashOf("t0")
	for _, tc := range []struct {
		name string
		// decide is what refresh i decides; lost is its error when it
		// did not rotate.
		decide func(i int) func(accounts.Family) (*accounts.Family, error)
		lost   error
		// revoked: the losers' presentation ends the family.
		revoked bool
	}{
		{
			name: "compare and swap",
			decide: func(i int) func(accounts.Family) (*accounts.Family, error) {
				return func(f accounts.Family) (*accounts.Family, error) {
					if !bytes.Equal(f.Current, presented) {
						return nil, errLost
					}
					return rotateTo(fmt.Sprint("g", i))(f)
				}
			},
			lost: errLost,
		},
		{
			// As refresh decides without a grace period: a token that is no
			// longer Current is reuse, and revokes the family.
			name: "reuse detection",
			decide: func(i int) func(accounts.Family) (*accounts.Family, error) {
				return func(f accounts.Family) (*accounts.Family, error) {
					if !f.RevokedAt.IsZero() {
						return nil, errReuse
					}
					if !bytes.Equal(f.Current, presented) {
						f.RevokedAt, f.RevokeReason = t0.Add(time.Hour), accounts.ReasonReuse
						return &f, errReuse
					}
					return rotateTo(fmt.Sprint("g", i))(f)
				}
			},
			lost:    errReuse,
			revoked: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stores := twoReplicas(t)
			if err := stores[0].CreateUser(t.Context(), testUser("alice")); err != nil {
				t.Fatal(err)
			}
			if err := stores[1].CreateFamily(t.Context(), testFamily("fam", "id-alice", "t0")); err != nil {
				t.Fatal(err)
			}
			errs := together(n, func(i int) error {
				return stores[i%2].UpdateFamily(t.Context(), presented, tc.decide(i))
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("refreshes %d and %d both rotated", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, tc.lost):
					t.Errorf("refresh %d: %v, want success or %v", i, err, tc.lost)
				}
			}
			if winner < 0 {
				t.Fatal("no refresh rotated")
			}
			var f accounts.Family
			if err := stores[0].UpdateFamily(t.Context(), presented, func(got accounts.Family) (*accounts.Family, error) {
				f = got
				return nil, nil
			}); err != nil {
				t.Fatal(err)
			}
			if want := hashOf(fmt.Sprint("g", winner)); !bytes.Equal(f.Current, want) || !bytes.Equal(f.Previous, presented) {
				t.Errorf("family Current %x Previous %x, want the winner's %x and the presented %x", f.Current, f.Previous, want, presented)
			}
			if revoked := !f.RevokedAt.IsZero(); revoked != tc.revoked {
				t.Errorf("family revoked = %v (%q), want %v", revoked, f.RevokeReason, tc.revoked)
			}
		})
	}
}

// TestReplicasUpdateUser runs concurrent UpdateUser calls through two
// replicas, each adding a role: none is lost.
func TestReplicasUpdateUser(t *testing.T) {
	t.Parallel()
	const n = 20
	stores := twoReplicas(t)
	if err := stores[0].CreateUser(t.Context(), testUser("alice")); err != nil {
		t.Fatal(err)
	}
	errs := together(n, func(i int) error {
		return stores[i%2].UpdateUser(t.Context(), "id-alice", func(u *accounts.User) error {
			u.Roles = append(u.Roles, fmt.Sprint("r", i))
			return nil
		}, nil)
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("UpdateUser %d: %v", i, err)
		}
	}
	u, err := stores[1].UserByID(t.Context(), "id-alice")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !slices.Contains(u.Roles, fmt.Sprint("r", i)) {
			t.Errorf("role r%d lost: roles %q", i, u.Roles)
		}
	}
	if len(u.Roles) != n+1 {
		t.Errorf("%d roles, want %d", len(u.Roles), n+1)
	}
}
