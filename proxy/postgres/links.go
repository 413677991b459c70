package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authgate/authgate/proxy/accounts"
)

// constraintLink is the primary key of external_links.
const constraintLink = "external_links_pkey"

// UserByLink returns the user linked to the external account (provider,
// subject), or accounts.ErrNotFound.
func (s *Store) UserByLink(ctx context.Context, provider, subject string) (*accounts.User, error) {
	const op = "user by link"
	ctx, cancel, err := s.bound(ctx, op)
	if err != nil {
		return nil, err
	}
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+prefixed("u.", userColumns)+`
		FROM external_links l JOIN users u ON u.id = l.user_id
		WHERE l.provider = $1 AND l.subject = $2`, provider, subject))
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
		return fmt.Errorf("postgres: %s: link of user %q given for user %q", op, l.UserID, u.ID)
	}
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertUser, userArgs(u)...); err != nil {
			return wrapErr(op, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO external_links (provider, subject, user_id, created_at)
			VALUES ($1, $2, $3, $4)`, l.Provider, l.Subject, l.UserID, timestamp(l.CreatedAt))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == constraintLink {
			return fmt.Errorf("postgres: %s: %w", op, accounts.ErrLinkTaken)
		}
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
