package keys

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"sync"
	"testing"
)

// weakRSA is a 1024-bit RSA key, generated once per test binary.
var weakRSA = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 1024)
})

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func mustPKCS8(tb testing.TB, priv any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func mustPKIX(tb testing.TB, pub any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pemBlock("PUBLIC KEY", der)
}

func mustSEC1(tb testing.TB, priv *ecdsa.PrivateKey) []byte {
	tb.Helper()
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

// pkcs8PEM returns the PKCS #8 PEM of the shared test key for alg.
func pkcs8PEM(tb testing.TB, alg string) []byte {
	tb.Helper()
	data, err := testKey(tb, alg).MarshalPEM()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestParse(t *testing.T) {
	ec := testKey(t, ES256).priv.(*ecdsa.PrivateKey)
	rs := testKey(t, RS256).priv.(*rsa.PrivateKey)
	weak, err := weakRSA()
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   []byte("ciphertext"),
	})
	edPEM := pkcs8PEM(t, EdDSA)

	tests := []struct {
		name    string
		data    []byte
		wantAlg string // on success
		wantID  string // on success, if set
		wantErr error
	}{
		{name: "PKCS8 Ed25519", data: edPEM, wantAlg: EdDSA, wantID: testKey(t, EdDSA).ID},
		{name: "PKCS8 P-256", data: pkcs8PEM(t, ES256), wantAlg: ES256, wantID: testKey(t, ES256).ID},
		{name: "PKCS8 RSA", data: pkcs8PEM(t, RS256), wantAlg: RS256, wantID: testKey(t, RS256).ID},
		{name: "SEC1 P-256", data: mustSEC1(t, ec), wantAlg: ES256, wantID: testKey(t, ES256).ID},
		{name: "PKCS1 RSA", data: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rs)), wantAlg: RS256, wantID: testKey(t, RS256).ID},
		{name: "leading and trailing text", data: append(append([]byte("Bag Attributes\n"), edPEM...), "trailer\n"...), wantAlg: EdDSA},
		{name: "EC PARAMETERS then SEC1", data: append(pemBlock("EC PARAMETERS", p256Params), mustSEC1(t, ec)...), wantAlg: ES256},

		{name: "empty", data: nil, wantErr: ErrNoKey},
		{name: "garbage", data: []byte("this is not a key"), wantErr: ErrNoKey},
		{name: "truncated PEM", data: edPEM[:len(edPEM)/2], wantErr: ErrNoKey},
		{name: "bad DER", data: pemBlock("PRIVATE KEY", []byte{0x30, 0x03, 1, 2, 3}), wantErr: ErrNoKey},
		{name: "PKCS1 body in PKCS8 block", data: pemBlock("PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rs)), wantErr: ErrNoKey},
		{name: "Ed25519 public key", data: mustPKIX(t, testKey(t, EdDSA).VerificationKey()), wantErr: ErrNoKey},
		{name: "RSA public key", data: mustPKIX(t, &rs.PublicKey), wantErr: ErrNoKey},
		{name: "PKCS1 public key", data: pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rs.PublicKey)), wantErr: ErrNoKey},
		{name: "certificate", data: pemBlock("CERTIFICATE", []byte{0x30, 0}), wantErr: ErrNoKey},
		{name: "unknown block type", data: pemBlock("SECRET SAUCE", []byte{1}), wantErr: ErrNoKey},
		{name: "only EC PARAMETERS", data: pemBlock("EC PARAMETERS", p256Params), wantErr: ErrNoKey},

		{name: "PKCS1 RSA 1024", data: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(weak)), wantErr: ErrWeakKey},
		{name: "PKCS8 RSA 1024", data: mustPKCS8(t, weak), wantErr: ErrWeakKey},

		{name: "PKCS8 P-384", data: mustPKCS8(t, p384), wantErr: ErrUnsupported},
		{name: "SEC1 P-384", data: mustSEC1(t, p384), wantErr: ErrUnsupported},
		{name: "PKCS8 X25519", data: mustPKCS8(t, x25519), wantErr: ErrUnsupported},
		{name: "encrypted PKCS8", data: pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0}), wantErr: ErrUnsupported},
		{name: "legacy encrypted PEM", data: legacyEncrypted, wantErr: ErrUnsupported},
		{name: "OpenSSH key", data: pemBlock("OPENSSH PRIVATE KEY", []byte("openssh-key-v1\x00")), wantErr: ErrUnsupported},
		{name: "two keys", data: append(pkcs8PEM(t, ES256), edPEM...), wantErr: ErrUnsupported},
		{name: "key then certificate", data: append(edPEM, pemBlock("CERTIFICATE", []byte{0x30, 0})...), wantErr: ErrUnsupported},
		{name: "oversized block", data: pemBlock("PRIVATE KEY", make([]byte, maxDERBytes+1)), wantErr: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse() error = %v, want %v", err, tt.wantErr)
				}
				if k != nil {
					t.Errorf("Parse() returned a key with error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(): %v", err)
			}
			if k.Algorithm != tt.wantAlg {
				t.Errorf("Algorithm = %q, want %q", k.Algorithm, tt.wantAlg)
			}
			if tt.wantID != "" && k.ID != tt.wantID {
				t.Errorf("ID = %q, want %q", k.ID, tt.wantID)
			}
		})
	}
}

// p256Params is the contents of an "EC PARAMETERS" block for P-256: the
// DER of the named curve OID 1.2.840.10045.3.1.7.
var p256Params = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
