// Package sqlite is the embedded accounts.Store: one SQLite file, written
// through modernc.org/sqlite (pure Go, no cgo).
//
// The file is in WAL mode with synchronous=FULL, so a method that returned
// nil has its transaction fsynced to the WAL: neither a killed process nor a
// power loss undoes it. Several processes may share the file; SQLite's file
// locks serialise their writes.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/authgate/authgate/proxy/accounts"
)

// busyTimeoutMS is how long a statement waits for a lock held by another
// connection or process before failing with SQLITE_BUSY (then answered 503).
// A write as a whole is bounded by writeTimeout, the same 5 s.
const busyTimeoutMS = 5000

// Store is an accounts.Store on one SQLite file. It is safe for concurrent
// use, and several Stores (in one or several processes) may share a file.
//
// It keeps two connection pools on the file, because WAL allows any number
// of concurrent readers but one writer at a time:
//
//   - wr, the writer: a single connection. Every write is a transaction on
//     it started with BEGIN IMMEDIATE (_txlock=immediate), which takes the
//     write lock up front, so a read-then-write transaction (UpdateFamily)
//     never has to upgrade a read lock, which in WAL can fail with
//     SQLITE_BUSY_SNAPSHOT however long it waits. Writers in this process
//     queue, in order and honouring their contexts, for that one connection
//     in database/sql rather than by polling SQLite's busy handler; writers
//     in other processes are waited for by busy_timeout. More writer
//     connections would add no throughput, only lock polling.
//   - rd, the readers: up to GOMAXPROCS connections (at least 4), read-only
//     (query_only), that read the last committed state without waiting for
//     the writer.
type Store struct {
	path   string
	wr     *sql.DB
	rd     *sql.DB
	health accounts.WriteMonitor // outcome of the latest write
}

var _ accounts.Store = (*Store)(nil)

// Open opens the SQLite database at path, creating the file if needed (its
// directory must exist), and migrates its schema to the latest version. A
// database written by a newer authgate, with a schema this one does not
// know, is refused.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: directory: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("sqlite: open %s: %s is not a directory", path, filepath.Dir(path))
	}
	wr, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wr.SetMaxOpenConns(1)
	wr.SetMaxIdleConns(1)
	wr.SetConnMaxLifetime(0)
	wr.SetConnMaxIdleTime(0)
	s := &Store{path: path, wr: wr}
	// The writer connects first: it creates the file, switches it to WAL
	// and migrates it before any reader looks at it.
	if err := s.checkPragmas(ctx); err != nil {
		wr.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, wr); err != nil {
		wr.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rd, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		wr.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rd.SetMaxOpenConns(n)
	rd.SetMaxIdleConns(n)
	s.rd = rd
	if err := rd.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// dsn is the modernc.org/sqlite data source name for path: a file: URI
// whose query configures every new connection (see the driver's doc).
func dsn(path string, writer bool) string {
	// In a URI, '?' and '#' would end the path and '%' starts an escape.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMS),
		"_pragma=foreign_keys(1)",
		// FULL: each commit fsyncs the WAL. NORMAL in WAL mode would only
		// fsync at checkpoints, and a power loss could undo transactions
		// whose success was already reported.
		"_pragma=synchronous(FULL)",
	}
	if writer {
		// journal_mode is persistent in the file; the writer sets it.
		q = append(q, "_pragma=journal_mode(WAL)", "_txlock=immediate")
	} else {
		q = append(q, "_query_only=1")
	}
	return "file:" + esc + "?" + strings.Join(q, "&")
}

// checkPragmas verifies, on the writer, that the file really is in WAL mode
// (a file system without shared memory support silently keeps the old
// mode) with the settings the durability promise depends on.
func (s *Store) checkPragmas(ctx context.Context) error {
	var mode string
	var sync, fk int
	if err := s.wr.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if err := s.wr.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return err
	}
	if err := s.wr.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	switch {
	case !strings.EqualFold(mode, "wal"):
		return fmt.Errorf("journal_mode is %q, not wal", mode)
	case sync != 2:
		return fmt.Errorf("synchronous is %d, not 2 (FULL)", sync)
	case fk != 1:
		return errors.New("foreign_keys is off")
	}
	return nil
}

// Ping reports whether the database file can be read, from both pools.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.rd.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return wrapErr("ping", err)
	}
	if err := s.wr.PingContext(ctx); err != nil {
		return wrapErr("ping", err)
	}
	return nil
}

// WriteHealth reports whether the store can write, from the outcome of
// its latest write (see accounts.WriteMonitor): it fails, wrapping
// accounts.ErrNotWritable, for 30 s after a write failed because of the
// database (a read-only file, a full disk, a lock held past the write
// timeout) unless a write succeeded since. While it fails, it starts a
// probe write (rewriting PRAGMA user_version unchanged) at most every 5 s,
// so that readiness comes back once the file is writable again.
func (s *Store) WriteHealth(context.Context) error {
	return s.health.Check(s.probeWrite)
}

// probeWrite is the smallest real write: it rewrites the schema version
// with its own value, in a write transaction.
func (s *Store) probeWrite(ctx context.Context) error {
	return s.write(ctx, "write probe", func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return wrapErr("write probe", err)
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
		return wrapErr("write probe", err)
	})
}

// Close closes the database. Calls after Close fail with
// accounts.ErrUnavailable.
func (s *Store) Close() error {
	var errs []error
	if s.rd != nil {
		errs = append(errs, s.rd.Close())
	}
	// The writer closes last: as the last connection to the file it
	// checkpoints the WAL into the database.
	errs = append(errs, s.wr.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}
