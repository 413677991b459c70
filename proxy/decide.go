package proxy

import (
	"errors"
	"fmt"
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
	// X-Original-URL, or X-Original-URI and X-Original-Method.
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
		ex.reason = respond.ReasonBadRequest
		respond.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := route.CleanPath(o.path)
	if err != nil {
		ex.reason = respond.ReasonBadPath
		respond.Error(w, http.StatusBadRequest, "invalid original request path")
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
	for _, v := range ex.headers {
		h[v.name] = []string{v.value}
	}
	h.Set("Cache-Control", s.CacheControl)
	w.WriteHeader(http.StatusOK)
}

// originalRequest reads what the peer of dialect says the original request
// was. Missing or malformed information is an error, never a default.
func originalRequest(d dialect, r *http.Request) (original, error) {
	switch d {
	case dialectNginx:
		method := r.Header.Get("X-Original-Method")
		if method == "" {
			return original{}, fmt.Errorf("%w: X-Original-Method is missing", errBadOriginal)
		}
		// A peer sets one of the two (ingress-nginx the URL, nginx configs
		// conventionally the URI) and passes client headers through: the
		// other one can only be the client's. Refuse rather than guess.
		if r.Header.Get("X-Original-URL") != "" && r.Header.Get("X-Original-URI") != "" {
			return original{}, fmt.Errorf("%w: both X-Original-URL and X-Original-URI are set", errBadOriginal)
		}
		if raw := r.Header.Get("X-Original-URL"); raw != "" {
			u, err := url.Parse(raw)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return original{}, fmt.Errorf("%w: X-Original-URL is not an absolute http(s) URL", errBadOriginal)
			}
			return original{method: method, host: u.Host, path: u.Path}, nil
		}
		uri := r.Header.Get("X-Original-URI")
		if uri == "" {
			return original{}, fmt.Errorf("%w: X-Original-URL or X-Original-URI is missing", errBadOriginal)
		}
		p, err := requestPath(uri)
		if err != nil {
			return original{}, fmt.Errorf("%w: X-Original-URI: %v", errBadOriginal, err)
		}
		return original{method: method, host: r.Host, path: p}, nil
	case dialectForward:
		method, host, uri := r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Uri")
		if method == "" || host == "" || uri == "" {
			return original{}, fmt.Errorf("%w: X-Forwarded-Method, X-Forwarded-Host and X-Forwarded-Uri are required", errBadOriginal)
		}
		p, err := requestPath(uri)
		if err != nil {
			return original{}, fmt.Errorf("%w: X-Forwarded-Uri: %v", errBadOriginal, err)
		}
		return original{method: method, host: host, path: p}, nil
	default: // dialectEnvoy
		p := strings.TrimPrefix(r.URL.Path, extAuthzPrefix)
		if p == "" {
			p = "/"
		}
		return original{method: r.Method, host: r.Host, path: p}, nil
	}
}

// requestPath returns the decoded path of a request-target ("/a%2Fb?x=1"),
// without its query.
func requestPath(uri string) (string, error) {
	if !strings.HasPrefix(uri, "/") {
		return "", errors.New("not an origin-form request target")
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return "", errors.New("not a request target")
	}
	return u.Path, nil
}
