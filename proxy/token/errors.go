package token

import "errors"

// Errors returned by FromHeader and Verifier.Verify. Every error wraps
// exactly one of them; the detail after it is for logs, never for clients.
var (
	// ErrMissing: the request carries no bearer token.
	ErrMissing = errors.New("no bearer token")
	// ErrMalformed: the Authorization header is present but is not a
	// well-formed single bearer credential (RFC 6750 invalid_request).
	ErrMalformed = errors.New("malformed Authorization header")
	// ErrExpired: the token is authentic but past its "exp".
	ErrExpired = errors.New("token expired")
	// ErrInvalid: the token failed verification for any other reason.
	ErrInvalid = errors.New("invalid token")
)
