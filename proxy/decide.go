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

// Dialects of the decision endpoints.
const (
	dialectNginx   = "nginx"
	dialectForward = "forward"
	dialectEnvoy   = "envoy"
)

// decisionDialect reports which decision endpoint the canonical path p
// names, or "".
func decisionDialect(p string) string {
	switch {
	case p == verifyPath:
		return dialectNginx
	case p == forwardPath:
		return dialectForward
	case p == extAuthzPrefix || strings.HasPrefix(p, extAuthzPrefix+"/"):
		return dialectEnvoy
	}
	return ""
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
func (g *Gateway) decide(w *accessRecord, r *http.Request, rt *runtime, dialect string, fw *forwarding) *forwarding {
	w.route = "decision_" + dialect
	if !rt.isTrusted(r.RemoteAddr) {
		// Never fall back to a permissive default: without a trusted peer
		// the original-request headers are the client's own words.
		w.reason = "untrusted_peer"
		respond.Error(w, http.StatusForbidden, "forward-auth requests are accepted only from trusted proxies")
		return fw
	}
	o, err := originalRequest(dialect, r)
	if err != nil {
		w.reason = "bad_request"
		respond.Error(w, http.StatusBadRequest, err.Error())
		return fw
	}
	p, err := route.CleanPath(o.path)
	if err != nil {
		w.reason = "bad_path"
		respond.Error(w, http.StatusBadRequest, "invalid original request path")
		return fw
	}
	fw.path = p
	// No route is 403, not 404: nginx turns any status but 401 and 403
	// into 500.
	if rt.admit(w, r.Header, o.host, o.method, fw, http.StatusForbidden) == nil {
		return fw
	}
	h := w.Header()
	for _, name := range rt.decisionHeaders {
		h[name] = []string{""}
	}
	for _, v := range fw.headers {
		h[v.name] = []string{v.value}
	}
	h.Set("Cache-Control", rt.cacheControl)
	w.WriteHeader(http.StatusOK)
	return fw
}

// originalRequest reads what the peer of dialect says the original request
// was. Missing or malformed information is an error, never a default.
func originalRequest(dialect string, r *http.Request) (original, error) {
	switch dialect {
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
