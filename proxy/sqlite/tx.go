package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// writeTimeout bounds a whole write: the wait for this process's writer
// connection, for a lock held by another connection or process (busy_timeout
// is the same 5 s), BEGIN retries and the transaction itself. A write that
// cannot finish within it fails with accounts.ErrUnavailable (answered 503).
const writeTimeout = busyTimeoutMS * time.Millisecond

// beginRetries is how many times a BEGIN IMMEDIATE that failed with
// SQLITE_BUSY is tried again, within writeTimeout. busy_timeout already
// waits for a lock held by another process; the retries cover the few cases
// where SQLite returns BUSY without consulting the busy handler (such as
// another connection running WAL recovery). Nothing has run yet, so
// retrying is always safe.
const beginRetries = 3

// write runs fn in a write transaction (BEGIN IMMEDIATE on the writer) and
// commits it, all within writeTimeout, and records the outcome for
// WriteHealth. An error from fn rolls back and is returned as is; errors of
// the database itself are wrapped by wrapErr with op.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	err := s.writeTx(ctx, op, fn)
	s.health.Record(ctx, err)
	return err
}

func (s *Store) writeTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	tx, err := s.begin(ctx)
	if err != nil {
		return wrapErr(op, err)
	}
	defer tx.Rollback() // no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrapErr(op, err)
	}
	return nil
}

// begin starts a write transaction, retrying BEGIN a few times on BUSY
// while ctx lasts.
func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	for attempt := 0; ; attempt++ {
		tx, err := s.wr.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) || attempt == beginRetries || ctx.Err() != nil {
			return tx, err
		}
		t := time.NewTimer(time.Duration(attempt+1) * 10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// read runs fn in a read transaction on a reader connection, so that its
// queries see one snapshot.
func (s *Store) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.rd.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrapErr(op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return wrapErr(op, tx.Commit())
}

// millis is how a time is stored: unix milliseconds, NULL for the zero
// time.
func millis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMillis is the inverse of millis, in UTC.
func fromMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}
