package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// JWK is a public JSON Web Key as published at /.well-known/jwks.json
// (RFC 7517; RFC 7518 for EC and RSA keys, RFC 8037 for Ed25519 "OKP" keys).
// Binary members are base64url-encoded without padding.
type JWK struct {
	Kty string `json:"kty"`           // key type: "OKP", "EC" or "RSA"
	Crv string `json:"crv,omitempty"` // curve: "Ed25519" or "P-256"
	X   string `json:"x,omitempty"`   // OKP public key, or EC x coordinate
	Y   string `json:"y,omitempty"`   // EC y coordinate
	N   string `json:"n,omitempty"`   // RSA modulus
	E   string `json:"e,omitempty"`   // RSA public exponent
	Kid string `json:"kid"`           // key id, equal to Key.ID
	Alg string `json:"alg"`           // JWS algorithm, equal to Key.Algorithm
	Use string `json:"use"`           // always "sig"
}

// JWKS is a JSON Web Key Set, {"keys": [...]}, as served at
// /.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK returns the public half of k as a JWK with its key id,
// algorithm and use "sig". It reports false for HMAC keys, whose secret must
// never be published, and for the zero Key.
func (k *Key) PublicJWK() (JWK, bool) {
	if k.priv == nil {
		return JWK{}, false
	}
	jwk, err := publicMembers(k.priv.Public())
	if err != nil {
		// Unreachable: every Key holding a private key was checked by
		// newAsymmetric, which computed its thumbprint the same way.
		return JWK{}, false
	}
	jwk.Kid = k.ID
	jwk.Alg = k.alg()
	jwk.Use = "sig"
	return jwk, true
}

// publicMembers returns the key-type-specific members of the JWK for pub:
// kty, and crv/x for Ed25519, crv/x/y for P-256 or n/e for RSA.
func publicMembers(pub crypto.PublicKey) (JWK, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return JWK{}, fmt.Errorf("%w: Ed25519 public key is %d bytes", ErrUnsupported, len(p))
		}
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64(p)}, nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return JWK{}, fmt.Errorf("%w: ECDSA curve %s, only P-256 is supported", ErrUnsupported, curveName(p.Curve))
		}
		// Uncompressed SEC 1 point: 0x04 || X || Y, each coordinate
		// fixed-length big-endian, as RFC 7518 section 6.2.1.2 requires.
		point, err := p.Bytes()
		if err != nil {
			return JWK{}, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		const size = 32
		if len(point) != 1+2*size || point[0] != 4 {
			return JWK{}, fmt.Errorf("%w: malformed P-256 point", ErrUnsupported)
		}
		return JWK{Kty: "EC", Crv: "P-256", X: b64(point[1 : 1+size]), Y: b64(point[1+size:])}, nil
	case *rsa.PublicKey:
		if p.N == nil || p.N.Sign() <= 0 || p.E <= 0 {
			return JWK{}, fmt.Errorf("%w: malformed RSA public key", ErrUnsupported)
		}
		// Minimal big-endian encodings (RFC 7518 section 6.3.1).
		e := big.NewInt(int64(p.E)).Bytes()
		return JWK{Kty: "RSA", N: b64(p.N.Bytes()), E: b64(e)}, nil
	default:
		return JWK{}, fmt.Errorf("%w: public key type %T", ErrUnsupported, pub)
	}
}

// thumbprint returns the RFC 7638 JWK thumbprint of pub: the SHA-256 hash
// of a JSON object holding only the required members of its JWK, in
// lexicographic order and without whitespace, base64url-encoded without
// padding.
func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk, err := publicMembers(pub)
	if err != nil {
		return "", err
	}
	// Struct fields are marshalled in declaration order, which is
	// lexicographic here. All values are base64url or fixed names, so no
	// escaping occurs.
	var canonical []byte
	switch jwk.Kty {
	case "OKP":
		canonical, err = json.Marshal(struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
		}{jwk.Crv, jwk.Kty, jwk.X})
	case "EC":
		canonical, err = json.Marshal(struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{jwk.Crv, jwk.Kty, jwk.X, jwk.Y})
	case "RSA":
		canonical, err = json.Marshal(struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{jwk.E, jwk.Kty, jwk.N})
	}
	if err != nil {
		return "", fmt.Errorf("keys: thumbprint: %w", err)
	}
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}
