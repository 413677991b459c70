package token_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

const (
	testIss = "https://auth.example.com"
	testAud = "https://api.example.com"
	leeway  = 30 * time.Second
)

// now is the fixed instant every test verifies at; nothing sleeps.
var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// ownAlgs are the algorithms authgate's own asymmetric keys sign with.
var ownAlgs = []string{keys.EdDSA, keys.ES256, keys.RS256}

// testKeySet holds, per algorithm, the key authgate trusts and a second
// key of the same type that it does not.
type testKeySet struct {
	own, other map[string]*keys.Key
}

// loadKeys generates the keys once per test binary: RSA generation is slow.
var loadKeys = sync.OnceValues(func() (*testKeySet, error) {
	ks := &testKeySet{own: map[string]*keys.Key{}, other: map[string]*keys.Key{}}
	for _, alg := range append([]string{keys.HS256}, ownAlgs...) {
		for _, m := range []map[string]*keys.Key{ks.own, ks.other} {
			k, err := keys.Generate(alg)
			if err != nil {
				return nil, err
			}
			m[alg] = k
		}
	}
	return ks, nil
})

func testKeys(tb testing.TB) *testKeySet {
	tb.Helper()
	ks, err := loadKeys()
	if err != nil {
		tb.Fatalf("generate keys: %v", err)
	}
	return ks
}

// ownIssuer is the Issuer authgate builds for its own tokens.
func ownIssuer(ks ...*keys.Key) token.Issuer {
	return token.Issuer{
		Name:       "authgate",
		Issuer:     testIss,
		Audience:   []string{testAud},
		Algorithms: token.Algorithms(ks...),
		Types:      []string{token.TypeAccessToken},
		Leeway:     leeway,
		Keys:       token.StaticKeys(ks...),
	}
}

func newVerifier(tb testing.TB, issuers ...token.Issuer) *token.Verifier {
	tb.Helper()
	v, err := token.NewVerifier(issuers, clock)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// claims returns the claims of a valid own token at now.
func claims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIss,
		"sub": "user-1",
		"aud": testAud,
		"iat": now.Unix(),
		"exp": now.Add(15 * time.Minute).Unix(),
		"jti": "jti-1",
	}
}

// header returns the header of a valid own token signed by k.
func header(k *keys.Key) map[string]any {
	return map[string]any{"typ": token.TypeAccessToken, "kid": k.ID}
}

// sign signs c with k's key and algorithm. hdr replaces the default
// header members ("alg" is always k's algorithm); a nil value removes one.
func sign(tb testing.TB, k *keys.Key, hdr map[string]any, c jwt.MapClaims) string {
	tb.Helper()
	t := jwt.NewWithClaims(k.SigningMethod(), c)
	for name, v := range hdr {
		if v == nil {
			delete(t.Header, name)
		} else {
			t.Header[name] = v
		}
	}
	s, err := t.SignedString(k.SigningKey())
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

// with returns claims() changed by edits; a nil value removes a claim.
func with(edits map[string]any) jwt.MapClaims {
	c := claims()
	for name, v := range edits {
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
	}
	return c
}

// withHeader returns header(k) changed by edits; a nil value removes one.
func withHeader(k *keys.Key, edits map[string]any) map[string]any {
	h := header(k)
	for name, v := range edits {
		h[name] = v
	}
	return h
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b64(b)
}

// segments splits a compact JWS into header, payload and signature.
func segments(tb testing.TB, raw string) (h, p, s string) {
	tb.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d segments", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

// replaceSig keeps a token's signing input and replaces its signature.
func replaceSig(tb testing.TB, raw, sig string) string {
	h, p, _ := segments(tb, raw)
	return h + "." + p + "." + sig
}

// replacePayload keeps a token's header and signature and swaps its claims.
func replacePayload(tb testing.TB, raw string, c jwt.MapClaims) string {
	h, _, s := segments(tb, raw)
	return h + "." + b64JSON(tb, c) + "." + s
}

// sentinel names the token sentinel err wraps, or "" for none; it fails
// the test when err wraps more than one.
func sentinel(tb testing.TB, err error) error {
	tb.Helper()
	var found []error
	for _, s := range []error{token.ErrMissing, token.ErrMalformed, token.ErrExpired, token.ErrInvalid} {
		if errors.Is(err, s) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil
	case 1:
		return found[0]
	}
	tb.Fatalf("error %q wraps several sentinels: %v", err, found)
	return nil
}
