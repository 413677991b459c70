package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/authgate/authgate/proxy/migration"
)

// Schema migrations are the files migrations/NNNN_name.sql, numbered from 1
// without gaps. The database's PRAGMA user_version is the number of the
// last one applied. A released migration is never edited: a schema change
// is a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// errSchemaTooNew refuses a database migrated by a newer authgate.
var errSchemaTooNew = errors.New("database schema is newer than this authgate supports")

// migrations returns the embedded migrations in order.
func migrations() ([]migration.Migration, error) {
	return migration.Load(migrationFS, "migrations")
}

// migrate applies, on the writer db, every migration newer than the
// database's user_version, each in its own write transaction together with
// the user_version bump, so a failure leaves the database at the last
// complete version. The version is read again inside each transaction:
// another process may be migrating the same file.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, db, m, len(ms)); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// apply runs m unless the database already has it. It refuses a database
// whose version is above latest.
func apply(ctx context.Context, db *sql.DB, m migration.Migration, latest int) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the writer's _txlock
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read user_version: %w", err)
	}
	if v > latest {
		return fmt.Errorf("%w: the file is at version %d, this authgate knows versions up to %d; upgrade authgate",
			errSchemaTooNew, v, latest)
	}
	if v >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	// PRAGMA takes no parameters; the version is an int from the file name.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version)); err != nil {
		return fmt.Errorf("set user_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
