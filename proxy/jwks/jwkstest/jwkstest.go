// Package jwkstest provides a stand-in identity provider for tests: one
// signing key published as a JWK Set by an httptest server that can be
// taken down, and tokens signed with that key.
package jwkstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
)

// IdP is a stand-in identity provider. It is safe for concurrent use.
type IdP struct {
	// Issuer is the "iss" of the tokens Sign issues.
	Issuer string
	// Key signs tokens; its public half is published.
	Key *keys.Key
	// Server publishes the JWK Set at every path.
	Server *httptest.Server

	down     atomic.Bool
	requests atomic.Int64
}

// New starts an IdP publishing key for issuer; the server is closed when
// the test ends.
func New(t testing.TB, issuer string, key *keys.Key) *IdP {
	t.Helper()
	p := &IdP{Issuer: issuer, Key: key}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if p.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		jwk, _ := p.Key.PublicJWK()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(keys.JWKS{Keys: []keys.JWK{jwk}})
	}))
	t.Cleanup(p.Server.Close)
	return p
}

// URL is where the JWK Set is published.
func (p *IdP) URL() string { return p.Server.URL + "/jwks.json" }

// SetDown makes the IdP answer 503 (true) or publish its keys again.
func (p *IdP) SetDown(down bool) { p.down.Store(down) }

// Requests counts the requests the IdP received, answered or not.
func (p *IdP) Requests() int64 { return p.requests.Load() }

// Sign issues a token signed with the IdP's key and carrying its kid: typ
// in the header unless empty, claims as given, with iss, iat and exp (an
// hour from now) added when claims lack them (iss only when the IdP has
// one).
func (p *IdP) Sign(t testing.TB, typ string, claims jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	defaults := map[string]any{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if p.Issuer != "" {
		defaults["iss"] = p.Issuer
	}
	for k, v := range defaults {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	tok := jwt.NewWithClaims(p.Key.SigningMethod(), claims)
	tok.Header["kid"] = p.Key.ID
	if typ != "" {
		tok.Header["typ"] = typ
	}
	s, err := tok.SignedString(p.Key.SigningKey())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
