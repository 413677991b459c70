package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/authgate/authgate/proxy/identity"
)

// claimsJSON decodes claims the way the verifier does (encoding/json into
// map[string]any), so numbers are float64 and arrays []any.
const claimsJSON = `{
	"sub": "user-1",
	"n": 42, "f": 1.5, "neg": -3, "big": 1e21, "small": 0.000001, "zero": 0,
	"t": true, "no": false, "null": null, "empty": "",
	"roles": ["admin", "dev"], "mixed": ["a", 1, true], "one": ["x"], "none": [],
	"nested_arr": [["a"], "b"], "arr_obj": [{"a": 1}], "arr_null": ["a", null],
	"obj": {"k": "v"},
	"realm_access": {"roles": ["offline_access", "uma"]},
	"resource_access": {"todo-api": {"roles": ["reader"]}, "a.b": {"c": "dotted key inside"}},
	"https://example.com/roles": ["editor"],
	"https://example.com": {"roles": ["shadowed"]},
	"a.b": "flat",
	"a": {"b": "nested", "c": {"d": "deep"}},
	"x": {"y.z": "dotted child"},
	"scope": "read  write\tadmin",
	"scp": ["read", 7, "write"]
}`

func testIdentity(t *testing.T) *identity.Identity {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(claimsJSON), &c); err != nil {
		t.Fatal(err)
	}
	return &identity.Identity{Issuer: "authgate", Subject: "user-1", Claims: c}
}

