package sqlite

import (
	"context"
	"database/sql"

	"github.com/authgate/authgate/proxy/accounts"
)

// Export reads everything the store holds, in one read transaction so the
// dump is consistent: for 'authgate store copy' to a shared store.
func (s *Store) Export(ctx context.Context) (*accounts.Dump, error) {
	const op = "export"
	d := &accounts.Dump{}
	err := s.read(ctx, op, func(tx *sql.Tx) error {
		steps := []struct {
			query string
			scan  func(*sql.Rows) error
		}{
			{`SELECT ` + userColumns + ` FROM users ORDER BY created_at, rowid`, func(rows *sql.Rows) error {
				u, err := scanUser(rows)
				if err == nil {
					d.Users = append(d.Users, *u)
				}
				return err
			}},
			{`SELECT ` + familyColumns + ` FROM refresh_families f ORDER BY f.created_at, f.id`, func(rows *sql.Rows) error {
				f, err := scanFamily(rows)
				if err == nil {
					d.Families = append(d.Families, *f)
				}
				return err
			}},
			{`SELECT hash, family_id, issued_at FROM refresh_tokens ORDER BY family_id, issued_at`, func(rows *sql.Rows) error {
				var t accounts.IssuedToken
				var at sql.NullInt64
				if err := rows.Scan(&t.Hash, &t.FamilyID, &at); err != nil {
					return err
				}
				t.IssuedAt = fromMillis(at)
				d.Tokens = append(d.Tokens, t)
				return nil
			}},
			{`SELECT issuer, jti, expires_at FROM denied_tokens ORDER BY expires_at`, func(rows *sql.Rows) error {
				var t accounts.DeniedToken
				var exp sql.NullInt64
				if err := rows.Scan(&t.Issuer, &t.JTI, &exp); err != nil {
					return err
				}
				t.ExpiresAt = fromMillis(exp)
				d.Denied = append(d.Denied, t)
				return nil
			}},
			{`SELECT subject, revoked_before FROM subject_revocations ORDER BY subject`, func(rows *sql.Rows) error {
				var r accounts.SubjectRevocation
				var before sql.NullInt64
				if err := rows.Scan(&r.Subject, &before); err != nil {
					return err
				}
				r.Before = fromMillis(before)
				d.Subjects = append(d.Subjects, r)
				return nil
			}},
			{`SELECT provider, subject, user_id, created_at FROM external_links ORDER BY created_at, provider, subject`, func(rows *sql.Rows) error {
				var l accounts.Link
				var created sql.NullInt64
				if err := rows.Scan(&l.Provider, &l.Subject, &l.UserID, &created); err != nil {
					return err
				}
				l.CreatedAt = fromMillis(created)
				d.Links = append(d.Links, l)
				return nil
			}},
		}
		for _, st := range steps {
			rows, err := tx.QueryContext(ctx, st.query)
			if err != nil {
				return wrapErr(op, err)
			}
			for rows.Next() {
				if err := st.scan(rows); err != nil {
					rows.Close()
					return wrapErr(op, err)
				}
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
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
