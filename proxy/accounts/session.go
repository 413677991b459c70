package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/respond"
)

// errUserGone: the family's user was deleted or disabled since login.
var errUserGone = errors.New("user no longer active")

// issued is what a login or refresh hands the client.
type issued struct {
	access    string
	expiresIn int64
	refresh   string
}

// alreadyRegistered answers a signup whose username or email is taken. A
// username must be unique and whoever picks a taken one must be told, so
// signup cannot hide that a username exists; but it does not single out the
// email, so probing with a fresh username does not tell which addresses
// have accounts.
const alreadyRegistered = "username or email already registered"

// NewUser validates and creates a user: the signup endpoint and the
// 'authgate users add' command share it. Validation failures are errors
// whose message is safe to show (400); a taken username or email is 409,
// with one message for both.
func (s *Service) NewUser(ctx context.Context, username, email, pw string, roles []string) (*User, error) {
	if !usernamePattern.MatchString(username) {
		return nil, &badRequest{http.StatusBadRequest, "username must be 3 to 64 characters: letters, digits and . _ @ + -, starting with a letter or digit"}
	}
	if email != "" && (len(email) > 254 || !emailPattern.MatchString(email)) {
		return nil, &badRequest{http.StatusBadRequest, "email is not a valid address"}
	}
	if err := s.cfg.Policy.Check(pw); err != nil {
		return nil, &badRequest{http.StatusBadRequest, err.Error()}
	}
	hash, err := s.d.Hasher.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.d.Now().UTC()
	u := &User{ID: id, Username: username, Email: email, PasswordHash: hash,
		Roles: append([]string(nil), roles...), CreatedAt: now, UpdatedAt: now}
	switch err := s.d.Store.CreateUser(ctx, u); {
	case errors.Is(err, ErrUsernameTaken), errors.Is(err, ErrEmailTaken):
		// One answer for either, so that signup does not tell which
		// emails are registered (CWE-204); see alreadyRegistered.
		return nil, &badRequest{http.StatusConflict, alreadyRegistered}
	case err != nil:
		return nil, err
	}
	return u, nil
}

// startFamily begins a new login for u: a new family and its first tokens.
func (s *Service) startFamily(ctx context.Context, u *User) (*Family, *issued, error) {
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return nil, nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, nil, err
	}
	now := s.d.Now().UTC()
	f := &Family{ID: id, UserID: u.ID, Current: hash, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	if err := s.d.Store.CreateFamily(ctx, f); err != nil {
		return nil, nil, err
	}
	out, err := s.accessToken(u, f.ID)
	if err != nil {
		return nil, nil, err
	}
	out.refresh = refresh
	return f, out, nil
}

