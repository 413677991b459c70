package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authgate/authgate/proxy/accounts"
)

// importBatch is how many rows Import sends to the server at once.
const importBatch = 500

// Import adds d's records to the store in one transaction: all of them or,
// on any error, none. Records the store holds already, by primary key (a
// user's or family's ID, a token's hash, a denied token's issuer and jti,
// a subject), are kept as they are and counted as present, except that a
// denied token keeps the later expiry and a subject revocation the later
// cut-off, as DenyAccessToken and UpdateUser do. Importing the same dump
// again thus adds nothing. A new user whose username or email another user
// has is accounts.ErrUsernameTaken or accounts.ErrEmailTaken, naming the
// username; a family or an external link of a user neither in the store
// nor in d is accounts.ErrNotFound. An external link (provider, subject)
// the store holds for another user is accounts.ErrLinkTaken, naming the
// link: keeping either would hand one person's sign-ins to the other's
// account.
//
// Import is for 'authgate store copy', moving a SQLite store's records to
// a shared PostgreSQL store.
func (s *Store) Import(ctx context.Context, d *accounts.Dump) (accounts.ImportReport, error) {
	const op = "import"
	var rep accounts.ImportReport
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		rep = accounts.ImportReport{} // the transaction may run again
		var users, families, tokens, denied, subjects, links []importRow
		for _, u := range d.Users {
			users = append(users, importRow{fmt.Sprintf("user %q", u.Username), userArgs(&u)})
		}
		for _, f := range d.Families {
			if len(f.Current) == 0 {
				return fmt.Errorf("postgres: %s: family %s: no current token hash", op, f.ID)
			}
			families = append(families, importRow{"family " + f.ID, []any{
				f.ID, f.UserID, f.Current, nullBytes(f.Previous), timestamp(f.RotatedAt), timestamp(f.CreatedAt),
				timestamp(f.LastUsedAt), timestamp(f.ExpiresAt), timestamp(f.RevokedAt), f.RevokeReason}})
		}
		for _, t := range d.Tokens {
			tokens = append(tokens, importRow{"token of family " + t.FamilyID, []any{t.Hash, t.FamilyID, timestamp(t.IssuedAt)}})
		}
		for _, x := range d.Denied {
			denied = append(denied, importRow{"denied token " + x.JTI, []any{x.Issuer, x.JTI, timestamp(x.ExpiresAt)}})
		}
		for _, r := range d.Subjects {
			subjects = append(subjects, importRow{"subject revocation " + r.Subject, []any{r.Subject, timestamp(r.Before)}})
		}
		for _, l := range d.Links {
			links = append(links, importRow{fmt.Sprintf("external link %s %q of user %s", l.Provider, l.Subject, l.UserID),
				[]any{l.Provider, l.Subject, l.UserID, timestamp(l.CreatedAt)}})
		}
		// In foreign key order: users, their links and families, the
		// families' tokens.
		for _, step := range []struct {
			sql   string
			rows  []importRow
			count *accounts.ImportCount
			// taken is the error of a row the statement answers NULL for:
			// present, but another user's.
			taken error
		}{
			{insertUser + ` ON CONFLICT (id) DO NOTHING RETURNING true`, users, &rep.Users, nil},
			// The no-op update locks a link already present and returns
			// it, so that one of another user is told from one of the
			// same, even when a sign-in created it meanwhile: true when
			// added, false when present for the same user, NULL when
			// present for another.
			{`INSERT INTO external_links (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (provider, subject) DO UPDATE SET user_id = external_links.user_id
				RETURNING CASE WHEN user_id <> $3 THEN NULL ELSE xmax = 0 END`, links, &rep.Links, accounts.ErrLinkTaken},
			{`INSERT INTO refresh_families
				(id, user_id, current_hash, previous_hash, rotated_at, created_at, last_used_at, expires_at, revoked_at, revoke_reason)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (id) DO NOTHING RETURNING true`, families, &rep.Families, nil},
			{`INSERT INTO refresh_tokens (hash, family_id, issued_at) VALUES ($1, $2, $3)
				ON CONFLICT (hash) DO NOTHING RETURNING true`, tokens, &rep.Tokens, nil},
			// xmax is 0 in a row this statement inserted, and not in one it
			// updated.
			{`INSERT INTO denied_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)
				ON CONFLICT (issuer, jti) DO UPDATE
				SET expires_at = greatest(denied_tokens.expires_at, excluded.expires_at)
				RETURNING xmax = 0`, denied, &rep.Denied, nil},
			{`INSERT INTO subject_revocations (subject, revoked_before) VALUES ($1, $2)
				ON CONFLICT (subject) DO UPDATE
				SET revoked_before = greatest(subject_revocations.revoked_before, excluded.revoked_before)
				RETURNING xmax = 0`, subjects, &rep.Subjects, nil},
		} {
			if err := importRows(ctx, tx, op, step.sql, step.rows, step.count, step.taken); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return accounts.ImportReport{}, err
	}
	return rep, nil
}

// importRow is one record's arguments, and what names it in an error.
type importRow struct {
	what string
	args []any
}

// importRows runs sql, an INSERT returning whether it added the row (no
// row when it did nothing), for every row, in batches, counting the rows
// added and those present. A NULL answer fails the row with taken.
func importRows(ctx context.Context, tx pgx.Tx, op, sql string, rows []importRow, count *accounts.ImportCount, taken error) error {
	for start := 0; start < len(rows); start += importBatch {
		b := &pgx.Batch{}
		var failed error // a row's error, already described
		for _, r := range rows[start:min(start+importBatch, len(rows))] {
			b.Queue(sql, r.args...).QueryRow(func(row pgx.Row) error {
				var added pgtype.Bool
				err := row.Scan(&added)
				switch {
				case errors.Is(err, pgx.ErrNoRows):
					count.Present++
				case err != nil:
					failed = wrapErr(op+": "+r.what, err)
					return failed
				case !added.Valid && taken != nil:
					failed = fmt.Errorf("postgres: %s: %s: %w to another user", op, r.what, taken)
					return failed
				case !added.Valid:
					failed = fmt.Errorf("postgres: %s: %s: no answer", op, r.what)
					return failed
				case added.Bool:
					count.Added++
				default:
					count.Present++
				}
				return nil
			})
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			if failed != nil {
				return failed
			}
			return wrapErr(op, err)
		}
	}
	return nil
}
