package proxy

import (
	"net/http"

	"github.com/authgate/authgate/proxy/respond"
)

// Paths of the public discovery documents.
const (
	JWKSPath      = "/.well-known/jwks.json"
	DiscoveryPath = "/.well-known/openid-configuration"
)

// serve answers the discovery paths; it reports false for any other path.
func (wk *Documents) serve(w http.ResponseWriter, r *http.Request, path string) bool {
	var body []byte
	var ctype string
	switch path {
	case JWKSPath:
		body, ctype = wk.JWKS, "application/jwk-set+json"
	case DiscoveryPath:
		body, ctype = wk.Discovery, "application/json"
	default:
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		respond.Error(w, http.StatusMethodNotAllowed, "method not allowed")
		return true
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
	return true
}
