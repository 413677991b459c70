// Package identity holds who a verified request is: the subject, roles,
// scopes and claims of a token that passed verification.
//
// An Identity is only ever built from verified claims. Nothing in it comes
// from request headers.
package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Identity is the verified identity behind a request. It is read-only once
// built; it may be shared between goroutines.
type Identity struct {
	// Issuer is the configured name of the issuer that vouched for this
	// identity ("authgate" for authgate's own tokens), not the raw "iss".
	Issuer string
	// Subject is the token's subject ("sub", or the issuer's subject claim).
	Subject string
	// Roles and Scopes are taken from the issuer's roles and scopes claims.
	Roles  []string
	Scopes []string
	// TokenID is the token's "jti", empty when it has none.
	TokenID string
	// IssuedAt and ExpiresAt are the token's "iat" (zero when absent) and
	// "exp".
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Claims are all claims of the verified token, as decoded from JSON.
	Claims map[string]any
}

// Claim returns the claim at path. A path is a claim name or a dotted path
// into nested objects ("realm_access.roles"); a claim whose name itself
// contains dots ("https://example.com/roles") is found before any nesting
// is tried.
func (id *Identity) Claim(path string) (any, bool) {
	return lookup(id.Claims, path)
}

func lookup(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	// Split at each dot, longest leading key first.
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if next, ok := m[path[:i]].(map[string]any); ok {
			if v, ok := lookup(next, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// ListSeparator joins the items of a list claim in a header value (RFC 9110
// §5.6.1 list syntax).
const ListSeparator = ","

// ErrListItem: an item of a list claim contains ListSeparator, so the
// joined header value could not be split back into the same items ("a,b"
// would read as two roles).
var ErrListItem = errors.New("list item contains the list separator")

// ClaimString renders the claim at path as a header value: strings as they
// are, numbers with the digits the token carries, booleans as
// "true"/"false", arrays of those joined with ListSeparator. Objects,
// nulls, missing claims and arrays with an item that contains the
// separator give ok == false.
func (id *Identity) ClaimString(path string) (string, bool) {
	v, ok := id.Claim(path)
	if !ok {
		return "", false
	}
	return Render(v)
}

// ClaimHeader renders the claim at path as ClaimString does, but reports an
// array with an item that contains ListSeparator as ErrListItem instead of
// as absent: a header must refuse such a token, not silently omit it.
func (id *Identity) ClaimHeader(path string) (string, bool, error) {
	v, ok := id.Claim(path)
	if !ok {
		return "", false, nil
	}
	if err := checkList(v); err != nil {
		return "", false, err
	}
	s, ok := Render(v)
	return s, ok, nil
}

// JoinList joins items with ListSeparator; an item that contains it gives
// ErrListItem.
func JoinList(items []string) (string, error) {
	for _, it := range items {
		if strings.Contains(it, ListSeparator) {
			return "", ErrListItem
		}
	}
	return strings.Join(items, ListSeparator), nil
}

// checkList returns ErrListItem when v is an array with an item whose
// rendering contains ListSeparator.
func checkList(v any) error {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := Render(e); ok && strings.Contains(s, ListSeparator) {
				return ErrListItem
			}
		}
	case []string:
		_, err := JoinList(x)
		return err
	}
	return nil
}

// Render renders one claim value as ClaimString does. Numbers are
// json.Number when the verifier decoded the token (their exact digits, so
// "12345678901234567890" stays so); float64 is rendered in the shortest
// decimal form.
func Render(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if _, nested := e.([]any); nested {
				return "", false
			}
			s, ok := Render(e)
			if !ok || strings.Contains(s, ListSeparator) {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ListSeparator), true
	case []string:
		s, err := JoinList(x)
		return s, err == nil
	}
	return "", false
}

// Strings returns a claim value as a list of strings: the strings of an
// array, or a single string as a list of one (a "roles" claim holding one
// role). Other values give nil.
func Strings(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return stringsOf(v)
}

// Scopes returns a claim value as a list of scopes: an OAuth "scope" string
// split on spaces (RFC 8693 §4.2), or the strings of an array ("scp").
func Scopes(v any) []string {
	if s, ok := v.(string); ok {
		return strings.Fields(s)
	}
	return stringsOf(v)
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries id.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the identity carried by ctx; nil when the request is
// anonymous.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(contextKey{}).(*Identity)
	return id
}
