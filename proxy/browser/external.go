package browser

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/oidc"
)

// SetExternal adds the buttons of h's providers to the sign-in page; when
// defaultProvider is set, the sign-in page sends browsers straight to that
// provider instead (?password=1 still shows the page). Call it before
// serving.
func (s *Sessions) SetExternal(h *oidc.Handler, defaultProvider string) {
	s.external, s.defaultProvider = h, defaultProvider
}

// straightTo sends the browser to a provider instead of showing the
// sign-in page, and reports whether it did: to the provider the request's
// "provider" parameter names (a route's provider, carried through the
// renewal) when it is configured, else to the default provider.
// ?password=1 shows the page.
func (s *Sessions) straightTo(w http.ResponseWriter, r *http.Request, rd string) bool {
	q := r.URL.Query()
	if s.external == nil || q.Get("password") != "" {
		return false
	}
	name := q.Get("provider")
	if name == "" || !s.external.Has(name) {
		name = s.defaultProvider
	}
	if name == "" {
		return false
	}
	http.Redirect(w, r, s.external.StartURL(name, rd), http.StatusSeeOther)
	return true
}

// Finish starts authgate's session for someone an external provider
// vouched for, as a password sign-in does (the same cookies), and sends
// the browser to rd ("/" when empty). It implements oidc.Finisher.
func (s *Sessions) Finish(w http.ResponseWriter, r *http.Request, id *oidc.Identity, rd string) {
	if rd == "" {
		rd = "/"
	}
	sess, err := s.acc.SignInExternal(r.Context(), accounts.External{
		Provider: id.Provider, Subject: id.Subject, Username: id.Username, Email: id.Email,
		EmailVerified: id.EmailVerified, Roles: id.Groups, Create: id.CreateUsers,
	})
	p := page{Title: "Sign in", Form: "signin", RD: rd, CSRF: s.formCSRF(w, r), Signup: s.acc.SignupOpen()}
	result := "success"
	switch {
	case err == nil:
		s.setSession(w, sess, s.now())
		if s.external != nil {
			s.external.RememberSignIn(w, id, sess.RefreshExpires)
		}
		http.Redirect(w, r, rd, http.StatusSeeOther)
	case errors.Is(err, accounts.ErrNotLinked), errors.Is(err, accounts.ErrInvalidCredentials):
		result = "forbidden"
		p.Error = "Your account may not sign in here."
		s.render(w, r, http.StatusForbidden, p)
	default:
		result = "unavailable"
		s.unavailable(w, r, p, err)
	}
	if s.external != nil {
		s.external.Count(w, id.Provider, result)
	}
}

// forgetProvider clears what a sign-in through a provider left for the
// sign-out: a password sign-in replaced it.
func (s *Sessions) forgetProvider(w http.ResponseWriter) {
	if s.external != nil {
		s.external.ForgetSignIn(w)
	}
}

// providerSignOut returns the provider's end_session_endpoint URL a
// browser signing out goes to, and whether there is one (see
// oidc.Handler.SignOutURL).
func (s *Sessions) providerSignOut(r *http.Request) (string, bool) {
	if s.external == nil {
		return "", false
	}
	return s.external.SignOutURL(r)
}

// cspFor is the Content-Security-Policy of page p for r: the sign-out
// form's form-action also names the origin of the provider's
// end_session_endpoint, where the 303 after the post leads.
func (s *Sessions) cspFor(r *http.Request, p page) string {
	if p.Form != "signout" || s.external == nil {
		return s.csp
	}
	origin := s.external.SignOutOrigin(r)
	if origin == "" {
		return s.csp
	}
	return strings.Replace(s.csp, "form-action 'self'", "form-action 'self' "+origin, 1)
}
