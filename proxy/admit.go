package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/authgate/authgate/proxy/headers"
	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/token"
)

// identityTokenHeader carries the signed identity token to upstreams.
const identityTokenHeader = "X-Auth-Token"

// identityTokenTTL is the lifetime of an X-Auth-Token: long enough to reach
// the upstream, too short to be worth stealing.
const identityTokenTTL = 30 * time.Second

// identityHeaderVal is one identity header rendered for one request.
type identityHeaderVal struct {
	name string
	// value is a one-element array so that the header can be set to
	// value[:] without allocating a slice per request.
	value [1]string
}

// admit matches the request (canonical path ex.path) to its route, applies
// the route's authentication and requirements, and fills ex.id and
// ex.headers. It returns the route when the request may pass; otherwise it
// has answered: noRoute when no route matches, the denial when auth fails.
func (s *Snapshot) admit(w http.ResponseWriter, h http.Header, host, method string, ex *exchange, noRoute int) *gatewayRoute {
	i := s.table.Match(host, method, ex.path)
	if i < 0 {
		ex.reason = respond.ReasonNoRoute
		respond.Error(w, noRoute, "no route for this request")
		return nil
	}
	rr := s.routes[i]
	ex.route = rr.Name
	var err error
	if ex.id, err = s.authenticate(h, rr); err == nil && ex.id != nil {
		ex.headers, err = s.identityHeaders(ex.headerBuf[:], ex.id, rr)
	}
	if err != nil {
		ex.reason = respond.Deny(w, s.Realm, err).Reason
		return nil
	}
	return rr
}

// authenticate applies the route's auth mode. It returns a nil identity for
// an anonymous request the route lets through. When the identity is valid but
// fails the route's requirements it returns both, for the access log.
func (s *Snapshot) authenticate(h http.Header, rr *gatewayRoute) (*identity.Identity, error) {
	if rr.Auth == AuthNone {
		return nil, nil
	}
	raw, err := token.FromHeader(h)
	if err != nil {
		if rr.Auth == AuthOptional && errors.Is(err, token.ErrMissing) {
			return nil, nil
		}
		return nil, err
	}
	id, err := s.Verifier.Verify(raw)
	if err != nil {
		return nil, err
	}
	if id.Issuer == token.OwnIssuerName && s.Revocations.Revoked(id) {
		return nil, fmt.Errorf("%w: revoked", token.ErrInvalid)
	}
	if rr.issuers != nil && !rr.issuers[id.Issuer] {
		return nil, fmt.Errorf("%w: issuer %s not accepted on route %s", token.ErrInvalid, id.Issuer, rr.Name)
	}
	if err := rr.Require.Check(id); err != nil {
		return id, err // verified but not allowed: the access log names who
	}
	return id, nil
}

// identityHeaders renders the identity headers from id's verified claims.
// A claim that would not be a safe header value (CR, LF, control
// characters), or a list with an item that contains the list separator,
// fails the request rather than being forwarded.
//
// The headers are appended to dst[:0] when they fit in it.
func (s *Snapshot) identityHeaders(dst []identityHeaderVal, id *identity.Identity, rr *gatewayRoute) (_ []identityHeaderVal, err error) {
	extra := s.IssuerHeaders[id.Issuer]
	n := len(s.IdentityHeaders) + len(extra) + 1
	var out []identityHeaderVal
	if n <= len(dst) {
		out = dst[:0]
	} else {
		out = make([]identityHeaderVal, 0, n)
	}
	for _, h := range s.IdentityHeaders {
		if out, err = s.identityHeader(out, id, h); err != nil {
			return nil, err
		}
	}
	for _, h := range extra {
		if out, err = s.identityHeader(out, id, h); err != nil {
			return nil, err
		}
	}
	if rr.IdentityToken {
		tok, err := s.identityToken(id, rr.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, identityHeaderVal{name: identityTokenHeader, value: [1]string{tok}})
	}
	return out, nil
}

// identityHeader appends header h of id to out, unless id lacks the claim
// or may not forward it.
func (s *Snapshot) identityHeader(out []identityHeaderVal, id *identity.Identity, h IdentityHeader) ([]identityHeaderVal, error) {
	var v string
	var ok bool
	switch h.Claim {
	case "sub": // the issuer's subject claim
		v, ok = id.Subject, true
	case "roles": // the issuer's roles claim
		var err error
		if v, err = identity.JoinList(id.Roles); err != nil {
			return nil, fmt.Errorf("%w: claim %s: %w", token.ErrInvalid, h.Claim, err)
		}
		ok = true
	default:
		var err error
		if v, ok, err = id.ClaimHeader(h.Claim); err != nil {
			return nil, fmt.Errorf("%w: claim %s: %w", token.ErrInvalid, h.Claim, err)
		}
	}
	if !ok || v == "" || !mayForwardClaim(id, h.Claim) {
		return out, nil
	}
	if !headers.ValidValue(v) {
		return nil, fmt.Errorf("%w: claim %s is not a valid header value", token.ErrInvalid, h.Claim)
	}
	return append(out, identityHeaderVal{name: h.Name, value: [1]string{v}}), nil
}

// mayForwardClaim reports whether claim of id may reach an upstream as
// identity. An email is forwarded only when the token says it was verified,
// "email_verified": true: authgate's own tokens say false (signup does not
// verify addresses), and an external token without the claim, or with any
// other value, counts as unverified. An unverified email names whoever typed
// it, not its owner, so an upstream must not take it as identity.
func mayForwardClaim(id *identity.Identity, claim string) bool {
	if claim != "email" {
		return true
	}
	v, _ := id.Claim("email_verified")
	return v == true
}

// identityToken signs id for the upstream of route: audience the route's
// name, the issuer that vouched for id in "idp".
func (s *Snapshot) identityToken(id *identity.Identity, route string) (string, error) {
	extra := map[string]any{"idp": id.Issuer, "roles": id.Roles}
	if id.Roles == nil {
		extra["roles"] = []string{}
	}
	for _, c := range []string{"preferred_username", "email"} {
		if v, ok := id.ClaimString(c); ok && mayForwardClaim(id, c) {
			extra[c] = v
		}
	}
	tok, err := s.IdentitySigner.SignIdentity(route, id.Subject, extra, identityTokenTTL)
	if err != nil {
		return "", fmt.Errorf("identity token: %w", err)
	}
	return tok, nil
}
