// Package postgres is the accounts.Store on PostgreSQL, through
// github.com/jackc/pgx/v5 and its pool, for several authgate replicas
// sharing one database.
//
// Every method is one statement or one transaction, bounded by
// Options.Timeout. A method that returned nil has committed, and with
// PostgreSQL's default synchronous_commit=on the commit is flushed to the
// server's write-ahead log before it is acknowledged. Writes that read
// first (UpdateUser, UpdateFamily) lock the row they read, so replicas
// updating the same user or refresh-token family take turns.
//
// The schema is migrated by Open (or Migrate) under a PostgreSQL advisory
// lock, so replicas starting together apply each migration once. The
// database should be authgate's own, or the URL should select a schema of
// its own (search_path parameter): the tables, including
// schema_migrations, have plain names.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authgate/authgate/proxy/accounts"
)

// Store is an accounts.Store on a PostgreSQL database. It is safe for
// concurrent use, and any number of Stores, in one process or several, may
// share a database.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	closed  atomic.Bool
	health  accounts.WriteMonitor // outcome of the latest write
}

var _ accounts.Store = (*Store)(nil)

// Open connects to the database at rawURL
// (postgres://user:password@host:5432/dbname?sslmode=verify-full), checks
// that it answers, and migrates its schema to the latest version, as
// Migrate does. A database migrated by a newer authgate, whose schema this
// one does not know, is refused, and so is one whose settings would let a
// crash undo acknowledged commits (fsync or synchronous_commit off). A database that cannot be reached is
// accounts.ErrUnavailable. Errors name the URL with its password masked.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("postgres: open: options: %w", err)
	}
	cfg, u, err := poolConfig(rawURL, opts)
	if err != nil {
		return nil, describe("open", u, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, describe("open", u, err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	err = checkDurability(checkCtx, pool)
	cancel()
	if err != nil {
		pool.Close()
		return nil, describe("open", u, err)
	}
	if _, err := migrate(ctx, cfg.ConnConfig, opts.MigrateTimeout); err != nil {
		pool.Close()
		return nil, describe("open", u, err)
	}
	return &Store{pool: pool, timeout: opts.Timeout}, nil
}

// Migrate connects to the database at rawURL and applies the migrations it
// lacks, returning their names ("0001_init.sql") in order; none when the
// schema is up to date. It waits, up to Options.MigrateTimeout, for
// another process migrating the same database. Only Options'
// ConnectTimeout and MigrateTimeout apply. A schema newer than this
// authgate knows is refused.
func Migrate(ctx context.Context, rawURL string, opts Options) (applied []string, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: options: %w", err)
	}
	cfg, u, err := poolConfig(rawURL, opts)
	if err != nil {
		return nil, describe("migrate", u, err)
	}
	applied, err = migrate(ctx, cfg.ConnConfig, opts.MigrateTimeout)
	if err != nil {
		return applied, describe("migrate", u, err)
	}
	return applied, nil
}

// checkDurability connects and verifies the settings the durability
// promise depends on: fsync on, and synchronous_commit not off (which
// acknowledges a commit before it is flushed, so a server crash could undo
// it). Either may be set for the server, the database, the role or, by a
// URL parameter, the session. Other values of synchronous_commit (local,
// remote_write, on, remote_apply) all flush the commit locally first.
func checkDurability(ctx context.Context, pool *pgxpool.Pool) error {
	var fsync, syncCommit string
	err := pool.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &syncCommit)
	switch {
	case err != nil:
		return classify("ping", err)
	case fsync != "on":
		return fmt.Errorf("fsync is %q: a crash could lose committed changes", fsync)
	case syncCommit == "off":
		return errors.New("synchronous_commit is off: a crash could lose committed changes")
	}
	return nil
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	const op = "ping"
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	return wrapErr(op, s.pool.Ping(ctx))
}

// Close closes the pool, waiting for connections in use to be returned.
// Closing again does nothing; other methods called after Close fail with
// accounts.ErrUnavailable.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}
