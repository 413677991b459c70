package jwks

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

func TestAlgorithms(t *testing.T) {
	k := keys(t)
	tests := []struct {
		alg      string
		method   jwt.SigningMethod
		priv     crypto.Signer
		wantKeys int // the other key (P-256) is usable only with ES256
	}{
		{"RS256", jwt.SigningMethodRS256, k.rsa, 1},
		{"PS256", jwt.SigningMethodPS256, k.rsa, 1},
		{"ES256", jwt.SigningMethodES256, k.ecA, 2},
		{"ES384", jwt.SigningMethodES384, k.ec384, 1},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			srv := newJWKSServer(t, pubJWK(t, k.ecB, "other"), pubJWK(t, tt.priv, "k1"))
			src := readySource(t, testConfig(srv.url(), tt.alg))
			if err := verify(src, sign(t, tt.method, tt.priv, "k1")); err != nil {
				t.Errorf("token with kid: %v", err)
			}
			if err := verify(src, sign(t, tt.method, tt.priv, "")); err != nil {
				t.Errorf("token without kid: %v", err)
			}
			// The kid of another key does not verify, even of the same type.
			if err := verify(src, sign(t, tt.method, tt.priv, "other")); err == nil {
				t.Error("token verified with the key of another kid")
			}
			if st := src.Status(); st.Keys != tt.wantKeys || st.LastSuccess.IsZero() || st.LastError != "" {
				t.Errorf("Status = %+v, want %d usable keys, a success and no error", st, tt.wantKeys)
			}
		})
	}
}

