package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authgate/authgate/proxy/accounts"
)

// familyColumns are the columns scanFamily reads, in order, of
// refresh_families aliased f.
const familyColumns = `f.id, f.user_id, f.current_hash, f.previous_hash, f.rotated_at,
	f.created_at, f.last_used_at, f.expires_at, f.revoked_at, f.revoke_reason`

// CreateFamily inserts f and records f.Current as its first token. A family
// of an unknown user is accounts.ErrNotFound.
func (s *Store) CreateFamily(ctx context.Context, f *accounts.Family) error {
	const op = "create family"
	if len(f.Current) == 0 {
		return fmt.Errorf("postgres: %s: no current token hash", op)
	}
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_families
			(id, user_id, current_hash, previous_hash, rotated_at, created_at, last_used_at, expires_at, revoked_at, revoke_reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			f.ID, f.UserID, f.Current, nullBytes(f.Previous), timestamp(f.RotatedAt), timestamp(f.CreatedAt),
			timestamp(f.LastUsedAt), timestamp(f.ExpiresAt), timestamp(f.RevokedAt), f.RevokeReason); err != nil {
			return wrapErr(op, err)
		}
		return recordToken(ctx, tx, op, f.ID, f.Current, f.CreatedAt)
	})
}

// UpdateFamily finds the family that issued the token with hash tokenHash
// and calls decide with it inside one transaction that holds the family's
// row lock from the read on (SELECT ... FOR NO KEY UPDATE), so no other
// UpdateFamily, RevokeFamily or UpdateUser revocation of the family, from
// any replica, runs between the read and the write: a second UpdateFamily
// waits for the lock and then reads the family as the first one left it.
// A non-nil family from decide is stored, and its Current recorded as
// issued by the family if new, before commit, even when decide also
// returns an error; that error is then returned once the commit succeeded.
// A failure to store is returned instead of decide's error.
//
// decide runs while the lock is held: it must be quick and must not call
// the Store. It may run more than once if the transaction is retried (see
// write); only the last run's result is stored.
func (s *Store) UpdateFamily(ctx context.Context, tokenHash []byte, decide func(f accounts.Family) (*accounts.Family, error)) error {
	const op = "update family"
	var decided error
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		decided = nil
		// Waiting for the lock, the server reads the family again once the
		// holder commits (read committed): decide sees the latest state.
		row := tx.QueryRow(ctx, `SELECT `+familyColumns+`
			FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
			WHERE t.hash = $1 FOR NO KEY UPDATE OF f`, tokenHash)
		old, err := scanFamily(row)
		if err != nil {
			return wrapErr(op, err)
		}
		// decide gets its own slices: changing them in place must not
		// change old, which storeFamily compares next with.
		arg := *old
		arg.Current, arg.Previous = bytes.Clone(old.Current), bytes.Clone(old.Previous)
		next, derr := decide(arg)
		if next == nil {
			return derr // nil commits a transaction that changed nothing; an error rolls back
		}
		if err := storeFamily(ctx, tx, op, old, next); err != nil {
			return err
		}
		decided = derr
		return nil
	})
	if err != nil {
		return err
	}
	return decided
}

// storeFamily writes next over the family old read in the same
// transaction, recording next.Current as issued if it is new.
func storeFamily(ctx context.Context, tx pgx.Tx, op string, old, next *accounts.Family) error {
	switch {
	case next.ID != old.ID:
		return fmt.Errorf("postgres: %s %s: decide changed the family ID to %q", op, old.ID, next.ID)
	case len(next.Current) == 0:
		return fmt.Errorf("postgres: %s %s: decide left no current token hash", op, old.ID)
	}
	if _, err := tx.Exec(ctx, `UPDATE refresh_families SET
		user_id = $1, current_hash = $2, previous_hash = $3, rotated_at = $4, created_at = $5,
		last_used_at = $6, expires_at = $7, revoked_at = $8, revoke_reason = $9 WHERE id = $10`,
		next.UserID, next.Current, nullBytes(next.Previous), timestamp(next.RotatedAt), timestamp(next.CreatedAt),
		timestamp(next.LastUsedAt), timestamp(next.ExpiresAt), timestamp(next.RevokedAt), next.RevokeReason, old.ID); err != nil {
		return wrapErr(op, err)
	}
	if old.RevokedAt.IsZero() && !next.RevokedAt.IsZero() {
		// Revoked now (logout by refresh token, reuse detected): every
		// replica refuses the session's access tokens at once.
		if err := announce(ctx, tx, op, &accounts.RevocationSet{Sessions: []accounts.SessionRevocation{
			{FamilyID: old.ID, Until: accounts.SessionRevokedUntil(next.RevokedAt.UTC().Truncate(time.Millisecond), next.ExpiresAt)}}}); err != nil {
			return err
		}
	}
	if bytes.Equal(next.Current, old.Current) {
		return nil
	}
	issued := next.RotatedAt
	if issued.IsZero() {
		issued = next.LastUsedAt
	}
	return recordToken(ctx, tx, op, old.ID, next.Current, issued)
}

