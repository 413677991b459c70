package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/token"
)

// invalidCredentials is the one answer to every failed login: unknown user,
// wrong password and disabled account look the same (CWE-204).
const invalidCredentials = "Invalid credentials"

var (
	usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{2,63}$`)
	emailPattern    = regexp.MustCompile(`^[^\s@<>()",;:\\\[\]]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$`)
)

type signupRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Email    string `json:"email"`
}

type userView struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

func (s *Service) signup(w http.ResponseWriter, r *http.Request) {
	if !s.SignupOpen() {
		respond.Error(w, http.StatusForbidden, "signup is closed")
		return
	}
	var req signupRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeErr(w, r, err)
		return
	}
	u, err := s.NewUser(r.Context(), req.Username, req.Email, req.Password, s.cfg.DefaultRoles)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	respond.JSON(w, http.StatusCreated, struct {
		Message string   `json:"message"`
		User    userView `json:"user"`
	}{"User created", userView{u.ID, u.Username}})
}

type loginRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoPasswords {
		respond.Error(w, http.StatusForbidden, "password sign-in is turned off: sign in through a provider")
		return
	}
	var req loginRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeErr(w, r, err)
		return
	}
	if (req.Username == "") == (req.Email == "") {
		respond.Error(w, http.StatusBadRequest, "give either username or email")
		return
	}
	if req.Password == "" {
		respond.Error(w, http.StatusBadRequest, "password is required")
		return
	}
	f, tokens, err := s.passwordLogin(r, req.Username, req.Email, req.Password)
	var throttled *ThrottledError
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		s.unauthorized(w, invalidCredentials)
		return
	case errors.As(err, &throttled):
		tooMany(w, throttled.Wait)
		return
	case err != nil:
		s.writeErr(w, r, err)
		return
	}
	s.writeTokens(w, r, tokens, f, "Login successful")
}

// passwordLogin is every password login, the JSON endpoint's and the
// sign-in page's: throttled by what was presented, whether or not such an
// account exists (so throttling reveals nothing about which accounts
// exist), then one answer for every failure. Give username or email; with
// both, the username is looked up first and the email when no username
// matches (the sign-in page's one field). It returns ErrInvalidCredentials,
// a *ThrottledError, or a store or hasher error.
func (s *Service) passwordLogin(r *http.Request, username, email, pw string) (*Family, *issued, error) {
	name := username
	if name == "" {
		name = email
	}
	keys := s.throttleKeys(r, name)
	wait, scope, err := s.throttleWait(r.Context(), keys)
	if err != nil {
		return nil, nil, err
	}
	if wait > 0 {
		s.d.Metrics.LoginThrottled(scope)
		s.d.Logger.Warn("login throttled", "scope", scope, "client_ip", s.d.ClientIP(r), "retry_after", wait.String())
		return nil, nil, &ThrottledError{Wait: wait}
	}

	u, err := s.authenticate(r, username, email, pw)
	switch {
	case errors.Is(err, errBadCredentials):
		for _, k := range keys {
			if _, err := k.throttle.Fail(r.Context(), k.key); err != nil {
				// The answer stays the same; the count is lost for this once.
				s.d.Logger.Warn("login throttle not recorded", "scope", k.scope, "error", err)
			}
		}
		return nil, nil, ErrInvalidCredentials
	case err != nil:
		return nil, nil, err
	}
	// The owner is in: the account's counts start over, the address's do
	// not (it may be spraying other accounts).
	for _, k := range keys[:2] {
		if err := k.throttle.Reset(r.Context(), k.key); err != nil {
			s.d.Logger.Warn("login throttle not reset", "scope", k.scope, "error", err)
		}
	}
	return s.startFamily(r.Context(), u)
}

// throttleKey is one key a login is throttled by.
type throttleKey struct {
	throttle Throttle
	key      string
	scope    string // metrics label
}