// TestRFC8037 checks the Ed25519 example of RFC 8037 Appendix A.
func TestRFC8037(t *testing.T) {
	k := keys(t)
	if got := base64.RawURLEncoding.EncodeToString(k.ed.Public().(ed25519.PublicKey)); got != rfc8037X {
		t.Fatalf("public key of A.1 d = %s, want x = %s", got, rfc8037X)
	}
	srv := newJWKSServer(t, jwkset.JWKMarshal{KTY: jwkset.KtyOKP, CRV: jwkset.CrvEd25519, X: rfc8037X})
	src := readySource(t, testConfig(srv.url(), "EdDSA"))

	// A.4: the JWS of "Example of Ed25519 signing" with header {"alg":"EdDSA"}.
	const (
		signingInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
		signature    = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
	)
	sig, err := base64.RawURLEncoding.DecodeString(signature)
	if err != nil {
		t.Fatal(err)
	}
	if got := ed25519.Sign(k.ed, []byte(signingInput)); !strings.EqualFold(base64.RawURLEncoding.EncodeToString(got), signature) {
		t.Errorf("signing A.4 input gives %x, want the A.4 signature", got)
	}
	// Its payload is not a claims set, so verify the signature with the key
	// the Source hands out for a header without kid.
	key, err := src.Keyfunc(&jwt.Token{Header: map[string]any{"alg": "EdDSA"}, Method: jwt.SigningMethodEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	set, ok := key.(jwt.VerificationKeySet)
	if !ok || len(set.Keys) != 1 {
		t.Fatalf("Keyfunc = %#v, want a set of one key", key)
	}
	if err := jwt.SigningMethodEdDSA.Verify(signingInput, sig, set.Keys[0]); err != nil {
		t.Errorf("A.4 signature does not verify: %v", err)
	}
	sig[0] ^= 1
	if err := jwt.SigningMethodEdDSA.Verify(signingInput, sig, set.Keys[0]); err == nil {
		t.Error("altered A.4 signature verifies")
	}
}

func TestAlgorithmConfusion(t *testing.T) {
	k := keys(t)
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	srv := newJWKSServer(t,
		pubJWK(t, k.rsa, "rsa"),
		pubJWK(t, k.ecA, "ec"),
		pubJWK(t, k.ec384, "p384"),
		pubJWK(t, k.rsa1024, "weak"),
		jwkset.JWKMarshal{KTY: jwkset.KtyOct, KID: "oct", K: base64.RawURLEncoding.EncodeToString(pemKey)},
		withMeta(pubJWK(t, k.ecB, "enc"), jwkset.UseEnc, ""),
		withMeta(pubJWK(t, k.ecB, "es256-only"), "", jwkset.AlgES256),
		withMeta(pubJWK(t, k.rsa, "ps256-only"), jwkset.UseSig, jwkset.AlgPS256),
	)
	cfg := testConfig(srv.url(), "RS256", "ES256")
	src := readySource(t, cfg)
	if st := src.Status(); st.Keys != 3 {
		t.Errorf("Status.Keys = %d, want 3 (rsa, ec, es256-only)", st.Keys)
	}

	// es256WithP384 is a token whose header says ES256 but is signed (as
	// ES384) with the P-384 key.
	es256WithP384 := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{"sub": "alice"})
		tok.Header = map[string]any{"alg": "ES256", "typ": "JWT", "kid": "p384"}
		signingString, err := tok.SigningString()
		if err != nil {
			t.Fatal(err)
		}
		sig, err := jwt.SigningMethodES384.Sign(signingString, k.ec384)
		if err != nil {
			t.Fatal(err)
		}
		return signingString + "." + base64.RawURLEncoding.EncodeToString(sig)
	}()
	zeroSig := func() string {
		s := sign(t, jwt.SigningMethodES256, k.ecA, "ec")
		return s[:strings.LastIndexByte(s, '.')+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	}()
	// A parser that (wrongly) allows HS256 too: the Source must still
	// refuse to hand out a key for it.
	lax := []string{"RS256", "ES256", "HS256", "none"}

	tests := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"RS256 control", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa"), true},
		{"ES256 control", sign(t, jwt.SigningMethodES256, k.ecA, "ec"), true},
		{"HS256 with the RSA PEM as secret, RSA kid", sign(t, jwt.SigningMethodHS256, pemKey, "rsa"), false},
		{"HS256 with the RSA PEM as secret, oct kid", sign(t, jwt.SigningMethodHS256, pemKey, "oct"), false},
		{"HS256 with the RSA PEM as secret, no kid", sign(t, jwt.SigningMethodHS256, pemKey, ""), false},
		{"ES256 token, RSA kid", sign(t, jwt.SigningMethodES256, k.ecA, "rsa"), false},
		{"RS256 token, EC kid", sign(t, jwt.SigningMethodRS256, k.rsa, "ec"), false},
		{"ES256 header, P-384 key", es256WithP384, false},
		{"RSA 1024 key, its kid", sign(t, jwt.SigningMethodRS256, k.rsa1024, "weak"), false},
		{"RSA 1024 key, no kid", sign(t, jwt.SigningMethodRS256, k.rsa1024, ""), false},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa"), false},
		{"ECDSA zero signature", zeroSig, false},
		{"key for encryption", sign(t, jwt.SigningMethodES256, k.ecB, "enc"), false},
		{"key with a matching alg", sign(t, jwt.SigningMethodES256, k.ecB, "es256-only"), true},
		{"key with another alg", sign(t, jwt.SigningMethodRS256, k.rsa, "ps256-only"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, methods := range [][]string{cfg.Algorithms, lax} {
				_, err := jwt.Parse(tt.tok, src.Keyfunc, jwt.WithValidMethods(methods))
				if (err == nil) != tt.ok {
					t.Errorf("valid methods %v: err = %v, want ok = %v", methods, err, tt.ok)
				}
			}
		})
	}

	// The Keyfunc itself refuses mismatched types, whatever the parser.
	keyfuncTests := []struct {
		alg, kid string
	}{
		{"HS256", "oct"},
		{"HS256", "rsa"},
		{"ES256", "rsa"},
		{"ES256", "p384"},
		{"RS256", "ec"},
		{"RS256", "weak"},
		{"RS256", "oct"},
		{"none", "rsa"},
		{"ES384", "p384"}, // not in the issuer's algorithms
	}
	for _, tt := range keyfuncTests {
		tok := &jwt.Token{Header: map[string]any{"alg": tt.alg, "kid": tt.kid}, Method: jwt.GetSigningMethod(tt.alg)}
		if key, err := src.Keyfunc(tok); err == nil {
			t.Errorf("Keyfunc(alg %s, kid %s) = %T, want an error", tt.alg, tt.kid, key)
		}
	}
}

// withMeta sets the "use" and "alg" of a JWK.
func withMeta(j jwkset.JWKMarshal, use jwkset.USE, alg jwkset.ALG) jwkset.JWKMarshal {
	j.USE, j.ALG = use, alg
	return j
}
