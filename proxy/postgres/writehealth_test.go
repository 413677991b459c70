package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// TestWriteHealthFollowsReadOnlyServer: while the server refuses writes
// (a read-only transaction, as after a failover to a standby: SQLSTATE
// 25006), writes fail with ErrUnavailable and WriteHealth reports the
// store not writable; once writes work again a probe makes it healthy.
func TestWriteHealthFollowsReadOnlyServer(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 1})
	ctx := context.Background()
	if err := s.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	// The pool's one connection turns read-only.
	if _, err := s.pool.Exec(ctx, "SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteHealth(ctx); err != nil {
		t.Fatalf("WriteHealth before a failed write: %v", err)
	}
	err := s.CreateFamily(ctx, testFamily("fam-1", "id-alice", "t1"))
	if !errors.Is(err, accounts.ErrUnavailable) {
		t.Fatalf("CreateFamily on a read-only server: %v, want ErrUnavailable", err)
	}
	if err := s.WriteHealth(ctx); !errors.Is(err, accounts.ErrNotWritable) {
		t.Fatalf("WriteHealth after a failed write: %v, want ErrNotWritable", err)
	}
	if err := s.probeWrite(ctx); !errors.Is(err, accounts.ErrUnavailable) {
		t.Fatalf("probe on a read-only server: %v, want ErrUnavailable", err)
	}
	if _, err := s.pool.Exec(ctx, "SET default_transaction_read_only = off"); err != nil {
		t.Fatal(err)
	}
	s.health.Now = func() time.Time { return time.Now().Add(accounts.WriteProbeInterval) }
	for deadline := time.Now().Add(10 * time.Second); s.WriteHealth(ctx) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("WriteHealth once writable: %v", s.WriteHealth(ctx))
		}
	}
	if err := s.CreateFamily(ctx, testFamily("fam-1", "id-alice", "t1")); err != nil {
		t.Fatalf("CreateFamily once writable: %v", err)
	}
}
