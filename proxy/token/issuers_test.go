package token_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

const (
	issA = "https://a.example.com"
	issB = "https://b.example.com"
)

// externalIssuer is an issuer like an external identity provider: its own
// iss, a shared audience, the key's algorithm, and any typ.
func externalIssuer(name, iss string, k *keys.Key) token.Issuer {
	return token.Issuer{
		Name:       name,
		Issuer:     iss,
		Audience:   []string{testAud},
		Algorithms: token.Algorithms(k),
		Leeway:     leeway,
		Keys:       token.StaticKeys(k),
	}
}

// TestVerifyMultiIssuer: the token's iss picks the key set, and keys are
// bound to their issuer (RFC 8725 §3.8; security.md 4).
func TestVerifyMultiIssuer(t *testing.T) {
	ks := testKeys(t)
	// Same algorithm for both, so only the issuer binding tells them apart.
	ka, kb := ks.own[keys.EdDSA], ks.other[keys.EdDSA]
	v := newVerifier(t, externalIssuer("A", issA, ka), externalIssuer("B", issB, kb))
	asA := map[string]any{"iss": issA}
	tests := []struct {
		name    string
		raw     string
		want    error
		wantIss string
	}{
		{name: "A's token", raw: sign(t, ka, header(ka), with(asA)), wantIss: "A"},
		{name: "B's token", raw: sign(t, kb, header(kb), with(map[string]any{"iss": issB})), wantIss: "B"},
		{name: "A's token without typ", raw: sign(t, ka, map[string]any{"kid": ka.ID}, with(asA)), wantIss: "A"},
		{name: "A's expired token", raw: sign(t, ka, header(ka), with(expiredBy(time.Hour, asA))), want: token.ErrExpired},
		{name: "iss A signed by B with B's kid", raw: sign(t, kb, header(kb), with(asA)), want: token.ErrInvalid},
		{name: "iss A signed by B with A's kid", raw: sign(t, kb, header(ka), with(asA)), want: token.ErrInvalid},
		{name: "iss B signed by A", raw: sign(t, ka, header(ka), with(map[string]any{"iss": issB})), want: token.ErrInvalid},
		{name: "unknown iss", raw: sign(t, ka, header(ka), with(map[string]any{"iss": "https://c.example.com"})), want: token.ErrInvalid},
		{name: "our own iss is not configured here", raw: valid(t, ka, nil), want: token.ErrInvalid},
		{name: "no iss", raw: sign(t, ka, header(ka), with(map[string]any{"iss": nil})), want: token.ErrInvalid},
		{name: "empty iss", raw: sign(t, ka, header(ka), with(map[string]any{"iss": ""})), want: token.ErrInvalid},
		{name: "iss not a string", raw: sign(t, ka, header(ka), with(map[string]any{"iss": []any{issA}})), want: token.ErrInvalid},
		// encoding/json matches struct fields case-insensitively: the peek
		// may choose A while the verified "iss" claim says B, or nothing.
		{name: "ISS A and iss B, signed by A", raw: sign(t, ka, header(ka), with(map[string]any{"iss": issB, "ISS": issA})), want: token.ErrInvalid},
		{name: "only ISS A, signed by A", raw: sign(t, ka, header(ka), with(map[string]any{"iss": nil, "ISS": issA})), want: token.ErrInvalid},
		{name: "garbage payload", raw: "eyJhbGciOiJFZERTQSJ9.!!!.c2ln", want: token.ErrInvalid},
		{name: "payload not JSON", raw: "eyJhbGciOiJFZERTQSJ9." + b64([]byte("hello")) + ".c2ln", want: token.ErrInvalid},
		{name: "padded payload", raw: "eyJhbGciOiJFZERTQSJ9." + b64JSON(t, map[string]any{"iss": issA}) + "=.c2ln", want: token.ErrInvalid},
		{name: "one segment", raw: "abc", want: token.ErrInvalid},
		{name: "two segments", raw: "abc.def", want: token.ErrInvalid},
		{name: "empty", raw: "", want: token.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(tt.raw)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify() error = %v", err)
				}
				if id.Issuer != tt.wantIss {
					t.Fatalf("Verify().Issuer = %q, want %q", id.Issuer, tt.wantIss)
				}
				return
			}
			if id != nil {
				t.Errorf("Verify() returned an identity with error %v", err)
			}
			if got := sentinel(t, err); got != tt.want {
				t.Fatalf("Verify() error = %v, want exactly %v", err, tt.want)
			}
		})
	}
}

