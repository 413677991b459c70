package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate/proxy/browser"
	"github.com/authgate/authgate/proxy/policy"
	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/token"
)

// sessionState is what a browser session did for one request.
type sessionState struct {
	// cookie: the token came from the session cookie, not a header.
	cookie bool
	// uri is the request's URL on the proxy path, forwarded the headers
	// of a Traefik or Caddy sub-request: where the URL a browser sent to
	// sign in comes back to is read from, only when one is (see target).
	uri       *url.URL
	forwarded http.Header
}

// target is the URL a browser sent to sign in comes back to: the
// request's own path and query on the proxy path, the original URL a
// Traefik or Caddy sub-request names. "" where a redirect cannot be
// answered (nginx's sub-requests, which follow auth-signin instead).
func (st *sessionState) target() string {
	switch {
	case st.uri != nil:
		return st.uri.RequestURI()
	case st.forwarded != nil:
		return forwardedTarget(st.forwarded)
	}
	return ""
}

// credential returns the bearer token of the Authorization header or,
// when there is none and browsers have sessions, of the session cookie.
// The header wins: a cookie is read only when no bearer token was sent,
// so a bad cookie never spoils a good header, and a bad header is not
// rescued by a cookie.
func (s *Snapshot) credential(h http.Header, ex *exchange) (string, error) {
	raw, err := token.FromHeader(h)
	if !errors.Is(err, token.ErrMissing) || s.Browser == nil {
		return raw, err
	}
	if tok, ok := s.Browser.SessionToken(h); ok {
		ex.session.cookie = true
		return tok, nil
	}
	return "", err
}

// forwardedTarget is the original URL of a Traefik or Caddy
// sub-request, whose headers forwardedOriginal accepted.
func forwardedTarget(h http.Header) string {
	proto := h.Get("X-Forwarded-Proto")
	if proto != "http" {
		proto = "https"
	}
	return proto + "://" + h.Get("X-Forwarded-Host") + h.Get("X-Forwarded-Uri")
}

// upstreamCookies is the Cookie header the app behind a decision should
// get: the request's cookies without authgate's, "" when none are left.
// A decision answer carries it in its own Cookie header, which the proxy
// copies onto the request it forwards (nginx auth_request_set,
// ingress-nginx auth-response-headers, Traefik authResponseHeaders, Caddy
// copy_headers), so the session cookie does not reach the app.
func upstreamCookies(h http.Header) string {
	c := http.Header{"Cookie": h.Values("Cookie")}
	browser.StripCookies(c)
	return strings.Join(c.Values("Cookie"), "; ")
}

// deny answers a failed authentication or authorization. On a browser
// route, a browser navigation that brought no session, or a session
// cookie that no longer verifies, is sent to renew it (and from there to
// sign in) with 302; everything else gets the JSON answer and its
// challenge.
func (s *Snapshot) deny(w http.ResponseWriter, h http.Header, method string, rr *gatewayRoute, ex *exchange, err error) respond.Reason {
	d := respond.DenialFor(err)
	if !rr.Browser || s.Browser == nil || errors.Is(err, policy.ErrForbidden) ||
		!(ex.session.cookie || errors.Is(err, token.ErrMissing)) || !browser.Navigation(method, h) {
		return respond.Deny(w, s.Realm, err).Reason
	}
	target := ex.session.target()
	if target == "" {
		return respond.Deny(w, s.Realm, err).Reason
	}
	w.Header().Set("Location", s.Browser.RenewURL(target, rr.Provider))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
	return d.Reason
}
