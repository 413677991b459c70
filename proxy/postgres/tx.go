package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authgate/authgate/proxy/accounts"
)

// maxAttempts is how many times a transaction that failed with a
// serialization failure or a deadlock is run in all. Row locks taken in a
// fixed order make both rare; the retries cover what remains, such as a
// deadlock with a statement run by hand.
const maxAttempts = 5

// bound starts operation op: it fails with accounts.ErrUnavailable once the
// Store is closed, and otherwise returns ctx limited to the Store's
// timeout.
func (s *Store) bound(ctx context.Context, op string) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return ctx, func() {}, fmt.Errorf("postgres: %s: %w: %w", op, accounts.ErrUnavailable, errClosed)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return ctx, cancel, nil
}

// write runs fn in a read-committed transaction and commits it, running it
// again (at most maxAttempts times in all) when the database rolled it back
// for a serialization failure or a deadlock. fn may thus run more than
// once; only the last run's transaction commits. An error from fn rolls
// back and is returned as is; errors of the database itself are wrapped by
// wrapErr with op. The outcome is recorded for WriteHealth.
func (s *Store) write(ctx context.Context, op string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	err := s.run(ctx, op, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
	s.health.Record(ctx, err)
	return err
}

// read runs fn in a read-only repeatable-read transaction, so that its
// queries see one snapshot.
func (s *Store) read(ctx context.Context, op string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.run(ctx, op, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (s *Store) run(ctx context.Context, op string, opts pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := s.once(ctx, op, opts, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		if backoff(ctx, attempt) != nil {
			return err
		}
	}
}

func (s *Store) once(ctx context.Context, op string, opts pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return wrapErr(op, err)
	}
	// A no-op after Commit. If ctx has ended the rollback cannot be sent,
	// and the pool discards the connection, whose transaction the server
	// then rolls back.
	defer tx.Rollback(ctx)
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return wrapErr(op, tx.Commit(ctx))
}

// backoff waits before attempt+1: a few milliseconds growing with attempt,
// jittered so that the transactions that collided do not collide again.
// It returns ctx's error if ctx ends first.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(attempt) * 5 * time.Millisecond
	d += rand.N(d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// timestamp is how a time is stored: a timestamptz to the millisecond (as
// the SQLite store keeps them, so that both answer alike), NULL for the
// zero time.
func timestamp(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.Truncate(time.Millisecond), Valid: true}
}

// fromTimestamp is the inverse of timestamp, in UTC.
func fromTimestamp(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// instant is t as a query parameter to compare stored times with: to the
// millisecond, as they are stored. Unlike timestamp, the zero time stays a
// time (the earliest), not NULL.
func instant(t time.Time) time.Time { return t.Truncate(time.Millisecond) }
