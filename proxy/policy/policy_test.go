package policy_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/policy"
)

// secretValues are claim values that must never appear in an error: the
// error is logged, and claims are the token holder's data.
var secretValues = []string{"tenant-secret-123", "9f8e7d", "s3cr3t-role", "s3cr3t-scope", "4711", "s3cr3t-group"}

func testIdentity(t *testing.T) *identity.Identity {
	t.Helper()
	var c map[string]any
	err := json.Unmarshal([]byte(`{
		"sub": "9f8e7d",
		"tenant": "tenant-secret-123",
		"org": {"id": "tenant-secret-123", "level": 3},
		"https://example.com/tenant": "acme",
		"groups": ["s3cr3t-group", "staff", 7, true, ["admin", "ops"], ["root"]],
		"age": 4711, "ratio": 0.5, "verified": true, "banned": false,
		"nothing": null, "obj": {"a": "b"}
	}`), &c)
	if err != nil {
		t.Fatal(err)
	}
	return &identity.Identity{
		Issuer:  "authgate",
		Subject: "9f8e7d",
		Roles:   []string{"s3cr3t-role", "dev"},
		Scopes:  []string{"read", "write", "s3cr3t-scope"},
		Claims:  c,
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		req     policy.Requirement
		anon    bool   // check a nil identity
		wantErr string // "" to pass; else a substring of the error
	}{
		{name: "zero requirement", req: policy.Requirement{}},
		{name: "empty lists", req: policy.Requirement{Roles: []string{}, Scopes: []string{}, Claims: map[string]string{}}},
		{name: "nil identity", req: policy.Requirement{}, anon: true, wantErr: "no identity"},
		{name: "nil identity with rules", req: policy.Requirement{Roles: []string{"dev"}}, anon: true, wantErr: "no identity"},

		// Roles: any of.
		{name: "one role held", req: policy.Requirement{Roles: []string{"dev"}}},
		{name: "any of several roles", req: policy.Requirement{Roles: []string{"admin", "dev"}}},
		{name: "no role held", req: policy.Requirement{Roles: []string{"admin", "ops"}}, wantErr: "role"},
		{name: "role case differs", req: policy.Requirement{Roles: []string{"DEV"}}, wantErr: "role"},
		{name: "role prefix", req: policy.Requirement{Roles: []string{"de"}}, wantErr: "role"},

		// Scopes: all of.
		{name: "one scope held", req: policy.Requirement{Scopes: []string{"read"}}},
		{name: "all scopes held", req: policy.Requirement{Scopes: []string{"read", "write"}}},
		{name: "one scope missing", req: policy.Requirement{Scopes: []string{"read", "admin"}}, wantErr: "scope"},
		{name: "scopes joined is not a scope", req: policy.Requirement{Scopes: []string{"read write"}}, wantErr: "scope"},
		{name: "roles and scopes both met", req: policy.Requirement{Roles: []string{"dev"}, Scopes: []string{"write"}}},
		{name: "role met, scope not", req: policy.Requirement{Roles: []string{"dev"}, Scopes: []string{"admin"}}, wantErr: "scope"},

		// Claims: equality; arrays contain; numbers and booleans render.
		{name: "string claim equal", req: policy.Requirement{Claims: map[string]string{"tenant": "tenant-secret-123"}}},
		{name: "string claim differs", req: policy.Requirement{Claims: map[string]string{"tenant": "other"}}, wantErr: "claim tenant"},
		{name: "string claim case differs", req: policy.Requirement{Claims: map[string]string{"tenant": "TENANT-SECRET-123"}}, wantErr: "claim tenant"},
		{name: "dotted path", req: policy.Requirement{Claims: map[string]string{"org.id": "tenant-secret-123"}}},
		{name: "dotted path differs", req: policy.Requirement{Claims: map[string]string{"org.id": "x"}}, wantErr: "claim org.id"},
		{name: "claim name with dots", req: policy.Requirement{Claims: map[string]string{"https://example.com/tenant": "acme"}}},
		{name: "nested number", req: policy.Requirement{Claims: map[string]string{"org.level": "3"}}},
		{name: "array contains", req: policy.Requirement{Claims: map[string]string{"groups": "staff"}}},
		{name: "array contains number", req: policy.Requirement{Claims: map[string]string{"groups": "7"}}},
		{name: "array contains bool", req: policy.Requirement{Claims: map[string]string{"groups": "true"}}},
		{name: "array lacks", req: policy.Requirement{Claims: map[string]string{"groups": "admin"}}, wantErr: "claim groups"},
		{name: "nested array is not contained", req: policy.Requirement{Claims: map[string]string{"groups": "root"}}, wantErr: "claim groups"},
		{name: "nested array rendering is not contained", req: policy.Requirement{Claims: map[string]string{"groups": "admin,ops"}}, wantErr: "claim groups"},
		{name: "array is not its rendering", req: policy.Requirement{Claims: map[string]string{"groups": "s3cr3t-group,staff,7,true"}}, wantErr: "claim groups"},
		{name: "number", req: policy.Requirement{Claims: map[string]string{"age": "4711"}}},
		{name: "number differs", req: policy.Requirement{Claims: map[string]string{"age": "4711.0"}}, wantErr: "claim age"},
		{name: "fraction", req: policy.Requirement{Claims: map[string]string{"ratio": "0.5"}}},
		{name: "bool true", req: policy.Requirement{Claims: map[string]string{"verified": "true"}}},
		{name: "bool false", req: policy.Requirement{Claims: map[string]string{"banned": "false"}}},
		{name: "bool differs", req: policy.Requirement{Claims: map[string]string{"banned": "true"}}, wantErr: "claim banned"},
		{name: "missing claim", req: policy.Requirement{Claims: map[string]string{"missing": ""}}, wantErr: "claim missing"},
		{name: "null claim", req: policy.Requirement{Claims: map[string]string{"nothing": ""}}, wantErr: "claim nothing"},
		{name: "null claim as text", req: policy.Requirement{Claims: map[string]string{"nothing": "null"}}, wantErr: "claim nothing"},
		{name: "object claim", req: policy.Requirement{Claims: map[string]string{"obj": "map[a:b]"}}, wantErr: "claim obj"},
		{name: "several claims all met", req: policy.Requirement{Claims: map[string]string{"tenant": "tenant-secret-123", "verified": "true"}}},
		{name: "several claims one unmet", req: policy.Requirement{Claims: map[string]string{"tenant": "tenant-secret-123", "verified": "false"}}, wantErr: "claim verified"},
		{name: "everything met", req: policy.Requirement{
			Roles: []string{"dev"}, Scopes: []string{"read"}, Claims: map[string]string{"groups": "staff"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := testIdentity(t)
			if tt.anon {
				id = nil
			}
			err := tt.req.Check(id)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check() error = %v", err)
				}
				return
			}
			if !errors.Is(err, policy.ErrForbidden) {
				t.Fatalf("Check() error = %v, want ErrForbidden", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check() error = %q, want it to mention %q", err, tt.wantErr)
			}
			for _, s := range secretValues {
				if strings.Contains(err.Error(), s) {
					t.Errorf("Check() error = %q reveals the token's value %q", err, s)
				}
			}
		})
	}
}