// recordToken records hash as issued by family. A hash the family already
// issued is left as it is; one issued by another family is refused, as it
// would make that family's token lead here.
func recordToken(ctx context.Context, tx pgx.Tx, op, family string, hash []byte, at time.Time) error {
	var owner string
	err := tx.QueryRow(ctx, `INSERT INTO refresh_tokens (hash, family_id, issued_at) VALUES ($1, $2, $3)
		ON CONFLICT (hash) DO NOTHING RETURNING family_id`, hash, family, timestamp(at)).Scan(&owner)
	if err == nil {
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return wrapErr(op, err)
	}
	// Already recorded: by whom? The row is committed (or ON CONFLICT
	// would have waited for its transaction), so this read sees it.
	if err := tx.QueryRow(ctx, `SELECT family_id FROM refresh_tokens WHERE hash = $1`, hash).Scan(&owner); err != nil {
		return wrapErr(op, err)
	}
	if owner != family {
		return fmt.Errorf("postgres: %s %s: token hash already issued by another family", op, family)
	}
	return nil
}

// RevokeFamily ends the family with that ID at at with reason, if it is
// still live. A family already revoked keeps its first revocation;
// accounts.ErrNotFound when no family has that ID.
func (s *Store) RevokeFamily(ctx context.Context, userID, familyID, reason string, at time.Time) error {
	const op = "revoke family"
	if at.IsZero() {
		return fmt.Errorf("postgres: %s: revocation without a time", op)
	}
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		var expires pgtype.Timestamptz
		err := tx.QueryRow(ctx, `UPDATE refresh_families SET revoked_at = $1, revoke_reason = $2
			WHERE id = $3 AND user_id = $4 AND revoked_at IS NULL RETURNING expires_at`,
			timestamp(at), reason, familyID, userID).Scan(&expires)
		if err == nil {
			return announce(ctx, tx, op, &accounts.RevocationSet{Sessions: []accounts.SessionRevocation{
				{FamilyID: familyID, Until: accounts.SessionRevokedUntil(at.UTC().Truncate(time.Millisecond), fromTimestamp(expires))}}})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return wrapErr(op, err)
		}
		var one int
		err = tx.QueryRow(ctx, `SELECT 1 FROM refresh_families WHERE id = $1 AND user_id = $2`,
			familyID, userID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: %s %s: %w", op, familyID, accounts.ErrNotFound)
		}
		return wrapErr(op, err)
	})
}

// scanFamily reads one row of familyColumns.
func scanFamily(row pgx.Row) (*accounts.Family, error) {
	var f accounts.Family
	var rotated, created, used, expires, revoked pgtype.Timestamptz
	if err := row.Scan(&f.ID, &f.UserID, &f.Current, &f.Previous, &rotated,
		&created, &used, &expires, &revoked, &f.RevokeReason); err != nil {
		return nil, err
	}
	f.RotatedAt, f.CreatedAt, f.LastUsedAt = fromTimestamp(rotated), fromTimestamp(created), fromTimestamp(used)
	f.ExpiresAt, f.RevokedAt = fromTimestamp(expires), fromTimestamp(revoked)
	if len(f.Previous) == 0 {
		f.Previous = nil
	}
	return &f, nil
}

// nullBytes stores an empty hash as NULL.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
