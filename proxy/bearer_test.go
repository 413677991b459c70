package proxy_test

import (
	"net/http/httptest"
	"testing"
)

// TestBearerSpellings: every spelling of an Authorization header is either
// a bearer token or a 400, never an anonymous pass, on required and
// optional routes alike. A well-formed header of another scheme is no
// bearer token: 401 on a required route, anonymous on an optional one, and
// then never forwarded, even where the route forwards Authorization.
func TestBearerSpellings(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, tokensYAML+`
routes:
  - {name: required, path: /required, upstream: "${UPSTREAM}", auth: required, forward_authorization: true}
  - {name: optional, path: /optional, upstream: "${UPSTREAM}", auth: optional, forward_authorization: true}
  - {name: none, path: /none, upstream: "${UPSTREAM}", auth: none, forward_authorization: true}
`, up.URL)
	tok := mint(t, "alice", nil)
	tests := []struct {
		name, authz     string
		required, optnl int // status on the required and the optional route
		subject         string
		forwarded       bool // Authorization reaches the upstream when allowed
	}{
		{"single space", "Bearer " + tok, 200, 200, "alice", true},
		{"lower-case scheme", "bearer " + tok, 200, 200, "alice", true},
		{"upper-case scheme", "BEARER " + tok, 200, 200, "alice", true},
		{"double space", "Bearer  " + tok, 200, 200, "alice", true},
		{"tab", "Bearer\t" + tok, 400, 400, "", false},
		{"space then tab", "Bearer \t" + tok, 400, 400, "", false},
		{"trailing space", "Bearer " + tok + " ", 400, 400, "", false},
		{"trailing tab", "Bearer " + tok + "\t", 400, 400, "", false},
		{"leading space", " Bearer " + tok, 400, 400, "", false},
		{"scheme alone", "Bearer", 400, 400, "", false},
		{"scheme and space", "Bearer ", 400, 400, "", false},
		{"scheme glued to token", "Bearer" + tok, 400, 400, "", false},
		{"bare token", tok, 400, 400, "", false},
		{"comma after scheme", "Bearer," + tok, 400, 400, "", false},
		{"two tokens", "Bearer " + tok + " " + tok, 400, 400, "", false},
		{"basic", "Basic YWxpY2U6cHc=", 401, 200, "", false},
		{"negotiate without credentials", "Negotiate", 401, 200, "", false},
		{"basic with tab", "Basic\tYWxpY2U6cHc=", 400, 400, "", false},
	}
	for _, tt := range tests {
		for _, rt := range []struct {
			path   string
			status int
		}{{"/required", tt.required}, {"/optional", tt.optnl}} {
			t.Run(tt.name+rt.path, func(t *testing.T) {
				r := httptest.NewRequest("GET", rt.path, nil)
				r.Header.Set("Authorization", tt.authz)
				before := up.count()
				w := serve(g, r)
				if w.Code != rt.status {
					t.Fatalf("status %d, want %d: %s", w.Code, rt.status, w.Body)
				}
				if rt.status != 200 {
					if up.count() != before {
						t.Error("refused request reached the upstream")
					}
					return
				}
				h := up.last(t).Header
				if got := h.Get("X-Auth-Subject"); got != tt.subject {
					t.Errorf("upstream X-Auth-Subject = %q, want %q", got, tt.subject)
				}
				if got := h.Get("Authorization"); (got != "") != tt.forwarded {
					t.Errorf("upstream Authorization = %q, want forwarded %v", got, tt.forwarded)
				}
			})
		}
	}
	// A route that does not authenticate forwards what it was asked to.
	r := httptest.NewRequest("GET", "/none", nil)
	r.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
	if w := serve(g, r); w.Code != 200 {
		t.Fatalf("none: status %d", w.Code)
	}
	if got := up.last(t).Header.Get("Authorization"); got != "Basic YWxpY2U6cHc=" {
		t.Errorf("none: upstream Authorization = %q", got)
	}
}
