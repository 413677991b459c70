package sqlite

import (
	"context"
	"database/sql"
	"errors"
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
