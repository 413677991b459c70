package token

import (
	"fmt"
	"net/http"
	"strings"
)

// MaxTokenBytes bounds the size of a bearer token; longer ones are refused
// before any parsing (CVE-2025-30204 class of parser exhaustion).
const MaxTokenBytes = 8 << 10

// FromHeader returns the bearer token of an Authorization header (RFC 6750
// §2.1). Tokens are never taken from the query string or a form body.
//
// No Authorization header, or one with another scheme, gives ErrMissing.
// Several Authorization headers, an empty token or one with characters
// outside the token68 alphabet give ErrMalformed. A token over
// MaxTokenBytes gives ErrInvalid.
func FromHeader(h http.Header) (string, error) {
	vals := h["Authorization"]
	switch len(vals) {
	case 0:
		return "", ErrMissing
	case 1:
	default:
		return "", fmt.Errorf("%w: %d Authorization headers", ErrMalformed, len(vals))
	}
	scheme, rest, _ := strings.Cut(vals[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		if scheme == "" {
			return "", fmt.Errorf("%w: empty Authorization header", ErrMalformed)
		}
		return "", ErrMissing
	}
	tok := strings.TrimLeft(rest, " ")
	switch {
	case tok == "":
		return "", fmt.Errorf("%w: empty bearer token", ErrMalformed)
	case len(tok) > MaxTokenBytes:
		return "", fmt.Errorf("%w: token longer than %d bytes", ErrInvalid, MaxTokenBytes)
	case !isToken68(tok):
		return "", fmt.Errorf("%w: bearer token has characters outside token68", ErrMalformed)
	}
	return tok, nil
}

// isToken68 reports whether s is 1*( ALPHA / DIGIT / "-" / "." / "_" / "~"
// / "+" / "/" ) *"=" (RFC 6750 §2.1).
func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
