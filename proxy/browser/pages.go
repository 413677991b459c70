package browser

import (
	"bytes"
	"embed"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/authgate/authgate/proxy/accounts"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/authgate.css
var style []byte

// Messages shown on the pages. A failed sign-in has one message, whatever
// failed: an unknown user and a wrong password read the same.
const (
	msgBadCredentials = "The username or password is not correct."
	msgMissing        = "Enter your username and password."
	msgUnavailable    = "Signing in is not possible right now. Try again in a moment."
	msgBadForm        = "This form has expired. It has been renewed: submit it again."
	msgBadRD          = "This link leads to a page authgate does not send people to."
	msgSignedOut      = "You have signed out."
	msgPasswordsOff   = "Password sign-in is turned off here: sign in with a provider."
)

// header sets what every page is served with.
func (s *Sessions) header(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// render writes the template of p.Form (the sign-in form by default).
func (s *Sessions) render(w http.ResponseWriter, r *http.Request, status int, p page) {
	p.Prefix = s.prefix
	p.NoPasswords = !s.acc.Passwords()
	if p.Form == "signin" && s.external != nil {
		p.Providers = s.external.Buttons(p.RD)
	}
	if p.Form == "" {
		p.Form = "message"
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "layout", p); err != nil {
		s.cfg.Logger.Error("sign-in page not rendered", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.header(w)
	w.Header().Set("Content-Security-Policy", s.cspFor(r, p))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}

func serveStyle(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=3600")
	if r.Method != http.MethodHead {
		_, _ = w.Write(style)
	}
}

// rd returns the validated redirect target of r ("/" when it names none),
// and false when it names one that may not be followed.
func (s *Sessions) rd(r *http.Request, v string) (string, bool) {
	if v == "" {
		return "/", true
	}
	return v, s.safe(r, v)
}

// badRD answers a link whose rd may not be followed.
func (s *Sessions) badRD(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusBadRequest, page{Title: "Sign in", Error: msgBadRD})
}

// readForm parses a posted form of at most maxFormBytes.
func readForm(w http.ResponseWriter, r *http.Request) bool {
	if !isForm(r) {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm() == nil
}

// checkForm is the CSRF check of the pages' forms: the browser says the
// post comes from an allowed origin (Origin or Sec-Fetch-Site), and the
// form echoes the CSRF cookie.
func (s *Sessions) checkForm(r *http.Request) bool {
	tok := r.PostForm.Get(csrfField)
	return s.sameOrigin(r.Host, r.Header, tok) && s.doubleSubmit(r, tok)
}

func (s *Sessions) signinPage(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.rd(r, r.URL.Query().Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	if s.straightTo(w, r, rd) {
		return
	}
	s.render(w, r, http.StatusOK, page{Title: "Sign in", Form: "signin", RD: rd, CSRF: s.formCSRF(w, r), Signup: s.acc.SignupOpen()})
}

func (s *Sessions) signin(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		s.render(w, r, http.StatusBadRequest, page{Title: "Sign in", Error: "The form could not be read."})
		return
	}
	f := r.PostForm
	rd, ok := s.rd(r, f.Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	p := page{Title: "Sign in", Form: "signin", RD: rd, Username: f.Get("username"), Signup: s.acc.SignupOpen()}
	if !s.checkForm(r) {
		p.CSRF, p.Error = s.formCSRF(w, r), msgBadForm
		s.render(w, r, http.StatusForbidden, p)
		return
	}
	p.CSRF = f.Get(csrfField)
	if f.Get("username") == "" || f.Get("password") == "" {
		p.Error = msgMissing
		s.render(w, r, http.StatusBadRequest, p)
		return
	}
	sess, err := s.acc.SignIn(r, f.Get("username"), f.Get("password"))
	var throttled *accounts.ThrottledError
	switch {
	case err == nil:
		s.setSession(w, sess, s.now())
		s.forgetProvider(w)
		http.Redirect(w, r, rd, http.StatusSeeOther)
	case errors.Is(err, accounts.ErrInvalidCredentials):
		p.Error = msgBadCredentials
		s.render(w, r, http.StatusUnauthorized, p)
	case errors.Is(err, accounts.ErrPasswordsOff):
		p.Error = msgPasswordsOff
		s.render(w, r, http.StatusForbidden, p)
	case errors.As(err, &throttled):
		secs := secondsCeil(throttled.Wait)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		p.Error = "Too many failed attempts. Try again in " + strconv.Itoa(secs) + " seconds."
		s.render(w, r, http.StatusTooManyRequests, p)
	default:
		s.unavailable(w, r, p, err)
	}
}

// unavailable answers a store or hasher failure on page p.
func (s *Sessions) unavailable(w http.ResponseWriter, r *http.Request, p page, err error) {
	status := http.StatusInternalServerError
	if accounts.Retryable(err) {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
		s.cfg.Logger.Warn("sign-in page request failed", "path", r.URL.Path, "error", err)
	} else {
		s.cfg.Logger.Error("sign-in page request failed", "path", r.URL.Path, "error", err)
	}
	p.Error = msgUnavailable
	s.render(w, r, status, p)
}

func (s *Sessions) signupPage(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.rd(r, r.URL.Query().Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	s.render(w, r, http.StatusOK, page{Title: "Create an account", Form: "signup", RD: rd, CSRF: s.formCSRF(w, r)})
}

func (s *Sessions) signup(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		s.render(w, r, http.StatusBadRequest, page{Title: "Create an account", Error: "The form could not be read."})
		return
	}
	f := r.PostForm
	rd, ok := s.rd(r, f.Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	p := page{Title: "Create an account", Form: "signup", RD: rd, Username: f.Get("username"), Email: f.Get("email")}
	if !s.checkForm(r) {
		p.CSRF, p.Error = s.formCSRF(w, r), msgBadForm
		s.render(w, r, http.StatusForbidden, p)
		return
	}
	p.CSRF = f.Get(csrfField)
	if f.Get("password") != f.Get("password2") {
		p.Error, p.Field = "The two passwords differ.", "password"
		s.render(w, r, http.StatusBadRequest, p)
		return
	}
	err := s.acc.SignUp(r.Context(), f.Get("username"), f.Get("email"), f.Get("password"))
	if msg, ok := accounts.PublicMessage(err); ok {
		status := http.StatusBadRequest
		if msg == "username or email already registered" {
			status = http.StatusConflict
		}
		p.Error, p.Field = capitalize(msg)+".", fieldOf(msg)
		s.render(w, r, status, p)
		return
	}
	if err != nil {
		s.unavailable(w, r, p, err)
		return
	}
	sess, err := s.acc.SignIn(r, f.Get("username"), f.Get("password"))
	if err != nil {
		// The account exists; signing in can be tried on its own page.
		http.Redirect(w, r, s.SignInURL(rd), http.StatusSeeOther)
		return
	}
	s.setSession(w, sess, s.now())
	s.forgetProvider(w)
	http.Redirect(w, r, rd, http.StatusSeeOther)
}

// fieldOf is the sign-up field a refusal of the account service is
// about, from the field its message starts with ("" for none): the page
// marks that input invalid and moves the focus there.
func fieldOf(msg string) string {
	for _, f := range []string{"username", "email", "password"} {
		if strings.HasPrefix(msg, f) {
			return f
		}
	}
	return ""
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func (s *Sessions) signoutPage(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.rd(r, r.URL.Query().Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	s.render(w, r, http.StatusOK, page{Title: "Sign out", Form: "signout", RD: rd, CSRF: s.formCSRF(w, r)})
}

// signout ends the session of the access cookie. When that cookie has
// expired (or is gone) the login can only be named by the refresh
// cookie, which the browser sends to the refresh endpoint alone: the
// form is sent on there with 307, which keeps the method and the body.
func (s *Sessions) signout(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		s.render(w, r, http.StatusBadRequest, page{Title: "Sign out", Error: "The form could not be read."})
		return
	}
	rd, ok := s.rd(r, r.PostForm.Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	if !s.checkForm(r) {
		s.render(w, r, http.StatusForbidden, page{Title: "Sign out", Form: "signout", RD: rd, CSRF: s.formCSRF(w, r), Error: msgBadForm})
		return
	}
	if tok, ok := s.SessionToken(r.Header); ok {
		if err := s.acc.SignOut(r.Context(), tok); err == nil {
			s.signedOut(w, r, rd)
			return
		} else if accounts.Retryable(err) {
			s.unavailable(w, r, page{Title: "Sign out", Form: "signout", RD: rd, CSRF: r.PostForm.Get(csrfField)}, err)
			return
		}
	}
	http.Redirect(w, r, s.prefix+refreshPath, http.StatusTemporaryRedirect)
}

// signoutByRefresh ends the session of the refresh cookie: the sign-out
// form, sent on by signout.
func (s *Sessions) signoutByRefresh(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		s.render(w, r, http.StatusBadRequest, page{Title: "Sign out", Error: "The form could not be read."})
		return
	}
	rd, ok := s.rd(r, r.PostForm.Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	if !s.checkForm(r) {
		s.render(w, r, http.StatusForbidden, page{Title: "Sign out", Form: "signout", RD: rd, CSRF: s.formCSRF(w, r), Error: msgBadForm})
		return
	}
	if tok := cookie(r.Header, refreshCookie); tok != "" {
		if err := s.acc.EndRefresh(r.Context(), tok); err != nil && accounts.Retryable(err) {
			s.unavailable(w, r, page{Title: "Sign out", Form: "signout", RD: rd, CSRF: r.PostForm.Get(csrfField)}, err)
			return
		}
	}
	// Nothing left to end (already ended, or never signed in): signed out.
	s.signedOut(w, r, rd)
}

// signedOut clears the cookies and sends the browser to rd, or, when it
// signed in through a provider whose sessions end with authgate's, to
// that provider's end_session_endpoint (rd is then not followed: the
// provider sends the browser to its post_logout_redirect_uri).
func (s *Sessions) signedOut(w http.ResponseWriter, r *http.Request, rd string) {
	s.clearSession(w)
	if u, ok := s.providerSignOut(r); ok {
		rd = u
	}
	s.forgetProvider(w)
	http.Redirect(w, r, rd, http.StatusSeeOther)
}

// renew is GET {prefix}/refresh?rd=: a navigation without a live access
// cookie lands here. With a refresh cookie the session is renewed (the
// refresh token rotates, reuse is detected as on POST) and the browser
// goes back to rd; without one, or when it is refused, to the sign-in
// page.
func (s *Sessions) renew(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.rd(r, r.URL.Query().Get("rd"))
	if !ok {
		s.badRD(w, r)
		return
	}
	s.header(w)
	signIn := s.withRD(signinPath, rd, r.URL.Query().Get("provider"))
	tok := cookie(r.Header, refreshCookie)
	if tok == "" {
		http.Redirect(w, r, signIn, http.StatusSeeOther)
		return
	}
	sess, err := s.acc.Renew(r, tok)
	switch {
	case err == nil:
		s.setSession(w, sess, s.now())
		http.Redirect(w, r, rd, http.StatusSeeOther)
	case errors.Is(err, accounts.ErrSessionEnded):
		s.clearSession(w)
		http.Redirect(w, r, signIn, http.StatusSeeOther)
	default:
		s.unavailable(w, r, page{Title: "Sign in"}, err)
	}
}
