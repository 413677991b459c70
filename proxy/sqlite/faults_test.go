package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// holdWriteLock takes the file's write lock from a connection of its own
// (as another process would) and holds it until the test ends or release
// is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tx, err := db.Begin() // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			tx.Rollback()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// TestWriteBoundedWhileLocked: a write blocked by another connection's
// write lock fails with accounts.ErrUnavailable within writeTimeout, BEGIN
// retries included, rather than retrying busy_timeout several times over.
func TestWriteBoundedWhileLocked(t *testing.T) {
	s, path := openTemp(t)
	holdWriteLock(t, path)
	start := time.Now()
	err := s.CreateUser(context.Background(), testUser("alice"))
	took := time.Since(start)
	if !errors.Is(err, accounts.ErrUnavailable) {
		t.Fatalf("CreateUser while locked: %v, want ErrUnavailable", err)
	}
	if took > writeTimeout+time.Second {
		t.Fatalf("CreateUser while locked took %v, want at most %v (+1 s)", took, writeTimeout)
	}
	t.Logf("failed after %v", took)
}

// TestWriteWaitsForShortLock: a lock released well within writeTimeout
// only delays the write.
func TestWriteWaitsForShortLock(t *testing.T) {
	s, path := openTemp(t)
	release := holdWriteLock(t, path)
	time.AfterFunc(300*time.Millisecond, release)
	if err := s.CreateUser(context.Background(), testUser("alice")); err != nil {
		t.Fatalf("CreateUser after a short lock: %v", err)
	}
}

// TestWriteHealthFollowsReadOnlyFile: while the writer cannot write
// (query_only makes every write fail with SQLITE_READONLY, as a read-only
// file or directory does), writes fail with ErrUnavailable and WriteHealth
// reports the store not writable; once writes work again a probe, not a
// request, makes it healthy again. Reads keep working throughout.
func TestWriteHealthFollowsReadOnlyFile(t *testing.T) {
	s, _ := openTemp(t)
	var mu sync.Mutex
	now := time.Now()
	s.health.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()

	if err := s.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteHealth(ctx); err != nil {
		t.Fatalf("WriteHealth after a write: %v", err)
	}
	if _, err := s.wr.Exec("PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteHealth(ctx); err != nil {
		t.Fatalf("WriteHealth before any failed write: %v (it must not write on every check)", err)
	}
	err := s.CreateUser(ctx, testUser("bob"))
	if !errors.Is(err, accounts.ErrUnavailable) {
		t.Fatalf("CreateUser on a read-only file: %v, want ErrUnavailable", err)
	}
	if _, err := s.UserByUsername(ctx, "alice"); err != nil {
		t.Fatalf("read on a read-only file: %v", err)
	}
	if err := s.WriteHealth(ctx); !errors.Is(err, accounts.ErrNotWritable) {
		t.Fatalf("WriteHealth after a failed write: %v, want ErrNotWritable", err)
	}
	// Probes fail while the file stays read-only, beyond the window in
	// which one failed write would count.
	for range 8 {
		advance(accounts.WriteProbeInterval)
		if err := probeNow(t, s); !errors.Is(err, accounts.ErrNotWritable) {
			t.Fatalf("WriteHealth after a probe on a read-only file: %v, want ErrNotWritable", err)
		}
	}
	if _, err := s.wr.Exec("PRAGMA query_only = 0"); err != nil {
		t.Fatal(err)
	}
	advance(accounts.WriteProbeInterval)
	if err := probeNow(t, s); err != nil {
		t.Fatalf("WriteHealth after a probe on a writable file: %v", err)
	}
	if err := s.CreateUser(ctx, testUser("bob")); err != nil {
		t.Fatalf("CreateUser once writable: %v", err)
	}
}

// probeNow runs the readiness check, which must start a probe write, waits
// for the probe and returns WriteHealth's answer after it.
func probeNow(t *testing.T, s *Store) error {
	t.Helper()
	done := make(chan struct{})
	probe := func(ctx context.Context) error {
		defer close(done)
		return s.probeWrite(ctx)
	}
	// A check may find the previous probe still finishing, and then starts
	// none: check again until this one ran.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	timeout := time.After(10 * time.Second)
	for wait := true; wait; {
		s.health.Check(probe)
		select {
		case <-done:
			wait = false
		case <-tick.C:
		case <-timeout:
			t.Fatal("no probe write")
		}
	}
	return s.WriteHealth(context.Background())
}
