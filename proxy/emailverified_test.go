package proxy_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEmailForwardedOnlyWhenVerified: X-Auth-Email carries the email claim
// only when the token says "email_verified": true.
func TestEmailForwardedOnlyWhenVerified(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	tests := []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"verified", map[string]any{"email": "alice@example.com", "email_verified": true}, "alice@example.com"},
		{"not verified", map[string]any{"email": "alice@example.com", "email_verified": false}, ""},
		{"claim absent", map[string]any{"email": "alice@example.com"}, ""},
		{"string true", map[string]any{"email": "alice@example.com", "email_verified": "true"}, ""},
		{"number 1", map[string]any{"email": "alice@example.com", "email_verified": 1}, ""},
		{"verified without email", map[string]any{"email_verified": true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/required", nil)
			r.Header.Set("Authorization", "Bearer "+mint(t, "alice", tt.claims))
			r.Header.Set("X-Auth-Email", "mallory@evil.test")
			if w := serve(g, r); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			got := up.last(t).Header
			if v := got.Get("X-Auth-Email"); v != tt.want || (tt.want == "" && len(got.Values("X-Auth-Email")) > 0) {
				t.Errorf("upstream X-Auth-Email = %q, want %q", got.Values("X-Auth-Email"), tt.want)
			}
			if got.Get("X-Auth-Subject") != "alice" {
				t.Errorf("upstream X-Auth-Subject = %q", got.Get("X-Auth-Subject"))
			}
		})
	}
}

// TestOwnUsersEmailNotForwarded: authgate's own signup does not verify
// addresses, so its tokens say so and the upstream gets no X-Auth-Email.
func TestOwnUsersEmailNotForwarded(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, accountsYAML, up.URL)
	creds := map[string]string{"username": "alice", "email": "alice@example.com", "password": "correct horse"}
	if code, body := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	code, body := call(t, g, "POST", "/auth/login", map[string]string{"email": "alice@example.com", "password": "correct horse"}, "")
	if code != 200 {
		t.Fatalf("login: %d %v", code, body)
	}
	access, _ := body["access_token"].(string)
	var claims map[string]any
	if parts := strings.Split(access, "."); len(parts) == 3 {
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok := claims["email_verified"]; !ok || v != false {
		t.Errorf("access token email_verified = %v (present %v), want false", v, ok)
	}
	if code, _ := call(t, g, "GET", "/todos", nil, access); code != 200 {
		t.Fatalf("todos: %d", code)
	}
	if h := up.last(t).Header; h.Get("X-Auth-Subject") == "" || len(h.Values("X-Auth-Email")) > 0 {
		t.Errorf("upstream X-Auth-Subject %q, X-Auth-Email %q: want a subject and no email", h.Get("X-Auth-Subject"), h.Values("X-Auth-Email"))
	}
}
