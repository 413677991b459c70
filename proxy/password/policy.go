package password

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxBytes is the largest password, in bytes of its NFKC normal form, that
// this package accepts. Longer passwords are rejected with ErrTooLong, never
// truncated. 1024 bytes is room for at least 256 code points in any script,
// well above the 64 that NIST SP 800-63B-4 requires verifiers to accept,
// while keeping the work per request small and fixed.
const MaxBytes = 1024

// maxRawBytes bounds the input accepted before normalisation. It is larger
// than MaxBytes because the same password can take more bytes in one
// normalisation form than another (a precomposed Hangul syllable is 3 bytes,
// its decomposed jamo 9), and a password must not be accepted from one
// device and refused from another. Anything longer is rejected unread.
const maxRawBytes = 4 * MaxBytes

// Bounds on Policy.MinLength, in code points.
const (
	defaultMinLength = 8
	maxMinLength     = 64
)

// A Policy decides whether a new password is acceptable. It follows NIST
// SP 800-63B-4 §3.1.1.2 and the OWASP Authentication Cheat Sheet: there is a
// minimum length, a generous maximum, and no composition rules (no required
// digits, symbols or mixed case). Passwords are measured after Unicode NFKC
// normalisation, the same form [Hasher] hashes, so that a password typed on
// different devices is the same password.
//
// A Policy applies only when a password is set. [Hasher.Verify] does not
// apply it, so that raising MinLength does not lock out existing users.
//
// The zero Policy is ready to use and requires 8 code points.
type Policy struct {
	// MinLength is the minimum length in Unicode code points (not bytes)
	// of the normalised password. It must be between 1 and 64; zero or a
	// negative value means 8, and a value above 64 is treated as 64, so
	// that a 64-code-point password is always long enough.
	MinLength int
}

// minLength returns p.MinLength brought into its documented range.
func (p Policy) minLength() int {
	switch {
	case p.MinLength < 1:
		return defaultMinLength
	case p.MinLength > maxMinLength:
		return maxMinLength
	}
	return p.MinLength
}

// Check reports whether password is acceptable as a new password. It
// returns nil, or an error wrapping ErrInvalid (not valid UTF-8, contains
// NUL or another control character, or U+FFFD), ErrTooLong (more than
// MaxBytes bytes) or ErrTooShort (fewer than MinLength code points). The
// error's message explains the rule to the user, for example "password must
// be at least 8 characters".
//
// Control characters cannot be typed reliably and U+FFFD is what a JSON
// decoder puts in place of bytes that are not UTF-8, so a new password with
// either would not be the password its owner meant. [Hasher.Verify] still
// accepts them (all but NUL), so that passwords set before this rule keep
// working.
func (p Policy) Check(password string) error {
	normal, err := normalize(password)
	if err != nil {
		return err
	}
	if i := strings.IndexFunc(normal, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }); i >= 0 {
		return &policyError{
			msg: "password must not contain control characters or U+FFFD (text that was not valid UTF-8)",
			err: ErrInvalid,
		}
	}
	if n := p.minLength(); utf8.RuneCountInString(normal) < n {
		return &policyError{
			msg: fmt.Sprintf("password must be at least %d characters", n),
			err: ErrTooShort,
		}
	}
	return nil
}

// Validate reports whether [Hasher.Hash] and [Hasher.Verify] accept
// password at all: nil, or ErrInvalid (not valid UTF-8, or contains NUL) or
// ErrTooLong (more than MaxBytes bytes after NFKC normalisation). A login
// with such a password is a failed login like any other; see
// [Hasher.VerifyDummy] to spend the same work on it.
func Validate(password string) error {
	_, err := normalize(password)
	return err
}

// normalize validates password and returns its NFKC normal form, the form
// that is measured and hashed. It rejects input longer than maxRawBytes
// before looking at it, input that is not valid UTF-8 or contains NUL, and a
// normal form longer than MaxBytes. It never truncates.
func normalize(password string) (string, error) {
	if len(password) > maxRawBytes {
		return "", ErrTooLong
	}
	if !utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0 {
		return "", ErrInvalid
	}
	normal := norm.NFKC.String(password)
	if len(normal) > MaxBytes {
		return "", ErrTooLong
	}
	return normal, nil
}
