package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// WriteHealth reports whether the store can write, from the outcome of its
// latest write (see accounts.WriteMonitor): it fails, wrapping
// accounts.ErrNotWritable, for 30 s after a write failed because of the
// database (such as a server that became read-only after a failover,
// SQLSTATE 25006) unless a write succeeded since. While it fails, it starts
// a probe write at most every 5 s, so that readiness comes back once the
// database takes writes again. It never writes otherwise.
func (s *Store) WriteHealth(context.Context) error {
	return s.health.Check(s.probeWrite)
}

// probeWrite is a write transaction whose one statement needs write access
// (a read-only transaction or a standby refuses it) and changes nothing.
func (s *Store) probeWrite(ctx context.Context) error {
	const op = "write probe"
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM login_failures WHERE false")
		return wrapErr(op, err)
	})
}