func TestClaim(t *testing.T) {
	id := testIdentity(t)
	tests := []struct {
		name   string
		path   string
		want   any
		wantOK bool
	}{
		{"top level", "sub", "user-1", true},
		{"null value is present", "null", nil, true},
		{"missing", "nope", nil, false},
		{"empty path", "", nil, false},
		{"nested", "realm_access.roles", []any{"offline_access", "uma"}, true},
		{"two levels", "resource_access.todo-api.roles", []any{"reader"}, true},
		{"deep", "a.c.d", "deep", true},
		{"name with dots before nesting", "https://example.com/roles", []any{"editor"}, true},
		{"flat dotted name wins over nesting", "a.b", "flat", true},
		{"dotted key inside an object", "x.y.z", "dotted child", true},
		{"dotted key under a nested object", "resource_access.a.b.c", "dotted key inside", true},
		{"path through a string", "sub.x", nil, false},
		{"path through an array", "roles.0", nil, false},
		{"missing leaf", "realm_access.groups", nil, false},
		{"missing parent", "nope.roles", nil, false},
		{"trailing dot", "realm_access.", nil, false},
		{"leading dot", ".sub", nil, false},
		{"double dot", "a..b", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := id.Claim(tt.path)
			if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Claim(%q) = %#v, %v; want %#v, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestClaimNilClaims(t *testing.T) {
	id := &identity.Identity{Subject: "u"}
	if v, ok := id.Claim("sub"); ok || v != nil {
		t.Errorf("Claim on nil claims = %v, %v", v, ok)
	}
	if v, ok := id.ClaimString("a.b"); ok || v != "" {
		t.Errorf("ClaimString on nil claims = %q, %v", v, ok)
	}
}

func TestClaimString(t *testing.T) {
	id := testIdentity(t)
	tests := []struct {
		path   string
		want   string
		wantOK bool
	}{
		{"sub", "user-1", true},
		{"empty", "", true},
		{"n", "42", true},
		{"f", "1.5", true},
		{"neg", "-3", true},
		{"zero", "0", true},
		{"big", "1000000000000000000000", true},
		{"small", "0.000001", true},
		{"t", "true", true},
		{"no", "false", true},
		{"roles", "admin,dev", true},
		{"mixed", "a,1,true", true},
		{"one", "x", true},
		{"none", "", true},
		{"realm_access.roles", "offline_access,uma", true},
		{"https://example.com/roles", "editor", true},
		{"a.b", "flat", true},
		{"null", "", false},
		{"obj", "", false},
		{"realm_access", "", false},
		{"nested_arr", "", false},
		{"arr_obj", "", false},
		{"arr_null", "", false},
		{"missing", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := id.ClaimString(tt.path)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ClaimString(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		v      any
		want   string
		wantOK bool
	}{
		{"string slice", []string{"a", "b"}, "a,b", true},
		{"json number keeps its digits", json.Number("12345678901234567890"), "12345678901234567890", true},
		{"json number decimal", json.Number("1.50"), "1.50", true},
		{"json number in an array", []any{json.Number("12345678901234567890"), "x"}, "12345678901234567890,x", true},
		{"string slice item with separator", []string{"user,admin"}, "", false},
		{"array item with separator", []any{"user,admin"}, "", false},
		{"array item with separator after others", []any{"user", "a,b"}, "", false},
		{"int is not a JSON value", 42, "", false},
		{"map", map[string]any{}, "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := identity.Render(tt.v)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Render(%#v) = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"single string", "admin", []string{"admin"}},
		{"string with spaces stays one", "a b", []string{"a b"}},
		{"array", []any{"a", "b"}, []string{"a", "b"}},
		{"array drops non-strings", []any{"a", 1.0, nil, true, []any{"x"}, "b"}, []string{"a", "b"}},
		{"string slice", []string{"a"}, []string{"a"}},
		{"empty array", []any{}, []string{}},
		{"number", 1.0, nil},
		{"object", map[string]any{"a": "b"}, nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identity.Strings(tt.v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Strings(%#v) = %#v, want %#v", tt.v, got, tt.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	id := testIdentity(t)
	scope, _ := id.Claim("scope")
	scp, _ := id.Claim("scp")
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"scope string", "read write", []string{"read", "write"}},
		{"scope string with runs of whitespace", scope, []string{"read", "write", "admin"}},
		{"empty scope string", "", []string{}},
		{"blank scope string", "   ", []string{}},
		{"scp array", scp, []string{"read", "write"}},
		{"string slice", []string{"a", "b c"}, []string{"a", "b c"}},
		{"number", 3.0, nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identity.Scopes(tt.v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Scopes(%#v) = %#v, want %#v", tt.v, got, tt.want)
			}
		})
	}
}

func TestContext(t *testing.T) {
	id := testIdentity(t)
	tests := []struct {
		name string
		ctx  context.Context
		want *identity.Identity
	}{
		{"anonymous", context.Background(), nil},
		{"with identity", identity.NewContext(context.Background(), id), id},
		{"nil identity", identity.NewContext(context.Background(), nil), nil},
		{"other context key", context.WithValue(context.Background(), struct{}{}, id), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identity.FromContext(tt.ctx); got != tt.want {
				t.Errorf("FromContext() = %p, want %p", got, tt.want)
			}
		})
	}
}

// TestClaimHeader: a list whose item contains the separator is an error for
// a header, never a value that reads as more items; everything else renders
// as ClaimString does.
func TestClaimHeader(t *testing.T) {
	id := &identity.Identity{Claims: map[string]any{
		"groups":   []any{"user,admin"},
		"mixed":    []any{"dev", "ops,prod"},
		"strs":     []string{"a", "b,c"},
		"ok":       []any{"dev", "ops"},
		"one":      "user,admin", // a string is one value, not a list
		"big":      json.Number("12345678901234567890"),
		"nested":   []any{[]any{"a,b"}},
		"obj_item": []any{map[string]any{"a": "b,c"}},
	}}
	tests := []struct {
		path    string
		want    string
		wantOK  bool
		wantErr error
	}{
		{"groups", "", false, identity.ErrListItem},
		{"mixed", "", false, identity.ErrListItem},
		{"strs", "", false, identity.ErrListItem},
		{"ok", "dev,ops", true, nil},
		{"one", "user,admin", true, nil},
		{"big", "12345678901234567890", true, nil},
		{"nested", "", false, nil},
		{"obj_item", "", false, nil},
		{"missing", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok, err := id.ClaimHeader(tt.path)
			if got != tt.want || ok != tt.wantOK || !errors.Is(err, tt.wantErr) {
				t.Errorf("ClaimHeader(%q) = %q, %v, %v; want %q, %v, %v", tt.path, got, ok, err, tt.want, tt.wantOK, tt.wantErr)
			}
		})
	}
}

func TestJoinList(t *testing.T) {
	tests := []struct {
		items   []string
		want    string
		wantErr error
	}{
		{nil, "", nil},
		{[]string{"user", "admin"}, "user,admin", nil},
		{[]string{"user,admin"}, "", identity.ErrListItem},
		{[]string{"user", ","}, "", identity.ErrListItem},
	}
	for _, tt := range tests {
		got, err := identity.JoinList(tt.items)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("JoinList(%q) = %q, %v; want %q, %v", tt.items, got, err, tt.want, tt.wantErr)
		}
	}
}
