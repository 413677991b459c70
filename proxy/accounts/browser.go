package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/token"
)

// Session is what a sign-in or a renewal hands a browser: its tokens and
// when each stops being good.
type Session struct {
	// AccessToken is a signed access token, good until AccessExpires.
	AccessToken   string
	AccessExpires time.Time
	// RefreshToken renews the session until RefreshExpires (the login's
	// absolute lifetime; an idle login ends sooner).
	RefreshToken   string
	RefreshExpires time.Time
}

// ErrInvalidCredentials is the one error of every failed sign-in: unknown
// user, wrong password and disabled account look the same.
var ErrInvalidCredentials = errors.New("invalid credentials")

// ErrPasswordsOff: password sign-in is turned off (Config.NoPasswords).
var ErrPasswordsOff = errors.New("password sign-in is turned off")

// ErrSessionEnded is the error of every failed renewal: an unknown,
// expired, idle, revoked or reused refresh token, or a user disabled or
// deleted since sign-in.
var ErrSessionEnded = errors.New("session ended")

// ThrottledError is a sign-in refused because of earlier failures; Wait is
// how long the next try must wait.
type ThrottledError struct {
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed attempts, retry in %s", e.Wait)
}

// SignIn is a password login for the sign-in page: the same throttling,
// the same hashing work and the same answers as POST {prefix}/login.
// name is a username, or an email when no username matches. It returns
// ErrInvalidCredentials, a *ThrottledError, or an error Retryable
// recognises when the store or hasher cannot serve now.
func (s *Service) SignIn(r *http.Request, name, pw string) (*Session, error) {
	if s.cfg.NoPasswords {
		return nil, ErrPasswordsOff
	}
	f, t, err := s.passwordLogin(r, name, name, pw)
	s.d.Metrics.Account("login", resultOfErr(err))
	if err != nil {
		return nil, err
	}
	return s.session(f, t), nil
}

// Renew rotates a refresh token, with the reuse detection of POST
// {prefix}/refresh: presenting a rotated token again revokes its login.
// Every refused token is ErrSessionEnded.
func (s *Service) Renew(r *http.Request, refreshToken string) (*Session, error) {
	f, t, err := s.renew(r, refreshToken)
	s.d.Metrics.Account("refresh", resultOfErr(err))
	if err != nil {
		return nil, err
	}
	return s.session(f, t), nil
}

// SignOut ends the login an access token of authgate's own was issued
// in, and every access token issued in it, as POST {prefix}/logout does.
// A token that does not verify (expired, revoked, another issuer's) ends
// nothing and is reported as token.ErrInvalid or token.ErrExpired.
func (s *Service) SignOut(ctx context.Context, accessToken string) error {
	id, err := s.d.Verifier.Verify(accessToken)
	if err == nil && id.Issuer != token.OwnIssuerName {
		err = fmt.Errorf("%w: not issued by authgate", token.ErrInvalid)
	}
	if err == nil && s.d.Revocations.Revoked(id) {
		err = fmt.Errorf("%w: revoked", token.ErrInvalid)
	}
	if err != nil {
		s.d.Metrics.Account("logout", "failure")
		return err
	}
	err = s.endAccessToken(ctx, id)
	s.d.Metrics.Account("logout", resultOfErr(err))
	return err
}

// SignUp creates an account with the default roles, as POST
// {prefix}/signup does. When signup is closed it returns ErrSignupClosed.
// A refused username, email or password is an error PublicMessage can
// show.
func (s *Service) SignUp(ctx context.Context, username, email, pw string) error {
	if !s.SignupOpen() {
		return ErrSignupClosed
	}
	_, err := s.NewUser(ctx, username, email, pw, s.cfg.DefaultRoles)
	s.d.Metrics.Account("signup", resultOfErr(err))
	return err
}

// ErrSignupClosed: signup is closed; operators create users.
var ErrSignupClosed = errors.New("signup is closed")

// SignupOpen reports whether anyone may sign up.
func (s *Service) SignupOpen() bool { return s.cfg.OpenSignup && !s.cfg.NoPasswords }

// Passwords reports whether people may sign in with a password.
func (s *Service) Passwords() bool { return !s.cfg.NoPasswords }

// Prefix is the path the account endpoints live under, e.g. "/auth".
func (s *Service) Prefix() string { return s.cfg.Prefix }

// RefreshPath is the path of the refresh endpoint, and the Path of the
// refresh cookie.
func (s *Service) RefreshPath() string { return s.cookiePath() }

// PublicMessage returns the message of an error that is safe to show a
// client (a refused username, email or password; a taken name), and
// whether err is one.
func PublicMessage(err error) (string, bool) {
	var br *badRequest
	if errors.As(err, &br) {
		return br.msg, true
	}
	return "", false
}

// Retryable reports whether err means the store or the hasher cannot
// serve now and the same request may succeed later.
func Retryable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, password.ErrBusy)
}

// session is a Session of an issued login or renewal.
func (s *Service) session(f *Family, t *issued) *Session {
	now := s.d.Now()
	return &Session{
		AccessToken:    t.access,
		AccessExpires:  now.Add(time.Duration(t.expiresIn) * time.Second),
		RefreshToken:   t.refresh,
		RefreshExpires: f.ExpiresAt,
	}
}

// resultOfErr names an operation's result for metrics, as resultOf does
// by status.
func resultOfErr(err error) string {
	var th *ThrottledError
	switch {
	case err == nil:
		return "success"
	case errors.As(err, &th):
		return "throttled"
	case Retryable(err):
		return "unavailable"
	default:
		return "failure"
	}
}

// EndRefresh ends the login of a refresh token, and every access token
// issued in it, as POST {prefix}/logout with a refresh token does. A token
// with nothing left to end is ErrSessionEnded.
func (s *Service) EndRefresh(ctx context.Context, refreshToken string) error {
	err := s.endRefreshToken(ctx, refreshToken)
	s.d.Metrics.Account("logout", resultOfErr(err))
	if isRefreshFailure(err) {
		return fmt.Errorf("%w: %w", ErrSessionEnded, err)
	}
	return err
}
