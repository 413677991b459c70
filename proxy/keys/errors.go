package keys

import "errors"

// Sentinel errors returned, wrapped, by this package. Test for them with
// errors.Is; the wrapping error carries the detail.
var (
	// ErrUnsupported reports an algorithm, key type, curve or PEM encoding
	// that authgate does not sign with, such as an ECDSA key on a curve other
	// than P-256, an encrypted PEM block, or PEM data holding more than one
	// key.
	ErrUnsupported = errors.New("keys: unsupported key or algorithm")

	// ErrWeakKey reports key material below authgate's minimum strength:
	// RSA moduli under 2048 bits and HMAC secrets under 32 bytes.
	ErrWeakKey = errors.New("keys: key too weak")

	// ErrNoKey reports input that does not hold a private key: no PEM block,
	// a PEM block of an unknown type, a public key or certificate, or a key
	// block whose contents do not parse.
	ErrNoKey = errors.New("keys: no private key found")
)