// TestCheckHidesValues: whatever the token holds, the error names only the
// kind of rule and the configured claim path.
func TestCheckHidesValues(t *testing.T) {
	id := testIdentity(t)
	for path := range id.Claims {
		req := policy.Requirement{Claims: map[string]string{path: "required-value"}}
		err := req.Check(id)
		if !errors.Is(err, policy.ErrForbidden) {
			t.Fatalf("claim %s: Check() error = %v, want ErrForbidden", path, err)
		}
		for _, s := range secretValues {
			if strings.Contains(err.Error(), s) && !strings.Contains(path, s) {
				t.Errorf("claim %s: error %q reveals %q", path, err, s)
			}
		}
	}
}

// TestCheckDoesNotModify: Check reads the requirement and the identity only.
func TestCheckDoesNotModify(t *testing.T) {
	id := testIdentity(t)
	req := policy.Requirement{Roles: []string{"dev"}, Scopes: []string{"read"}, Claims: map[string]string{"org.id": "tenant-secret-123"}}
	for range 3 {
		if err := req.Check(id); err != nil {
			t.Fatal(err)
		}
	}
	if len(req.Roles) != 1 || len(req.Scopes) != 1 || len(req.Claims) != 1 || len(id.Roles) != 2 || len(id.Scopes) != 3 {
		t.Errorf("Check modified its inputs: %+v, %+v", req, id)
	}
}