// rotate exchanges a refresh token for new tokens. On reuse the family is
// revoked and returned with errReuse, for the security log.
func (s *Service) rotate(ctx context.Context, presented string) (*Family, *issued, error) {
	if !wellFormedRefreshToken(presented) {
		return &Family{}, nil, errRefreshUnknown
	}
	next, nextHash, err := newRefreshToken()
	if err != nil {
		return nil, nil, err
	}
	policy := refreshPolicy{TTL: s.cfg.RefreshTTL, Idle: s.cfg.RefreshIdle, Grace: s.cfg.RefreshGrace}
	var stored Family
	err = s.d.Store.UpdateFamily(ctx, hashRefreshToken(presented), func(f Family) (*Family, error) {
		stored = f
		return decideRefresh(f, hashRefreshToken(presented), nextHash, s.d.Now().UTC(), policy)
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return &stored, nil, errRefreshUnknown
	case errors.Is(err, errReuse):
		// The family is revoked in the store: so are its access tokens.
		s.revokeSession(stored.ID, s.d.Now().UTC())
		return &stored, nil, err
	case err != nil:
		return &stored, nil, err
	}
	u, err := s.d.Store.UserByID(ctx, stored.UserID)
	if errors.Is(err, ErrNotFound) || err == nil && u.Disabled {
		return &stored, nil, errUserGone
	}
	if err != nil {
		return &stored, nil, err
	}
	out, err := s.accessToken(u, stored.ID)
	if err != nil {
		return &stored, nil, err
	}
	out.refresh = next
	return &stored, out, nil
}

// accessToken signs an access token for u in family sid, with fresh
// profile claims from the store.
func (s *Service) accessToken(u *User, sid string) (*issued, error) {
	claims := map[string]any{
		"preferred_username": u.Username,
		"roles":              nonNil(u.Roles),
		"sid":                sid,
	}
	if u.Email != "" {
		// Signup does not verify addresses; a provider does, and
		// EmailVerified says whether it still vouches for this one.
		// Upstreams are sent only a verified email as identity (see
		// proxy's identity headers).
		claims["email"], claims["email_verified"] = u.Email, u.EmailVerified
	}
	tok, exp, err := s.d.Signer.Sign(u.ID, claims, s.cfg.AccessTTL)
	if err != nil {
		return nil, err
	}
	return &issued{access: tok, expiresIn: int64(exp.Sub(s.d.Now()).Round(time.Second) / time.Second)}, nil
}

// endAccessToken ends the session of a verified access token of
// authgate's own: the token is denied until its expiry, and the family its
// "sid" claim names is revoked, if it is the subject's, together with every
// access token issued in it.
func (s *Service) endAccessToken(ctx context.Context, id *identity.Identity) error {
	iss, _ := id.Claims["iss"].(string)
	if id.TokenID != "" {
		d := DeniedToken{Issuer: iss, JTI: id.TokenID, ExpiresAt: id.ExpiresAt}
		if err := s.d.Store.DenyAccessToken(ctx, d); err != nil {
			return err
		}
		s.d.Revocations.DenyToken(iss, id.TokenID, id.ExpiresAt)
	}
	if sid, ok := id.Claims["sid"].(string); ok && sid != "" {
		now := s.d.Now().UTC()
		switch err := s.d.Store.RevokeFamily(ctx, id.Subject, sid, ReasonLogout, now); {
		case err == nil:
			s.revokeSession(sid, now)
		case errors.Is(err, ErrNotFound):
			// Pruned, or not the subject's: nothing of the subject's to end.
		default:
			return err
		}
	}
	return nil
}

// revokeSession revokes, in this process's index, the access tokens of the
// family sid that ended at end. Other processes learn of it from the store
// (Store.Revocations) at their next load.
func (s *Service) revokeSession(sid string, end time.Time) {
	s.d.Revocations.RevokeSession(sid, end.Add(SessionRevocationRetention))
}

// endRefreshToken revokes the family of a refresh token and every access
// token issued in it.
func (s *Service) endRefreshToken(ctx context.Context, presented string) error {
	if !wellFormedRefreshToken(presented) {
		return errRefreshUnknown
	}
	now := s.d.Now().UTC()
	var sid string
	err := s.d.Store.UpdateFamily(ctx, hashRefreshToken(presented), func(f Family) (*Family, error) {
		if !f.RevokedAt.IsZero() {
			return nil, errFamilyRevoked
		}
		sid = f.ID
		f.RevokedAt, f.RevokeReason = now, ReasonLogout
		return &f, nil
	})
	if errors.Is(err, ErrNotFound) {
		return errRefreshUnknown
	}
	if err != nil {
		return err
	}
	s.revokeSession(sid, now)
	return nil
}

// writeTokens answers a login or refresh. In cookie mode the refresh token
// goes into the cookie, not the body.
func (s *Service) writeTokens(w http.ResponseWriter, r *http.Request, t *issued, f *Family, msg string) {
	body := map[string]any{
		"access_token": t.access,
		"token_type":   "Bearer",
		"expires_in":   t.expiresIn,
		"message":      msg,
	}
	if s.cfg.Cookie {
		csrf, err := s.setCookies(w, t.refresh, f.ExpiresAt)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		body["csrf_token"] = csrf
	} else {
		body["refresh_token"] = t.refresh
	}
	w.Header().Set("Pragma", "no-cache")
	respond.JSON(w, http.StatusOK, body)
}

// SetPassword stores a new password for the user and ends all of the
// user's logins and access tokens (the 'users set-password' command).
func (s *Service) SetPassword(ctx context.Context, username, pw string) error {
	if err := s.cfg.Policy.Check(pw); err != nil {
		return &badRequest{http.StatusBadRequest, err.Error()}
	}
	hash, err := s.d.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return s.updateUser(ctx, username, ReasonPasswordChange, func(u *User) { u.PasswordHash = hash })
}

// SetDisabled disables (ending all logins) or re-enables a user.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	reason := ""
	if disabled {
		reason = ReasonDisabled
	}
	return s.updateUser(ctx, username, reason, func(u *User) { u.Disabled = disabled })
}

// SetRoles replaces a user's roles; they reach tokens at the next login or
// refresh.
func (s *Service) SetRoles(ctx context.Context, username string, roles []string) error {
	for _, r := range roles {
		if r == "" || strings.ContainsAny(r, ",\r\n") {
			return &badRequest{http.StatusBadRequest, fmt.Sprintf("role %q must be non-empty, without commas or line breaks", r)}
		}
	}
	return s.updateUser(ctx, username, "", func(u *User) { u.Roles = roles })
}

func (s *Service) updateUser(ctx context.Context, username, revokeReason string, change func(*User)) error {
	u, err := s.d.Store.UserByUsername(ctx, username)
	if err != nil {
		return err
	}
	now := s.d.Now().UTC()
	var rev *Revocation
	if revokeReason != "" {
		// Access tokens carry iat in whole seconds, so the subject
		// revocation covers the seconds before this one. A token issued
		// earlier in this second is covered by its session instead: the
		// store revokes all of the user's families with the change, while
		// a login after the change starts a new, unrevoked one.
		rev = &Revocation{Reason: revokeReason, At: now.Truncate(time.Second)}
	}
	err = s.d.Store.UpdateUser(ctx, u.ID, func(cur *User) error {
		change(cur)
		cur.UpdatedAt = now
		return nil
	}, rev)
	if err != nil {
		return err
	}
	if rev != nil {
		s.d.Revocations.RevokeSubject(u.ID, rev.At)
		// The families just revoked are known only to the store: load them
		// now rather than at the next periodic sync. The change is already
		// durable, so a failure here only delays it to that sync.
		if err := s.d.Revocations.Load(ctx, s.d.Store, now); err != nil {
			s.d.Logger.Warn("revocations not reloaded after a user change; the next sync loads them",
				"user", u.ID, "error", err)
		}
	}
	return nil
}
