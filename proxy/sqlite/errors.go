package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/authgate/authgate/proxy/accounts"
)

// wrapErr turns a database/sql or driver error of operation op into the
// Store's errors: sql.ErrNoRows is accounts.ErrNotFound, a UNIQUE violation
// on a user's username or email is accounts.ErrUsernameTaken or
// accounts.ErrEmailTaken, a foreign key violation (a family of an unknown
// user) is accounts.ErrNotFound, any other constraint violation (a caller
// bug, such as a duplicate ID) is a plain error, and everything else (I/O,
// locks, a closed store, a context ended) is accounts.ErrUnavailable. The
// cause stays in the chain.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, accounts.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		switch {
		case se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "users.username_key"):
			return fmt.Errorf("sqlite: %s: %w", op, accounts.ErrUsernameTaken)
		case se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "users.email_key"):
			return fmt.Errorf("sqlite: %s: %w", op, accounts.ErrEmailTaken)
		case se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, accounts.ErrNotFound, err)
		}
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return fmt.Errorf("sqlite: %s: %w: %w", op, accounts.ErrUnavailable, err)
}

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (any extended
// code): another connection held a lock past busy_timeout, or one the busy
// handler is not consulted for.
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}
