package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
)

// AssertionType is the client_assertion_type of private_key_jwt client
// authentication (RFC 7523 section 2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionTTL is how long a client assertion is valid: it is used at
// once, by the exchange that follows its signing.
const assertionTTL = 60 * time.Second

// minClientRSABits is the smallest RSA client key accepted (RFC 7518
// section 3.3 requires 2048 bits for RS256).
const minClientRSABits = 2048

// ErrClientKey is wrapped by every error of ParseClientKey.
var ErrClientKey = errors.New("not a usable private key")

// ParseClientKey parses the PEM private key of private_key_jwt client
// authentication, as keys.ParseSigner reads one: an RSA key of at least
// 2048 bits (RS256), an ECDSA key on P-256, P-384 or P-521 (ES256, ES384,
// ES512) or an Ed25519 key (EdDSA). The algorithm follows from the key.
func ParseClientKey(pemData []byte) (crypto.Signer, error) {
	signer, err := keys.ParseSigner(pemData)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClientKey, err)
	}
	if _, err := assertionMethod(signer); err != nil {
		return nil, err
	}
	return signer, nil
}

// assertionMethod is the signing method bound to key's type.
func assertionMethod(key crypto.Signer) (jwt.SigningMethod, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < minClientRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits, at least %d needed", ErrClientKey, k.N.BitLen(), minClientRSABits)
		}
		return jwt.SigningMethodRS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jwt.SigningMethodES256, nil
		case elliptic.P384():
			return jwt.SigningMethodES384, nil
		case elliptic.P521():
			return jwt.SigningMethodES512, nil
		}
		return nil, fmt.Errorf("%w: ECDSA curve %s", ErrClientKey, k.Curve.Params().Name)
	case ed25519.PrivateKey:
		return jwt.SigningMethodEdDSA, nil
	}
	return nil, fmt.Errorf("%w: key type %T", ErrClientKey, key)
}

// clientAssertion signs the client assertion of one code exchange at
// tokenURL: iss and sub the client_id, aud the token endpoint, a random
// jti, valid for assertionTTL (OpenID Connect Core section 9).
func clientAssertion(p Provider, tokenURL string, now time.Time) (string, error) {
	method, err := assertionMethod(p.ClientKey)
	if err != nil {
		return "", err
	}
	// aud is a single string, not a one-element array: some providers
	// accept only that form.
	tok := jwt.NewWithClaims(method, jwt.MapClaims{
		"iss": p.ClientID, "sub": p.ClientID, "aud": tokenURL, "jti": random(),
		"iat": now.Unix(), "exp": now.Add(assertionTTL).Unix(),
	})
	if p.ClientKeyID != "" {
		tok.Header["kid"] = p.ClientKeyID
	}
	signed, err := tok.SignedString(p.ClientKey)
	if err != nil {
		return "", fmt.Errorf("oidc: client assertion: %w", err)
	}
	return signed, nil
}
