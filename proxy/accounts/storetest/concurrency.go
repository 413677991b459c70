package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// errLost is what a decide returns when another goroutine rotated first.
var errLost = errors.New("lost the race")

// together runs fn(0) ... fn(n-1) on n goroutines released at once, and
// returns their errors by index.
func together(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrency(t *testing.T, open Opener) {
	// n refreshes present the same token at once, each deciding with
	// compare-and-swap logic: rotate if the family's Current is still the
	// token I presented, else lose. Serialised decides mean exactly one
	// winner, whose token is then Current.
	for _, n := range []int{2, 16} {
		t.Run(name("same family, %d goroutines", n), func(t *testing.T) {
			s := open(t)
			mustCreateUser(t, s, user("alice"))
			mustCreateFamily(t, s, family("fam", "id-alice", "t0"))
			presented := hash("t0")
			errs := together(n, func(i int) error {
				mine := name("g%d", i)
				return s.UpdateFamily(ctx(t), presented, func(f accounts.Family) (*accounts.Family, error) {
					if !bytes.Equal(f.Current, presented) {
						return nil, errLost
					}
					return rotate(f, mine, at(time.Minute)), nil
				})
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("goroutines %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, errLost):
					t.Errorf("goroutine %d: %v, want success or errLost", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no goroutine won")
			}
			f := mustGetFamily(t, s, presented)
			if want := hash(name("g%d", winner)); !bytes.Equal(f.Current, want) {
				t.Errorf("Current = %x, want the winner's %x", f.Current, want)
			}
			if !bytes.Equal(f.Previous, presented) {
				t.Errorf("Previous = %x, want the presented %x", f.Previous, presented)
			}
		})
	}

	// Rotations of different families never fail because of each other
	// (no lock errors leak out).
	t.Run("different families", func(t *testing.T) {
		const n, rounds = 16, 8
		s := open(t)
		mustCreateUser(t, s, user("alice"))
		for i := range n {
			mustCreateFamily(t, s, family(name("fam%d", i), "id-alice", name("f%d-0", i)))
		}
		errs := together(n, func(i int) error {
			for r := 1; r <= rounds; r++ {
				prev, next := name("f%d-%d", i, r-1), name("f%d-%d", i, r)
				err := s.UpdateFamily(ctx(t), hash(prev), func(f accounts.Family) (*accounts.Family, error) {
					if !bytes.Equal(f.Current, hash(prev)) {
						return nil, errLost
					}
					return rotate(f, next, at(time.Duration(r)*time.Minute)), nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("family %d: %v", i, err)
			}
		}
		for i := range n {
			f := mustGetFamily(t, s, hash(name("f%d-0", i)))
			if f.ID != name("fam%d", i) || !bytes.Equal(f.Current, hash(name("f%d-%d", i, rounds))) {
				t.Errorf("family %d: ID %s, Current %x; want fam%d at its last rotation", i, f.ID, f.Current, i)
			}
		}
	})

	// Signups racing for one username, in different cases: one wins.
	t.Run("same username", func(t *testing.T) {
		const n = 8
		s := open(t)
		spellings := []string{"carol", "Carol", "CAROL", "cArol"}
		errs := together(n, func(i int) error {
			u := user(name("carol%d", i))
			u.Username, u.Email = spellings[i%len(spellings)], ""
			return s.CreateUser(ctx(t), u)
		})
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, accounts.ErrUsernameTaken):
				t.Errorf("CreateUser %d: %v, want success or ErrUsernameTaken", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d signups won, want 1", won)
		}
		if us, err := s.ListUsers(ctx(t)); err != nil || len(us) != 1 {
			t.Errorf("ListUsers = %d users, %v; want 1", len(us), err)
		}
	})
}
