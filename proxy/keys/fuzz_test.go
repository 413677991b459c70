package keys

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"slices"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error wraps one of
// the package's sentinel errors, and that every key it accepts re-encodes
// to a PEM that parses to the same key.
func FuzzParse(f *testing.F) {
	for _, alg := range asymmetricAlgs {
		data := pkcs8PEM(f, alg)
		f.Add(data)
		f.Add(data[:len(data)/2])  // truncated PEM
		f.Add(data[:len(data)-40]) // truncated inside the base64
	}
	ec := testKey(f, ES256).priv.(*ecdsa.PrivateKey)
	rs := testKey(f, RS256).priv.(*rsa.PrivateKey)
	f.Add(mustSEC1(f, ec))
	f.Add(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rs)))
	f.Add(append(pemBlock("EC PARAMETERS", p256Params), mustSEC1(f, ec)...))
	f.Add(mustPKIX(f, &ec.PublicKey))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("garbage \x00\xff"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := Parse(data)
		if err != nil {
			if k != nil {
				t.Fatalf("Parse returned a key with error %v", err)
			}
			if !errors.Is(err, ErrNoKey) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrWeakKey) {
				t.Fatalf("Parse error %v wraps no sentinel error", err)
			}
			return
		}
		if !slices.Contains(allAlgs, k.Algorithm) {
			t.Fatalf("Parse returned algorithm %q", k.Algorithm)
		}
		if k.ID == "" {
			t.Fatal("Parse returned an empty key id")
		}
		out, err := k.MarshalPEM()
		if err != nil {
			t.Fatalf("MarshalPEM of a parsed key: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(MarshalPEM()) : %v", err)
		}
		if again.ID != k.ID || again.Algorithm != k.Algorithm {
			t.Fatalf("re-parse gave %s/%s, want %s/%s", again.ID, again.Algorithm, k.ID, k.Algorithm)
		}
	})
}
