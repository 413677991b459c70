package proxy_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

const claimsYAML = "trusted_proxies: [192.0.2.1/32]\n" + tokensYAML + `
identity_headers:
  X-Auth-Subject: sub
  X-Auth-Roles: roles
  X-Auth-Groups: groups
  X-Auth-Tenant: tenant
routes:
  - {name: app, path: /app, upstream: "${UPSTREAM}", auth: required}
  - {name: tenant, path: /tenant, upstream: "${UPSTREAM}", auth: required, claims: {tenant: "12345678901234567890"}}
`

// TestListClaimsWithSeparatorAreRefused: a list that becomes a header is
// joined with ","; an item that contains "," would read as two items
// upstream (a role "user,admin" as "user" and "admin"), so the token is
// refused (401 invalid_token), on the proxy path and on decision answers.
func TestListClaimsWithSeparatorAreRefused(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, claimsYAML, up.URL)
	tests := []struct {
		name   string
		claims map[string]any
		status int
		want   map[string]string // headers upstream when allowed
	}{
		{"plain lists", map[string]any{"roles": []string{"user", "admin"}, "groups": []string{"dev", "ops"}}, 200,
			map[string]string{"X-Auth-Roles": "user,admin", "X-Auth-Groups": "dev,ops"}},
		{"one role with a comma", map[string]any{"roles": []string{"user,admin"}}, 401, nil},
		{"second role with a comma", map[string]any{"roles": []string{"user", "a,b"}}, 401, nil},
		{"role that is only a comma", map[string]any{"roles": []string{","}}, 401, nil},
		{"roles as one string with a comma", map[string]any{"roles": "user,admin"}, 401, nil},
		{"array claim item with a comma", map[string]any{"groups": []string{"dev", "ops,prod"}}, 401, nil},
		{"string claim with a comma is one value", map[string]any{"groups": "dev,ops"}, 200,
			map[string]string{"X-Auth-Groups": "dev,ops"}},
	}
	for _, tt := range tests {
		tok := mint(t, "alice", tt.claims)
		t.Run("proxy/"+tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/app", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			before := up.count()
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="authgate", error="invalid_token", error_description="invalid token"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if up.count() != before {
					t.Error("refused request reached the upstream")
				}
				return
			}
			for name, want := range tt.want {
				if got := up.last(t).Header.Values(name); len(got) != 1 || got[0] != want {
					t.Errorf("upstream %s = %q, want %q", name, got, want)
				}
			}
		})
		t.Run("decision/"+tt.name, func(t *testing.T) {
			r := ask(dialectNginx, "GET", "/app")
			r.Header.Set("Authorization", "Bearer "+tok)
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			for name, want := range tt.want {
				if got := w.Header().Get(name); got != want {
					t.Errorf("decision %s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestNumericClaimsKeepTheirDigits: a number is forwarded and matched with
// the digits the token carries, not as a float64 rounds it.
func TestNumericClaimsKeepTheirDigits(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, claimsYAML, up.URL)
	tests := []struct {
		name, path string
		tenant     any
		status     int
		want       string
	}{
		{"beyond float64 precision", "/app", json.Number("12345678901234567890"), 200, "12345678901234567890"},
		{"small integer", "/app", 42, 200, "42"},
		{"decimal", "/app", 1.5, 200, "1.5"},
		{"in a list", "/app", []any{json.Number("12345678901234567891"), 7}, 200, "12345678901234567891,7"},
		{"claim requirement, exact", "/tenant", json.Number("12345678901234567890"), 200, "12345678901234567890"},
		{"claim requirement, last digit differs", "/tenant", json.Number("12345678901234567891"), 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set("Authorization", "Bearer "+mint(t, "alice", map[string]any{"tenant": tt.tenant}))
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				return
			}
			if got := up.last(t).Header.Get("X-Auth-Tenant"); got != tt.want {
				t.Errorf("upstream X-Auth-Tenant = %q, want %q", got, tt.want)
			}
		})
	}
}
