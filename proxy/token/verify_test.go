package token_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

// verifyCase builds a token with k (the trusted key) or other (an untrusted
// key of the same type) and says how Verify must answer it.
type verifyCase struct {
	name   string
	algs   []string // only for these algorithms; nil: every own algorithm
	build  func(t *testing.T, k, other *keys.Key) string
	want   error  // nil: verifies; else ErrExpired or ErrInvalid, exactly
	detail string // when set, a substring of the logged error detail
}

// signed returns a builder for claims edited by edits, with the default
// header edited by hdr, signed by the trusted key.
func signed(edits map[string]any, hdr map[string]any) func(*testing.T, *keys.Key, *keys.Key) string {
	return func(t *testing.T, k, _ *keys.Key) string {
		return sign(t, k, withHeader(k, hdr), with(edits))
	}
}

func valid(t *testing.T, k, _ *keys.Key) string { return sign(t, k, header(k), claims()) }

func ago(d time.Duration) int64     { return now.Add(-d).Unix() }
func fromNow(d time.Duration) int64 { return now.Add(d).Unix() }

// expiredBy returns claim edits of a token that expired d ago, plus more.
func expiredBy(d time.Duration, more map[string]any) map[string]any {
	e := map[string]any{"iat": ago(d + 15*time.Minute), "exp": ago(d)}
	for k, v := range more {
		e[k] = v
	}
	return e
}

func none(alg string, sig bool) func(*testing.T, *keys.Key, *keys.Key) string {
	return func(t *testing.T, k, _ *keys.Key) string {
		raw := b64JSON(t, map[string]any{"alg": alg, "typ": token.TypeAccessToken, "kid": k.ID}) +
			"." + b64JSON(t, claims()) + "."
		if sig {
			_, _, s := segments(t, valid(t, k, nil))
			raw += s
		}
		return raw
	}
}

// hmacWith signs a valid token with HS256, using secret as the HMAC key and
// k's kid (the algorithm confusion attack, CVE-2016-10555).
func hmacWith(secret func(*testing.T, *keys.Key) []byte) func(*testing.T, *keys.Key, *keys.Key) string {
	return func(t *testing.T, k, _ *keys.Key) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims())
		tok.Header["typ"] = token.TypeAccessToken
		tok.Header["kid"] = k.ID
		s, err := tok.SignedString(secret(t, k))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func pkixDER(t *testing.T, k *keys.Key) []byte {
	der, err := x509.MarshalPKIXPublicKey(k.VerificationKey())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pkixPEM(t *testing.T, k *keys.Key) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER(t, k)})
}

func pkcs1PEM(t *testing.T, k *keys.Key) []byte {
	der := x509.MarshalPKCS1PublicKey(k.VerificationKey().(*rsa.PublicKey))
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: der})
}

// editSig rewrites the signature segment of a valid token.
func editSig(edit func(t *testing.T, sig string) string) func(*testing.T, *keys.Key, *keys.Key) string {
	return func(t *testing.T, k, _ *keys.Key) string {
		raw := valid(t, k, nil)
		_, _, s := segments(t, raw)
		return replaceSig(t, raw, edit(t, s))
	}
}

