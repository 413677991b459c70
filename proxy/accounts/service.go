// Package accounts serves authgate's own accounts: signup, login, refresh
// with rotation and reuse detection, logout and the caller's identity, on a
// Store (embedded SQLite, or PostgreSQL shared by several replicas).
//
// Login returns a short-lived signed access token and a long-lived opaque
// refresh token. Each refresh token belongs to a family (one login); using
// it rotates it, and presenting an already-rotated token again revokes the
// whole family (RFC 9700 §4.14.2).
package accounts

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/token"
)

// Config is how the account endpoints behave.
type Config struct {
	// Prefix is the path the endpoints live under, e.g. "/auth".
	Prefix string
	// OpenSignup lets anyone sign up; otherwise signup answers 403.
	OpenSignup bool
	// NoPasswords turns password sign-in off: people sign in only
	// through external providers (SignInExternal), and password logins
	// and signup answer 403.
	NoPasswords  bool
	DefaultRoles []string
	Policy       password.Policy
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	RefreshIdle  time.Duration
	RefreshGrace time.Duration
	// Cookie hands refresh tokens out in a cookie instead of the body:
	// __Secure-authgate-refresh, HttpOnly, Secure, SameSite=Strict, with
	// Path limited to Prefix+"/refresh" (a __Host- cookie would need
	// Path=/ and reach every upstream).
	Cookie bool
	// Realm is named in WWW-Authenticate challenges.
	Realm string
}

// Verifier verifies access tokens; *token.Verifier implements it.
type Verifier interface {
	Verify(raw string) (*identity.Identity, error)
}

// Deps are the collaborators of a Service. Store, Hasher, Signer, Verifier,
// Revocations and both limiters are required.
type Deps struct {
	Store       Store
	Hasher      *password.Hasher
	Signer      *token.Signer
	Verifier    Verifier
	Revocations *Revocations
	// Throttles slow down password guessing.
	Throttles Throttles
	// ClientIP returns the address a request came from (behind trusted
	// proxies, the client's). Nil uses the connection's peer address.
	ClientIP func(*http.Request) string
	// Logger receives security events (reuse detections, throttling). Nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Metrics counts account operations. Nil counts nothing.
	Metrics Metrics
}

// Throttle counts failed logins per key and says how long the next try
// must wait: *throttle.Shared (counts shared by every replica through the
// store) and throttle.InProcess (counts in this process) implement it.
type Throttle interface {
	Wait(ctx context.Context, key string) (time.Duration, error)
	Fail(ctx context.Context, key string) (time.Duration, error)
	Reset(ctx context.Context, key string) error
}

// Throttles are the three keys a login is throttled by. Pair counts the
// failures of one presented account from one client address: it throttles
// early, and only that pair, so an attacker elsewhere cannot slow the
// account's owner down. Account counts an account's failures from every
// address, with a higher threshold, against guessing spread over many
// addresses. IP counts an address's failures over every account, against
// spraying many accounts.
type Throttles struct {
	Pair, Account, IP Throttle
}

// Metrics receives account events; *metrics.Metrics implements it.
type Metrics interface {
	// Account counts an operation (login, signup, refresh, logout) by
	// result (success, failure, throttled, unavailable, reuse).
	Account(op, result string)
	// RefreshReuse counts a detected refresh token reuse.
	RefreshReuse()
	// LoginThrottled counts a throttled login by scope (account, ip).
	LoginThrottled(scope string)
}

type noMetrics struct{}

func (noMetrics) Account(string, string) {}
func (noMetrics) RefreshReuse()          {}
func (noMetrics) LoginThrottled(string)  {}

// Service is the account endpoints as an http.Handler. It is safe for
// concurrent use.
type Service struct {
	cfg   Config
	d     Deps
	mux   *http.ServeMux
	allow map[string]string // path → Allow header, for 405s
}

// New returns the Service for cfg.
func New(cfg Config, d Deps) (*Service, error) {
	switch {
	case d.Store == nil, d.Hasher == nil, d.Signer == nil, d.Verifier == nil, d.Revocations == nil,
		d.Throttles.Pair == nil, d.Throttles.Account == nil, d.Throttles.IP == nil:
		return nil, errors.New("accounts: missing dependency")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ClientIP == nil {
		d.ClientIP = peerIP
	}
	if d.Metrics == nil {
		d.Metrics = noMetrics{}
	}
	s := &Service{cfg: cfg, d: d, mux: http.NewServeMux(), allow: map[string]string{}}
	for _, e := range []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{http.MethodPost, "/signup", s.signup},
		{http.MethodPost, "/login", s.login},
		{http.MethodPost, "/refresh", s.refresh},
		{http.MethodPost, "/logout", s.logout},
		{http.MethodGet, "/me", s.me},
	} {
		s.mux.HandleFunc(e.method+" "+cfg.Prefix+e.path, e.h)
		s.allow[cfg.Prefix+e.path] = e.method
	}
	return s, nil
}

// ServeHTTP serves the endpoints under the prefix; anything else under it
// is 404 (or 405 for a known path with another method), in JSON.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		if op := strings.TrimPrefix(pattern[strings.IndexByte(pattern, ' ')+1:], s.cfg.Prefix+"/"); op != "me" {
			rec := &statusRecorder{ResponseWriter: w}
			defer func() { s.d.Metrics.Account(op, resultOf(rec.status)) }()
			w = rec
		}
	}
	if pattern == "" {
		if allow, ok := s.allow[r.URL.Path]; ok {
			w.Header().Set("Allow", allow)
			respond.Error(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		respond.Error(w, http.StatusNotFound, "not found")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.ServeHTTP(w, r)
}

// Owns reports whether path is served by the Service.
func (s *Service) Owns(path string) bool {
	return path == s.cfg.Prefix || len(path) > len(s.cfg.Prefix) &&
		path[:len(s.cfg.Prefix)] == s.cfg.Prefix && path[len(s.cfg.Prefix)] == '/'
}

// Revoked reports whether the access token behind id was revoked (logout,
// password change, disabled account).
func (s *Service) Revoked(id *identity.Identity) bool { return s.d.Revocations.Revoked(id) }

// statusRecorder remembers the status an endpoint answered, for metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// resultOf names an account operation's result by its status.
func resultOf(status int) string {
	switch {
	case status < 300:
		return "success"
	case status == http.StatusTooManyRequests:
		return "throttled"
	case status == http.StatusServiceUnavailable:
		return "unavailable"
	default:
		return "failure"
	}
}
