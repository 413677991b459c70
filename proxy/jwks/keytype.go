package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"

	"github.com/MicahParks/jwkset"
)

// RSA modulus bounds. Larger keys are refused too: verifying with a huge
// modulus is slow, and no IdP uses one.
const (
	minRSABits = 2048
	maxRSABits = 16384
)

// verificationKey returns the public key of j if a token signed with alg
// may be verified with it: the key's type must be the one alg is defined
// for (RFC 8725 §3.1), and the JWK must not be restricted to another alg
// ("alg", RFC 7517 §4.4) or to encryption ("use", RFC 7517 §4.2).
// Symmetric keys are never returned.
func verificationKey(j jwkset.JWK, alg string) (any, error) {
	m := j.Marshal()
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, fmt.Errorf("key is for use %q, not signatures", m.USE)
	}
	if m.ALG != "" && string(m.ALG) != alg {
		return nil, fmt.Errorf("key is for alg %q, token has %q", bound(string(m.ALG)), alg)
	}
	key := j.Key()
	if priv, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		// A JWK Set should never hold private keys; if one does, verify
		// with its public half only.
		key = priv.Public()
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		k, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, keyTypeError(alg, key)
		}
		if bits := k.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("RSA key is %d bits, want %d to %d", bits, minRSABits, maxRSABits)
		}
		return k, nil
	case "ES256":
		return ecdsaKey(alg, key, elliptic.P256())
	case "ES384":
		return ecdsaKey(alg, key, elliptic.P384())
	case "ES512":
		return ecdsaKey(alg, key, elliptic.P521())
	case "EdDSA":
		k, ok := key.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return nil, keyTypeError(alg, key)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("alg %q is not supported", bound(alg))
	}
}

// ecdsaKey returns key if it is an ECDSA public key on curve.
func ecdsaKey(alg string, key any, curve elliptic.Curve) (any, error) {
	k, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, keyTypeError(alg, key)
	}
	if k.Curve != curve {
		return nil, fmt.Errorf("%s needs a key on %s, not %s", alg, curve.Params().Name, k.Curve.Params().Name)
	}
	return k, nil
}

func keyTypeError(alg string, key any) error {
	return fmt.Errorf("%s cannot be verified with a key of type %T", alg, key)
}

// usableFor reports whether j verifies tokens of at least one of algs.
func usableFor(j jwkset.JWK, algs []string) bool {
	for _, alg := range algs {
		if _, err := verificationKey(j, alg); err == nil {
			return true
		}
	}
	return false
}
