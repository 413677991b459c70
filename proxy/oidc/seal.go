package oidc

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// seal encrypts v's JSON with the Handler's key, bound to ad (the
// cookie's name or prefix, so one cookie cannot stand for another).
func (h *Handler) seal(ad string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("oidc: %w", err)
	}
	nonce := make([]byte, h.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("oidc: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(h.aead.Seal(nonce, nonce, plain, []byte(ad))), nil
}

// open decrypts a value seal made with the same ad into v.
func (h *Handler) open(ad, sealed string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < h.aead.NonceSize() {
		return errors.New("oidc: malformed sealed cookie")
	}
	plain, err := h.aead.Open(nil, b[:h.aead.NonceSize()], b[h.aead.NonceSize():], []byte(ad))
	if err != nil {
		return fmt.Errorf("oidc: %w", err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("oidc: %w", err)
	}
	return nil
}

// random is 32 random bytes, base64url: a state, nonce or jti.
func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
