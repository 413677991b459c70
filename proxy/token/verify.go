package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/identity"
)

// OwnIssuerName is the Issuer.Name of authgate's own tokens in config,
// routes, logs and metrics; no external issuer may take it.
const OwnIssuerName = "authgate"

// Claims read when an Issuer names none.
const (
	// DefaultSubjectClaim carries the subject (RFC 7519 §4.1.2).
	DefaultSubjectClaim = "sub"
	// DefaultRolesClaim carries the roles.
	DefaultRolesClaim = "roles"
)

// maxKIDBytes bounds a "kid" header before it is used or logged.
const maxKIDBytes = 256

// Issuer is one trusted token issuer: whose tokens are accepted and by
// which rules they are verified.
type Issuer struct {
	// Name identifies the issuer in config, routes, logs and metrics
	// ("authgate" for authgate's own tokens).
	Name string
	// Issuer is the exact "iss" its tokens carry. Required.
	Issuer string
	// Audience: the token's "aud" must contain one of these. Required.
	Audience []string
	// Algorithms is the allow-list of "alg" values (RFC 8725 §3.1).
	// Required; Keys must only return keys of matching type.
	Algorithms []string
	// Types lists the accepted "typ" header values, compared
	// case-insensitively with an optional "application/" prefix (RFC 7515
	// §4.1.9). Empty accepts any typ, including none.
	Types []string
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration
	// Keys returns the verification key for a token. It is called only after
	// the token's alg passed Algorithms, and must bind key type to alg.
	Keys jwt.Keyfunc
	// SubjectClaim, RolesClaim and ScopesClaim name the claims (dotted paths
	// allowed) that carry the subject, roles and scopes. When empty:
	// DefaultSubjectClaim, DefaultRolesClaim, and "scope" falling back to
	// "scp".
	SubjectClaim, RolesClaim, ScopesClaim string
}

// Verifier verifies bearer tokens against a fixed set of trusted issuers.
// Build one per configuration with NewVerifier; it is immutable and safe for
// concurrent use.
type Verifier struct {
	byIss  map[string]*issuerVerifier
	single *issuerVerifier // set when there is exactly one issuer
}

type issuerVerifier struct {
	Issuer
	parser *jwt.Parser
	keys   jwt.Keyfunc
}

