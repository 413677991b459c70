package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authgate/authgate/proxy/accounts"
)

var (
	// errClosed is the cause of every error after Close.
	errClosed = errors.New("store closed")
	// errSchemaTooNew refuses a database migrated by a newer authgate.
	errSchemaTooNew = errors.New("database schema is newer than this authgate supports")
)

// SQLSTATE codes the Store acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// Constraint names (migrations/0001_init.sql) that tell which unique key a
// new user collided with.
const (
	constraintUsername = "users_username_key"
	constraintEmail    = "users_email_key"
)

// requestClasses are the SQLSTATE classes of errors that the request
// caused rather than the database's state: the same call would fail again.
// They are plain errors; every other database error is an outage.
var requestClasses = map[string]bool{
	"0A": true, // feature not supported
	"21": true, // cardinality violation
	"22": true, // data exception, such as a NUL byte in a string
	"23": true, // integrity constraint violation
	"42": true, // syntax error or access rule violation
	"44": true, // with check option violation
}

// wrapErr turns a pgx error of operation op into the Store's errors:
// pgx.ErrNoRows is accounts.ErrNotFound; a unique violation on a user's
// username or email is accounts.ErrUsernameTaken or accounts.ErrEmailTaken;
// a foreign key violation (a family of an unknown user) is
// accounts.ErrNotFound; other errors the request caused (another
// constraint, such as a duplicate ID, or a value the database refuses) are
// plain errors; everything else (no connection, a timeout or canceled
// context, a closed store, a server shutting down or read-only after a
// failover, serialization failures that outlasted the retries) is
// accounts.ErrUnavailable. The cause stays in the chain.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, accounts.ErrNotFound)
	}
	var pe *pgconn.PgError
	if !outage(err) && errors.As(err, &pe) {
		switch {
		case pe.Code == codeUniqueViolation && pe.ConstraintName == constraintUsername:
			return fmt.Errorf("postgres: %s: %w", op, accounts.ErrUsernameTaken)
		case pe.Code == codeUniqueViolation && pe.ConstraintName == constraintEmail:
			return fmt.Errorf("postgres: %s: %w", op, accounts.ErrEmailTaken)
		case pe.Code == codeForeignKeyViolation:
			return fmt.Errorf("postgres: %s: %w: %w", op, accounts.ErrNotFound, err)
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return fmt.Errorf("postgres: %s: %w: %w", op, accounts.ErrUnavailable, err)
}

// outage reports whether err is the database's failure rather than the
// request's: anything but an error the server answered with a SQLSTATE in
// requestClasses. Failing to connect is always an outage, whatever the
// server answered.
func outage(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	return errors.As(err, &ce) || !errors.As(err, &pe) || !requestClasses[sqlClass(pe.Code)]
}

// classify wraps err of step with accounts.ErrUnavailable when it is an
// outage.
func classify(step string, err error) error {
	if outage(err) {
		return fmt.Errorf("%s: %w: %w", step, accounts.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", step, err)
}

func sqlClass(code string) string {
	if len(code) < 2 {
		return ""
	}
	return code[:2]
}

// retryable reports whether err is a serialization failure or a deadlock:
// the server rolled the transaction back, and running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}
