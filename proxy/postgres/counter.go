package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/proxy/throttle"
)

// failureRetention is how long Prune keeps a key without failures: longer
// than any throttle.Config.Forget authgate uses (1h by default), after
// which the count no longer matters anyway.
const failureRetention = 24 * time.Hour

// AddFailure records a failure of key at now and returns key's count, this
// one included; a key whose last failure is forget or more before now
// starts again from one. It is one statement: concurrent failures of one
// key, from any replica, each count once.
func (s *Store) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (int, error) {
	const op = "add failure"
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return 0, err
	}
	defer cancel()
	var n int
	err = s.pool.QueryRow(ctx, `INSERT INTO login_failures AS lf (key, failures, last_failure) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN lf.last_failure <= $3 THEN 1 ELSE lf.failures + 1 END,
			last_failure = $2
		RETURNING failures`, key, instant(now), instant(now.Add(-forget))).Scan(&n)
	if err != nil {
		return 0, wrapErr(op, err)
	}
	return n, nil
}

// Failures returns key's failure count and the time of its last failure;
// 0 and the zero time for a key without failures.
func (s *Store) Failures(ctx context.Context, key string) (int, time.Time, error) {
	const op = "failures"
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer cancel()
	var n int
	var last time.Time
	err = s.pool.QueryRow(ctx, `SELECT failures, last_failure FROM login_failures WHERE key = $1`, key).Scan(&n, &last)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, wrapErr(op, err)
	}
	return n, last.UTC(), nil
}

// ClearFailures forgets key's failures. A key without any is not an error.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	const op = "clear failures"
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return wrapErr(op, err)
}

var _ throttle.Counter = (*Store)(nil)
