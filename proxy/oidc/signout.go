package oidc

import (
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/authgate/proxy/jwks"
)

// hintCookie remembers, between a sign-in through a provider whose
// EndSession is set and the sign-out, which provider it was and
// the ID token to send as id_token_hint. It is sealed (AES-GCM, bound to
// its name), HttpOnly, Secure, SameSite=Lax and scoped to the account
// prefix, where the sign-out forms are posted.
const hintCookie = "__Secure-authgate-signout"

// maxHintValue bounds the sealed value of hintCookie, so that the cookie
// with its attributes stays under the 4096 bytes browsers keep. A longer
// ID token is left out: the sign-out then names the client alone
// (client_id), which the specification allows.
const maxHintValue = 3584

// hint is what hintCookie seals.
type hint struct {
	Provider string `json:"p"`
	IDToken  string `json:"t,omitempty"`
}

// RememberSignIn sets the cookie a later sign-out reads to end the
// session of id at its provider, valid until until (the end of authgate's
// login). For a provider whose EndSession is not set it clears that
// cookie instead.
func (h *Handler) RememberSignIn(w http.ResponseWriter, id *Identity, until time.Time) {
	rp, ok := h.byKey[id.Provider]
	if !ok || !rp.p.EndSession {
		h.ForgetSignIn(w)
		return
	}
	v, err := h.seal(hintCookie, hint{Provider: rp.p.Name, IDToken: id.IDToken})
	if err == nil && len(v) > maxHintValue {
		v, err = h.seal(hintCookie, hint{Provider: rp.p.Name})
	}
	if err != nil {
		h.cfg.Logger.Warn("oidc sign-out cookie not set", "provider", rp.p.Name, "error", err)
		h.ForgetSignIn(w)
		return
	}
	maxAge := int(until.Sub(h.cfg.Now()) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{Name: hintCookie, Value: v, Path: h.cfg.Prefix, MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// ForgetSignIn clears the cookie RememberSignIn sets: at a sign-in of
// another kind, and at every sign-out.
func (h *Handler) ForgetSignIn(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: hintCookie, Value: "", Path: h.cfg.Prefix, MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// SignOutURL returns where to send a browser that has just signed out
// of authgate: the end_session_endpoint of the provider it signed in
// through, with id_token_hint, client_id, post_logout_redirect_uri and a
// state; false when its sign-in cookie is missing, does not open, names
// a provider whose EndSession is not set, or one whose
// discovery names no usable end_session_endpoint.
func (h *Handler) SignOutURL(r *http.Request) (string, bool) {
	rp, hn, end := h.endSession(r)
	if end == nil {
		return "", false
	}
	q := end.Query()
	if hn.IDToken != "" {
		q.Set("id_token_hint", hn.IDToken)
	}
	q.Set("client_id", rp.p.ClientID)
	if rp.p.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", rp.p.PostLogoutRedirectURL)
	}
	q.Set("state", random())
	end.RawQuery = q.Encode()
	return end.String(), true
}

// SignOutOrigin is the origin ("https://idp.example.com") SignOutURL
// would send r's browser to, "" when it would send it nowhere: the
// sign-out page's Content-Security-Policy must allow it in form-action,
// which browsers apply to the redirects after the form is posted.
func (h *Handler) SignOutOrigin(r *http.Request) string {
	_, _, end := h.endSession(r)
	if end == nil {
		return ""
	}
	return end.Scheme + "://" + end.Host
}

// endSession opens r's sign-in cookie and returns its provider, its
// content and the provider's end_session_endpoint, discovering the
// provider if this process has not yet; end is nil when there is none to
// go to.
func (h *Handler) endSession(r *http.Request) (rp *remote, hn hint, end *url.URL) {
	c, err := r.Cookie(hintCookie)
	if err != nil || len(c.Value) > maxHintValue {
		return nil, hn, nil
	}
	if err := h.open(hintCookie, c.Value, &hn); err != nil {
		h.cfg.Logger.Debug("oidc sign-out cookie ignored", "error", err)
		return nil, hn, nil
	}
	rp, ok := h.byKey[hn.Provider]
	if !ok || !rp.p.EndSession {
		return nil, hn, nil
	}
	if _, err := h.discover(r.Context(), rp); err != nil {
		return nil, hn, nil
	}
	rp.mu.Lock()
	raw := rp.endURL
	rp.mu.Unlock()
	if raw == "" {
		return nil, hn, nil
	}
	// The endpoint comes from the provider's discovery document: it is
	// followed only when it is a URL keys could be fetched from (https,
	// or http on loopback) without a fragment.
	u, err := url.Parse(raw)
	if err != nil || jwks.CheckURL(raw) != nil || u.Fragment != "" || u.Opaque != "" {
		h.cfg.Logger.Warn("oidc end_session_endpoint not followed", "provider", rp.p.Name)
		return nil, hn, nil
	}
	return rp, hn, u
}
