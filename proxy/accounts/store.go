package accounts

import (
	"context"
	"errors"
	"time"
)

// Store errors. Implementations return them wrapped (with %w) so that
// errors.Is finds them.
var (
	// ErrNotFound: no user, family or token matches.
	ErrNotFound = errors.New("not found")
	// ErrUsernameTaken: a user with that username (compared by FoldKey)
	// exists.
	ErrUsernameTaken = errors.New("username taken")
	// ErrEmailTaken: a user with that email (compared by FoldKey) exists.
	ErrEmailTaken = errors.New("email taken")
	// ErrUnavailable: the store cannot be reached or failed; answered 503.
	ErrUnavailable = errors.New("store unavailable")
)

// User is an account.
type User struct {
	// ID is the stable subject ("sub") of the user's tokens.
	ID string
	// Username is unique compared by FoldKey; stored as written.
	Username string
	// Email is optional ("" for none); unique compared by FoldKey.
	Email string
	// EmailVerified says an external OpenID Connect provider verified
	// Email for this user at their latest sign-in through it; only then do
	// authgate's tokens say "email_verified": true and upstreams get the
	// email. Signup and 'authgate users add' do not verify addresses.
	EmailVerified bool
	// PasswordHash is an argon2id PHC string.
	PasswordHash string
	Roles        []string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Family is one login's chain of refresh tokens. Each refresh replaces
// Current with a new token and keeps the replaced one as Previous, so that
// the immediately previous token can be recognised during the grace period
// and any older one as reuse.
type Family struct {
	ID     string
	UserID string
	// Current is the hash of the only refresh token that rotates normally.
	Current []byte
	// Previous is the hash of the token Current replaced, nil before the
	// first rotation; RotatedAt is when that replacement happened.
	Previous  []byte
	RotatedAt time.Time
	CreatedAt time.Time
	// LastUsedAt is the last login or refresh, for the idle timeout.
	LastUsedAt time.Time
	// ExpiresAt is the absolute end of the family.
	ExpiresAt time.Time
	// RevokedAt is zero while the family is live; RevokeReason says why it
	// ended ("logout", "reuse", "password_change", "disabled", ...).
	RevokedAt    time.Time
	RevokeReason string
}

// DeniedToken is an access token revoked before its expiry (logout). It is
// keyed by issuer and jti, never by the token string.
type DeniedToken struct {
	Issuer    string
	JTI       string
	ExpiresAt time.Time
}

// SubjectRevocation denies every access token of Subject issued before
// Before (password change, disabled account).
type SubjectRevocation struct {
	Subject string
	Before  time.Time
}

// SessionRevocation ends one session: every access token whose "sid" claim
// is FamilyID, the refresh family it was issued in, is revoked until Until.
type SessionRevocation struct {
	FamilyID string
	// Until is when the session's last access token has expired for
	// certain: the earlier of the family's RevokedAt and ExpiresAt
	// (RevokedAt when ExpiresAt is zero; no access token is issued in a
	// family after either) plus SessionRevocationRetention.
	Until time.Time
}

// SessionRevocationRetention is how long after a family ended its access
// tokens may still verify: the longest access token lifetime config allows
// (24h) plus the largest clock leeway (5 min), rounded up. A revoked
// session is reported by Store.Revocations for that long.
const SessionRevocationRetention = 25 * time.Hour

// RevocationSet is everything the in-memory revocation index loads from the
// store. New kinds of revocation become new fields, not new results.
type RevocationSet struct {
	// Tokens are the denied access tokens whose ExpiresAt is after now.
	Tokens []DeniedToken
	// Subjects are the subject revocations whose cut-off may still cover an
	// unexpired access token.
	Subjects []SubjectRevocation
	// Sessions are the revoked families whose Until is after now, however
	// they were revoked (RevokeFamily, UpdateFamily storing a revoked
	// family, UpdateUser with a revocation).
	Sessions []SessionRevocation
}

// Store persists users, refresh families and revocations. Every method that
// returns nil has made its change durable: a crash right after loses
// nothing. Implementations must be safe for concurrent use, including by
// several processes sharing one database.
type Store interface {
	// CreateUser inserts u (ID, CreatedAt and UpdatedAt set by the caller).
	CreateUser(ctx context.Context, u *User) error
	// UserByID, UserByUsername and UserByEmail return ErrNotFound when no
	// user matches; username and email compare by FoldKey.
	UserByID(ctx context.Context, id string) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns every user ordered by creation.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser reads the user with that ID (ErrNotFound if none), applies
	// change to it and stores its Email, EmailVerified, PasswordHash,
	// Roles, Disabled and UpdatedAt, all in one transaction, so concurrent
	// updates (a login rehashing a password while an operator disables the
	// account) never undo each other; an Email another user has is
	// ErrEmailTaken, with nothing stored. change must not call the Store;
	// when it returns an error nothing is stored and that error is
	// returned. When revoke is
	// non-nil the same transaction also revokes all of the user's live
	// families with revoke.Reason at revoke.At (so that Revocations reports
	// them as session revocations) and records the subject revocation
	// (password change, disable).
	UpdateUser(ctx context.Context, id string, change func(u *User) error, revoke *Revocation) error

	// CreateFamily inserts a new family with its first token f.Current.
	CreateFamily(ctx context.Context, f *Family) error
	// UpdateFamily finds the family that ever issued the refresh token with
	// hash tokenHash (ErrNotFound if none) and, in one transaction that no
	// concurrent UpdateFamily on the same family can interleave with, calls
	// decide with it. When decide returns a non-nil family, that state is
	// stored (and its Current, if new, recorded as issued by the family)
	// before the transaction commits, even when decide also returns an
	// error. UpdateFamily returns decide's error, or the store's own.
	UpdateFamily(ctx context.Context, tokenHash []byte, decide func(f Family) (*Family, error)) error
	// RevokeFamily ends the family with that ID if it belongs to the user
	// userID and is still live (logout by access token: familyID is the
	// token's "sid" claim, userID its subject). ErrNotFound, with nothing
	// changed, when no family has that ID or it belongs to another user.
	// Revoking a revoked family is not an error and keeps the first
	// revocation.
	RevokeFamily(ctx context.Context, userID, familyID, reason string, at time.Time) error

	// DenyAccessToken records a revoked access token until its expiry.
	DenyAccessToken(ctx context.Context, d DeniedToken) error
	// Revocations returns, from one consistent snapshot, the revocations
	// still in force at now, for the in-memory revocation index: see
	// RevocationSet. The set is never nil when the error is.
	Revocations(ctx context.Context, now time.Time) (*RevocationSet, error)
	// Prune deletes families, tokens and revocations that ended before now.
	// A revoked family is kept while its session revocation is in force
	// (see SessionRevocation.Until).
	Prune(ctx context.Context, now time.Time) error

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Revocation asks UpdateUser to end a user's sessions.
type Revocation struct {
	Reason string
	At     time.Time
}

// SessionRevokedUntil is SessionRevocation.Until of a family revoked at
// revokedAt that expires at expiresAt (zero for none).
func SessionRevokedUntil(revokedAt, expiresAt time.Time) time.Time {
	end := revokedAt
	if !expiresAt.IsZero() && expiresAt.Before(end) {
		end = expiresAt
	}
	return end.Add(SessionRevocationRetention)
}

// ErrLinkTaken: the (provider, subject) pair is already linked to a user.
var ErrLinkTaken = errors.New("external account already linked")

// Link ties a user to an account at an external OpenID Connect provider:
// the provider's name in the configuration and the "sub" of its ID tokens,
// which the provider promises never to reassign.
type Link struct {
	Provider  string
	Subject   string
	UserID    string
	CreatedAt time.Time
}

// LinkStore finds and creates users by their external accounts. The SQLite
// and PostgreSQL stores implement it next to Store.
type LinkStore interface {
	// UserByLink returns the user linked to (provider, subject), or
	// ErrNotFound.
	UserByLink(ctx context.Context, provider, subject string) (*User, error)
	// CreateLinkedUser inserts u and the link l (l.UserID is u.ID) in one
	// transaction: ErrUsernameTaken, ErrEmailTaken or ErrLinkTaken, with
	// nothing stored, when one of them collides.
	CreateLinkedUser(ctx context.Context, u *User, l Link) error
}
