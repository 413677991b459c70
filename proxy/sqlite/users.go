package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
func emailKey(email string) sql.NullString {
	if email == "" {
		return sql.NullString{}
	}
	return sql.NullString{String: foldKey(email), Valid: true}
}

// encodeRoles is the roles column: a JSON array, "[]" for none.
func encodeRoles(roles []string) (string, error) {
	if len(roles) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(roles)
	return string(b), err
}

// insertUser adds a user row; userArgs are its arguments.
const insertUser = `INSERT INTO users
	(id, username, username_key, email, email_key, email_verified, password_hash, roles, disabled, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// userArgs are the arguments of insertUser for u, whose roles are
// encoded as encodeRoles does.
func userArgs(u *accounts.User, roles string) []any {
	return []any{u.ID, u.Username, foldKey(u.Username), u.Email, emailKey(u.Email), u.EmailVerified, u.PasswordHash,
		roles, u.Disabled, millis(u.CreatedAt), millis(u.UpdatedAt)}
}

// CreateUser inserts u. A username or email already used by another user,
// compared by accounts.FoldKey, is accounts.ErrUsernameTaken or
// accounts.ErrEmailTaken.
func (s *Store) CreateUser(ctx context.Context, u *accounts.User) error {
	const op = "create user"
	roles, err := encodeRoles(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlite: %s: roles: %w", op, err)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, insertUser, userArgs(u, roles)...)
		return wrapErr(op, err)
	})
}

// UserByID returns the user with that ID, or accounts.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (*accounts.User, error) {
	return s.userWhere(ctx, "user by id", "id = ?", id)
}

// UserByUsername returns the user with that username, compared by
// accounts.FoldKey, or accounts.ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, username string) (*accounts.User, error) {
	return s.userWhere(ctx, "user by username", "username_key = ?", foldKey(username))
}

// UserByEmail returns the user with that email, compared by accounts.FoldKey,
// or accounts.ErrNotFound. No user matches the empty email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*accounts.User, error) {
	if email == "" {
		return nil, fmt.Errorf("sqlite: user by email: %w", accounts.ErrNotFound)
	}
	u, err := s.userWhere(ctx, "user by email", "email_key = ?", foldKey(email))
	if errors.Is(err, accounts.ErrNotFound) && legacyKey(email) != foldKey(email) {
		return s.userWhere(ctx, "user by email", "email_key = ?", legacyKey(email))
	}
	return u, err
}

func (s *Store) userWhere(ctx context.Context, op, where string, arg any) (*accounts.User, error) {
	row := s.rd.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg)
	u, err := scanUser(row)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	return u, nil
}

// ListUsers returns every user, ordered by creation (ties in insertion
// order).
func (s *Store) ListUsers(ctx context.Context) ([]accounts.User, error) {
	const op = "list users"
	rows, err := s.rd.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, rowid`)
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
func scanUser(row interface{ Scan(...any) error }) (*accounts.User, error) {
	var u accounts.User
	var roles string
	var created, updated sql.NullInt64
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.PasswordHash, &roles, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return nil, fmt.Errorf("roles of user %s: %w", u.ID, err)
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &u, nil
}

// UpdateUser reads the user id inside a write transaction, applies change
// and stores Email, EmailVerified, PasswordHash, Roles, Disabled and
// UpdatedAt (accounts.ErrNotFound if there is no such user,
// accounts.ErrEmailTaken if another user has the email). An unchanged
// email keeps its stored key, legacy or not (see legacyKey). With a non-nil revoke it
// also, in the same transaction, revokes every live family of the user and
// records the subject revocation; a later cut-off already recorded for the
// user is kept.
func (s *Store) UpdateUser(ctx context.Context, id string, change func(u *accounts.User) error, revoke *accounts.Revocation) error {
	const op = "update user"
	if revoke != nil && revoke.At.IsZero() {
		return fmt.Errorf("sqlite: %s: revocation without a time", op)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: %s %s: %w", op, id, accounts.ErrNotFound)
		}
		if err != nil {
			return wrapErr(op, err)
		}
		if err := change(u); err != nil {
			return err
		}
		roles, err := encodeRoles(u.Roles)
		if err != nil {
			return fmt.Errorf("sqlite: %s: roles: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users
			SET email_key = CASE WHEN email = ? THEN email_key ELSE ? END, email = ?, email_verified = ?,
				password_hash = ?, roles = ?, disabled = ?, updated_at = ?
			WHERE id = ?`,
			u.Email, emailKey(u.Email), u.Email, u.EmailVerified,
			u.PasswordHash, roles, u.Disabled, millis(u.UpdatedAt), id); err != nil {
			return wrapErr(op, err)
		}
		if revoke == nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_families
			SET revoked_at = ?, revoke_reason = ? WHERE user_id = ? AND revoked_at IS NULL`,
			millis(revoke.At), revoke.Reason, id); err != nil {
			return wrapErr(op, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subject_revocations (subject, revoked_before) VALUES (?, ?)
			ON CONFLICT (subject) DO UPDATE SET revoked_before = max(revoked_before, excluded.revoked_before)`,
			id, millis(revoke.At))
		return wrapErr(op, err)
	})
}
