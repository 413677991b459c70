package keys

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// allAlgs and asymmetricAlgs list the algorithms authgate signs with.
var (
	allAlgs        = []string{EdDSA, ES256, RS256, HS256}
	asymmetricAlgs = []string{EdDSA, ES256, RS256}
)

// generated holds one key per algorithm, generated at most once per test
// binary: RSA key generation is slow.
var generated = map[string]func() (*Key, error){
	EdDSA: sync.OnceValues(func() (*Key, error) { return Generate(EdDSA) }),
	ES256: sync.OnceValues(func() (*Key, error) { return Generate(ES256) }),
	RS256: sync.OnceValues(func() (*Key, error) { return Generate(RS256) }),
	HS256: sync.OnceValues(func() (*Key, error) { return Generate(HS256) }),
}

// testKey returns the shared test key for alg. Tests must not modify it.
func testKey(tb testing.TB, alg string) *Key {
	tb.Helper()
	k, err := generated[alg]()
	if err != nil {
		tb.Fatalf("Generate(%q): %v", alg, err)
	}
	return k
}

// otherRSA is a second RSA key, 2048 bits to keep generation quick.
var otherRSA = sync.OnceValues(func() (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return newAsymmetric(priv)
})

// otherKey returns a key for alg that differs from testKey(tb, alg).
func otherKey(tb testing.TB, alg string) *Key {
	tb.Helper()
	k, err := Generate(alg)
	if alg == RS256 {
		k, err = otherRSA()
	}
	if err != nil {
		tb.Fatalf("generate another %s key: %v", alg, err)
	}
	return k
}

// signToken signs a short-lived token with k, naming k.ID in the header.
func signToken(tb testing.TB, k *Key) string {
	tb.Helper()
	tok := jwt.NewWithClaims(k.SigningMethod(), jwt.RegisteredClaims{
		Subject:   "alice",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute)),
	})
	tok.Header["kid"] = k.ID
	s, err := tok.SignedString(k.SigningKey())
	if err != nil {
		tb.Fatalf("SignedString(%s): %v", k.Algorithm, err)
	}
	return s
}

// verifyToken verifies s with key, accepting only alg.
func verifyToken(s string, alg string, key any) error {
	_, err := jwt.Parse(s, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{alg}))
	return err
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name    string
		alg     string
		wantErr error
	}{
		{name: "EdDSA", alg: EdDSA},
		{name: "ES256", alg: ES256},
		{name: "RS256", alg: RS256},
		{name: "HS256", alg: HS256},
		{name: "none", alg: "none", wantErr: ErrUnsupported},
		{name: "empty", alg: "", wantErr: ErrUnsupported},
		{name: "ES384", alg: "ES384", wantErr: ErrUnsupported},
		{name: "lower case", alg: "eddsa", wantErr: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != nil {
				k, err := Generate(tt.alg)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Generate(%q) error = %v, want %v", tt.alg, err, tt.wantErr)
				}
				if k != nil {
					t.Errorf("Generate(%q) returned a key with an error", tt.alg)
				}
				return
			}
			k := testKey(t, tt.alg)
			if k.Algorithm != tt.alg {
				t.Errorf("Algorithm = %q, want %q", k.Algorithm, tt.alg)
			}
			if got := k.SigningMethod().Alg(); got != tt.alg {
				t.Errorf("SigningMethod().Alg() = %q, want %q", got, tt.alg)
			}
			// A SHA-256 thumbprint is 43 base64url characters; the HS256
			// id is 16 bytes, 22 characters.
			wantLen := 43
			if tt.alg == HS256 {
				wantLen = 22
			}
			if len(k.ID) != wantLen || strings.ContainsAny(k.ID, "+/=") {
				t.Errorf("ID = %q, want %d unpadded base64url characters", k.ID, wantLen)
			}
		})
	}
}

func TestGenerateRSASize(t *testing.T) {
	pub, ok := testKey(t, RS256).PublicJWK()
	if !ok {
		t.Fatal("PublicJWK() reported false for RS256")
	}
	// 3072 bits = 384 bytes = 512 base64url characters.
	if len(pub.N) != 512 {
		t.Errorf("len(n) = %d base64url characters, want 512 (3072 bits)", len(pub.N))
	}
}

