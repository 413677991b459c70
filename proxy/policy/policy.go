// Package policy decides whether a verified identity meets a route's
// requirements: roles (any of), scopes (all of) and claim values.
package policy

import (
	"errors"
	"fmt"
	"slices"

	"github.com/authgate/authgate/proxy/identity"
)

// ErrForbidden is wrapped by every error Check returns: the identity is
// valid but lacks what the route requires (HTTP 403, insufficient_scope).
var ErrForbidden = errors.New("forbidden")

// Requirement is what a route asks of an identity. The zero Requirement
// admits every identity.
type Requirement struct {
	// Roles: the identity must hold at least one.
	Roles []string
	// Scopes: the identity must hold every one.
	Scopes []string
	// Claims: each claim (name or dotted path) must equal the value; an
	// array claim must contain it. Numbers and booleans compare by their
	// rendering ("42", "true").
	Claims map[string]string
}

// Check returns nil when id meets r, or an error wrapping ErrForbidden that
// names the unmet kind of rule (never a claim value taken from the token).
func (r *Requirement) Check(id *identity.Identity) error {
	if id == nil {
		return fmt.Errorf("%w: no identity", ErrForbidden)
	}
	if len(r.Roles) > 0 && !slices.ContainsFunc(r.Roles, func(role string) bool { return slices.Contains(id.Roles, role) }) {
		return fmt.Errorf("%w: missing required role", ErrForbidden)
	}
	for _, s := range r.Scopes {
		if !slices.Contains(id.Scopes, s) {
			return fmt.Errorf("%w: missing required scope", ErrForbidden)
		}
	}
	for path, want := range r.Claims {
		if !claimMatches(id, path, want) {
			return fmt.Errorf("%w: claim %s does not match", ErrForbidden, path)
		}
	}
	return nil
}

func claimMatches(id *identity.Identity, path, want string) bool {
	v, ok := id.Claim(path)
	if !ok {
		return false
	}
	if list, isList := v.([]any); isList {
		for _, e := range list {
			if _, nested := e.([]any); nested {
				continue // an array in the array is not a value it contains
			}
			if s, ok := identity.Render(e); ok && s == want {
				return true
			}
		}
		return false
	}
	s, ok := identity.Render(v)
	return ok && s == want
}