func decodeSig(t *testing.T, s string) []byte {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nonCanonical flips an unused trailing bit of the last base64 character;
// lenient decoders still yield the same signature bytes.
func nonCanonical(t *testing.T, s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	out := s[:len(s)-1] + string(alphabet[last^1])
	if b, err := base64.RawURLEncoding.DecodeString(out); err != nil || string(b) != string(decodeSig(t, s)) {
		t.Fatalf("trailing-bit edit changed the signature bytes (err %v)", err)
	}
	return out
}

// stdAlphabet re-encodes the signature of a valid token with the standard
// base64 alphabet ("+/" for "-_"), which a lenient decoder might accept.
func stdAlphabet(t *testing.T, k, _ *keys.Key) string {
	for i := range 100 {
		raw := sign(t, k, header(k), with(map[string]any{"jti": fmt.Sprint("jti-", i)}))
		_, _, s := segments(t, raw)
		if std := base64.RawStdEncoding.EncodeToString(decodeSig(t, s)); std != s {
			return replaceSig(t, raw, std)
		}
	}
	t.Fatal("no signature with URL-specific characters")
	return ""
}

func oversized(t *testing.T, k, _ *keys.Key) string {
	s := token.NewSigner(k, testIss, testAud, clock)
	raw, _, err := s.Sign("user-1", map[string]any{"pad": strings.Repeat("a", token.MaxTokenBytes)}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// justUnderLimit is a valid token of at most MaxTokenBytes.
func justUnderLimit(t *testing.T, k, _ *keys.Key) string {
	base := len(valid(t, k, nil))
	pad := (token.MaxTokenBytes - base - 16) * 3 / 4
	raw := sign(t, k, header(k), with(map[string]any{"pad": strings.Repeat("a", pad)}))
	if len(raw) > token.MaxTokenBytes || len(raw) < token.MaxTokenBytes-64 {
		t.Fatalf("token is %d bytes, want just under %d", len(raw), token.MaxTokenBytes)
	}
	return raw
}

var verifyCases = []verifyCase{
	{name: "valid", build: valid},
	{name: "valid from Signer", build: func(t *testing.T, k, _ *keys.Key) string {
		raw, _, err := token.NewSigner(k, testIss, testAud, clock).Sign("user-1", nil, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}},

	// Expiry: ErrExpired only when expiry is the sole failure (security.md 9).
	{name: "expired", build: signed(expiredBy(time.Hour, nil), nil), want: token.ErrExpired},
	{name: "expired just past leeway", build: signed(expiredBy(leeway+time.Second, nil), nil), want: token.ErrExpired},
	{name: "expired within leeway", build: signed(expiredBy(leeway-time.Second, nil), nil)},
	{name: "expired and wrong audience", build: signed(expiredBy(time.Hour, map[string]any{"aud": "other"}), nil), want: token.ErrInvalid},
	{name: "expired and missing audience", build: signed(expiredBy(time.Hour, map[string]any{"aud": nil}), nil), want: token.ErrInvalid},
	{name: "expired and wrong issuer", build: signed(expiredBy(time.Hour, map[string]any{"iss": "https://evil.example"}), nil), want: token.ErrInvalid},
	{name: "expired and not yet valid", build: signed(expiredBy(time.Hour, map[string]any{"nbf": fromNow(time.Hour)}), nil), want: token.ErrInvalid},
	{name: "expired and aud of wrong type", build: signed(expiredBy(time.Hour, map[string]any{"aud": []any{testAud, 1}}), nil), want: token.ErrInvalid},
	{name: "expired and iss of wrong type", build: signed(expiredBy(time.Hour, map[string]any{"iss": 42}), nil), want: token.ErrInvalid},
	{name: "expired and nbf of wrong type", build: signed(expiredBy(time.Hour, map[string]any{"nbf": "yesterday"}), nil), want: token.ErrInvalid},
	{name: "expired and no subject", build: signed(expiredBy(time.Hour, map[string]any{"sub": nil}), nil), want: token.ErrInvalid},
	{name: "expired and wrong typ", build: signed(expiredBy(time.Hour, nil), map[string]any{"typ": "JWT"}), want: token.ErrInvalid},
	{name: "expired and bad signature", build: func(t *testing.T, k, other *keys.Key) string {
		return sign(t, other, header(k), with(expiredBy(time.Hour, nil)))
	}, want: token.ErrInvalid},

	// exp, nbf, iat and leeway (security.md 3).
	{name: "missing exp", build: signed(map[string]any{"exp": nil}, nil), want: token.ErrInvalid},
	{name: "exp zero", build: signed(map[string]any{"exp": 0}, nil), want: token.ErrInvalid},
	{name: "exp a string", build: signed(map[string]any{"exp": "2099-01-01"}, nil), want: token.ErrInvalid},
	// Claims decode as json.Number: dates still read as golang-jwt reads
	// numbers, and one beyond float64 is invalid, not expired or infinite.
	{name: "exp zero written as a decimal", build: signed(map[string]any{"exp": json.Number("0.0")}, nil), want: token.ErrInvalid},
	{name: "exp with a fraction", build: signed(map[string]any{"exp": json.Number(strconv.FormatInt(fromNow(time.Hour), 10) + ".5")}, nil)},
	{name: "exp in exponent form", build: signed(map[string]any{"exp": json.Number("4.1e9")}, nil)},
	{name: "exp beyond float64", build: signed(map[string]any{"exp": json.Number("1e999")}, nil), want: token.ErrInvalid},
	{name: "nbf beyond float64", build: signed(map[string]any{"nbf": json.Number("-1e999")}, nil), want: token.ErrInvalid},
	{name: "iat beyond float64", build: signed(map[string]any{"iat": json.Number("1e999")}, nil), want: token.ErrInvalid},
	{name: "nbf in the future", build: signed(map[string]any{"nbf": fromNow(time.Hour)}, nil), want: token.ErrInvalid},
	{name: "nbf just past leeway", build: signed(map[string]any{"nbf": fromNow(leeway + time.Second)}, nil), want: token.ErrInvalid},
	{name: "nbf within leeway", build: signed(map[string]any{"nbf": fromNow(leeway - time.Second)}, nil)},
	{name: "nbf in the past", build: signed(map[string]any{"nbf": ago(time.Minute)}, nil)},
	{name: "iat in the future", build: signed(map[string]any{"iat": fromNow(time.Hour)}, nil), want: token.ErrInvalid},
	{name: "iat just past leeway", build: signed(map[string]any{"iat": fromNow(leeway + time.Second)}, nil), want: token.ErrInvalid},
	{name: "iat within leeway", build: signed(map[string]any{"iat": fromNow(leeway - time.Second)}, nil)},
	{name: "iat a string", build: signed(map[string]any{"iat": "now"}, nil), want: token.ErrInvalid},

	// Issuer and audience (security.md 4, 5).
	{name: "wrong iss", build: signed(map[string]any{"iss": "https://evil.example"}, nil), want: token.ErrInvalid},
	{name: "iss with trailing slash", build: signed(map[string]any{"iss": testIss + "/"}, nil), want: token.ErrInvalid},
	{name: "iss differs in case", build: signed(map[string]any{"iss": strings.ToUpper(testIss)}, nil), want: token.ErrInvalid},
	{name: "missing iss", build: signed(map[string]any{"iss": nil}, nil), want: token.ErrInvalid},
	{name: "iss not a string", build: signed(map[string]any{"iss": []any{testIss}}, nil), want: token.ErrInvalid},
	{name: "wrong aud", build: signed(map[string]any{"aud": "https://other.example.com"}, nil), want: token.ErrInvalid},
	{name: "aud prefix of ours", build: signed(map[string]any{"aud": testAud[:len(testAud)-1]}, nil), want: token.ErrInvalid},
	{name: "missing aud", build: signed(map[string]any{"aud": nil}, nil), want: token.ErrInvalid},
	{name: "empty aud", build: signed(map[string]any{"aud": ""}, nil), want: token.ErrInvalid},
	{name: "empty aud array", build: signed(map[string]any{"aud": []any{}}, nil), want: token.ErrInvalid},
	{name: "aud array without ours", build: signed(map[string]any{"aud": []any{"a", "b"}}, nil), want: token.ErrInvalid},
	{name: "aud array with ours", build: signed(map[string]any{"aud": []any{"a", testAud}}, nil)},

	// Subject.
	{name: "missing sub", build: signed(map[string]any{"sub": nil}, nil), want: token.ErrInvalid},
	{name: "empty sub", build: signed(map[string]any{"sub": ""}, nil), want: token.ErrInvalid},
	{name: "sub a number", build: signed(map[string]any{"sub": 42}, nil), want: token.ErrInvalid},
	{name: "sub an array", build: signed(map[string]any{"sub": []any{"user-1"}}, nil), want: token.ErrInvalid},

	// Explicit typing (security.md 6).
	{name: "typ JWT", build: signed(nil, map[string]any{"typ": "JWT"}), want: token.ErrInvalid, detail: "typ"},
	{name: "typ of an ID token", build: signed(nil, map[string]any{"typ": "application/jwt"}), want: token.ErrInvalid},
	{name: "missing typ", build: signed(nil, map[string]any{"typ": nil}), want: token.ErrInvalid, detail: "typ"},
	{name: "typ empty", build: signed(nil, map[string]any{"typ": ""}), want: token.ErrInvalid},
	{name: "typ not a string", build: signed(nil, map[string]any{"typ": 1}), want: token.ErrInvalid},
	{name: "typ with trailing space", build: signed(nil, map[string]any{"typ": "at+jwt "}), want: token.ErrInvalid},
	{name: "typ application/ only", build: signed(nil, map[string]any{"typ": "application/"}), want: token.ErrInvalid},
	{name: "typ application/at+jwt", build: signed(nil, map[string]any{"typ": "application/at+jwt"})},
	{name: "typ upper case", build: signed(nil, map[string]any{"typ": "Application/AT+JWT"})},

	// alg (security.md 1, 2).
	{name: "alg none", build: none("none", false), want: token.ErrInvalid},
	{name: "alg None", build: none("None", false), want: token.ErrInvalid},
	{name: "alg NONE", build: none("NONE", false), want: token.ErrInvalid},
	{name: "alg nOnE", build: none("nOnE", false), want: token.ErrInvalid},
	{name: "alg none with a signature", build: none("none", true), want: token.ErrInvalid},
	{name: "alg empty", build: none("", true), want: token.ErrInvalid},
	{name: "HS256 keyed with public key PEM", build: hmacWith(pkixPEM), want: token.ErrInvalid},
	{name: "HS256 keyed with public key DER", build: hmacWith(pkixDER), want: token.ErrInvalid},
	{name: "HS256 keyed with PKCS#1 PEM", algs: []string{keys.RS256}, build: hmacWith(pkcs1PEM), want: token.ErrInvalid},
	{name: "another algorithm's key with our kid", build: func(t *testing.T, k, _ *keys.Key) string {
		other := testKeys(t).own[keys.EdDSA]
		if k.Algorithm == keys.EdDSA {
			other = testKeys(t).own[keys.ES256]
		}
		return sign(t, other, header(k), claims())
	}, want: token.ErrInvalid},

	// kid and key headers (security.md 7).
	{name: "other key with our kid", build: func(t *testing.T, k, other *keys.Key) string {
		return sign(t, other, header(k), claims())
	}, want: token.ErrInvalid},
	{name: "other key with its own kid", build: func(t *testing.T, _, other *keys.Key) string {
		return sign(t, other, header(other), claims())
	}, want: token.ErrInvalid, detail: "unknown kid"},
	{name: "other key embedded as jwk", build: func(t *testing.T, k, other *keys.Key) string {
		jwk, _ := other.PublicJWK()
		return sign(t, other, withHeader(k, map[string]any{"jwk": jwk}), claims())
	}, want: token.ErrInvalid},
	{name: "other key behind jku and x5u", build: func(t *testing.T, _, other *keys.Key) string {
		return sign(t, other, withHeader(other, map[string]any{
			"jku": "https://evil.example/jwks.json", "x5u": "https://evil.example/cert.pem",
			"x5c": []any{"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"},
		}), claims())
	}, want: token.ErrInvalid},
	{name: "unknown kid", build: signed(nil, map[string]any{"kid": "no-such-key"}), want: token.ErrInvalid, detail: "unknown kid"},
	{name: "missing kid", build: signed(nil, map[string]any{"kid": nil}), want: token.ErrInvalid},
	{name: "kid empty", build: signed(nil, map[string]any{"kid": ""}), want: token.ErrInvalid, detail: "kid is not a short string"},
	{name: "kid a number", build: signed(nil, map[string]any{"kid": 7}), want: token.ErrInvalid, detail: "kid is not a short string"},
	{name: "kid an array", build: func(t *testing.T, k, _ *keys.Key) string {
		return sign(t, k, withHeader(k, map[string]any{"kid": []any{k.ID}}), claims())
	}, want: token.ErrInvalid, detail: "kid is not a short string"},
	{name: "kid of 256 bytes", build: signed(nil, map[string]any{"kid": strings.Repeat("k", 256)}), want: token.ErrInvalid, detail: "unknown kid"},
	{name: "kid of 257 bytes", build: signed(nil, map[string]any{"kid": strings.Repeat("k", 257)}), want: token.ErrInvalid, detail: "kid is not a short string"},
	{name: "crit header", build: signed(nil, map[string]any{"crit": []any{"exp"}}), want: token.ErrInvalid, detail: "crit"},
	{name: "crit b64", build: signed(nil, map[string]any{"crit": []any{"b64"}, "b64": false}), want: token.ErrInvalid, detail: "crit"},
	{name: "empty crit", build: signed(nil, map[string]any{"crit": []any{}}), want: token.ErrInvalid, detail: "crit"},

	// Integrity and encoding (security.md 8, 10, 12).
	{name: "tampered payload", build: func(t *testing.T, k, _ *keys.Key) string {
		return replacePayload(t, valid(t, k, nil), with(map[string]any{"sub": "admin"}))
	}, want: token.ErrInvalid},
	{name: "tampered payload adds a role", build: func(t *testing.T, k, _ *keys.Key) string {
		return replacePayload(t, valid(t, k, nil), with(map[string]any{"roles": []any{"admin"}}))
	}, want: token.ErrInvalid},
	{name: "tampered header", build: func(t *testing.T, k, _ *keys.Key) string {
		raw := valid(t, k, nil)
		_, p, s := segments(t, raw)
		h := b64JSON(t, map[string]any{"alg": k.Algorithm, "kid": k.ID, "typ": "AT+JWT"})
		return h + "." + p + "." + s
	}, want: token.ErrInvalid},
	{name: "tampered signature", build: editSig(func(t *testing.T, s string) string {
		b := decodeSig(t, s)
		b[0] ^= 1
		return b64(b)
	}), want: token.ErrInvalid},
	{name: "signature truncated", build: editSig(func(t *testing.T, s string) string {
		b := decodeSig(t, s)
		return b64(b[:len(b)-1])
	}), want: token.ErrInvalid},
	{name: "signature empty", build: editSig(func(*testing.T, string) string { return "" }), want: token.ErrInvalid},
	{name: "signature all zero", build: editSig(func(t *testing.T, s string) string {
		return b64(make([]byte, len(decodeSig(t, s))))
	}), want: token.ErrInvalid},
	{name: "ECDSA r=s=0 (CVE-2022-21449)", algs: []string{keys.ES256}, build: editSig(func(*testing.T, string) string {
		return b64(make([]byte, 64))
	}), want: token.ErrInvalid},
	{name: "ECDSA ASN.1 signature", algs: []string{keys.ES256}, build: func(t *testing.T, k, _ *keys.Key) string {
		raw := valid(t, k, nil)
		h, p, _ := segments(t, raw)
		sum := sha256.Sum256([]byte(h + "." + p))
		der, err := ecdsa.SignASN1(rand.Reader, k.SigningKey().(*ecdsa.PrivateKey), sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return replaceSig(t, raw, b64(der))
	}, want: token.ErrInvalid},
	{name: "signature padded", build: editSig(func(_ *testing.T, s string) string { return s + "==" }), want: token.ErrInvalid},
	{name: "payload padded", build: func(t *testing.T, k, _ *keys.Key) string {
		h, p, s := segments(t, valid(t, k, nil))
		return h + "." + p + "=" + "." + s
	}, want: token.ErrInvalid},
	{name: "header padded", build: func(t *testing.T, k, _ *keys.Key) string {
		h, p, s := segments(t, valid(t, k, nil))
		return h + "=" + "." + p + "." + s
	}, want: token.ErrInvalid},
	{name: "signature with non-canonical trailing bits", algs: []string{keys.EdDSA, keys.ES256}, build: editSig(nonCanonical), want: token.ErrInvalid},
	{name: "signature in standard base64", build: stdAlphabet, want: token.ErrInvalid},
	{name: "newline inside signature", build: editSig(func(_ *testing.T, s string) string { return s[:8] + "\n" + s[8:] }), want: token.ErrInvalid},
	{name: "CR LF after signature", build: editSig(func(_ *testing.T, s string) string { return s + "\r\n" }), want: token.ErrInvalid},
	{name: "oversized token", build: oversized, want: token.ErrInvalid, detail: "longer than"},
	{name: "token just under the size limit", build: justUnderLimit},

	// Not a JWS at all.
	{name: "empty", build: func(*testing.T, *keys.Key, *keys.Key) string { return "" }, want: token.ErrInvalid},
	{name: "garbage", build: func(*testing.T, *keys.Key, *keys.Key) string { return "not-a-token" }, want: token.ErrInvalid},
	{name: "two segments", build: func(t *testing.T, k, _ *keys.Key) string {
		h, p, _ := segments(t, valid(t, k, nil))
		return h + "." + p
	}, want: token.ErrInvalid},
	{name: "four segments", build: func(t *testing.T, k, _ *keys.Key) string { return valid(t, k, nil) + ".x" }, want: token.ErrInvalid},
	{name: "leading space", build: func(t *testing.T, k, _ *keys.Key) string { return " " + valid(t, k, nil) }, want: token.ErrInvalid},
	{name: "header not an object", build: func(t *testing.T, k, _ *keys.Key) string {
		_, p, s := segments(t, valid(t, k, nil))
		return b64([]byte(`["alg"]`)) + "." + p + "." + s
	}, want: token.ErrInvalid},
	{name: "payload not JSON", build: func(t *testing.T, k, _ *keys.Key) string {
		tok := jwt.New(k.SigningMethod())
		h, _, _ := segments(t, valid(t, k, nil))
		sig, err := tok.Method.Sign(h+"."+b64([]byte("hello")), k.SigningKey())
		if err != nil {
			t.Fatal(err)
		}
		return h + "." + b64([]byte("hello")) + "." + b64(sig)
	}, want: token.ErrInvalid},
}

func TestVerifyOwnTokens(t *testing.T) {
	ks := testKeys(t)
	for _, alg := range ownAlgs {
		k, other := ks.own[alg], ks.other[alg]
		v := newVerifier(t, ownIssuer(k))
		for _, tc := range verifyCases {
			if tc.algs != nil && !slices.Contains(tc.algs, alg) {
				continue
			}
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				raw := tc.build(t, k, other)
				id, err := v.Verify(raw)
				if tc.want == nil {
					if err != nil {
						t.Fatalf("Verify() error = %v", err)
					}
					if id == nil || id.Subject != "user-1" || id.Issuer != "authgate" {
						t.Fatalf("Verify() = %+v, want subject user-1 of issuer authgate", id)
					}
					return
				}
				if id != nil {
					t.Errorf("Verify() returned an identity with error %v", err)
				}
				if got := sentinel(t, err); got != tc.want {
					t.Fatalf("Verify() error = %v, want exactly %v", err, tc.want)
				}
				// The client message (the sentinel's text) tells expired from invalid.
				if !strings.HasPrefix(err.Error(), tc.want.Error()+":") {
					t.Errorf("Verify() error = %q, want prefix %q", err, tc.want.Error())
				}
				if tc.detail != "" && !strings.Contains(err.Error(), tc.detail) {
					t.Errorf("Verify() error = %q, want detail %q", err, tc.detail)
				}
			})
		}
	}
}

// TestVerifyKeepsNumberDigits: numeric claims reach the identity with the
// digits the token carries, not rounded through float64.
func TestVerifyKeepsNumberDigits(t *testing.T) {
	ks := testKeys(t)
	k := ks.own[ownAlgs[0]]
	v := newVerifier(t, ownIssuer(k))
	raw := signed(map[string]any{"tenant": json.Number("12345678901234567890"), "ratio": json.Number("1.50")}, nil)(t, k, nil)
	id, err := v.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	for claim, want := range map[string]string{"tenant": "12345678901234567890", "ratio": "1.50"} {
		if got, ok := id.ClaimString(claim); !ok || got != want {
			t.Errorf("%s = %q, %v; want %q", claim, got, ok, want)
		}
	}
}
