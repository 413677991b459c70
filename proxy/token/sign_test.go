package token_test

import (
	"crypto"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

// decodePart decodes a base64url JSON segment of a token without verifying.
func decodePart(t *testing.T, seg string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(decodeSig(t, seg), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSignerRoundTrip(t *testing.T) {
	ks := testKeys(t)
	for _, alg := range append([]string{keys.HS256}, ownAlgs...) {
		t.Run(alg, func(t *testing.T) {
			k := ks.own[alg]
			s := token.NewSigner(k, testIss, testAud, clock)
			extra := map[string]any{"roles": []string{"admin"}, "name": "Ann", "scope": "todo:read todo:write"}
			raw, exp, err := s.Sign("user-1", extra, 15*time.Minute)
			if err != nil {
				t.Fatalf("Sign() error = %v", err)
			}
			if want := now.Add(15 * time.Minute); !exp.Equal(want) {
				t.Errorf("Sign() expiry = %v, want %v", exp, want)
			}

			h, p, _ := segments(t, raw)
			hdr := decodePart(t, h)
			if hdr["typ"] != token.TypeAccessToken || hdr["kid"] != k.ID || hdr["alg"] != alg || len(hdr) != 3 {
				t.Errorf("header = %v, want exactly alg %s, typ at+jwt, kid %s", hdr, alg, k.ID)
			}
			c := decodePart(t, p)
			for name, want := range map[string]any{
				"iss": testIss, "sub": "user-1", "aud": testAud, "name": "Ann",
				"iat": float64(now.Unix()), "exp": float64(now.Add(15 * time.Minute).Unix()),
			} {
				if c[name] != want {
					t.Errorf("claim %s = %v, want %v", name, c[name], want)
				}
			}
			if jti, _ := c["jti"].(string); len(jti) < 22 {
				t.Errorf("jti = %q, want 128 random bits", c["jti"])
			}
			if _, ok := c["nbf"]; ok {
				t.Errorf("unexpected nbf claim")
			}

			id, err := newVerifier(t, ownIssuer(k)).Verify(raw)
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if id.Subject != "user-1" || !slices.Equal(id.Roles, []string{"admin"}) ||
				!slices.Equal(id.Scopes, []string{"todo:read", "todo:write"}) || id.TokenID != c["jti"] {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

// TestSignerTruncatesClock: iat and exp are whole seconds of the clock.
func TestSignerTruncatesClock(t *testing.T) {
	k := testKeys(t).own[keys.EdDSA]
	at := now.Add(900 * time.Millisecond)
	raw, exp, err := token.NewSigner(k, testIss, testAud, func() time.Time { return at }).Sign("u", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(time.Minute); !exp.Equal(want) {
		t.Errorf("expiry = %v, want %v", exp, want)
	}
	_, p, _ := segments(t, raw)
	if c := decodePart(t, p); c["iat"] != float64(now.Unix()) {
		t.Errorf("iat = %v, want %d", c["iat"], now.Unix())
	}
}

func TestSignerJTIUnique(t *testing.T) {
	k := testKeys(t).own[keys.EdDSA]
	s := token.NewSigner(k, testIss, testAud, clock)
	seen := map[any]bool{}
	for range 100 {
		raw, _, err := s.Sign("u", nil, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := segments(t, raw)
		jti := decodePart(t, p)["jti"]
		if seen[jti] {
			t.Fatalf("jti %v issued twice", jti)
		}
		seen[jti] = true
	}
}

func TestSignerErrors(t *testing.T) {
	k := testKeys(t).own[keys.EdDSA]
	s := token.NewSigner(k, testIss, testAud, clock)
	tests := []struct {
		name     string
		sub      string
		extra    map[string]any
		ttl      time.Duration
		reserved bool // the error wraps ErrReservedClaim
	}{
		{name: "empty subject", sub: "", ttl: time.Minute},
		{name: "zero ttl", sub: "u", ttl: 0},
		{name: "negative ttl", sub: "u", ttl: -time.Minute},
		{name: "extra iss", sub: "u", ttl: time.Minute, extra: map[string]any{"iss": "https://evil.example"}, reserved: true},
		{name: "extra sub", sub: "u", ttl: time.Minute, extra: map[string]any{"sub": "admin"}, reserved: true},
		{name: "extra aud", sub: "u", ttl: time.Minute, extra: map[string]any{"aud": "other"}, reserved: true},
		{name: "extra exp", sub: "u", ttl: time.Minute, extra: map[string]any{"exp": 1 << 40}, reserved: true},
		{name: "extra iat", sub: "u", ttl: time.Minute, extra: map[string]any{"iat": 0}, reserved: true},
		{name: "extra nbf", sub: "u", ttl: time.Minute, extra: map[string]any{"nbf": 0}, reserved: true},
		{name: "extra jti", sub: "u", ttl: time.Minute, extra: map[string]any{"jti": "fixed"}, reserved: true},
		{name: "reserved among others", sub: "u", ttl: time.Minute, extra: map[string]any{"name": "a", "jti": "x"}, reserved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, exp, err := s.Sign(tt.sub, tt.extra, tt.ttl)
			if err == nil {
				t.Fatalf("Sign() = %q, want an error", raw)
			}
			if raw != "" || !exp.IsZero() {
				t.Errorf("Sign() = %q, %v with an error", raw, exp)
			}
			if got := errors.Is(err, token.ErrReservedClaim); got != tt.reserved {
				t.Errorf("Sign() error = %v, errors.Is(ErrReservedClaim) = %v, want %v", err, got, tt.reserved)
			}
		})
	}
}

func TestAlgorithms(t *testing.T) {
	ks := testKeys(t)
	ed, es, ed2 := ks.own[keys.EdDSA], ks.own[keys.ES256], ks.other[keys.EdDSA]
	tests := []struct {
		name string
		in   []*keys.Key
		want []string
	}{
		{"none", nil, nil},
		{"one", []*keys.Key{ed}, []string{keys.EdDSA}},
		{"distinct in order", []*keys.Key{es, ed, ed2}, []string{keys.ES256, keys.EdDSA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := token.Algorithms(tt.in...); !slices.Equal(got, tt.want) {
				t.Errorf("Algorithms() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStaticKeys calls the key source directly: it hands back only the
// typed public key of the key its kid names, for that key's alg.
func TestStaticKeys(t *testing.T) {
	ks := testKeys(t)
	ed, rs := ks.own[keys.EdDSA], ks.own[keys.RS256]
	kf := token.StaticKeys(ed, rs)
	tests := []struct {
		name    string
		method  jwt.SigningMethod
		kid     any
		want    *keys.Key
		wantErr bool
	}{
		{name: "EdDSA", method: jwt.SigningMethodEdDSA, kid: ed.ID, want: ed},
		{name: "RS256", method: jwt.SigningMethodRS256, kid: rs.ID, want: rs},
		{name: "HS256 with the RSA kid", method: jwt.SigningMethodHS256, kid: rs.ID, wantErr: true},
		{name: "PS256 with the RSA kid", method: jwt.SigningMethodPS256, kid: rs.ID, wantErr: true},
		{name: "RS256 with the EdDSA kid", method: jwt.SigningMethodRS256, kid: ed.ID, wantErr: true},
		{name: "no kid", method: jwt.SigningMethodEdDSA, kid: nil, wantErr: true},
		{name: "kid not a string", method: jwt.SigningMethodEdDSA, kid: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := jwt.New(tt.method)
			if tt.kid != nil {
				tok.Header["kid"] = tt.kid
			}
			got, err := kf(tok)
			if tt.wantErr {
				if err == nil || got != nil {
					t.Fatalf("keyfunc = %T, %v; want an error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pub := tt.want.VerificationKey()
			if eq, ok := got.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
				t.Errorf("keyfunc = %T, want the public key %T of %s", got, pub, tt.want.ID)
			}
		})
	}
}
