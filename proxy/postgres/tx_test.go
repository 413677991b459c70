package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authgate/authgate/proxy/accounts"
)

// TestRetries checks which failures write runs again, and how often.
func TestRetries(t *testing.T) {
	t.Parallel()
	s, _ := openFresh(t, Options{})
	other := errors.New("decided against")
	for _, tc := range []struct {
		name      string
		failures  int // calls that fail before one succeeds
		failure   error
		wantCalls int
		wantErr   error
	}{
		{"serialization failure retried", 2, &pgconn.PgError{Code: codeSerializationFailure}, 3, nil},
		{"deadlock retried", 1, &pgconn.PgError{Code: codeDeadlockDetected}, 2, nil},
		{"gives up after maxAttempts", 100, &pgconn.PgError{Code: codeSerializationFailure}, maxAttempts, accounts.ErrUnavailable},
		{"other database error not retried", 100, &pgconn.PgError{Code: codeUniqueViolation}, 1, errors.New("any")},
		{"fn's own error not retried", 100, other, 1, other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := s.write(t.Context(), "test", func(ctx context.Context, tx pgx.Tx) error {
				calls++
				if calls <= tc.failures {
					if errors.Is(tc.failure, other) {
						return tc.failure
					}
					return wrapErr("test", tc.failure)
				}
				return nil
			})
			if calls != tc.wantCalls {
				t.Errorf("fn ran %d times, want %d", calls, tc.wantCalls)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("write: %v", err)
			case tc.wantErr != nil && err == nil:
				t.Errorf("write succeeded, want an error")
			case tc.wantErr == accounts.ErrUnavailable || tc.wantErr == other:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("write: %v, want %v", err, tc.wantErr)
				}
			}
		})
	}
}
