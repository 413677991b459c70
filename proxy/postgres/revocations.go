package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authgate/authgate/proxy/accounts"
)

// subjectRetention is how long a subject revocation is kept after its
// cut-off: it matters only while an access token issued before the cut-off
// can still be unexpired, and access tokens live minutes, so 30 days leaves
// ample margin for any configured access token lifetime up to that. The
// Store interface gives Prune no access token lifetime to go by.
const subjectRetention = 30 * 24 * time.Hour

// DenyAccessToken records d until d.ExpiresAt, and announces it to every
// listening replica. Denying a token again is not an error; the later
// expiry is kept.
func (s *Store) DenyAccessToken(ctx context.Context, d accounts.DeniedToken) error {
	const op = "deny access token"
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		// greatest ignores NULLs: a missing expiry never replaces a known one.
		if _, err := tx.Exec(ctx, `INSERT INTO denied_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (issuer, jti) DO UPDATE
			SET expires_at = greatest(denied_tokens.expires_at, excluded.expires_at)`,
			d.Issuer, d.JTI, timestamp(d.ExpiresAt)); err != nil {
			return wrapErr(op, err)
		}
		return announce(ctx, tx, op, &accounts.RevocationSet{Tokens: []accounts.DeniedToken{d}})
	})
}

// sessionEnd is the SQL for the time a revoked family's last access token
// was issued at the latest: the earlier of revoked_at and expires_at. A
// session revocation is in force until sessionEnd plus
// accounts.SessionRevocationRetention.
const sessionEnd = `least(f.revoked_at, coalesce(f.expires_at, f.revoked_at))`

// Revocations returns, from one snapshot, the denied tokens whose expiry is
// after now, the subject revocations whose cut-off is less than 30 days
// before now (see Prune), and the revoked families whose session
// revocation is still in force at now.
func (s *Store) Revocations(ctx context.Context, now time.Time) (*accounts.RevocationSet, error) {
	const op = "revocations"
	var denied []accounts.DeniedToken
	var subjects []accounts.SubjectRevocation
	var sessions []accounts.SessionRevocation
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		denied, subjects, sessions = nil, nil, nil
		rows, err := tx.Query(ctx, `SELECT issuer, jti, expires_at FROM denied_tokens
			WHERE expires_at > $1 ORDER BY expires_at`, instant(now))
		if err != nil {
			return wrapErr(op, err)
		}
		denied, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (accounts.DeniedToken, error) {
			var d accounts.DeniedToken
			var exp pgtype.Timestamptz
			err := row.Scan(&d.Issuer, &d.JTI, &exp)
			d.ExpiresAt = fromTimestamp(exp)
			return d, err
		})
		if err != nil {
			return wrapErr(op, err)
		}
		rows, err = tx.Query(ctx, `SELECT subject, revoked_before FROM subject_revocations
			WHERE revoked_before > $1 ORDER BY subject`, instant(now.Add(-subjectRetention)))
		if err != nil {
			return wrapErr(op, err)
		}
		subjects, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (accounts.SubjectRevocation, error) {
			var r accounts.SubjectRevocation
			var before pgtype.Timestamptz
			err := row.Scan(&r.Subject, &before)
			r.Before = fromTimestamp(before)
			return r, err
		})
		if err != nil {
			return wrapErr(op, err)
		}
		// revoked_at > cutoff narrows the scan to the partial index on
		// revoked_at; the end of the session then decides.
		cutoff := instant(now.Add(-accounts.SessionRevocationRetention))
		rows, err = tx.Query(ctx, `SELECT f.id, `+sessionEnd+` FROM refresh_families f
			WHERE f.revoked_at > $1 AND `+sessionEnd+` > $1 ORDER BY f.revoked_at`, cutoff)
		if err != nil {
			return wrapErr(op, err)
		}
		sessions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (accounts.SessionRevocation, error) {
			var r accounts.SessionRevocation
			var end pgtype.Timestamptz
			err := row.Scan(&r.FamilyID, &end)
			r.Until = fromTimestamp(end).Add(accounts.SessionRevocationRetention)
			return r, err
		})
		return wrapErr(op, err)
	})
	if err != nil {
		return nil, err
	}
	return &accounts.RevocationSet{Tokens: denied, Subjects: subjects, Sessions: sessions}, nil
}

// Prune deletes, in one transaction, what no longer has any effect at now:
// denied tokens that have expired, subject revocations whose cut-off is 30
// days or more before now (every access token they cover has expired by
// then), and families whose ExpiresAt has passed, with every token they
// issued. A revoked family is kept until it expires so that presenting one
// of its tokens is still recognised, and logged, as the use of a revoked
// family rather than of an unknown token, and until its session
// revocation ends (accounts.SessionRevocationRetention), so that a replica
// that loads revocations later still learns of it. It also deletes login
// failure counts quiet for more than a day (see failureRetention).
func (s *Store) Prune(ctx context.Context, now time.Time) error {
	const op = "prune"
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM denied_tokens WHERE expires_at IS NULL OR expires_at <= $1`, []any{instant(now)}},
			{`DELETE FROM subject_revocations WHERE revoked_before IS NULL OR revoked_before <= $1`,
				[]any{instant(now.Add(-subjectRetention))}},
			// refresh_tokens rows go by ON DELETE CASCADE.
			{`DELETE FROM refresh_families AS f WHERE (f.expires_at IS NULL OR f.expires_at <= $1)
				AND (f.revoked_at IS NULL OR ` + sessionEnd + ` <= $2)`,
				[]any{instant(now), instant(now.Add(-accounts.SessionRevocationRetention))}},
			{`DELETE FROM login_failures WHERE last_failure < $1`, []any{instant(now.Add(-failureRetention))}},
		} {
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return wrapErr(op, err)
			}
		}
		return nil
	})
}
