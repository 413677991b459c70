// Package headers guards identity headers: it removes every spelling of
// them from incoming requests, so a client can never forge the identity an
// upstream sees.
//
// Go's server canonicalises "x-auth-subject" to "X-Auth-Subject" but keeps
// "X_Auth_Subject" as written, and upstreams (CGI-style frameworks, PHP,
// WSGI) often treat "-", "_" and case as the same. A Set therefore compares
// header names folded: lower case, with '-', '_' and '.' dropped.
package headers

import (
	"net/http"
)

// maxFold is the longest header name folded without allocating; longer names
// are folded on the heap.
const maxFold = 128

// Fold returns the form of a header name in which all its aliases agree:
// lower case, without '-', '_' or '.'.
func Fold(name string) string {
	var buf [maxFold]byte
	return string(fold(buf[:0], name))
}

func fold(dst []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
		case 'A' <= c && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Set is a set of header names compared folded. A Set is immutable after
// NewSet and safe for concurrent use.
type Set struct {
	folded map[string]struct{}
}

// NewSet returns the set of the given header names.
func NewSet(names ...string) *Set {
	s := &Set{folded: make(map[string]struct{}, len(names))}
	for _, n := range names {
		s.folded[Fold(n)] = struct{}{}
	}
	return s
}

// Contains reports whether name is, folded, in the set.
func (s *Set) Contains(name string) bool {
	var buf [maxFold]byte
	_, ok := s.folded[string(fold(buf[:0], name))]
	return ok
}

// Strip deletes from h every header whose name is, folded, in the set. It
// does not allocate for names up to 128 bytes.
func (s *Set) Strip(h http.Header) {
	for name := range h {
		if s.Contains(name) {
			delete(h, name)
		}
	}
}

// ValidValue reports whether v may be sent as a header value: no CR, LF,
// NUL or other control character except horizontal tab. A claim that fails
// this check must not reach an upstream (header injection).
func ValidValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
