package browser

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// Cookie names. The refresh cookie is the account service's own (see
// accounts.Config.Cookie); the access and CSRF cookies are host-only
// (__Host-, Path=/) unless a parent domain is configured (__Secure-,
// Domain set).
const (
	refreshCookie = "__Secure-authgate-refresh"
	// CSRFHeader may echo the CSRF cookie on a cookie-authenticated
	// request that changes state, when the browser sends neither Origin
	// nor Sec-Fetch-Site (double-submit).
	CSRFHeader = "X-CSRF-Token"
	// csrfField is the CSRF token's form field.
	csrfField = "csrf"
)

type cookieNames struct {
	access, csrf string
	domain       string
}

func namesFor(domain string) cookieNames {
	if domain == "" {
		return cookieNames{access: "__Host-authgate-session", csrf: "__Host-authgate-csrf"}
	}
	return cookieNames{access: "__Secure-authgate-session", csrf: "__Secure-authgate-csrf-token", domain: domain}
}

// ours reports whether a cookie name is one authgate sets: such cookies
// never reach an upstream. Names compare without regard to case, as some
// frameworks read them.
func ours(name string) bool {
	n := strings.TrimSpace(name)
	return hasPrefixFold(n, "__host-authgate-") || hasPrefixFold(n, "__secure-authgate-")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// StripCookies removes authgate's cookies from every Cookie header of h
// (whatever the spelling of the header's name), keeping the others in
// their order, and drops a header left empty.
func StripCookies(h http.Header) {
	for k, vals := range h {
		if !strings.EqualFold(k, "Cookie") {
			continue
		}
		if !slices.ContainsFunc(vals, func(v string) bool { return stripLine(v) != v }) {
			continue
		}
		out := vals[:0:0]
		for _, v := range vals {
			if kept := stripLine(v); kept != "" {
				out = append(out, kept)
			}
		}
		if len(out) == 0 {
			delete(h, k)
		} else {
			h[k] = out
		}
	}
}

// stripLine removes authgate's pairs from one Cookie header line.
func stripLine(line string) string {
	changed := false
	for part := range strings.SplitSeq(line, ";") {
		if name, _, _ := strings.Cut(part, "="); ours(name) {
			changed = true
			break
		}
	}
	if !changed {
		return line // the common case: nothing to copy
	}
	var b strings.Builder
	for part := range strings.SplitSeq(line, ";") {
		if name, _, _ := strings.Cut(part, "="); ours(name) {
			continue
		}
		if strings.TrimSpace(part) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimSpace(part))
	}
	return b.String()
}

// maxCookieToken bounds a token read from a cookie, as token.MaxTokenBytes
// bounds a bearer token.
const maxCookieToken = 8 << 10

// SessionToken returns the access token of the session cookie in h, and
// whether there is one.
func (s *Sessions) SessionToken(h http.Header) (string, bool) {
	v := cookie(h, s.names.access)
	if v == "" || len(v) > maxCookieToken {
		return "", false
	}
	return v, true
}

// cookie returns the value of the first cookie named name in h's Cookie
// headers, "" when there is none.
func cookie(h http.Header, name string) string {
	r := http.Request{Header: h}
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// setSession sets the cookies of a new or renewed session: the access
// cookie until the token expires, the refresh cookie until the login
// does, and a new CSRF token.
func (s *Sessions) setSession(w http.ResponseWriter, sess *accounts.Session, now time.Time) {
	http.SetCookie(w, &http.Cookie{Name: s.names.access, Value: sess.AccessToken, Path: "/", Domain: s.names.domain,
		MaxAge: maxAge(sess.AccessExpires, now), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// Lax, not Strict: a person following a link to the app from
	// elsewhere arrives by a cross-site navigation, and must be renewed
	// rather than asked to sign in again.
	http.SetCookie(w, &http.Cookie{Name: refreshCookie, Value: sess.RefreshToken, Path: s.acc.RefreshPath(), Domain: s.names.domain,
		MaxAge: maxAge(sess.RefreshExpires, now), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.setCSRF(w, newToken(), maxAge(sess.RefreshExpires, now))
}

// setCSRF sets the CSRF cookie. It is readable by the pages' scripts (not
// HttpOnly) so that an app can echo it in X-CSRF-Token.
func (s *Sessions) setCSRF(w http.ResponseWriter, tok string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: s.names.csrf, Value: tok, Path: "/", Domain: s.names.domain,
		MaxAge: maxAge, Secure: true, SameSite: http.SameSiteLaxMode})
}

// clearSession removes every cookie of the session.
func (s *Sessions) clearSession(w http.ResponseWriter) {
	for _, c := range []struct {
		name, path string
	}{{s.names.access, "/"}, {refreshCookie, s.acc.RefreshPath()}, {s.names.csrf, "/"}} {
		http.SetCookie(w, &http.Cookie{Name: c.name, Value: "", Path: c.path, Domain: s.names.domain, MaxAge: -1,
			Secure: true, HttpOnly: c.name != s.names.csrf, SameSite: http.SameSiteLaxMode})
	}
}

// formCSRF returns the CSRF token of the pages' forms: the cookie's, or a
// new one set now (valid for an hour) when there is none.
func (s *Sessions) formCSRF(w http.ResponseWriter, r *http.Request) string {
	if v := cookie(r.Header, s.names.csrf); validToken(v) {
		return v
	}
	tok := newToken()
	s.setCSRF(w, tok, int(time.Hour/time.Second))
	return tok
}

// doubleSubmit reports whether got, from a form field or X-CSRF-Token,
// equals the CSRF cookie of r.
func (s *Sessions) doubleSubmit(r *http.Request, got string) bool {
	want := cookie(r.Header, s.names.csrf)
	return validToken(want) && len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

func validToken(v string) bool {
	if len(v) != 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func maxAge(until, now time.Time) int {
	if s := int(until.Sub(now) / time.Second); s > 0 {
		return s
	}
	return 1
}
