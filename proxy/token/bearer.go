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
// The header must read "Bearer", in any case (RFC 7235 §2.1), one or more
// spaces, then a token68 and nothing after it. Every other spelling that
// could be meant as a bearer token (a tab or nothing after the scheme, a
// leading or trailing space, "Bearerx", a bare token) gives ErrMalformed,
// so a request never passes as anonymous because its token was spelled
// loosely. Several Authorization headers or an empty one give ErrMalformed
// too. A token over MaxTokenBytes gives ErrInvalid.
//
// A well-formed header of another scheme ("Basic dXNlcjpwYXNz") carries no
// bearer token and gives ErrMissing; the proxy then treats the request as
// anonymous and does not forward that header on a route that
// authenticates.
func FromHeader(h http.Header) (string, error) {
	vals := h["Authorization"]
	switch len(vals) {
	case 0:
		return "", ErrMissing
	case 1:
	default:
		return "", fmt.Errorf("%w: %d Authorization headers", ErrMalformed, len(vals))
	}
	v := vals[0]
	end := strings.IndexAny(v, " \t")
	if end < 0 {
		end = len(v)
	}
	scheme, rest := v[:end], v[end:]
	switch {
	case v == "":
		return "", fmt.Errorf("%w: empty Authorization header", ErrMalformed)
	case !isScheme(scheme):
		return "", fmt.Errorf("%w: Authorization header does not start with an auth scheme", ErrMalformed)
	case rest != "" && rest[0] != ' ':
		return "", fmt.Errorf("%w: auth scheme not followed by a space", ErrMalformed)
	case strings.HasSuffix(v, " ") || strings.HasSuffix(v, "\t"):
		return "", fmt.Errorf("%w: trailing whitespace in Authorization header", ErrMalformed)
	case !strings.EqualFold(scheme, "Bearer"):
		if len(scheme) > len("Bearer") && strings.EqualFold(scheme[:len("Bearer")], "Bearer") {
			return "", fmt.Errorf("%w: bearer scheme not followed by a space", ErrMalformed)
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

// isScheme reports whether s looks like a registered auth-scheme: a letter,
// then letters, digits and '-'. A bare token ("eyJ...") does not.
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
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
