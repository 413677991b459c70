package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/authgate/authgate/proxy/accounts"
)

// UserByLink returns the user linked to the external account (provider,
// subject), or accounts.ErrNotFound.
func (s *Store) UserByLink(ctx context.Context, provider, subject string) (*accounts.User, error) {
	const op = "user by link"
	row := s.rd.QueryRowContext(ctx, `SELECT `+prefixed("u.", userColumns)+`
		FROM external_links l JOIN users u ON u.id = l.user_id
		WHERE l.provider = ? AND l.subject = ?`, provider, subject)
	u, err := scanUser(row)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	return u, nil
}

// CreateLinkedUser inserts u and its link l in one transaction. A taken
// username or email is accounts.ErrUsernameTaken or accounts.ErrEmailTaken,
// a taken link accounts.ErrLinkTaken; nothing is stored then.
func (s *Store) CreateLinkedUser(ctx context.Context, u *accounts.User, l accounts.Link) error {
	const op = "create linked user"
	if l.UserID != u.ID {
		return fmt.Errorf("sqlite: %s: link of user %q given for user %q", op, l.UserID, u.ID)
	}
	roles, err := encodeRoles(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlite: %s: roles: %w", op, err)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM external_links WHERE provider = ? AND subject = ?`,
			l.Provider, l.Subject).Scan(&n); err != nil {
			return wrapErr(op, err)
		}
		if n > 0 {
			return fmt.Errorf("sqlite: %s: %w", op, accounts.ErrLinkTaken)
		}
		if _, err := tx.ExecContext(ctx, insertUser, userArgs(u, roles)...); err != nil {
			return wrapErr(op, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO external_links (provider, subject, user_id, created_at)
			VALUES (?, ?, ?, ?)`, l.Provider, l.Subject, l.UserID, millis(l.CreatedAt))
		return wrapErr(op, err)
	})
}

// prefixed qualifies every column of a comma-separated list with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = p + c
	}
	return strings.Join(cols, ", ")
}
