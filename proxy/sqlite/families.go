package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
		return fmt.Errorf("sqlite: %s: no current token hash", op)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_families
			(id, user_id, current_hash, previous_hash, rotated_at, created_at, last_used_at, expires_at, revoked_at, revoke_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.UserID, f.Current, nullBytes(f.Previous), millis(f.RotatedAt), millis(f.CreatedAt),
			millis(f.LastUsedAt), millis(f.ExpiresAt), millis(f.RevokedAt), f.RevokeReason); err != nil {
			return wrapErr(op, err)
		}
		return recordToken(ctx, tx, op, f.ID, f.Current, f.CreatedAt)
	})
}

// UpdateFamily finds the family that issued the token with hash tokenHash
// and calls decide with it inside one write transaction. The transaction
// holds SQLite's write lock from its start (BEGIN IMMEDIATE), so no other
// UpdateFamily, in this process or another, runs between the read and the
// write. A non-nil family from decide is stored, and its Current recorded
// as issued by the family if new, before commit, even when decide also
// returns an error; that error is then returned once the commit succeeded.
// A failure to store is returned instead of decide's error.
//
// decide runs while the write lock is held: it must be quick and must not
// call the Store (that would wait for the lock it holds).
func (s *Store) UpdateFamily(ctx context.Context, tokenHash []byte, decide func(f accounts.Family) (*accounts.Family, error)) error {
	const op = "update family"
	var decided error
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `SELECT `+familyColumns+`
			FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = ?`, tokenHash)
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
			return derr // nil commits an empty transaction; an error rolls back
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
func storeFamily(ctx context.Context, tx *sql.Tx, op string, old, next *accounts.Family) error {
	switch {
	case next.ID != old.ID:
		return fmt.Errorf("sqlite: %s %s: decide changed the family ID to %q", op, old.ID, next.ID)
	case len(next.Current) == 0:
		return fmt.Errorf("sqlite: %s %s: decide left no current token hash", op, old.ID)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_families SET
		user_id = ?, current_hash = ?, previous_hash = ?, rotated_at = ?, created_at = ?,
		last_used_at = ?, expires_at = ?, revoked_at = ?, revoke_reason = ? WHERE id = ?`,
		next.UserID, next.Current, nullBytes(next.Previous), millis(next.RotatedAt), millis(next.CreatedAt),
		millis(next.LastUsedAt), millis(next.ExpiresAt), millis(next.RevokedAt), next.RevokeReason, old.ID); err != nil {
		return wrapErr(op, err)
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
func recordToken(ctx context.Context, tx *sql.Tx, op, family string, hash []byte, at time.Time) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, family_id, issued_at) VALUES (?, ?, ?)
		ON CONFLICT (hash) DO NOTHING`, hash, family, millis(at))
	if err != nil {
		return wrapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(op, err)
	} else if n == 1 {
		return nil
	}
	var owner string
	if err := tx.QueryRowContext(ctx, `SELECT family_id FROM refresh_tokens WHERE hash = ?`, hash).Scan(&owner); err != nil {
		return wrapErr(op, err)
	}
	if owner != family {
		return fmt.Errorf("sqlite: %s %s: token hash already issued by another family", op, family)
	}
	return nil
}

// RevokeFamily ends the family with that ID at at with reason, if it
// belongs to userID and is still live. A family already revoked keeps its
// first revocation; accounts.ErrNotFound, with nothing changed, when no
// family of userID has that ID.
func (s *Store) RevokeFamily(ctx context.Context, userID, familyID, reason string, at time.Time) error {
	const op = "revoke family"
	if at.IsZero() {
		return fmt.Errorf("sqlite: %s: revocation without a time", op)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE refresh_families SET revoked_at = ?, revoke_reason = ?
			WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, millis(at), reason, familyID, userID)
		if err != nil {
			return wrapErr(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return wrapErr(op, err)
		} else if n == 1 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM refresh_families WHERE id = ? AND user_id = ?`,
			familyID, userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: %s %s: %w", op, familyID, accounts.ErrNotFound)
		}
		return wrapErr(op, err)
	})
}

// scanFamily reads one row of familyColumns.
func scanFamily(row interface{ Scan(...any) error }) (*accounts.Family, error) {
	var f accounts.Family
	var rotated, created, used, expires, revoked sql.NullInt64
	if err := row.Scan(&f.ID, &f.UserID, &f.Current, &f.Previous, &rotated,
		&created, &used, &expires, &revoked, &f.RevokeReason); err != nil {
		return nil, err
	}
	f.RotatedAt, f.CreatedAt, f.LastUsedAt = fromMillis(rotated), fromMillis(created), fromMillis(used)
	f.ExpiresAt, f.RevokedAt = fromMillis(expires), fromMillis(revoked)
	if len(f.Previous) == 0 {
		f.Previous = nil
	}
	return &f, nil
}

// nullBytes stores an empty hash as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
