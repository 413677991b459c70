package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authgate/authgate/proxy/accounts"
)

// userColumns are the columns scanUser reads, in order.
const userColumns = `id, username, email, email_verified, password_hash, roles, disabled, created_at, updated_at`

// foldKey is the form in which usernames and emails are compared:
// accounts.FoldKey, computed here in Go rather than by the database, so the
// same names collide in every store.
func foldKey(s string) string { return accounts.FoldKey(s) }

// legacyKey is the key versions before accounts.FoldKey stored: the lower
// case. It differs from foldKey only for some non-ASCII names (usernames are
// ASCII), so UserByEmail tries it when foldKey finds nobody, and users
// created earlier with such an email can still sign in by it.
func legacyKey(s string) string { return strings.ToLower(s) }

// emailKey is the email_key column: NULL for no email, so that any number
// of users may have none.
func emailKey(email string) pgtype.Text {
	if email == "" {
		return pgtype.Text{}
	}
	return pgtype.Text{String: foldKey(email), Valid: true}
}

// roles is the roles column: a text array, empty (not NULL) for none.
func roles(rs []string) []string {
	if rs == nil {
		return []string{}
	}
	return rs
}

// insertUser adds a user row; userArgs are its arguments.
const insertUser = `INSERT INTO users
	(id, username, username_key, email, email_key, email_verified, password_hash, roles, disabled, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// userArgs are the arguments of insertUser for u.
func userArgs(u *accounts.User) []any {
	return []any{u.ID, u.Username, foldKey(u.Username), u.Email, emailKey(u.Email), u.EmailVerified, u.PasswordHash,
		roles(u.Roles), u.Disabled, timestamp(u.CreatedAt), timestamp(u.UpdatedAt)}
}

// CreateUser inserts u. A username or email already used by another user,
// compared by accounts.FoldKey, is accounts.ErrUsernameTaken or
// accounts.ErrEmailTaken.
func (s *Store) CreateUser(ctx context.Context, u *accounts.User) error {
	const op = "create user"
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, insertUser, userArgs(u)...)
	return wrapErr(op, err)
}

// UserByID returns the user with that ID, or accounts.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (*accounts.User, error) {
	return s.userWhere(ctx, "user by id", "id = $1", id)
}

// UserByUsername returns the user with that username, compared by
// accounts.FoldKey, or accounts.ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, username string) (*accounts.User, error) {
	return s.userWhere(ctx, "user by username", "username_key = $1", foldKey(username))
}

// UserByEmail returns the user with that email, compared by accounts.FoldKey,
// or accounts.ErrNotFound. No user matches the empty email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*accounts.User, error) {
	if email == "" {
		if s.closed.Load() {
			return nil, fmt.Errorf("postgres: user by email: %w: %w", accounts.ErrUnavailable, errClosed)
		}
		return nil, fmt.Errorf("postgres: user by email: %w", accounts.ErrNotFound)
	}
	u, err := s.userWhere(ctx, "user by email", "email_key = $1", foldKey(email))
	if errors.Is(err, accounts.ErrNotFound) && legacyKey(email) != foldKey(email) {
		return s.userWhere(ctx, "user by email", "email_key = $1", legacyKey(email))
	}
	return u, err
}

func (s *Store) userWhere(ctx context.Context, op, where string, arg any) (*accounts.User, error) {
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return nil, err
	}
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	return u, nil
}

// ListUsers returns every user, ordered by creation (the zero time first,
// ties in insertion order).
func (s *Store) ListUsers(ctx context.Context) ([]accounts.User, error) {
	const op = "list users"
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return nil, err
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at NULLS FIRST, seq`)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	defer rows.Close()
	var out []accounts.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrapErr(op, err)
		}
		out = append(out, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(op, err)
	}
	return out, nil
}

// scanUser reads one row of userColumns.
func scanUser(row pgx.Row) (*accounts.User, error) {
	var u accounts.User
	var created, updated pgtype.Timestamptz
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.PasswordHash, &u.Roles, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	if len(u.Roles) == 0 {
		u.Roles = nil
	}
	u.CreatedAt, u.UpdatedAt = fromTimestamp(created), fromTimestamp(updated)
	return &u, nil
}

// UpdateUser reads the user id inside a transaction, locking its row, applies
// change and stores Email, EmailVerified, PasswordHash, Roles, Disabled and
// UpdatedAt (accounts.ErrNotFound if there is no such user,
// accounts.ErrEmailTaken if another user has the email; an unchanged email
// keeps its stored key, legacy or not). Concurrent UpdateUser
// calls for the same user, from any replica, take turns: each change sees
// the previous one's result. With a non-nil revoke it also, in the same
// transaction, revokes every live family of the user and records the
// subject revocation; a later cut-off already recorded for the user is
// kept. change may run more than once if the transaction is retried (see
// write); only the last run's result is stored.
func (s *Store) UpdateUser(ctx context.Context, id string, change func(u *accounts.User) error, revoke *accounts.Revocation) error {
	const op = "update user"
	if revoke != nil && revoke.At.IsZero() {
		return fmt.Errorf("postgres: %s: revocation without a time", op)
	}
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		// FOR NO KEY UPDATE is the lock the UPDATE below takes anyway,
		// taken at the read: it excludes other writers of the row, but not
		// the foreign key checks of logins creating families meanwhile.
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR NO KEY UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: %s %s: %w", op, id, accounts.ErrNotFound)
		}
		if err != nil {
			return wrapErr(op, err)
		}
		if err := change(u); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users
			SET email_key = CASE WHEN email = $1 THEN email_key ELSE $2 END, email = $1, email_verified = $3,
				password_hash = $4, roles = $5, disabled = $6, updated_at = $7
			WHERE id = $8`,
			u.Email, emailKey(u.Email), u.EmailVerified, u.PasswordHash, roles(u.Roles), u.Disabled, timestamp(u.UpdatedAt), id); err != nil {
			return wrapErr(op, err)
		}
		if revoke == nil {
			return nil
		}
		at := revoke.At.UTC().Truncate(time.Millisecond)
		rows, err := tx.Query(ctx, `UPDATE refresh_families
			SET revoked_at = $1, revoke_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL
			RETURNING id, expires_at`, timestamp(revoke.At), revoke.Reason, id)
		if err != nil {
			return wrapErr(op, err)
		}
		sessions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (accounts.SessionRevocation, error) {
			var r accounts.SessionRevocation
			var expires pgtype.Timestamptz
			err := row.Scan(&r.FamilyID, &expires)
			r.Until = accounts.SessionRevokedUntil(at, fromTimestamp(expires))
			return r, err
		})
		if err != nil {
			return wrapErr(op, err)
		}
		if _, err = tx.Exec(ctx, `INSERT INTO subject_revocations (subject, revoked_before) VALUES ($1, $2)
			ON CONFLICT (subject) DO UPDATE
			SET revoked_before = greatest(subject_revocations.revoked_before, excluded.revoked_before)`,
			id, timestamp(revoke.At)); err != nil {
			return wrapErr(op, err)
		}
		return announce(ctx, tx, op, &accounts.RevocationSet{Sessions: sessions,
			Subjects: []accounts.SubjectRevocation{{Subject: id, Before: at}}})
	})
}
