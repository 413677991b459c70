// Package browser serves people in browsers: the sign-in, sign-up and
// sign-out pages, the session cookies they set, the renewal of an expired
// access cookie from the refresh cookie, and the checks a cookie-carried
// session needs that a bearer token does not (cross-site requests,
// WebSocket origins).
//
// The pages are server-rendered from html/template, need no JavaScript,
// load nothing from elsewhere, and are served with a strict
// Content-Security-Policy. They sign people in through the account
// service's own login, so throttling and the single answer to every
// failed login are those of POST {prefix}/login.
//
// A session is two cookies. The access token rides in an HttpOnly,
// Secure, SameSite=Lax cookie on Path=/ (__Host-authgate-session, or
// __Secure-authgate-session on a configured parent domain), which the
// proxy accepts in place of an Authorization header and never forwards.
// The refresh token rides in __Secure-authgate-refresh, scoped to the
// refresh endpoint, so a browser sends it there and nowhere else. A
// navigation whose access cookie is missing or expired is sent to
// GET {prefix}/refresh?rd=..., which renews the session from the refresh
// cookie and sends the browser back, or sends it on to the sign-in page.
package browser

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/oidc"
	"github.com/authgate/authgate/proxy/redirect"
)

// Config is how the pages and cookies behave.
type Config struct {
	// AllowedHosts are the hosts besides the request's own that a
	// redirect target may name and that cookie-authenticated requests may
	// come from: "app.example.com" (any port) or "*.example.com".
	AllowedHosts []string
	// CookieDomain, when set, puts the cookies on this parent domain
	// (prefix __Secure-); otherwise they are host-only (__Host- for the
	// access cookie).
	CookieDomain string
	// Logger receives failures of the store behind the pages. Nil
	// discards.
	Logger *slog.Logger
	// Now is the clock cookie lifetimes are counted from. Nil means
	// time.Now.
	Now func() time.Time
}

// Sessions is the pages and the session cookies of one configuration. It
// is safe for concurrent use.
type Sessions struct {
	cfg    Config
	acc    *accounts.Service
	prefix string
	names  cookieNames
	csp    string
	// external signs people in through OpenID Connect providers; nil
	// when there are none (see SetExternal).
	external *oidc.Handler
	// defaultProvider, when set, is where the sign-in page sends
	// browsers straight away.
	defaultProvider string
}

// New returns the pages of cfg, signing people in through acc.
func New(cfg Config, acc *accounts.Service) (*Sessions, error) {
	if acc == nil {
		return nil, errors.New("browser: the sign-in page needs the account service")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sessions{cfg: cfg, acc: acc, prefix: acc.Prefix(), names: namesFor(cfg.CookieDomain)}
	// form-action is followed through the 303 after a post, so it names
	// the hosts a redirect may lead to.
	formAction := "'self'"
	for _, h := range cfg.AllowedHosts {
		formAction += " " + h + ":*"
	}
	s.csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + formAction +
		"; frame-ancestors 'none'; base-uri 'none'"
	return s, nil
}

// Paths of the pages, under the account prefix.
const (
	signinPath  = "/signin"
	signupPath  = "/signup"
	signoutPath = "/signout"
	refreshPath = "/refresh"
	stylePath   = "/assets/authgate.css"
)

// Serves reports whether the request for canonical path p is one of the
// pages (rather than a JSON account endpoint): the sign-in and sign-out
// pages, the stylesheet, a GET of the refresh endpoint (the renewal), the
// sign-up page when signup is open, and a form posted to sign-up or
// refresh.
func (s *Sessions) Serves(r *http.Request, p string) bool {
	rest, ok := strings.CutPrefix(p, s.prefix)
	if !ok {
		return false
	}
	switch rest {
	case signinPath, signoutPath, stylePath:
		return true
	case signupPath:
		return s.acc.SignupOpen() && (r.Method == http.MethodGet || r.Method == http.MethodHead || isForm(r))
	case refreshPath:
		// GET renews (it rotates the refresh token, so not HEAD); a form
		// is the sign-out sent on from signout. JSON stays the account
		// endpoint's.
		return r.Method == http.MethodGet || r.Method == http.MethodPost && isForm(r)
	}
	return false
}

// ServeHTTP serves the page of r.URL.Path, which Serves accepted.
func (s *Sessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, s.prefix)
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	if rest != stylePath {
		// Every answer but the stylesheet, redirects that set cookies
		// included, is the page's own and never cached.
		s.header(w)
	}
	switch {
	case rest == stylePath && get:
		serveStyle(w, r)
	case rest == signinPath && get:
		s.signinPage(w, r)
	case rest == signinPath && r.Method == http.MethodPost:
		s.signin(w, r)
	case rest == signupPath && get:
		s.signupPage(w, r)
	case rest == signupPath && r.Method == http.MethodPost:
		s.signup(w, r)
	case rest == signoutPath && get:
		s.signoutPage(w, r)
	case rest == signoutPath && r.Method == http.MethodPost:
		s.signout(w, r)
	case rest == refreshPath && r.Method == http.MethodGet:
		s.renew(w, r)
	case rest == refreshPath && r.Method == http.MethodPost:
		s.signoutByRefresh(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.render(w, r, http.StatusMethodNotAllowed, page{Title: "Not allowed", Error: "This page does not accept that request."})
	}
}

// SignInURL is the path of the sign-in page that returns to rd.
func (s *Sessions) SignInURL(rd string) string { return s.withRD(signinPath, rd, "") }

// RenewURL is the path of the renewal that returns to rd: where a
// navigation without a live access cookie is sent. provider, when set,
// names the provider a sign-in then goes straight to instead of the
// sign-in page (a route's provider).
func (s *Sessions) RenewURL(rd, provider string) string { return s.withRD(refreshPath, rd, provider) }

func (s *Sessions) withRD(page, rd, provider string) string {
	q := url.Values{}
	if rd != "" {
		q.Set("rd", rd)
	}
	if provider != "" {
		q.Set("provider", provider)
	}
	if len(q) == 0 {
		return s.prefix + page
	}
	return s.prefix + page + "?" + q.Encode()
}

func (s *Sessions) now() time.Time { return s.cfg.Now() }

// safe reports whether rd may be followed from r.
func (s *Sessions) safe(r *http.Request, rd string) bool {
	return redirect.Safe(rd, r.Host, s.cfg.AllowedHosts)
}

// isForm reports whether r carries an HTML form.
func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
}

// page is what a template renders.
type page struct {
	Title    string
	Error    string // announced to screen readers (role=alert)
	Field    string // the input Error is about (id), "" for the whole form
	Notice   string
	RD       string
	CSRF     string
	Username string
	Email    string
	Prefix   string
	Signup   bool // the sign-in page links to sign-up
	// NoPasswords hides the password form: people sign in through the
	// providers alone.
	NoPasswords bool
	Form        string
	// Providers are the buttons of external providers on the sign-in
	// page.
	Providers []oidc.Button
}

var pages = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// maxFormBytes bounds a posted form.
const maxFormBytes = 16 << 10

// secondsCeil is d in whole seconds, at least 1.
func secondsCeil(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
