package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/respond"
)

// Paths of the public discovery documents.
const (
	jwksPath      = "/.well-known/jwks.json"
	discoveryPath = "/.well-known/openid-configuration"
)

// wellKnown holds the discovery documents of one configuration, rendered
// once at compile time.
type wellKnown struct {
	jwks, discovery []byte
}

// newWellKnown renders the public keys of ks as a JWKS (HMAC keys are never
// published) and a discovery document naming authgate's endpoints, so that
// upstreams and other verifiers can check authgate's tokens.
func newWellKnown(t *config.Tokens, acc *config.Accounts, ks []*keys.Key) (*wellKnown, error) {
	set := keys.JWKS{Keys: []keys.JWK{}}
	algs := []string{}
	for _, k := range ks {
		if jwk, ok := k.PublicJWK(); ok {
			set.Keys = append(set.Keys, jwk)
			if !slices.Contains(algs, k.Algorithm) {
				algs = append(algs, k.Algorithm)
			}
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	base := strings.TrimSuffix(t.Issuer, "/")
	doc := map[string]any{
		"issuer":                                t.Issuer,
		"jwks_uri":                              base + jwksPath,
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "jti",
			"preferred_username", "email", "roles", "sid"},
	}
	if acc != nil {
		p := base + acc.PathPrefix
		doc["userinfo_endpoint"] = p + "/me"
		doc["login_endpoint"] = p + "/login"
		doc["refresh_endpoint"] = p + "/refresh"
		doc["logout_endpoint"] = p + "/logout"
		if acc.Signup == config.SignupOpen {
			doc["signup_endpoint"] = p + "/signup"
		}
	}
	disc, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return &wellKnown{jwks: jwks, discovery: disc}, nil
}

// serve answers the discovery paths; it reports false for any other path.
func (wk *wellKnown) serve(w http.ResponseWriter, r *http.Request, path string) bool {
	var body []byte
	var ctype string
	switch path {
	case jwksPath:
		body, ctype = wk.jwks, "application/jwk-set+json"
	case discoveryPath:
		body, ctype = wk.discovery, "application/json"
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
