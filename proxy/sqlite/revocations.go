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

// sessionEnd is the SQL for the time a revoked family's last access token
// was issued at the latest: the earlier of revoked_at and expires_at. A
// session revocation is in force until sessionEnd plus
// accounts.SessionRevocationRetention.
const sessionEnd = `min(f.revoked_at, coalesce(f.expires_at, f.revoked_at))`

// sessionRevocationsQuery lists the revoked families whose session ended
// after ?1. revoked_at > ?1 narrows the scan to the partial index on
// revoked_at; the end of the session then decides.
const sessionRevocationsQuery = `SELECT f.id, ` + sessionEnd + ` FROM refresh_families f
	WHERE f.revoked_at > ?1 AND ` + sessionEnd + ` > ?1 ORDER BY f.revoked_at`

// Revocations returns, from one snapshot, the denied tokens whose expiry is
// after now, the subject revocations whose cut-off is less than 30 days
// before now (see Prune) and the revoked families whose session revocation
// is still in force at now.
func (s *Store) Revocations(ctx context.Context, now time.Time) (*accounts.RevocationSet, error) {
	const op = "revocations"
	set := &accounts.RevocationSet{}
	err := s.read(ctx, op, func(tx *sql.Tx) error {
		if err := queryRows(ctx, tx, `SELECT issuer, jti, expires_at FROM denied_tokens
			WHERE expires_at > ? ORDER BY expires_at`, now.UnixMilli(), func(rows *sql.Rows) error {
			var d accounts.DeniedToken
			var exp sql.NullInt64
			if err := rows.Scan(&d.Issuer, &d.JTI, &exp); err != nil {
				return err
			}
			d.ExpiresAt = fromMillis(exp)
			set.Tokens = append(set.Tokens, d)
			return nil
		}); err != nil {
			return wrapErr(op, err)
		}
		if err := queryRows(ctx, tx, `SELECT subject, revoked_before FROM subject_revocations
			WHERE revoked_before > ? ORDER BY subject`, now.Add(-subjectRetention).UnixMilli(), func(rows *sql.Rows) error {
			var r accounts.SubjectRevocation
			var before sql.NullInt64
			if err := rows.Scan(&r.Subject, &before); err != nil {
				return err
			}
			r.Before = fromMillis(before)
			set.Subjects = append(set.Subjects, r)
			return nil
		}); err != nil {
			return wrapErr(op, err)
		}
		cutoff := now.Add(-accounts.SessionRevocationRetention).UnixMilli()
		err := queryRows(ctx, tx, sessionRevocationsQuery, cutoff, func(rows *sql.Rows) error {
			var r accounts.SessionRevocation
			var end sql.NullInt64
			if err := rows.Scan(&r.FamilyID, &end); err != nil {
				return err
			}
			r.Until = fromMillis(end).Add(accounts.SessionRevocationRetention)
			set.Sessions = append(set.Sessions, r)
			return nil
		})
		return wrapErr(op, err)
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// queryRows runs query with arg and calls scan for each row.
func queryRows(ctx context.Context, tx *sql.Tx, query string, arg any, scan func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Prune deletes, in one transaction, what no longer has any effect at now:
// denied tokens that have expired, subject revocations whose cut-off is 30
// days or more before now (every access token they cover has expired by
// then), and families whose ExpiresAt has passed, with every token they
// issued. A revoked family is kept until it expires, so that presenting
// one of its tokens is still recognised, and logged, as the use of a
// revoked family rather than of an unknown token, and also while its
// session revocation is in force, so that Revocations still reports it.
func (s *Store) Prune(ctx context.Context, now time.Time) error {
	const op = "prune"
	ms := now.UnixMilli()
	return s.write(ctx, op, func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM denied_tokens WHERE expires_at IS NULL OR expires_at <= ?`, []any{ms}},
			{`DELETE FROM subject_revocations WHERE revoked_before IS NULL OR revoked_before <= ?`,
				[]any{now.Add(-subjectRetention).UnixMilli()}},
			// refresh_tokens rows go by ON DELETE CASCADE.
			{`DELETE FROM refresh_families AS f WHERE (f.expires_at IS NULL OR f.expires_at <= ?)
				AND (f.revoked_at IS NULL OR ` + sessionEnd + ` <= ?)`,
				[]any{ms, now.Add(-accounts.SessionRevocationRetention).UnixMilli()}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return wrapErr(op, err)
			}
		}
		return nil
	})
}
