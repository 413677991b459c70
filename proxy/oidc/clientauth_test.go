package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

// testKeys are generated once: RSA keys take a while.
var testKeys = sync.OnceValues(func() (map[string]crypto.Signer, error) {
	out := map[string]crypto.Signer{}
	for name, gen := range map[string]func() (crypto.Signer, error){
		"rsa":   func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
		"rsa2":  func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
		"p256":  func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
		"p384":  func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) },
		"p521":  func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) },
		"p224":  func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P224(), rand.Reader) },
		"ed":    func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err },
		"weak":  func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 1024) },
		"other": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
	} {
		k, err := gen()
		if err != nil {
			return nil, err
		}
		out[name] = k
	}
	return out, nil
})

func key(t *testing.T, name string) crypto.Signer {
	t.Helper()
	ks, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return ks[name]
}

func TestParseClientKey(t *testing.T) {
	sec1 := func(t *testing.T) []byte {
		der, err := x509.MarshalECPrivateKey(key(t, "p256").(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		return pemOf(t, "EC PRIVATE KEY", der)
	}
	for _, tc := range []struct {
		name    string
		pem     func(t *testing.T) []byte
		wantAlg string
	}{
		{"RSA PKCS #8", func(t *testing.T) []byte { return pkcs8(t, key(t, "rsa")) }, "RS256"},
		{"RSA PKCS #1", func(t *testing.T) []byte {
			return pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key(t, "rsa").(*rsa.PrivateKey)))
		}, "RS256"},
		{"EC P-256 SEC 1", sec1, "ES256"},
		{"EC P-256 SEC 1 after EC PARAMETERS", func(t *testing.T) []byte {
			return append(pemOf(t, "EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), sec1(t)...)
		}, "ES256"},
		{"EC P-384", func(t *testing.T) []byte { return pkcs8(t, key(t, "p384")) }, "ES384"},
		{"EC P-521", func(t *testing.T) []byte { return pkcs8(t, key(t, "p521")) }, "ES512"},
		{"Ed25519", func(t *testing.T) []byte { return pkcs8(t, key(t, "ed")) }, "EdDSA"},
		{"RSA of 1024 bits", func(t *testing.T) []byte { return pkcs8(t, key(t, "weak")) }, ""},
		{"EC P-224", func(t *testing.T) []byte { return pkcs8(t, key(t, "p224")) }, ""},
		{"public key", func(t *testing.T) []byte {
			der, _ := x509.MarshalPKIXPublicKey(key(t, "p256").Public())
			return pemOf(t, "PUBLIC KEY", der)
		}, ""},
		{"two keys", func(t *testing.T) []byte {
			return append(pkcs8(t, key(t, "p256")), pkcs8(t, key(t, "other"))...)
		}, ""},
		{"encrypted", func(t *testing.T) []byte { return pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}) }, ""},
		{"not PEM", func(*testing.T) []byte { return []byte("s3cret") }, ""},
		{"broken DER", func(t *testing.T) []byte { return pemOf(t, "PRIVATE KEY", []byte{1, 2, 3}) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseClientKey(tc.pem(t))
			if tc.wantAlg == "" {
				if !errors.Is(err, ErrClientKey) {
					t.Fatalf("err = %v, want ErrClientKey", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := assertionMethod(k)
			if err != nil || m.Alg() != tc.wantAlg {
				t.Errorf("alg = %v, %v; want %s", m, err, tc.wantAlg)
			}
		})
	}
}

// assertionGate is a token endpoint's private_key_jwt check, in front of
// mockoidc: the assertion must be signed by registered, with the claims
// OpenID Connect Core section 9 requires, and no secret may be sent. It
// then swaps the assertion for mockoidc's own secret.
func assertionGate(o *op, registered crypto.PublicKey, alg, kid string, jtis map[string]bool) func(r *http.Request) error {
	return func(r *http.Request) error {
		f := r.PostForm
		if _, _, basic := r.BasicAuth(); basic || f.Get("client_secret") != "" {
			return errors.New("a secret was sent")
		}
		if f.Get("client_assertion_type") != AssertionType {
			return fmt.Errorf("client_assertion_type %q", f.Get("client_assertion_type"))
		}
		tokenURL := o.Addr() + "/oidc/token"
		var claims jwt.RegisteredClaims
		tok, err := jwt.ParseWithClaims(f.Get("client_assertion"), &claims, func(*jwt.Token) (any, error) { return registered, nil },
			jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(o.ClientID), jwt.WithSubject(o.ClientID),
			jwt.WithAudience(tokenURL), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if err != nil {
			return err
		}
		if got, _ := tok.Header["kid"].(string); got != kid {
			return fmt.Errorf("kid %q, want %q", got, kid)
		}
		if claims.ExpiresAt.Sub(claims.IssuedAt.Time) != assertionTTL {
			return fmt.Errorf("valid for %v", claims.ExpiresAt.Sub(claims.IssuedAt.Time))
		}
		if len(claims.ID) < 43 || jtis[claims.ID] {
			return fmt.Errorf("jti %q not random or reused", claims.ID)
		}
		jtis[claims.ID] = true
		if f.Get("client_id") != o.ClientID {
			return fmt.Errorf("client_id %q", f.Get("client_id"))
		}
		f.Del("client_assertion")
		f.Del("client_assertion_type")
		f.Set("client_secret", o.ClientSecret)
		return nil
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	for _, tc := range []struct {
		name       string
		signWith   string // the key authgate holds
		registered string // the key registered at the provider
		alg, kid   string
		status     int
	}{
		{"RSA", "rsa", "rsa", "RS256", "", http.StatusOK},
		{"EC P-256 with kid", "p256", "p256", "ES256", "client-key-1", http.StatusOK},
		{"EC P-384", "p384", "p384", "ES384", "", http.StatusOK},
		{"Ed25519", "ed", "ed", "EdDSA", "", http.StatusOK},
		{"another EC key", "other", "p256", "ES256", "", http.StatusBadGateway},
		{"another RSA key", "rsa2", "rsa", "RS256", "", http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t, func(p *Provider) {
				p.ClientSecret, p.ClientKey, p.ClientKeyID = "", key(t, tc.signWith), tc.kid
			})
			jtis := map[string]bool{}
			rg.op.mu.Lock()
			rg.op.gate = assertionGate(rg.op, key(t, tc.registered).Public(), tc.alg, tc.kid, jtis)
			rg.op.mu.Unlock()
			for range 2 { // a new assertion, with a new jti, per exchange
				f := rg.begin(t, alice(), "/")
				resp := get(t, f.callback.String(), f.cookie)
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.status {
					t.Fatalf("callback: %d %s, want %d", resp.StatusCode, body, tc.status)
				}
				if tc.status != http.StatusOK {
					if n := rg.metrics.m["mock/"+resultExchange]; n != 1 {
						t.Errorf("metrics %v, want mock/%s", rg.metrics.m, resultExchange)
					}
					return
				}
			}
			if len(rg.fin.ids) != 2 {
				t.Errorf("finished %d sign-ins, want 2", len(rg.fin.ids))
			}
		})
	}
}

func TestClientAssertionClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	p := Provider{ClientID: "authgate", ClientKey: key(t, "ed"), ClientKeyID: "k1"}
	raw, err := clientAssertion(p, "https://idp.example.com/token", now)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"iss": "authgate", "sub": "authgate", "aud": "https://idp.example.com/token",
		"iat": float64(now.Unix()), "exp": float64(now.Unix() + 60),
	} {
		if claims[k] != want {
			t.Errorf("%s = %v, want %v", k, claims[k], want)
		}
	}
}