// NewVerifier builds the parsers of every issuer once. now is the clock used
// for exp, nbf and iat (time.Now in production).
func NewVerifier(issuers []Issuer, now func() time.Time) (*Verifier, error) {
	if len(issuers) == 0 {
		return nil, errors.New("token: no issuers")
	}
	v := &Verifier{byIss: make(map[string]*issuerVerifier, len(issuers))}
	for _, is := range issuers {
		switch {
		case is.Issuer == "":
			return nil, fmt.Errorf("token: issuer %q: empty iss", is.Name)
		case len(is.Audience) == 0:
			return nil, fmt.Errorf("token: issuer %q: no audience", is.Name)
		case len(is.Algorithms) == 0:
			return nil, fmt.Errorf("token: issuer %q: no algorithms", is.Name)
		case is.Keys == nil:
			return nil, fmt.Errorf("token: issuer %q: no keys", is.Name)
		}
		if _, dup := v.byIss[is.Issuer]; dup {
			return nil, fmt.Errorf("token: issuer %q: iss %q is configured twice", is.Name, is.Issuer)
		}
		// Copy the slices: the parser keeps them, and the Verifier must not
		// change when the caller's config does.
		is.Audience = slices.Clone(is.Audience)
		is.Algorithms = slices.Clone(is.Algorithms)
		is.Types = slices.Clone(is.Types)
		if is.SubjectClaim == "" {
			is.SubjectClaim = DefaultSubjectClaim
		}
		if is.RolesClaim == "" {
			is.RolesClaim = DefaultRolesClaim
		}
		iv := &issuerVerifier{Issuer: is}
		iv.parser = jwt.NewParser(
			jwt.WithValidMethods(is.Algorithms),
			jwt.WithIssuer(is.Issuer),
			jwt.WithAudience(is.Audience...),
			jwt.WithLeeway(is.Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithStrictDecoding(),
			// Numbers keep their digits (json.Number, not float64), so a
			// numeric claim reaches a header or a policy exactly as issued.
			jwt.WithJSONNumber(),
			jwt.WithTimeFunc(now),
		)
		iv.keys = iv.keyfunc
		v.byIss[is.Issuer] = iv
	}
	if len(issuers) == 1 {
		v.single = v.byIss[issuers[0].Issuer]
	}
	return v, nil
}

// Verify checks raw and returns the identity it proves. Any failure is an
// error wrapping ErrExpired (authentic but expired, and nothing else wrong)
// or ErrInvalid; the wrapped detail is for logs.
func (v *Verifier) Verify(raw string) (*identity.Identity, error) {
	if len(raw) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: token longer than %d bytes", ErrInvalid, MaxTokenBytes)
	}
	if !isCompact(raw) {
		// base64 decoding skips CR and LF even in strict mode: refuse them
		// (and anything else outside base64url) so no two strings verify as
		// the same token.
		return nil, fmt.Errorf("%w: token has characters outside base64url", ErrInvalid)
	}
	iv := v.single
	if iv == nil {
		iss, err := peekIssuer(raw)
		if err != nil {
			return nil, err
		}
		if iv = v.byIss[iss]; iv == nil {
			return nil, fmt.Errorf("%w: issuer is not trusted", ErrInvalid)
		}
	}
	claims := numberClaims{}
	if _, err := iv.parser.ParseWithClaims(raw, &claims, iv.keys); err != nil {
		if onlyExpired(err) {
			// Authentic and expired: still invalid if it proves no subject.
			if _, idErr := iv.identity(claims); idErr != nil {
				return nil, idErr
			}
			return nil, fmt.Errorf("%w: %w", ErrExpired, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return iv.identity(claims)
}

// keyfunc applies the header rules golang-jwt leaves to the caller, then
// asks the issuer's key source.
func (iv *issuerVerifier) keyfunc(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit header is not supported")
	}
	if kid, ok := t.Header["kid"]; ok {
		s, isString := kid.(string)
		if !isString || s == "" || len(s) > maxKIDBytes {
			return nil, errors.New("kid is not a short string")
		}
	}
	if len(iv.Types) > 0 {
		typ, _ := t.Header["typ"].(string)
		if !typeAccepted(typ, iv.Types) {
			return nil, errors.New("typ header is not accepted")
		}
	}
	return iv.Keys(t)
}

func typeAccepted(typ string, accepted []string) bool {
	typ = trimApplication(typ)
	for _, a := range accepted {
		if strings.EqualFold(typ, trimApplication(a)) {
			return true
		}
	}
	return false
}

func trimApplication(typ string) string {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		return typ[len("application/"):]
	}
	return typ
}

// onlyExpired reports whether err is a claims failure whose every cause is
// jwt.ErrTokenExpired. Any other cause (a wrong audience, a claim of the
// wrong type, a bad signature) makes the token invalid even when it is also
// expired.
func onlyExpired(err error) bool {
	return errors.Is(err, jwt.ErrTokenInvalidClaims) && errors.Is(err, jwt.ErrTokenExpired) &&
		leavesAre(err, jwt.ErrTokenInvalidClaims, jwt.ErrTokenExpired)
}

// leavesAre reports whether every error at the end of err's wrap chains is
// one of allowed.
func leavesAre(err error, allowed ...error) bool {
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !leavesAre(e, allowed...) {
				return false
			}
		}
		return true
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return leavesAre(next, allowed...)
		}
	}
	for _, a := range allowed {
		if err == a {
			return true
		}
	}
	return false
}

// isCompact reports whether raw holds only base64url characters and dots.
func isCompact(raw string) bool {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '_' || c == '.' {
			continue
		}
		return false
	}
	return true
}