func TestRoundTrip(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg)
			verifier := k
			if alg != HS256 {
				data, err := k.MarshalPEM()
				if err != nil {
					t.Fatalf("MarshalPEM: %v", err)
				}
				if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
					t.Errorf("MarshalPEM did not produce a PKCS #8 block:\n%s", data)
				}
				verifier, err = Parse(data)
				if err != nil {
					t.Fatalf("Parse(MarshalPEM()): %v", err)
				}
				if verifier.ID != k.ID || verifier.Algorithm != k.Algorithm {
					t.Errorf("Parse(MarshalPEM()) = %s/%s, want %s/%s",
						verifier.ID, verifier.Algorithm, k.ID, k.Algorithm)
				}
			}

			s := signToken(t, k)
			if err := verifyToken(s, k.Algorithm, verifier.VerificationKey()); err != nil {
				t.Errorf("verify with own key: %v", err)
			}

			if err := verifyToken(s, k.Algorithm, otherKey(t, alg).VerificationKey()); err == nil {
				t.Error("token verified with another key")
			}
			for _, wrong := range allAlgs {
				if wrong == alg {
					continue
				}
				if err := verifyToken(s, wrong, verifier.VerificationKey()); err == nil {
					t.Errorf("token verified with valid methods [%s]", wrong)
				}
			}
		})
	}
}

func TestNewHMAC(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr error
	}{
		{name: "empty", size: 0, wantErr: ErrWeakKey},
		{name: "31 bytes", size: 31, wantErr: ErrWeakKey},
		{name: "32 bytes", size: 32},
		{name: "64 bytes", size: 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := make([]byte, tt.size)
			rand.Read(secret)
			k, err := NewHMAC(secret)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || k != nil {
					t.Fatalf("NewHMAC(%d bytes) = %v, %v, want error %v", tt.size, k, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewHMAC(%d bytes): %v", tt.size, err)
			}
			if k.Algorithm != HS256 || k.SigningMethod() != jwt.SigningMethodHS256 {
				t.Errorf("Algorithm = %q, SigningMethod = %v, want HS256", k.Algorithm, k.SigningMethod())
			}
			if _, ok := k.PublicJWK(); ok {
				t.Error("PublicJWK() reported true for an HMAC key")
			}
			if _, err := k.MarshalPEM(); !errors.Is(err, ErrUnsupported) {
				t.Errorf("MarshalPEM() error = %v, want %v", err, ErrUnsupported)
			}

			again, err := NewHMAC(secret)
			if err != nil || again.ID != k.ID {
				t.Errorf("ID is not deterministic: %q, then %q (%v)", k.ID, again.ID, err)
			}
			if bytes.Contains([]byte(k.ID), secret) {
				t.Error("ID contains the secret")
			}

			s := signToken(t, k)
			clear(secret) // NewHMAC must have copied it
			if err := verifyToken(s, HS256, k.VerificationKey()); err != nil {
				t.Errorf("verify after clearing the caller's secret: %v", err)
			}
			k.SigningKey().([]byte)[0] ^= 0xff // callers get copies
			if err := verifyToken(s, HS256, k.VerificationKey()); err != nil {
				t.Errorf("verify after modifying SigningKey(): %v", err)
			}
		})
	}
}

func TestHMACKeyIDDistinct(t *testing.T) {
	a, b := make([]byte, 32), make([]byte, 32)
	b[31] = 1
	ka, _ := NewHMAC(a)
	kb, _ := NewHMAC(b)
	if ka.ID == kb.ID {
		t.Errorf("different secrets share ID %q", ka.ID)
	}
}

func TestZeroKey(t *testing.T) {
	var k Key
	if m := k.SigningMethod(); m != nil {
		t.Errorf("SigningMethod() = %v, want nil", m)
	}
	if got := k.SigningKey(); got != nil {
		t.Errorf("SigningKey() = %v, want nil", got)
	}
	if got := k.VerificationKey(); got != nil {
		t.Errorf("VerificationKey() = %v, want nil", got)
	}
	if _, ok := k.PublicJWK(); ok {
		t.Error("PublicJWK() reported true")
	}
	if _, err := k.MarshalPEM(); !errors.Is(err, ErrNoKey) {
		t.Errorf("MarshalPEM() error = %v, want %v", err, ErrNoKey)
	}
}

// TestAlgorithmBoundToKey checks that the signing method follows the key
// material, not the exported Algorithm field.
func TestAlgorithmBoundToKey(t *testing.T) {
	k := *testKey(t, EdDSA)
	k.Algorithm = HS256
	if got := k.SigningMethod(); got != jwt.SigningMethodEdDSA {
		t.Errorf("SigningMethod() = %v after changing Algorithm, want EdDSA", got.Alg())
	}
	if jwk, _ := k.PublicJWK(); jwk.Alg != EdDSA {
		t.Errorf("PublicJWK().Alg = %q after changing Algorithm, want EdDSA", jwk.Alg)
	}
}
