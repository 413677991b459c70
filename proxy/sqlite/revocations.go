package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// subjectRetention is how long a subject revocation is kept after its
// cut-off: it matters only while an access token issued before the cut-off
// can still be unexpired, and access tokens live minutes, so 30 days leaves
// ample margin for any configured access token lifetime up to that. The
// Store interface gives Prune no access token lifetime to go by.
const subjectRetention = 30 * 24 * time.Hour

// DenyAccessToken records d until d.ExpiresAt. Denying a token again is not
// an error; the later expiry is kept.
func (s *Store) DenyAccessToken(ctx context.Context, d accounts.DeniedToken) error {
	const op = "deny access token"
	return s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO denied_tokens (issuer, jti, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = max(
				coalesce(expires_at, excluded.expires_at), coalesce(excluded.expires_at, expires_at))`,
			d.Issuer, d.JTI, millis(d.ExpiresAt))
		return wrapErr(op, err)
	})
}

// Revocations returns, from one snapshot, the denied tokens whose expiry is
// after now and the subject revocations whose cut-off is less than 30 days
// before now (see Prune).
func (s *Store) Revocations(ctx context.Context, now time.Time) ([]accounts.DeniedToken, []accounts.SubjectRevocation, error) {
	const op = "revocations"
	var denied []accounts.DeniedToken
	var subjects []accounts.SubjectRevocation
	err := s.read(ctx, op, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT issuer, jti, expires_at FROM denied_tokens
			WHERE expires_at > ? ORDER BY expires_at`, now.UnixMilli())
		if err != nil {
			return wrapErr(op, err)
		}
		for rows.Next() {
			var d accounts.DeniedToken
			var exp sql.NullInt64
			if err := rows.Scan(&d.Issuer, &d.JTI, &exp); err != nil {
				rows.Close()
				return wrapErr(op, err)
			}
			d.ExpiresAt = fromMillis(exp)
			denied = append(denied, d)
		}
		if err := rows.Err(); err != nil {
			return wrapErr(op, err)
		}
		rows, err = tx.QueryContext(ctx, `SELECT subject, revoked_before FROM subject_revocations
			WHERE revoked_before > ? ORDER BY subject`, now.Add(-subjectRetention).UnixMilli())
		if err != nil {
			return wrapErr(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var r accounts.SubjectRevocation
			var before sql.NullInt64
			if err := rows.Scan(&r.Subject, &before); err != nil {
				return wrapErr(op, err)
			}
			r.Before = fromMillis(before)
			subjects = append(subjects, r)
		}
		return wrapErr(op, rows.Err())
	})
	if err != nil {
		return nil, nil, err
	}
	return denied, subjects, nil
}

// Prune deletes, in one transaction, what no longer has any effect at now:
// denied tokens that have expired, subject revocations whose cut-off is 30
// days or more before now (every access token they cover has expired by
// then), and families whose ExpiresAt has passed, revoked or not, with
// every token they issued. A revoked family is kept until it expires so
// that presenting one of its tokens is still recognised, and logged, as
// the use of a revoked family rather than of an unknown token.
func (s *Store) Prune(ctx context.Context, now time.Time) error {
	const op = "prune"
	ms := now.UnixMilli()
	return s.write(ctx, op, func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql string
			arg int64
		}{
			{`DELETE FROM denied_tokens WHERE expires_at IS NULL OR expires_at <= ?`, ms},
			{`DELETE FROM subject_revocations WHERE revoked_before IS NULL OR revoked_before <= ?`,
				now.Add(-subjectRetention).UnixMilli()},
			// refresh_tokens rows go by ON DELETE CASCADE.
			{`DELETE FROM refresh_families WHERE expires_at IS NULL OR expires_at <= ?`, ms},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.arg); err != nil {
				return wrapErr(op, err)
			}
		}
		return nil
	})
}
