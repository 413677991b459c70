package assemble

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy"
	"github.com/authgate/authgate/proxy/keys"
)

// documents renders the public keys of ks as a JWK Set (HMAC keys are
// never published) and a discovery document naming authgate's endpoints,
// so that upstreams and other verifiers can check authgate's tokens.
func documents(t *config.Tokens, acc *config.Accounts, ks []*keys.Key) (*proxy.Documents, error) {
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
		"jwks_uri":                              base + proxy.JWKSPath,
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
	return &proxy.Documents{JWKS: jwks, Discovery: disc}, nil
}
