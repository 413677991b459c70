package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/route"
)

// Decision endpoints: another proxy asks "may this request pass, and as
// whom?". One endpoint per dialect, each reading only the headers its peer
// really sets, so a header a client forged for one peer means nothing to
// another.
const (
	// verifyPath serves nginx auth_request and ingress-nginx auth-url:
	// X-Original-URL (X-Original-Method optional, GET when absent), or
	// X-Original-URI and X-Original-Method; both URL and URI only when they
	// name the same request.
	verifyPath = "/auth/verify"
	// forwardPath serves Traefik forwardAuth and Caddy forward_auth:
	// X-Forwarded-Method, -Proto, -Host and -Uri.
	forwardPath = "/auth/forward"
	// extAuthzPrefix serves Envoy's ext_authz HTTP service: the original
	// method, and the original path after this prefix, on the request line.
	extAuthzPrefix = "/auth/ext-authz"
)

// dialect is the peer a decision endpoint speaks to.
type dialect uint8

// Dialects of the decision endpoints.
const (
	dialectNone dialect = iota
	dialectNginx
	dialectForward
	dialectEnvoy
)

// route is the route name of a dialect's endpoint in logs and metrics.
func (d dialect) route() string {
	switch d {
	case dialectNginx:
		return "decision_nginx"
	case dialectForward:
		return "decision_forward"
	case dialectEnvoy:
		return "decision_envoy"
	}
	return ""
}

// decisionDialect reports which decision endpoint the canonical path p
// names, or dialectNone.
func decisionDialect(p string) dialect {
	switch {
	case p == verifyPath:
		return dialectNginx
	case p == forwardPath:
		return dialectForward
	case p == extAuthzPrefix || strings.HasPrefix(p, extAuthzPrefix+"/"):
		return dialectEnvoy
	}
	return dialectNone
}

// errBadOriginal: the sub-request does not describe an original request.
var errBadOriginal = errors.New("bad forward-auth request")

// original is the request a peer asks about.
type original struct {
	method, host, path string
}

// decide answers a decision request: the same route rules as the proxy
// path decide, the route's upstream is ignored, and nothing is forwarded.
// Allowed: 200, empty body, identity headers on the response. Denied: the
// proxy path's 401/403 answer.
func (s *Snapshot) decide(w http.ResponseWriter, r *http.Request, d dialect, ex *exchange) {
	ex.route = d.route()
	if !s.TrustedProxies.Peer(r.RemoteAddr) {
		// Never fall back to a permissive default: without a trusted peer
		// the original-request headers are the client's own words.
		ex.reason = respond.ReasonUntrustedPeer
		respond.Error(w, http.StatusForbidden, "forward-auth requests are accepted only from trusted proxies")
		return
	}
	o, err := originalRequest(d, r)
	if err != nil {
		s.refuseDecision(w, r, ex, respond.ReasonBadRequest, err.Error())
		return
	}
	p, err := route.CleanPath(o.path)
	if err != nil {
		s.refuseDecision(w, r, ex, respond.ReasonBadPath, "invalid original request path")
		return
	}
	ex.path = p
	// No route is 403, not 404: nginx turns any status but 401 and 403
	// into 500.
	if s.admit(w, r.Header, o.host, o.method, ex, http.StatusForbidden) == nil {
		return
	}
	h := w.Header()
	for _, name := range s.decisionHeaders {
		h[name] = []string{""}
	}
	for i := range ex.headers {
		v := &ex.headers[i]
		h[v.name] = v.value[:]
	}
	h.Set("Cache-Control", s.CacheControl)
	w.WriteHeader(http.StatusOK)
}

// refuseDecision answers 400 to a sub-request that does not describe an
// original request. A peer shows the client a 500 for it (nginx turns any
// status but 2xx, 401 and 403 into one), so it is also logged at WARN with
// the reason, which names the header at fault and never a header value, and
// counted in authgate_auth_decisions_total{reason} by the access path.
func (s *Snapshot) refuseDecision(w http.ResponseWriter, r *http.Request, ex *exchange, reason respond.Reason, msg string) {
	ex.reason = reason
	s.Logger.LogAttrs(r.Context(), slog.LevelWarn, "forward-auth request refused",
		slog.String("request_id", ex.requestID),
		slog.String("route", ex.route),
		slog.String("reason", string(reason)),
		slog.String("error", msg),
	)
	respond.Error(w, http.StatusBadRequest, msg)
}

// originalRequest reads what the peer of dialect says the original request
// was. Missing, repeated or malformed information is an error, never a
// default: the one default is GET for an X-Original-URL without
// X-Original-Method, as ingress-nginx always sends the method and nginx
// configs that send only the URL mean the request as received. Error
// messages name headers, never their values.
func originalRequest(d dialect, r *http.Request) (original, error) {
	switch d {
	case dialectNginx:
		return nginxOriginal(r.Header, r.Host)
	case dialectForward:
		return forwardedOriginal(r.Header)
	default: // dialectEnvoy
		p := strings.TrimPrefix(r.URL.Path, extAuthzPrefix)
		if p == "" {
			p = "/"
		}
		return original{method: r.Method, host: r.Host, path: p}, nil
	}
}

