package keys

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// PEM block types.
const (
	pemPKCS8     = "PRIVATE KEY"
	pemSEC1      = "EC PRIVATE KEY"
	pemPKCS1     = "RSA PRIVATE KEY"
	pemECParams  = "EC PARAMETERS"
	pemEncPKCS8  = "ENCRYPTED PRIVATE KEY"
	pemOpenSSH   = "OPENSSH PRIVATE KEY"
	pemPublicKey = "PUBLIC KEY"
	pemPKCS1Pub  = "RSA PUBLIC KEY"
	pemCert      = "CERTIFICATE"
)

// maxDERBytes bounds the size of a key block before it is parsed. A
// 16384-bit RSA private key with CRT values is about 9.3 KiB of DER.
const maxDERBytes = 16 << 10

// Parse parses a PEM-encoded private key. It accepts an unencrypted PKCS #8
// "PRIVATE KEY" block holding an Ed25519, ECDSA P-256 or RSA key, a SEC 1
// "EC PRIVATE KEY" block and a PKCS #1 "RSA PRIVATE KEY" block, and derives
// the algorithm and key id from the key.
//
// The input must hold exactly one private key block. Text before, between
// and after PEM blocks is ignored, as is an "EC PARAMETERS" block such as
// "openssl ecparam -genkey" writes; any other additional block, including a
// certificate, is an error, so that the key that signs is never ambiguous.
//
// Parse returns an error wrapping [ErrNoKey] if there is no PEM block, the
// block is a public key, certificate or unknown type, or its contents do not
// parse; [ErrWeakKey] for RSA keys under 2048 bits; and [ErrUnsupported] for
// encrypted keys, ECDSA curves other than P-256, X25519 keys, OpenSSH keys
// and RSA keys over 16384 bits.
func Parse(pemData []byte) (*Key, error) {
	signer, err := ParseSigner(pemData)
	if err != nil {
		return nil, err
	}
	return newAsymmetric(signer)
}

// ParseSigner parses the one PEM private key block of pemData, as [Parse]
// selects and reads it, without Parse's checks of the key's type and
// size: for callers that sign with other algorithms than authgate's own
// tokens (OpenID Connect client assertions, say). Its errors wrap
// [ErrNoKey] or [ErrUnsupported], as Parse's do.
func ParseSigner(pemData []byte) (crypto.Signer, error) {
	block, err := privateKeyBlock(pemData)
	if err != nil {
		return nil, err
	}
	if len(block.Bytes) > maxDERBytes {
		return nil, fmt.Errorf("%w: %q block is %d bytes, at most %d are supported", ErrUnsupported, block.Type, len(block.Bytes), maxDERBytes)
	}

	var priv any
	switch block.Type {
	case pemPKCS8:
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case pemSEC1:
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case pemPKCS1:
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q block: %w", ErrNoKey, block.Type, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: private key type %T cannot sign", ErrUnsupported, priv)
	}
	return signer, nil
}

// privateKeyBlock returns the single private key block in pemData.
func privateKeyBlock(pemData []byte) (*pem.Block, error) {
	var found *pem.Block
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == pemECParams {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: %q block follows the %q block; want exactly one private key", ErrUnsupported, block.Type, found.Type)
		}
		found = block
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no PEM block in input", ErrNoKey)
	}

	if isEncrypted(found) {
		return nil, fmt.Errorf("%w: encrypted private keys are not supported; decrypt the key file first", ErrUnsupported)
	}
	switch found.Type {
	case pemPKCS8, pemSEC1, pemPKCS1:
		return found, nil
	case pemOpenSSH:
		return nil, fmt.Errorf("%w: OpenSSH private key format; convert it to PKCS #8", ErrUnsupported)
	case pemPublicKey, pemPKCS1Pub, pemCert:
		return nil, fmt.Errorf("%w: %q block is public; the signing key must be a private key", ErrNoKey, found.Type)
	default:
		return nil, fmt.Errorf("%w: unknown PEM block type %q", ErrNoKey, found.Type)
	}
}

// isEncrypted reports whether b is a PKCS #8 encrypted key or a legacy
// (RFC 1423) encrypted PEM block.
func isEncrypted(b *pem.Block) bool {
	if b.Type == pemEncPKCS8 {
		return true
	}
	if _, ok := b.Headers["DEK-Info"]; ok {
		return true
	}
	return strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED")
}

// LoadFile reads the PEM file at path and parses it with [Parse]. Errors
// name the path and wrap the underlying error, so errors.Is works with both
// the sentinel errors of this package and those of io/fs.
//
// LoadFile does not check the file's permissions; [WriteFile] creates key
// files readable by their owner only.
func LoadFile(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err) // *fs.PathError names the path
	}
	k, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// MarshalPEM encodes k's private key as a PKCS #8 "PRIVATE KEY" PEM block,
// which [Parse] accepts. It returns an error for HMAC keys, which have no
// PEM form, and for the zero Key.
func (k *Key) MarshalPEM() ([]byte, error) {
	if k.secret != nil {
		return nil, fmt.Errorf("%w: HMAC secrets have no PEM encoding", ErrUnsupported)
	}
	if k.priv == nil {
		return nil, fmt.Errorf("%w: key holds no private key", ErrNoKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}
