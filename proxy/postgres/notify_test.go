package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

// watcher collects what WatchRevocations announces to one replica.
type watcher struct {
	sets   chan *accounts.RevocationSet
	cancel context.CancelFunc
	done   chan error
}

// watch starts WatchRevocations on s and waits until it listens.
func watch(t *testing.T, s *Store) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{sets: make(chan *accounts.RevocationSet, 100), cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		w.done <- s.WatchRevocations(ctx, func() { close(ready) }, func(set *accounts.RevocationSet) { w.sets <- set })
	}()
	select {
	case <-ready:
	case err := <-w.done:
		t.Fatalf("WatchRevocations: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("WatchRevocations never listened")
	}
	t.Cleanup(func() {
		cancel()
		<-w.done
	})
	return w
}

// next returns the next announcement, failing after a second.
func (w *watcher) next(t *testing.T, what string) *accounts.RevocationSet {
	t.Helper()
	select {
	case set := <-w.sets:
		return set
	case <-time.After(time.Second):
		t.Fatalf("%s: nothing announced within a second", what)
		return nil
	}
}

// none fails if anything is announced within 200 ms.
func (w *watcher) none(t *testing.T, what string) {
	t.Helper()
	select {
	case set := <-w.sets:
		t.Errorf("%s announced %+v", what, set)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestRevocationsAnnounced: every revocation one replica commits reaches
// another replica's WatchRevocations, as the set Revocations would load;
// a rolled-back change announces nothing; a change too large to announce
// asks for a reload.
func TestRevocationsAnnounced(t *testing.T) {
	t.Parallel()
	db := pgtest.Database(t)
	a, err := Open(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w := watch(t, b)
	ctx := context.Background()
	for _, name := range []string{"alice", "bob", "carol"} {
		if err := a.CreateUser(ctx, testUser(name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []*accounts.Family{testFamily("f1", "id-alice", "a1"), testFamily("f2", "id-alice", "a2"),
		testFamily("f3", "id-bob", "b1"), testFamily("f4", "id-bob", "b2")} {
		if err := a.CreateFamily(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	w.none(t, "creating users and families")

	exp := t0.Add(time.Hour)
	if err := a.DenyAccessToken(ctx, accounts.DeniedToken{Issuer: "iss", JTI: "j1", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if set := w.next(t, "deny"); len(set.Tokens) != 1 || set.Tokens[0].JTI != "j1" || !set.Tokens[0].ExpiresAt.Equal(exp) {
		t.Errorf("deny announced %+v", set)
	}

	if err := a.RevokeFamily(ctx, "id-alice", "f1", accounts.ReasonLogout, t0); err != nil {
		t.Fatal(err)
	}
	want := accounts.SessionRevokedUntil(t0, t0.Add(24*time.Hour))
	if set := w.next(t, "logout"); len(set.Sessions) != 1 || set.Sessions[0].FamilyID != "f1" || !set.Sessions[0].Until.Equal(want) {
		t.Errorf("logout announced %+v, want f1 until %s", set, want)
	}
	if err := a.RevokeFamily(ctx, "id-bob", "f2", accounts.ReasonLogout, t0); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("RevokeFamily of another user's family: %v", err)
	}
	w.none(t, "a refused logout")

	reuse := func(f accounts.Family) (*accounts.Family, error) {
		f.RevokedAt, f.RevokeReason = t0.Add(time.Minute), accounts.ReasonReuse
		return &f, nil
	}
	if err := a.UpdateFamily(ctx, hashOf("a2"), reuse); err != nil {
		t.Fatal(err)
	}
	if set := w.next(t, "reuse"); len(set.Sessions) != 1 || set.Sessions[0].FamilyID != "f2" {
		t.Errorf("reuse announced %+v", set)
	}

	failed := errors.New("no")
	if err := a.UpdateUser(ctx, "id-bob", func(*accounts.User) error { return failed },
		&accounts.Revocation{Reason: accounts.ReasonPasswordChange, At: t0}); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	w.none(t, "a rolled-back password change")
	if err := a.UpdateUser(ctx, "id-bob", func(u *accounts.User) error { u.PasswordHash = "$new"; return nil },
		&accounts.Revocation{Reason: accounts.ReasonPasswordChange, At: t0.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	set := w.next(t, "password change")
	if len(set.Subjects) != 1 || set.Subjects[0].Subject != "id-bob" || len(set.Sessions) != 2 {
		t.Errorf("password change announced %+v, want bob's subject and 2 sessions", set)
	}

	for i := range 300 {
		if err := a.CreateFamily(ctx, testFamily(fmt.Sprintf("carol-%03d-with-a-long-family-identifier", i), "id-carol", fmt.Sprint("c", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.UpdateUser(ctx, "id-carol", func(*accounts.User) error { return nil },
		&accounts.Revocation{Reason: accounts.ReasonDisabled, At: t0}); err != nil {
		t.Fatal(err)
	}
	if set := w.next(t, "disabling a user with 300 sessions"); set != nil {
		t.Errorf("300 sessions announced inline (%d bytes over the limit?), want a reload request", len(set.Sessions))
	}
}

// TestWatchRevocationsEnds: WatchRevocations returns when its context ends
// and fails at once on a closed store.
func TestWatchRevocationsEnds(t *testing.T) {
	t.Parallel()
	s, _ := openFresh(t, Options{})
	w := watch(t, s)
	w.cancel()
	select {
	case err := <-w.done:
		if err == nil {
			t.Error("WatchRevocations returned nil after its context ended")
		}
		w.done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("WatchRevocations did not return after its context ended")
	}
	s.Close()
	if err := s.WatchRevocations(context.Background(), func() {}, func(*accounts.RevocationSet) {}); !errors.Is(err, accounts.ErrUnavailable) {
		t.Errorf("WatchRevocations on a closed store: %v", err)
	}
}
