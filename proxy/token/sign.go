package token

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
)

// TypeAccessToken is the "typ" header of authgate's access tokens (RFC 9068
// §2.1). Verifiers of authgate's own tokens require it.
const TypeAccessToken = "at+jwt"

// reserved claims are set by Sign and may not be passed as extras.
var reserved = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true}

// ErrReservedClaim is returned by Sign when an extra claim would override a
// registered one.
var ErrReservedClaim = errors.New("claim is set by the signer")

// Signer issues authgate's access tokens. It is immutable and safe for
// concurrent use.
type Signer struct {
	key      *keys.Key
	issuer   string
	audience string
	now      func() time.Time
}

// NewSigner returns a Signer that signs with key for the given issuer and
// audience; now is the clock for iat and exp.
func NewSigner(key *keys.Key, issuer, audience string, now func() time.Time) *Signer {
	return &Signer{key: key, issuer: issuer, audience: audience, now: now}
}

// TypeIdentity is the "typ" header of the identity tokens authgate hands
// upstreams (X-Auth-Token): not access tokens, and never accepted as such.
const TypeIdentity = "JWT"

// Sign issues an access token for sub that lives for ttl, with the extra
// claims (profile claims such as "preferred_username" or "roles"). It
// returns the token and its expiry.
func (s *Signer) Sign(sub string, extra map[string]any, ttl time.Duration) (string, time.Time, error) {
	return s.sign(TypeAccessToken, s.audience, sub, extra, ttl)
}

// SignIdentity issues a short-lived identity token for an upstream: its
// audience is the upstream's (the route's name), so it can never pass as an
// access token, and its "typ" is JWT.
func (s *Signer) SignIdentity(audience, sub string, extra map[string]any, ttl time.Duration) (string, error) {
	tok, _, err := s.sign(TypeIdentity, audience, sub, extra, ttl)
	return tok, err
}

func (s *Signer) sign(typ, audience, sub string, extra map[string]any, ttl time.Duration) (string, time.Time, error) {
	if sub == "" {
		return "", time.Time{}, errors.New("token: empty subject")
	}
	if ttl <= 0 {
		return "", time.Time{}, errors.New("token: lifetime must be positive")
	}
	jti, err := newID()
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now().Truncate(time.Second)
	exp := now.Add(ttl)
	claims := jwt.MapClaims{
		"iss": s.issuer,
		"sub": sub,
		"aud": audience,
		"iat": now.Unix(),
		"exp": exp.Unix(),
		"jti": jti,
	}
	for k, v := range extra {
		if reserved[k] {
			return "", time.Time{}, fmt.Errorf("token: %w: %s", ErrReservedClaim, k)
		}
		claims[k] = v
	}
	t := jwt.NewWithClaims(s.key.SigningMethod(), claims)
	t.Header["typ"] = typ
	t.Header["kid"] = s.key.ID
	signed, err := t.SignedString(s.key.SigningKey())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: sign: %w", err)
	}
	return signed, exp, nil
}

// newID returns 128 random bits, base64url: a token's "jti".
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// StaticKeys returns a key source for authgate's own keys: the token's "kid"
// must name one of them, and its "alg" must be that key's algorithm.
func StaticKeys(ks ...*keys.Key) jwt.Keyfunc {
	byID := make(map[string]*keys.Key, len(ks))
	for _, k := range ks {
		byID[k.ID] = k
	}
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := byID[kid]
		if !ok {
			return nil, errors.New("unknown kid")
		}
		if t.Method.Alg() != k.Algorithm {
			return nil, fmt.Errorf("alg %s does not match the key's %s", t.Method.Alg(), k.Algorithm)
		}
		return k.VerificationKey(), nil
	}
}

// Algorithms returns the distinct algorithms of ks, for Issuer.Algorithms.
func Algorithms(ks ...*keys.Key) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range ks {
		if !seen[k.Algorithm] {
			seen[k.Algorithm] = true
			out = append(out, k.Algorithm)
		}
	}
	return out
}
