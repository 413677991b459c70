package password

import "errors"

// Errors returned by this package. Every error from [Policy.Check] and from
// the [Hasher] methods wraps at most one of them, so callers test with
// [errors.Is].
//
// The messages of ErrTooShort, ErrTooLong and ErrInvalid, and of the errors
// [Policy.Check] wraps them in, are written for the person choosing the
// password and may be sent as the body of a 400 response. The detail that
// follows ErrMalformedHash is for logs, never for clients.
var (
	// ErrBusy reports that no hashing slot came free within the Hasher's
	// wait bound, or that too many callers were already waiting. The
	// password was not checked; an HTTP handler answers 503 Service
	// Unavailable with a Retry-After header.
	ErrBusy = errors.New("password: hasher busy")

	// ErrTooShort reports a password with fewer code points, after NFKC
	// normalisation, than the Policy's minimum.
	ErrTooShort = errors.New("password is too short")

	// ErrTooLong reports a password longer than MaxBytes bytes after NFKC
	// normalisation (or one so long that it was rejected unread).
	ErrTooLong = errors.New("password must be at most 1024 bytes long")

	// ErrInvalid reports a password that is not valid UTF-8 or that
	// contains a NUL character.
	ErrInvalid = errors.New("password must be valid UTF-8 text without NUL characters")

	// ErrMalformedHash reports a stored hash that is not an argon2id PHC
	// string this package accepts: wrong algorithm or version, missing or
	// extra fields, bad base64, or parameters outside the accepted bounds.
	ErrMalformedHash = errors.New("password: malformed hash")
)

// policyError is an error whose message is written for the user and which
// wraps one of the sentinel errors above.
type policyError struct {
	msg string
	err error
}

func (e *policyError) Error() string { return e.msg }
func (e *policyError) Unwrap() error { return e.err }
