package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate/proxy/headers"
)

// External is someone an external OpenID Connect provider vouched for.
type External struct {
	// Provider and Subject identify the external account: the provider's
	// name and its "sub".
	Provider, Subject string
	// Username and Email are the provider's; Email is stored only when
	// EmailVerified, and then as verified (see SignInExternal).
	Username      string
	Email         string
	EmailVerified bool
	// Roles are the provider's roles or groups. The user's roles are the
	// default roles plus these, refreshed on every sign-in.
	Roles []string
	// Create creates the user on a first sign-in; otherwise an unlinked
	// external account is ErrNotLinked.
	Create bool
}

// ErrNotLinked: no user is linked to the external account and the
// provider does not create users.
var ErrNotLinked = errors.New("external account not linked to a user")

// ErrNoLinks: the store cannot link external accounts.
var ErrNoLinks = errors.New("the store does not support external accounts")

// SignInExternal starts a login for the user linked to ext, creating and
// linking one on a first sign-in when ext.Create. A disabled user is
// ErrInvalidCredentials. A new user is never linked to an existing account
// by email (that would hand the account to whoever controls the address at
// the provider): when the email or username is taken, the new user gets
// none or another.
//
// The user's email is verified (User.EmailVerified, and so forwarded to
// upstreams) exactly while the provider vouches for it: each sign-in
// stores the provider's verified email, when no other user has it, as
// verified; an unverified email, none, or a verified one another user has
// leaves the stored address as it is but unverified, since the provider no
// longer says it is this user's. A provider's unverified email never
// replaces the stored one.
func (s *Service) SignInExternal(ctx context.Context, ext External) (*Session, error) {
	f, t, err := s.signInExternal(ctx, ext)
	s.d.Metrics.Account("login", resultOfErr(err))
	if err != nil {
		return nil, err
	}
	return s.session(f, t), nil
}

func (s *Service) signInExternal(ctx context.Context, ext External) (*Family, *issued, error) {
	ls, ok := s.d.Store.(LinkStore)
	if !ok {
		return nil, nil, ErrNoLinks
	}
	if ext.Provider == "" || ext.Subject == "" {
		return nil, nil, fmt.Errorf("%w: external account without provider or subject", ErrInvalidCredentials)
	}
	roles := externalRoles(s.cfg.DefaultRoles, ext.Roles)
	u, err := ls.UserByLink(ctx, ext.Provider, ext.Subject)
	switch {
	case errors.Is(err, ErrNotFound) && !ext.Create:
		return nil, nil, ErrNotLinked
	case errors.Is(err, ErrNotFound):
		if u, err = s.createExternal(ctx, ls, ext, roles); err != nil {
			return nil, nil, err
		}
	case err != nil:
		return nil, nil, err
	case u.Disabled:
		return nil, nil, ErrInvalidCredentials
	default:
		if u, err = s.refreshExternal(ctx, u, ext, roles); err != nil {
			return nil, nil, err
		}
	}
	return s.startFamily(ctx, u)
}

// refreshExternal brings the linked user u up to date with the provider's
// latest sign-in: its roles, and its email as SignInExternal says.
func (s *Service) refreshExternal(ctx context.Context, u *User, ext External, roles []string) (*User, error) {
	email, verified := u.Email, false
	if e, ok := verifiedEmail(ext); ok {
		email, verified = e, true
	}
	if slices.Equal(u.Roles, roles) && u.Email == email && u.EmailVerified == verified {
		return u, nil
	}
	now := s.d.Now().UTC()
	var stored User
	update := func(email string, verified bool) error {
		return s.d.Store.UpdateUser(ctx, u.ID, func(v *User) error {
			v.Roles, v.Email, v.EmailVerified, v.UpdatedAt = roles, email, verified, now
			stored = *v
			return nil
		}, nil)
	}
	reason := "unverified"
	err := update(email, verified)
	if errors.Is(err, ErrEmailTaken) {
		// Another user has the address the provider now vouches for: the
		// stored one stays, no longer vouched for.
		reason = "taken"
		err = update(u.Email, false)
	}
	if err != nil {
		return nil, err
	}
	if u.EmailVerified && !stored.EmailVerified {
		// Not silent: the user's upstreams stop getting an email. The
		// addresses stay out of the log.
		s.d.Logger.Info("email no longer verified by the provider", "user", u.ID,
			"provider", ext.Provider, "reason", reason)
	}
	return &stored, nil
}

// verifiedEmail is ext's email when the provider verified it and it is a
// valid address.
func verifiedEmail(ext External) (string, bool) {
	if ext.EmailVerified && ext.Email != "" && len(ext.Email) <= 254 && emailPattern.MatchString(ext.Email) {
		return ext.Email, true
	}
	return "", false
}

// createExternal creates the user of ext, with the provider's verified
// email as verified. A taken username gives way to provider-hash, a taken
// email to none.
func (s *Service) createExternal(ctx context.Context, ls LinkStore, ext External, roles []string) (*User, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.d.Now().UTC()
	sum := sha256.Sum256([]byte(ext.Provider + "\x00" + ext.Subject))
	fallback := ext.Provider + "-" + hex.EncodeToString(sum[:6])
	u := &User{ID: id, Username: ext.Username, Roles: roles, CreatedAt: now, UpdatedAt: now}
	if !usernamePattern.MatchString(u.Username) {
		u.Username = fallback
	}
	if email, ok := verifiedEmail(ext); ok {
		u.Email, u.EmailVerified = email, true
	}
	for range 3 {
		err = ls.CreateLinkedUser(ctx, u, Link{Provider: ext.Provider, Subject: ext.Subject, UserID: u.ID, CreatedAt: now})
		switch {
		case errors.Is(err, ErrUsernameTaken) && u.Username != fallback:
			u.Username = fallback
		case errors.Is(err, ErrEmailTaken):
			u.Email, u.EmailVerified = "", false
		case errors.Is(err, ErrLinkTaken):
			// Another sign-in of the same person created it first.
			return ls.UserByLink(ctx, ext.Provider, ext.Subject)
		default:
			return u, err
		}
	}
	return nil, err
}

// externalRoles is the default roles followed by the provider's, without
// repeats.
func externalRoles(defaults, provider []string) []string {
	out := slices.Clone(defaults)
	for _, r := range provider {
		// A role becomes part of X-Auth-Roles, joined by commas.
		if r != "" && headers.ValidValue(r) && !strings.Contains(r, ",") && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}