// throttleKeys are the keys of a login of name (username or email) from
// r's client: the pair first, then the account, then the address.
func (s *Service) throttleKeys(r *http.Request, name string) []throttleKey {
	acct, ip := FoldKey(name), s.d.ClientIP(r)
	return []throttleKey{
		{s.d.Throttles.Pair, "pair:" + acct + "\x00" + ip, "account_ip"},
		{s.d.Throttles.Account, "acct:" + acct, "account"},
		{s.d.Throttles.IP, "ip:" + ip, "ip"},
	}
}

// throttleWait returns the longest wait the keys impose, and the scope of
// the key imposing it.
func (s *Service) throttleWait(ctx context.Context, keys []throttleKey) (time.Duration, string, error) {
	var wait time.Duration
	var scope string
	for _, k := range keys {
		d, err := k.throttle.Wait(ctx, k.key)
		if err != nil {
			return 0, "", err
		}
		if d > wait {
			wait, scope = d, k.scope
		}
	}
	return wait, scope, nil
}

var (
	errBadCredentials  = errors.New("bad credentials")
	errPasswordChanged = errors.New("password changed during rehash")
)

// authenticate checks a password login. Every failure that must look the
// same to the client is errBadCredentials, reached after the same amount of
// hashing work: an unknown user, and a password no account can have (NUL,
// not UTF-8, too long once normalised), cost one dummy verification, as a
// wrong password costs one verification.
func (s *Service) authenticate(r *http.Request, username, email, pw string) (*User, error) {
	ctx := r.Context()
	usable := password.Validate(pw) == nil
	var u *User
	var err error
	if username != "" {
		u, err = s.d.Store.UserByUsername(ctx, username)
	}
	if email != "" && (username == "" || errors.Is(err, ErrNotFound)) {
		u, err = s.d.Store.UserByEmail(ctx, email)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// A user created by an external provider has no password: no
	// password signs it in, with the same work and answer as a wrong one.
	if err != nil || !usable || u.PasswordHash == "" {
		if !usable {
			pw = "" // the hasher refuses it; the work is the same
		}
		if err := s.d.Hasher.VerifyDummy(ctx, pw); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	ok, rehash, err := s.d.Hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok || u.Disabled {
		return nil, errBadCredentials
	}
	if rehash {
		s.rehash(r, u, pw)
	}
	return u, nil
}

// rehash stores pw under the current hashing parameters. A failure only
// delays the upgrade to the next login.
func (s *Service) rehash(r *http.Request, u *User, pw string) {
	h, err := s.d.Hasher.Hash(r.Context(), pw)
	if err != nil {
		s.d.Logger.Warn("password rehash skipped", "user", u.ID, "error", err)
		return
	}
	old := u.PasswordHash
	err = s.d.Store.UpdateUser(r.Context(), u.ID, func(cur *User) error {
		if cur.PasswordHash != old {
			return errPasswordChanged // changed meanwhile: keep the newer one
		}
		cur.PasswordHash, cur.UpdatedAt = h, s.d.Now().UTC()
		return nil
	}, nil)
	if err != nil {
		s.d.Logger.Warn("password rehash not stored", "user", u.ID, "error", err)
	}
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Service) refresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := decodeJSON(w, r, &req, s.cfg.Cookie); err != nil {
		s.writeErr(w, r, err)
		return
	}
	presented := req.RefreshToken
	if presented == "" && s.cfg.Cookie {
		var err error
		if presented, err = s.cookieRefreshToken(r); err != nil {
			s.writeErr(w, r, err)
			return
		}
	}
	if presented == "" {
		respond.Error(w, http.StatusBadRequest, "refresh_token is required")
		return
	}
	f, tokens, err := s.renew(r, presented)
	if err != nil {
		if errors.Is(err, ErrSessionEnded) {
			s.clearCookie(w)
			s.unauthorized(w, "invalid refresh token")
			return
		}
		s.writeErr(w, r, err)
		return
	}
	s.writeTokens(w, r, tokens, f, "Token refreshed")
}

// renew rotates a refresh token, for the JSON endpoint and the browser
// renewal alike. A reuse is logged as a security event and counted. Every
// refresh failure (unknown, ended, reused, the user gone) is returned
// wrapped in ErrSessionEnded; other errors are the store's.
func (s *Service) renew(r *http.Request, presented string) (*Family, *issued, error) {
	f, tokens, err := s.rotate(r.Context(), presented)
	if err != nil {
		if isRefreshFailure(err) {
			if errors.Is(err, errReuse) {
				s.d.Metrics.RefreshReuse()
				s.d.Logger.Warn("security event: refresh token reuse, family revoked",
					"family", f.ID, "user", f.UserID, "client_ip", s.d.ClientIP(r))
			}
			return nil, nil, fmt.Errorf("%w: %w", ErrSessionEnded, err)
		}
		return nil, nil, err
	}
	return f, tokens, nil
}

func isRefreshFailure(err error) bool {
	for _, e := range []error{errRefreshUnknown, errFamilyRevoked, errFamilyExpired, errFamilyIdle, errReuse, errUserGone} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		s.writeErr(w, r, err)
		return
	}
	if req.RefreshToken == "" && s.cfg.Cookie {
		// Cookie logout is state-changing: it needs the CSRF token too.
		if tok, err := s.cookieRefreshToken(r); err == nil {
			req.RefreshToken = tok
		}
	}
	raw, authErr := token.FromHeader(r.Header)
	if errors.Is(authErr, token.ErrMissing) && req.RefreshToken == "" {
		s.unauthorized(w, "authentication required")
		return
	}
	if authErr != nil && !errors.Is(authErr, token.ErrMissing) {
		respond.Deny(w, s.cfg.Realm, authErr)
		return
	}
	ended := false
	if raw != "" {
		id, err := s.d.Verifier.Verify(raw)
		if err == nil && id.Issuer != token.OwnIssuerName {
			// Logout ends authgate's own sessions only: an external
			// issuer's token names none of them, whatever its claims say,
			// and is refused before anything is stored.
			err = fmt.Errorf("%w: not issued by authgate", token.ErrInvalid)
		}
		if err != nil {
			respond.Deny(w, s.cfg.Realm, err)
			return
		}
		if err := s.endAccessToken(r.Context(), id); err != nil {
			s.writeErr(w, r, err)
			return
		}
		ended = true
	}
	if req.RefreshToken != "" {
		err := s.endRefreshToken(r.Context(), req.RefreshToken)
		switch {
		case err == nil:
			ended = true
		case isRefreshFailure(err):
			// Already ended or unknown: nothing left to revoke.
		default:
			s.writeErr(w, r, err)
			return
		}
	}
	if !ended {
		s.unauthorized(w, "invalid refresh token")
		return
	}
	s.clearCookie(w)
	respond.JSON(w, http.StatusOK, map[string]string{"message": "Logged out"})
}

func (s *Service) me(w http.ResponseWriter, r *http.Request) {
	raw, err := token.FromHeader(r.Header)
	if err != nil {
		respond.Deny(w, s.cfg.Realm, err)
		return
	}
	id, err := s.d.Verifier.Verify(raw)
	if err == nil && s.d.Revocations.Revoked(id) {
		err = fmt.Errorf("%w: revoked", token.ErrInvalid)
	}
	if err != nil {
		respond.Deny(w, s.cfg.Realm, err)
		return
	}
	out := map[string]any{
		"sub":        id.Subject,
		"issuer":     id.Issuer,
		"roles":      nonNil(id.Roles),
		"expires_at": id.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"),
	}
	for _, c := range []string{"preferred_username", "email", "sid"} {
		if v, ok := id.ClaimString(c); ok {
			out[c] = v
		}
	}
	respond.JSON(w, http.StatusOK, out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
