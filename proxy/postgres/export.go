package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authgate/authgate/proxy/accounts"
)

// Export reads everything the store holds, from one snapshot (a read-only
// repeatable-read transaction), so the dump is consistent while replicas
// keep writing: users in ListUsers' order, families with every token
// they issued, denied tokens and subject revocations, expired or not, and
// the users' links to external providers.
// Login failure counts are not part of a dump.
func (s *Store) Export(ctx context.Context) (*accounts.Dump, error) {
	const op = "export"
	var d *accounts.Dump
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		d = &accounts.Dump{}
		steps := []struct {
			query string
			scan  func(row pgx.CollectableRow) error
		}{
			{`SELECT ` + userColumns + ` FROM users ORDER BY created_at NULLS FIRST, seq`, func(row pgx.CollectableRow) error {
				u, err := scanUser(row)
				if err == nil {
					d.Users = append(d.Users, *u)
				}
				return err
			}},
			{`SELECT ` + familyColumns + ` FROM refresh_families f ORDER BY f.created_at NULLS FIRST, f.id`, func(row pgx.CollectableRow) error {
				f, err := scanFamily(row)
				if err == nil {
					d.Families = append(d.Families, *f)
				}
				return err
			}},
			{`SELECT hash, family_id, issued_at FROM refresh_tokens ORDER BY family_id, issued_at NULLS FIRST, hash`, func(row pgx.CollectableRow) error {
				var t accounts.IssuedToken
				var at pgtype.Timestamptz
				if err := row.Scan(&t.Hash, &t.FamilyID, &at); err != nil {
					return err
				}
				t.IssuedAt = fromTimestamp(at)
				d.Tokens = append(d.Tokens, t)
				return nil
			}},
			{`SELECT issuer, jti, expires_at FROM denied_tokens ORDER BY expires_at NULLS FIRST, issuer, jti`, func(row pgx.CollectableRow) error {
				var t accounts.DeniedToken
				var exp pgtype.Timestamptz
				if err := row.Scan(&t.Issuer, &t.JTI, &exp); err != nil {
					return err
				}
				t.ExpiresAt = fromTimestamp(exp)
				d.Denied = append(d.Denied, t)
				return nil
			}},
			{`SELECT subject, revoked_before FROM subject_revocations ORDER BY subject`, func(row pgx.CollectableRow) error {
				var r accounts.SubjectRevocation
				var before pgtype.Timestamptz
				if err := row.Scan(&r.Subject, &before); err != nil {
					return err
				}
				r.Before = fromTimestamp(before)
				d.Subjects = append(d.Subjects, r)
				return nil
			}},
			{`SELECT provider, subject, user_id, created_at FROM external_links ORDER BY created_at NULLS FIRST, provider, subject`, func(row pgx.CollectableRow) error {
				var l accounts.Link
				var created pgtype.Timestamptz
				if err := row.Scan(&l.Provider, &l.Subject, &l.UserID, &created); err != nil {
					return err
				}
				l.CreatedAt = fromTimestamp(created)
				d.Links = append(d.Links, l)
				return nil
			}},
		}
		for _, st := range steps {
			rows, err := tx.Query(ctx, st.query)
			if err != nil {
				return wrapErr(op, err)
			}
			if _, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
				return struct{}{}, st.scan(row)
			}); err != nil {
				return wrapErr(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
