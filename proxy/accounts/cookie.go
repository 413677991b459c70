package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// Cookie names. The refresh cookie uses the __Secure- prefix rather than
// __Host-: browsers accept a __Host- cookie only with Path=/, which would
// send the refresh token along with every request to every upstream.
// Both cookies have Path set to the refresh endpoint (see cookiePath), so
// a browser sends them to that endpoint and nowhere else, not even to the
// other account endpoints.
const (
	refreshCookie = "__Secure-authgate-refresh"
	csrfCookie    = "__Secure-authgate-csrf"
	// CSRFHeader must echo the CSRF cookie on cookie-authenticated refresh
	// and logout (double-submit). A cross-site page can neither read the
	// cookie nor set the header without a CORS preflight that authgate
	// never grants.
	CSRFHeader = "X-CSRF-Token"
)

// cookiePath is the Path of both cookies: the refresh endpoint only. A
// browser does not send them to logout; logout by access token ends the
// session and clears them.
func (s *Service) cookiePath() string { return s.cfg.Prefix + "/refresh" }

// setCookies sets the refresh cookie and a new CSRF cookie for the
// family's lifetime, and returns the CSRF token for the response body.
func (s *Service) setCookies(w http.ResponseWriter, refresh string, expires time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	csrf := hex.EncodeToString(b[:])
	maxAge := int(expires.Sub(s.d.Now()) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{Name: refreshCookie, Value: refresh, Path: s.cookiePath(),
		MaxAge: maxAge, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: s.cookiePath(),
		MaxAge: maxAge, Secure: true, HttpOnly: false, SameSite: http.SameSiteStrictMode})
	return csrf, nil
}

// clearCookie removes both cookies (logout, failed refresh).
func (s *Service) clearCookie(w http.ResponseWriter) {
	if !s.cfg.Cookie {
		return
	}
	for _, name := range []string{refreshCookie, csrfCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: s.cookiePath(), MaxAge: -1,
			Secure: true, HttpOnly: name == refreshCookie, SameSite: http.SameSiteStrictMode})
	}
}

// cookieRefreshToken returns the refresh token from the cookie after
// checking the CSRF header against the CSRF cookie.
func (s *Service) cookieRefreshToken(r *http.Request) (string, error) {
	c, err := r.Cookie(refreshCookie)
	if err != nil || c.Value == "" {
		return "", nil
	}
	want, err := r.Cookie(csrfCookie)
	got := r.Header.Get(CSRFHeader)
	if err != nil || want.Value == "" || got == "" ||
		subtle.ConstantTimeCompare([]byte(want.Value), []byte(got)) != 1 {
		return "", &badRequest{http.StatusForbidden, "missing or invalid CSRF token"}
	}
	return c.Value, nil
}
