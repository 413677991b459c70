// Package keys manages authgate's own signing keys: the private key that
// signs the access tokens authgate issues, and the public JSON Web Keys it
// publishes so that other services can verify those tokens.
//
// The signing algorithm is bound to the key type, as RFC 8725 section 3.1
// recommends: an Ed25519 key always signs with EdDSA, a P-256 key with
// ES256, an RSA key with RS256 and an HMAC secret with HS256. Callers never
// choose an algorithm independently of the key, and verifiers should accept
// only [Key.Algorithm] (for example with jwt.WithValidMethods).
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms authgate signs with. The algorithm follows from the key type:
// Ed25519 → EdDSA, ECDSA P-256 → ES256, RSA (at least 2048 bits) → RS256,
// HMAC secret (at least 32 bytes) → HS256.
const (
	EdDSA = "EdDSA"
	ES256 = "ES256"
	RS256 = "RS256"
	HS256 = "HS256"
)

// Key size limits.
const (
	minRSABits      = 2048
	maxRSABits      = 16384 // sanity bound; larger keys make every signature slow
	generateRSABits = 3072
	minHMACBytes    = 32
)

// hmacKeyIDLabel is the message MACed with an HMAC secret to derive its key
// id, so that the id identifies the secret without revealing it.
const hmacKeyIDLabel = "authgate-hs256-kid"

// Key is one signing key: its private material, algorithm and key id.
//
// A Key is created by [Generate], [Parse], [LoadFile] or [NewHMAC]; the zero
// Key holds no key material and cannot sign. The exported fields describe
// the key and must not be modified: the signing method is always derived
// from the key material itself, so changing Algorithm does not change how
// the key signs. A Key is safe for concurrent use.
type Key struct {
	// ID is the key id ("kid"). For asymmetric keys it is the RFC 7638 JWK
	// thumbprint (SHA-256, base64url without padding) of the public key.
	// For HS256 it is the first 16 bytes of HMAC-SHA-256 keyed with the
	// secret over a fixed label, base64url without padding; it identifies
	// the secret without revealing it.
	ID string

	// Algorithm is the JWS "alg" the key signs with: one of EdDSA, ES256,
	// RS256 or HS256.
	Algorithm string

	priv   crypto.Signer // ed25519.PrivateKey, *ecdsa.PrivateKey or *rsa.PrivateKey
	secret []byte        // HS256 secret; nil for asymmetric keys
}

// Generate creates a new random key for the algorithm alg using crypto/rand.
// RS256 keys are 3072 bits and HS256 secrets 32 bytes. Generating an RSA key
// takes a noticeable fraction of a second. An unknown alg yields an error
// wrapping [ErrUnsupported].
func Generate(alg string) (*Key, error) {
	switch alg {
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
		}
		return newAsymmetric(priv)
	case ES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
		}
		return newAsymmetric(priv)
	case RS256:
		priv, err := rsa.GenerateKey(rand.Reader, generateRSABits)
		if err != nil {
			return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
		}
		return newAsymmetric(priv)
	case HS256:
		secret := make([]byte, minHMACBytes)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("keys: generate %s secret: %w", alg, err)
		}
		return NewHMAC(secret)
	default:
		return nil, fmt.Errorf("%w: algorithm %q", ErrUnsupported, alg)
	}
}

// NewHMAC returns an HS256 key for secret. The secret must be at least 32
// bytes (256 bits) of high-entropy data, such as the output of crypto/rand;
// shorter secrets yield an error wrapping [ErrWeakKey]. NewHMAC copies
// secret, so the caller may reuse or clear its slice afterwards.
//
// HMAC keys are never published: [Key.PublicJWK] reports false for them and
// [Key.MarshalPEM] fails.
func NewHMAC(secret []byte) (*Key, error) {
	if len(secret) < minHMACBytes {
		return nil, fmt.Errorf("%w: HMAC secret is %d bytes, need at least %d", ErrWeakKey, len(secret), minHMACBytes)
	}
	s := make([]byte, len(secret))
	copy(s, secret)
	return &Key{ID: hmacKeyID(s), Algorithm: HS256, secret: s}, nil
}

// newAsymmetric wraps a private key after checking that authgate signs with
// its type and size, and computes its key id.
func newAsymmetric(priv crypto.Signer) (*Key, error) {
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: Ed25519 private key is %d bytes", ErrUnsupported, len(p))
		}
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s, only P-256 is supported", ErrUnsupported, curveName(p.Curve))
		}
	case *rsa.PrivateKey:
		bits := p.N.BitLen()
		if bits < minRSABits {
			return nil, fmt.Errorf("%w: RSA key is %d bits, need at least %d", ErrWeakKey, bits, minRSABits)
		}
		if bits > maxRSABits {
			return nil, fmt.Errorf("%w: RSA key is %d bits, at most %d are supported", ErrUnsupported, bits, maxRSABits)
		}
	default:
		return nil, fmt.Errorf("%w: private key type %T", ErrUnsupported, priv)
	}
	alg := algorithmOf(priv)
	id, err := thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	return &Key{ID: id, Algorithm: alg, priv: priv}, nil
}

// algorithmOf returns the algorithm bound to the type of priv, or "" for a
// type authgate does not sign with.
func algorithmOf(priv crypto.Signer) string {
	switch priv.(type) {
	case ed25519.PrivateKey:
		return EdDSA
	case *ecdsa.PrivateKey:
		return ES256
	case *rsa.PrivateKey:
		return RS256
	}
	return ""
}

// alg returns the algorithm bound to k's key material, ignoring the
// exported Algorithm field.
func (k *Key) alg() string {
	if k.secret != nil {
		return HS256
	}
	if k.priv != nil {
		return algorithmOf(k.priv)
	}
	return ""
}

// SigningMethod returns the jwt signing method for k's key type:
// jwt.SigningMethodEdDSA, jwt.SigningMethodES256, jwt.SigningMethodRS256 or
// jwt.SigningMethodHS256. It returns nil for the zero Key.
func (k *Key) SigningMethod() jwt.SigningMethod {
	switch k.alg() {
	case EdDSA:
		return jwt.SigningMethodEdDSA
	case ES256:
		return jwt.SigningMethodES256
	case RS256:
		return jwt.SigningMethodRS256
	case HS256:
		return jwt.SigningMethodHS256
	}
	return nil
}

// SigningKey returns the private key in the form jwt.Token.SignedString
// expects for [Key.SigningMethod]: an ed25519.PrivateKey, *ecdsa.PrivateKey,
// *rsa.PrivateKey, or a copy of the HS256 secret as []byte. It returns nil
// for the zero Key. The caller must not modify the returned key.
func (k *Key) SigningKey() any {
	if k.secret != nil {
		return cloneBytes(k.secret)
	}
	if k.priv != nil {
		return k.priv
	}
	return nil
}

// VerificationKey returns the key a jwt.Keyfunc should return to verify
// tokens signed by k: an ed25519.PublicKey, *ecdsa.PublicKey or
// *rsa.PublicKey, or a copy of the HS256 secret as []byte. It returns nil
// for the zero Key.
func (k *Key) VerificationKey() any {
	if k.secret != nil {
		return cloneBytes(k.secret)
	}
	if k.priv != nil {
		return k.priv.Public()
	}
	return nil
}

// hmacKeyID derives the key id of an HS256 secret.
func hmacKeyID(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(hmacKeyIDLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// curveName returns a printable name for c, which may be nil.
func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "<nil>"
	}
	return c.Params().Name
}

func cloneBytes(b []byte) []byte {
	return append([]byte(nil), b...)
}
