package browser

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate/proxy/redirect"
)

// Navigation reports whether a request of method with headers h is a
// browser loading a page (where a redirect to sign in helps) rather than
// a script's fetch or XHR (which needs a status it can act on):
// Sec-Fetch-Mode: navigate, or, from a browser that does not send
// Sec-Fetch-Mode, a GET or HEAD that accepts text/html.
func Navigation(method string, h http.Header) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	if mode := h.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	for _, v := range h.Values("Accept") {
		if strings.Contains(strings.ToLower(v), "text/html") {
			return true
		}
	}
	return false
}

// unsafeMethod reports whether a request of method may change state.
func unsafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// webSocket reports whether h asks to upgrade to a WebSocket: an Upgrade
// header naming websocket, or a Sec-WebSocket-Key. Upgrade is hop-by-hop,
// so a peer proxy's decision sub-request usually lacks it (nginx drops
// it), while the key, which only a handshake carries, is passed on like
// any other header.
func webSocket(h http.Header) bool {
	if h.Get("Sec-WebSocket-Key") != "" {
		return true
	}
	for _, v := range h.Values("Upgrade") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "websocket") {
				return true
			}
		}
	}
	return false
}

// CheckCookieRequest decides whether a request authenticated by the
// session cookie (not by a bearer token) may go on: one that may change
// state must come from an allowed origin (the request's host, or an
// allowed host), as its Origin or Sec-Fetch-Site header says, or else echo
// the CSRF cookie in X-CSRF-Token; a WebSocket upgrade must carry an
// allowed Origin. host is the host the request was sent to; h its
// headers. Reads and other requests pass.
func (s *Sessions) CheckCookieRequest(method, host string, h http.Header) bool {
	switch {
	case webSocket(h):
		// Browsers always send Origin with a WebSocket handshake, and it
		// is the only defence: the handshake is a GET any page can start.
		origin := h.Get("Origin")
		return origin != "" && s.allowedOrigin(origin, host)
	case !unsafeMethod(method):
		return true
	}
	return s.sameOrigin(host, h, h.Get(CSRFHeader))
}

// sameOrigin is the check of a state-changing request: Origin when the
// browser sent it, else Sec-Fetch-Site, else the double-submit token.
// "Origin: null" says nothing either way (a page with Referrer-Policy:
// no-referrer, the sign-in page included, posts it even to itself), so
// Sec-Fetch-Site or the token decide then.
func (s *Sessions) sameOrigin(host string, h http.Header, token string) bool {
	if origin := h.Get("Origin"); origin != "" && origin != "null" {
		return s.allowedOrigin(origin, host)
	}
	switch h.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default:
		return false // cross-site, same-site (a sibling subdomain) or none
	}
	r := http.Request{Header: h}
	return token != "" && s.doubleSubmit(&r, token)
}

// allowedOrigin reports whether an Origin header names an http(s) origin
// on host (its port included: another port of the same host is another
// origin, which may be another application) or on an allowed host (any
// port). "null" (sandboxed frames, some redirects) is never allowed.
func (s *Sessions) allowedOrigin(origin, host string) bool {
	if origin == "null" || strings.ContainsAny(origin, "@\\ \t") {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return false
	}
	// Browsers leave a scheme's default port out of both Origin and Host.
	if strings.EqualFold(u.Host, host) {
		return redirect.Safe(origin+"/", host, nil)
	}
	// An origin is a URL without a path: redirect.Safe judges its host
	// against the allowed hosts alone.
	return redirect.Safe(origin+"/", "", s.cfg.AllowedHosts)
}
