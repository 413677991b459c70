package accounts_test

import "testing"

// TestSignupTaken: a taken username and a taken email get the same answer,
// and names are compared after NFKC and case folding.
func TestSignupTaken(t *testing.T) {
	e := newEnv(t, nil)
	first := map[string]string{"username": "kate", "email": "kate@example.com", "password": "correct horse"}
	if r := e.do("POST", "/auth/signup", first, nil); r.code != 201 {
		t.Fatalf("first signup: %d %s", r.code, r.raw)
	}
	const msg = "username or email already registered"
	tests := []struct {
		name            string
		username, email string
	}{
		{"same username", "kate", ""},
		{"username other case", "KATE", "other@example.com"},
		{"same email", "kate2", "kate@example.com"},
		{"email other case", "kate3", "Kate@Example.com"},
		{"email with Kelvin sign", "kate4", "\u212Aate@example.com"},
		{"email in fullwidth letters", "kate5", "\uff4b\uff41\uff54\uff45@example.com"},
		{"both taken", "kate", "kate@example.com"},
	}
	var first409 string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]string{"username": tt.username, "password": "correct horse"}
			if tt.email != "" {
				body["email"] = tt.email
			}
			r := e.do("POST", "/auth/signup", body, nil)
			if r.code != 409 || r.str("error") != msg {
				t.Fatalf("signup: %d %s, want 409 %q", r.code, r.raw, msg)
			}
			if first409 == "" {
				first409 = r.raw
			} else if r.raw != first409 {
				t.Errorf("answer %q differs from %q", r.raw, first409)
			}
		})
	}
	for _, login := range []map[string]string{
		{"email": "kate@example.com"},
		{"email": "\u212Aate@example.com"},
		{"username": "\u212Aate"},
		{"username": "KATE"},
	} {
		login["password"] = "correct horse"
		r := e.do("POST", "/auth/login", login, nil)
		if r.code != 200 {
			t.Errorf("login %v: %d %s", login, r.code, r.raw)
		}
	}
}