// identity builds the Identity of verified claims.
func (iv *issuerVerifier) identity(claims numberClaims) (*identity.Identity, error) {
	id := &identity.Identity{Issuer: iv.Name, Claims: claims}
	sub, _ := id.Claim(iv.SubjectClaim)
	s, ok := sub.(string)
	if !ok || s == "" {
		return nil, fmt.Errorf("%w: no subject claim %q", ErrInvalid, iv.SubjectClaim)
	}
	id.Subject = s
	if v, ok := id.Claim(iv.RolesClaim); ok {
		id.Roles = identity.Strings(v)
	}
	scopes := iv.ScopesClaim
	if scopes == "" {
		scopes = "scope"
		if _, ok := claims["scope"]; !ok {
			scopes = "scp"
		}
	}
	if v, ok := id.Claim(scopes); ok {
		id.Scopes = identity.Scopes(v)
	}
	id.TokenID, _ = claims["jti"].(string)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.ExpiresAt = exp.Time
	}
	if iat, err := claims.GetIssuedAt(); err == nil && iat != nil {
		id.IssuedAt = iat.Time
	}
	return id, nil
}

// peekIssuer reads "iss" from an unverified token, only to choose which
// issuer's rules and keys verify it (RFC 8725 §3.8). Nothing else of the
// unverified payload is used.
func peekIssuer(raw string) (string, error) {
	first := strings.IndexByte(raw, '.')
	if first < 0 {
		return "", fmt.Errorf("%w: not a JWS compact serialization", ErrInvalid)
	}
	rest := raw[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 {
		return "", fmt.Errorf("%w: not a JWS compact serialization", ErrInvalid)
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(rest[:second])
	if err != nil {
		return "", fmt.Errorf("%w: payload is not base64url", ErrInvalid)
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Iss == "" {
		return "", fmt.Errorf("%w: no iss claim", ErrInvalid)
	}
	return c.Iss, nil
}

// numberClaims are a token's claims decoded with json.Number (the parser's
// WithJSONNumber), so numbers keep their exact digits. Its numeric dates
// read as golang-jwt reads float64 ones: 0 is absent (and "exp" then
// missing), and a number that is no finite float64 is an invalid claim.
type numberClaims map[string]any

func (c numberClaims) date(key string, get func(jwt.MapClaims) (*jwt.NumericDate, error)) (*jwt.NumericDate, error) {
	if n, ok := c[key].(json.Number); ok {
		f, err := n.Float64()
		switch {
		case err != nil || math.IsInf(f, 0) || math.IsNaN(f):
			return nil, fmt.Errorf("%w: %s is not a finite number", jwt.ErrInvalidType, key)
		case f == 0:
			return nil, nil
		}
		// As jwt.MapClaims reads a number, without parsing it again.
		sec, frac := math.Modf(f)
		return jwt.NewNumericDate(time.Unix(int64(sec), int64(frac*1e9))), nil
	}
	return get(jwt.MapClaims(c))
}

// GetExpirationTime implements jwt.Claims.
func (c numberClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.date("exp", jwt.MapClaims.GetExpirationTime)
}

// GetNotBefore implements jwt.Claims.
func (c numberClaims) GetNotBefore() (*jwt.NumericDate, error) {
	return c.date("nbf", jwt.MapClaims.GetNotBefore)
}

// GetIssuedAt implements jwt.Claims.
func (c numberClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return c.date("iat", jwt.MapClaims.GetIssuedAt)
}

// GetIssuer implements jwt.Claims.
func (c numberClaims) GetIssuer() (string, error) { return jwt.MapClaims(c).GetIssuer() }

// GetSubject implements jwt.Claims.
func (c numberClaims) GetSubject() (string, error) { return jwt.MapClaims(c).GetSubject() }

// GetAudience implements jwt.Claims.
func (c numberClaims) GetAudience() (jwt.ClaimStrings, error) { return jwt.MapClaims(c).GetAudience() }

var _ jwt.Claims = numberClaims(nil)
