package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// RFC 7638 section 3.1 example RSA key.
const (
	rfc7638N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	rfc7638E = "AQAB"
	// Thumbprint from RFC 7638 section 3.1.
	rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

// RFC 8037 appendix A.1 Ed25519 key and A.3 thumbprint.
const (
	rfc8037D          = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfc8037X          = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
)

func mustB64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatalf("decode %q: %v", s, err)
	}
	return b
}

func TestThumbprintVectors(t *testing.T) {
	e := new(big.Int).SetBytes(mustB64(t, rfc7638E))
	tests := []struct {
		name string
		pub  crypto.PublicKey
		want string
	}{
		{
			name: "RFC 7638 RSA",
			pub:  &rsa.PublicKey{N: new(big.Int).SetBytes(mustB64(t, rfc7638N)), E: int(e.Int64())},
			want: rfc7638Thumbprint,
		},
		{
			name: "RFC 8037 Ed25519",
			pub:  ed25519.PublicKey(mustB64(t, rfc8037X)),
			want: rfc8037Thumbprint,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := thumbprint(tt.pub)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("thumbprint = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRFC8037Key parses the RFC 8037 private key from PKCS #8 and checks
// the published JWK and key id.
func TestRFC8037Key(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(mustB64(t, rfc8037D))
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Parse(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if k.ID != rfc8037Thumbprint {
		t.Errorf("ID = %q, want %q", k.ID, rfc8037Thumbprint)
	}
	jwk, ok := k.PublicJWK()
	want := JWK{Kty: "OKP", Crv: "Ed25519", X: rfc8037X, Kid: rfc8037Thumbprint, Alg: EdDSA, Use: "sig"}
	if !ok || jwk != want {
		t.Errorf("PublicJWK() = %+v, %v, want %+v, true", jwk, ok, want)
	}
}

// TestPublicJWKMatchesJWKSet compares our public members with those
// jwkset computes for the same public key.
func TestPublicJWKMatchesJWKSet(t *testing.T) {
	for _, alg := range asymmetricAlgs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg)
			got, ok := k.PublicJWK()
			if !ok {
				t.Fatal("PublicJWK() reported false")
			}
			ref, err := jwkset.NewJWKFromKey(k.VerificationKey(), jwkset.JWKOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m := ref.Marshal()
			want := JWK{Kty: string(m.KTY), Crv: string(m.CRV), X: m.X, Y: m.Y, N: m.N, E: m.E,
				Kid: k.ID, Alg: alg, Use: "sig"}
			if got != want {
				t.Errorf("PublicJWK() = %+v\nwant %+v", got, want)
			}
			raw, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			for _, private := range []string{`"d"`, `"p"`, `"q"`, `"k"`} {
				if strings.Contains(string(raw), private+":") {
					t.Errorf("JWK JSON contains private member %s: %s", private, raw)
				}
			}
		})
	}
}

// TestECCoordinatesFixedLength checks that EC coordinates with leading zero
// bytes are still encoded as 32 bytes (RFC 7518 section 6.2.1.2).
func TestECCoordinatesFixedLength(t *testing.T) {
	var k *Key
	for range 10000 {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := priv.PublicKey.Bytes(); p[1] == 0 || p[33] == 0 {
			if k, err = newAsymmetric(priv); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if k == nil {
		t.Fatal("no P-256 key with a leading zero coordinate byte found")
	}
	jwk, _ := k.PublicJWK()
	if x, y := mustB64(t, jwk.X), mustB64(t, jwk.Y); len(x) != 32 || len(y) != 32 {
		t.Errorf("len(x), len(y) = %d, %d, want 32, 32", len(x), len(y))
	}
	verifyWithKeyfunc(t, []*Key{k}, k)
}

// TestJWKSVerifiesWithKeyfunc publishes every asymmetric key in one JWKS,
// loads it with keyfunc and checks that tokens we sign verify.
func TestJWKSVerifiesWithKeyfunc(t *testing.T) {
	var published []*Key
	for _, alg := range asymmetricAlgs {
		published = append(published, testKey(t, alg))
	}
	for _, k := range published {
		t.Run(k.Algorithm, func(t *testing.T) {
			verifyWithKeyfunc(t, published, k)
		})
	}
	t.Run("unpublished key", func(t *testing.T) {
		kf := newKeyfunc(t, published)
		stranger := otherKey(t, EdDSA)
		s := signToken(t, stranger)
		if _, err := jwt.Parse(s, kf.Keyfunc, jwt.WithValidMethods([]string{EdDSA})); err == nil {
			t.Error("token signed by an unpublished key verified")
		}
	})
}

// verifyWithKeyfunc checks that a token signed by signer verifies against
// a JWKS of published loaded with keyfunc.
func verifyWithKeyfunc(t *testing.T, published []*Key, signer *Key) {
	t.Helper()
	kf := newKeyfunc(t, published)
	s := signToken(t, signer)
	tok, err := jwt.Parse(s, kf.Keyfunc, jwt.WithValidMethods([]string{signer.Algorithm}))
	if err != nil {
		t.Fatalf("verify %s token with keyfunc: %v", signer.Algorithm, err)
	}
	if sub, _ := tok.Claims.GetSubject(); sub != "alice" {
		t.Errorf("subject = %q, want alice", sub)
	}
}

func newKeyfunc(t *testing.T, published []*Key) keyfunc.Keyfunc {
	t.Helper()
	var set JWKS
	for _, k := range published {
		jwk, ok := k.PublicJWK()
		if !ok {
			t.Fatalf("PublicJWK(%s) reported false", k.Algorithm)
		}
		set.Keys = append(set.Keys, jwk)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	kf, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		t.Fatalf("keyfunc.NewJWKSetJSON(%s): %v", raw, err)
	}
	return kf
}