// nginxOriginal reads nginx auth_request's X-Original-URI and
// X-Original-Method, or ingress-nginx auth-url's X-Original-URL (with
// X-Original-URI as well under the auth-method annotation: both must then
// name the same request).
func nginxOriginal(h http.Header, host string) (original, error) {
	method, err := single(h, "X-Original-Method", joinedToken)
	if err != nil {
		return original{}, err
	}
	rawURL, err := single(h, "X-Original-URL", joinedTarget)
	if err != nil {
		return original{}, err
	}
	uri, err := single(h, "X-Original-URI", joinedTarget)
	if err != nil {
		return original{}, err
	}
	if rawURL == "" {
		switch {
		case uri == "":
			return original{}, fmt.Errorf("%w: X-Original-URL or X-Original-URI is missing", errBadOriginal)
		case method == "":
			return original{}, fmt.Errorf("%w: X-Original-Method is missing", errBadOriginal)
		}
		u, err := requestTarget(uri)
		if err != nil {
			return original{}, fmt.Errorf("%w: X-Original-URI: %v", errBadOriginal, err)
		}
		return original{method: method, host: host, path: u.Path}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return original{}, fmt.Errorf("%w: X-Original-URL is not an absolute http(s) URL", errBadOriginal)
	}
	if uri != "" {
		// ingress-nginx with auth-method sends both, built from the same
		// $request_uri. A client can add one of them to the headers
		// ingress-nginx passes through: refuse when they disagree.
		ru, err := requestTarget(uri)
		if err != nil {
			return original{}, fmt.Errorf("%w: X-Original-URI: %v", errBadOriginal, err)
		}
		if ru.EscapedPath() != u.EscapedPath() || ru.RawQuery != u.RawQuery {
			return original{}, fmt.Errorf("%w: X-Original-URL and X-Original-URI name different requests", errBadOriginal)
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	return original{method: method, host: u.Host, path: u.Path}, nil
}

// forwardedOriginal reads Traefik's and Caddy's X-Forwarded-Method, -Host
// and -Uri (and checks that -Proto, when sent, is a single value).
func forwardedOriginal(h http.Header) (original, error) {
	var vals [4]string
	for i, name := range []string{"X-Forwarded-Method", "X-Forwarded-Host", "X-Forwarded-Uri", "X-Forwarded-Proto"} {
		joined := joinedToken
		if name == "X-Forwarded-Uri" {
			joined = joinedTarget
		}
		v, err := single(h, name, joined)
		if err != nil {
			return original{}, err
		}
		vals[i] = v
	}
	method, host, uri := vals[0], vals[1], vals[2]
	if method == "" || host == "" || uri == "" {
		return original{}, fmt.Errorf("%w: X-Forwarded-Method, X-Forwarded-Host and X-Forwarded-Uri are required", errBadOriginal)
	}
	u, err := requestTarget(uri)
	if err != nil {
		return original{}, fmt.Errorf("%w: X-Forwarded-Uri: %v", errBadOriginal, err)
	}
	return original{method: method, host: host, path: u.Path}, nil
}

// single returns the one value of header name, "" when it is absent. Two
// header lines, or one line that joined is a list of values, are an error:
// a proxy that appended its value to a client's copy (or the reverse)
// leaves no way to tell which one is true.
func single(h http.Header, name string, joined func(string) bool) (string, error) {
	vals := h.Values(name)
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1 || joined(vals[0]):
		return "", fmt.Errorf("%w: %s has more than one value", errBadOriginal, name)
	}
	return vals[0], nil
}

// joinedToken reports whether a single-token value (a method, a host, a
// scheme) holds a list: any comma or whitespace.
func joinedToken(v string) bool {
	return strings.ContainsAny(v, ", \t")
}

// joinedTarget reports whether a request target or URL holds a list:
// whitespace (never part of a target), or a comma followed by the start of
// another target ("/a,/b", "https://x/a,https://y/b"). A comma elsewhere
// ("/search?q=a,b") is part of the target.
func joinedTarget(v string) bool {
	if strings.ContainsAny(v, " \t") {
		return true
	}
	l := strings.ToLower(v)
	return strings.Contains(l, ",/") || strings.Contains(l, ",http:") || strings.Contains(l, ",https:")
}

// requestTarget parses an origin-form request target ("/a%2Fb?x=1").
func requestTarget(uri string) (*url.URL, error) {
	if !strings.HasPrefix(uri, "/") {
		return nil, errors.New("not an origin-form request target")
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, errors.New("not a request target")
	}
	return u, nil
}
