package postgres

import (
	"context"
	"embed"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/proxy/migration"
)

// Schema migrations are the files migrations/NNNN_name.sql, numbered from 1
// without gaps. Each applied one is a row of schema_migrations. A released
// migration is never edited: a schema change is a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey is the pg_advisory_lock key under which migrations run:
// the bytes of "authgate" read as a big-endian int64. Every process
// migrating a database takes it first, so replicas starting together
// apply each migration once, one after the other. Another application
// sharing the database must not use this key.
const migrationLockKey int64 = 0x6175746867617465

// migrationsTable records the applied migrations. It is created, under the
// lock, before anything else, so that its own creation never races.
const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer NOT NULL PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrations returns the embedded migrations in order.
func migrations() ([]migration.Migration, error) {
	return migration.Load(migrationFS, "migrations")
}

// migrate connects with cc, on a connection of its own (the advisory lock
// belongs to a session), and applies the migrations the database lacks
// under migrationLockKey, each in its own transaction together with its
// schema_migrations row, so a failure leaves the database at the last
// complete version. It returns the names of those it applied. The whole
// run, waiting for the lock included, is bounded by timeout.
func migrate(ctx context.Context, cc *pgx.ConnConfig, timeout time.Duration) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, classify("migrate: connect", err)
	}
	// Closing the session also releases the lock. It gets a moment of its
	// own: ctx may have ended.
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(ctx)
	}()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return nil, classify("migrate: lock", err)
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", migrationLockKey)
	if _, err := conn.Exec(ctx, migrationsTable); err != nil {
		return nil, classify("migrate: create schema_migrations", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	if len(done) > 0 && done[len(done)-1] > len(ms) {
		return nil, fmt.Errorf("migrate: %w: the database is at version %d, this authgate knows versions up to %d; upgrade authgate",
			errSchemaTooNew, done[len(done)-1], len(ms))
	}
	var applied []string
	for _, m := range ms {
		if slices.Contains(done, m.Version) {
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
			return applied, classify("migration "+m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}

// appliedVersions returns the versions in schema_migrations, ascending.
func appliedVersions(ctx context.Context, conn *pgx.Conn) ([]int, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, classify("migrate: read schema_migrations", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, classify("migrate: read schema_migrations", err)
	}
	return vs, nil
}

// apply runs m and records it, in one transaction.
func apply(ctx context.Context, conn *pgx.Conn, m migration.Migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// No arguments: the simple protocol, which runs several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
