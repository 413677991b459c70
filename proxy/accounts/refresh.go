package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Reasons a family ends, as stored in Family.RevokeReason and logged.
const (
	ReasonLogout         = "logout"
	ReasonReuse          = "reuse"
	ReasonPasswordChange = "password_change"
	ReasonDisabled       = "disabled"
)

// Refresh failures. All are answered 401 "invalid refresh token"; the
// distinction is for logs and metrics.
var (
	errRefreshUnknown = errors.New("refresh token unknown")
	errFamilyRevoked  = errors.New("refresh family revoked")
	errFamilyExpired  = errors.New("refresh family expired")
	errFamilyIdle     = errors.New("refresh family idle too long")
	// errReuse: a rotated token was presented again; the family has been
	// revoked (RFC 9700 §4.14.2).
	errReuse = errors.New("refresh token reuse detected")
)

// refreshPolicy is how families age and rotate.
type refreshPolicy struct {
	TTL   time.Duration // absolute lifetime
	Idle  time.Duration // longest gap between uses
	Grace time.Duration // how long the previous token may still be presented
}

// decideRefresh is the whole rotation rule, pure so it is the same for every
// store. Given the stored family, the hash of the presented token and the
// hash of the token to issue, it returns the family to store and the error
// to report. Reuse returns both: the revoked family and errReuse.
func decideRefresh(f Family, presented, next []byte, now time.Time, p refreshPolicy) (*Family, error) {
	switch {
	case !f.RevokedAt.IsZero():
		return nil, fmt.Errorf("%w (%s)", errFamilyRevoked, f.RevokeReason)
	case !now.Before(f.ExpiresAt):
		return nil, errFamilyExpired
	case now.Sub(f.LastUsedAt) > p.Idle:
		return nil, errFamilyIdle
	}
	rotated := f
	rotated.Current = next
	rotated.RotatedAt = now
	rotated.LastUsedAt = now
	switch {
	case equalHash(presented, f.Current):
		rotated.Previous = f.Current
		return &rotated, nil
	case p.Grace > 0 && f.Previous != nil && equalHash(presented, f.Previous) && now.Sub(f.RotatedAt) <= p.Grace:
		// Two clients refreshed with the same token at once: the late one
		// gets a fresh token too, and the token the early one received
		// becomes the previous one, still good for the grace period.
		rotated.Previous = f.Current
		return &rotated, nil
	}
	revoked := f
	revoked.RevokedAt = now
	revoked.RevokeReason = ReasonReuse
	return &revoked, errReuse
}

func equalHash(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}

// newRefreshToken returns a refresh token (256 random bits, hex) and the
// hash under which it is stored. The token itself is never stored.
func newRefreshToken() (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("random: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	return tok, hashRefreshToken(tok), nil
}

// hashRefreshToken is the stored form of a refresh token. A plain SHA-256
// is right here: the token has 256 bits of entropy, so it cannot be guessed
// from its hash, and lookups must be fast and deterministic.
func hashRefreshToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// wellFormedRefreshToken reports whether tok has the shape of our refresh
// tokens, so garbage is refused before any store lookup.
func wellFormedRefreshToken(tok string) bool {
	if len(tok) != 64 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// newID returns a random identifier (UUID version 4 form) for users and
// families.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}