// TestVerifyTypesPerIssuer: the expected typ is set per issuer, so an API
// route can refuse ID tokens (security.md 6).
func TestVerifyTypesPerIssuer(t *testing.T) {
	k := testKeys(t).own[keys.ES256]
	is := externalIssuer("idp", testIss, k)
	is.Types = []string{"application/at+jwt", "JWT"}
	v := newVerifier(t, is)
	for _, tt := range []struct {
		typ  any
		want error
	}{
		{"at+jwt", nil}, {"application/at+jwt", nil}, {"jwt", nil}, {"application/JWT", nil},
		{nil, token.ErrInvalid}, {"id+jwt", token.ErrInvalid}, {"at+jwt; charset=x", token.ErrInvalid},
	} {
		t.Run("typ="+jsonString(tt.typ), func(t *testing.T) {
			_, err := v.Verify(sign(t, k, withHeader(k, map[string]any{"typ": tt.typ}), claims()))
			if got := sentinel(t, err); got != tt.want || (tt.want == nil && err != nil) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func jsonString(v any) string {
	if v == nil {
		return "absent"
	}
	return v.(string)
}

func TestVerifyIdentity(t *testing.T) {
	ks := testKeys(t)
	k := ks.own[keys.EdDSA]
	keycloak := externalIssuer("keycloak", testIss, k)
	keycloak.SubjectClaim = "preferred_username"
	keycloak.RolesClaim = "realm_access.roles"
	keycloak.ScopesClaim = "https://example.com/scopes"
	tests := []struct {
		name       string
		is         token.Issuer
		edits      map[string]any
		wantSub    string
		wantRoles  []string
		wantScopes []string
		wantErr    error
	}{
		{name: "defaults", is: ownIssuer(k), wantSub: "user-1"},
		{name: "roles array and scope string", is: ownIssuer(k),
			edits:   map[string]any{"roles": []any{"admin", "dev"}, "scope": "read  write", "scp": []any{"ignored"}},
			wantSub: "user-1", wantRoles: []string{"admin", "dev"}, wantScopes: []string{"read", "write"}},
		{name: "single role string", is: ownIssuer(k), edits: map[string]any{"roles": "admin"},
			wantSub: "user-1", wantRoles: []string{"admin"}},
		{name: "roles with non-strings", is: ownIssuer(k), edits: map[string]any{"roles": []any{"a", 1, nil, "b"}},
			wantSub: "user-1", wantRoles: []string{"a", "b"}},
		{name: "scp array without scope", is: ownIssuer(k), edits: map[string]any{"scp": []any{"read", "write"}},
			wantSub: "user-1", wantScopes: []string{"read", "write"}},
		{name: "scp string without scope", is: ownIssuer(k), edits: map[string]any{"scp": "read write"},
			wantSub: "user-1", wantScopes: []string{"read", "write"}},
		{name: "keycloak claims", is: keycloak, edits: map[string]any{
			"sub": "f81d4fae", "preferred_username": "ann",
			"realm_access":               map[string]any{"roles": []any{"offline_access", "admin"}},
			"https://example.com/scopes": []any{"todo:read"},
			"roles":                      []any{"ignored"}, "scope": "ignored",
		}, wantSub: "ann", wantRoles: []string{"offline_access", "admin"}, wantScopes: []string{"todo:read"}},
		{name: "custom subject claim missing", is: keycloak, wantErr: token.ErrInvalid},
		{name: "custom subject claim not a string", is: keycloak, edits: map[string]any{"preferred_username": 7}, wantErr: token.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, tt.is)
			id, err := v.Verify(sign(t, k, header(k), with(tt.edits)))
			if tt.wantErr != nil {
				if sentinel(t, err) != tt.wantErr || id != nil {
					t.Fatalf("Verify() = %v, %v; want error %v", id, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if id.Subject != tt.wantSub || id.Issuer != tt.is.Name {
				t.Errorf("Subject, Issuer = %q, %q; want %q, %q", id.Subject, id.Issuer, tt.wantSub, tt.is.Name)
			}
			if !slices.Equal(id.Roles, tt.wantRoles) {
				t.Errorf("Roles = %q, want %q", id.Roles, tt.wantRoles)
			}
			if !slices.Equal(id.Scopes, tt.wantScopes) {
				t.Errorf("Scopes = %q, want %q", id.Scopes, tt.wantScopes)
			}
			if id.TokenID != "jti-1" {
				t.Errorf("TokenID = %q, want jti-1", id.TokenID)
			}
			if !id.ExpiresAt.Equal(now.Add(15*time.Minute)) || !id.IssuedAt.Equal(now) {
				t.Errorf("ExpiresAt, IssuedAt = %v, %v; want %v, %v", id.ExpiresAt, id.IssuedAt, now.Add(15*time.Minute), now)
			}
			if id.Claims["iss"] != testIss {
				t.Errorf("Claims[iss] = %v, want %q", id.Claims["iss"], testIss)
			}
		})
	}
}

func TestNewVerifierErrors(t *testing.T) {
	k := testKeys(t).own[keys.EdDSA]
	tests := []struct {
		name    string
		issuers func() []token.Issuer
	}{
		{"no issuers", func() []token.Issuer { return nil }},
		{"empty iss", func() []token.Issuer { is := ownIssuer(k); is.Issuer = ""; return []token.Issuer{is} }},
		{"no audience", func() []token.Issuer { is := ownIssuer(k); is.Audience = nil; return []token.Issuer{is} }},
		{"empty audience list", func() []token.Issuer { is := ownIssuer(k); is.Audience = []string{}; return []token.Issuer{is} }},
		{"no algorithms", func() []token.Issuer { is := ownIssuer(k); is.Algorithms = nil; return []token.Issuer{is} }},
		{"algorithms of no keys", func() []token.Issuer {
			is := ownIssuer(k)
			is.Algorithms = token.Algorithms()
			return []token.Issuer{is}
		}},
		{"no keys", func() []token.Issuer { is := ownIssuer(k); is.Keys = nil; return []token.Issuer{is} }},
		{"duplicate iss", func() []token.Issuer {
			return []token.Issuer{externalIssuer("A", issA, k), externalIssuer("B", issA, k)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := token.NewVerifier(tt.issuers(), clock)
			if err == nil || v != nil {
				t.Fatalf("NewVerifier() = %v, %v; want an error", v, err)
			}
		})
	}
}

// TestVerifierDoesNotKeepIssuerSlices: NewVerifier builds its parsers once;
// changing the caller's config afterwards changes nothing.
func TestVerifierDoesNotKeepIssuerSlices(t *testing.T) {
	k := testKeys(t).own[keys.EdDSA]
	is := ownIssuer(k)
	v := newVerifier(t, is)
	is.Audience[0] = "https://other.example.com"
	is.Algorithms[0] = "none"
	if _, err := v.Verify(valid(t, k, nil)); err != nil {
		t.Fatalf("Verify() after editing the config: %v", err)
	}
}

// TestVerifyConcurrent shares one Verifier between goroutines (run with
// -race).
func TestVerifyConcurrent(t *testing.T) {
	ks := testKeys(t)
	ka, kb := ks.own[keys.ES256], ks.own[keys.EdDSA]
	v := newVerifier(t, externalIssuer("A", issA, ka), externalIssuer("B", issB, kb))
	good := sign(t, ka, header(ka), with(map[string]any{"iss": issA}))
	bad := sign(t, kb, header(kb), with(map[string]any{"iss": issA}))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if _, err := v.Verify(good); err != nil {
					errs <- err
				}
				if _, err := v.Verify(bad); !errors.Is(err, token.ErrInvalid) {
					errs <- errors.New("bad token verified")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestVerifyHS256 round-trips an own HMAC key and checks that the HS256
// verifier refuses asymmetric tokens.
func TestVerifyHS256(t *testing.T) {
	ks := testKeys(t)
	k := ks.own[keys.HS256]
	v := newVerifier(t, ownIssuer(k))
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"valid", sign(t, k, header(k), claims()), nil},
		{"other secret with our kid", sign(t, ks.other[keys.HS256], header(k), claims()), token.ErrInvalid},
		{"EdDSA token", sign(t, ks.own[keys.EdDSA], header(ks.own[keys.EdDSA]), claims()), token.ErrInvalid},
		{"expired", sign(t, k, header(k), with(expiredBy(time.Hour, nil))), token.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(tt.raw)
			if got := sentinel(t, err); got != tt.want || (tt.want == nil && err != nil) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestStaticKeysBindAlgToKey: with keys of several types, a token must use
// the algorithm of the key its kid names (security.md 1).
func TestStaticKeysBindAlgToKey(t *testing.T) {
	ks := testKeys(t)
	ed, es := ks.own[keys.EdDSA], ks.own[keys.ES256]
	v := newVerifier(t, ownIssuer(ed, es))
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"EdDSA key", sign(t, ed, header(ed), claims()), nil},
		{"ES256 key", sign(t, es, header(es), claims()), nil},
		{"ES256 signature with the EdDSA kid", sign(t, es, header(ed), claims()), token.ErrInvalid},
		{"EdDSA signature with the ES256 kid", sign(t, ed, header(es), claims()), token.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(tt.raw)
			if got := sentinel(t, err); got != tt.want || (tt.want == nil && err != nil) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, jwt.ErrTokenUnverifiable) {
				t.Errorf("Verify() error = %v, want the keyfunc to refuse", err)
			}
		})
	}
}
