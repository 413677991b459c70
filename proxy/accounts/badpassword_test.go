package accounts_test

import (
	"strings"
	"testing"
)

// badPasswords are passwords the hasher cannot take or the policy refuses:
// each is a failed login (401, the same answer as a wrong password) and a
// refused signup (400 with the rule), never an internal error.
var badPasswords = []struct {
	name   string
	pw     string // sent JSON-encoded unless raw is set
	raw    string // a JSON body with bytes json.Marshal would not write
	errSub string // signup's message
}{
	{name: "NUL", pw: "correct\x00horse", errSub: "without NUL"},
	{name: "only NUL", pw: "\x00", errSub: "without NUL"},
	{name: "grows past 1024 bytes under NFKC", pw: strings.Repeat("\ufdfa", 100), errSub: "at most 1024 bytes"},
	{name: "1025 bytes", pw: strings.Repeat("a", 1025), errSub: "at most 1024 bytes"},
	{name: "tab", pw: "correct\thorse", errSub: "control characters"},
	{name: "escape", pw: "correct\x1bhorse", errSub: "control characters"},
	{name: "C1 control", pw: "correct\u0085horse", errSub: "control characters"},
	{name: "invalid UTF-8", raw: "correct\xffhorse", errSub: "not valid UTF-8"},
	{name: "lone surrogate escape", raw: `correct\ud800horse`, errSub: "not valid UTF-8"},
}

func badPasswordBody(field, name, pw, raw string) any {
	if raw != "" {
		return `{"` + field + `":"` + name + `","password":"` + raw + `"}`
	}
	return map[string]string{field: name, "password": pw}
}

func TestLoginBadPassword(t *testing.T) {
	for _, tt := range badPasswords {
		t.Run(tt.name, func(t *testing.T) {
			// A fresh service each time, so that throttling stays out of it.
			e := newEnv(t, nil)
			if r := e.signup("alice", "correct horse"); r.code != 201 {
				t.Fatalf("signup: %d %s", r.code, r.raw)
			}
			for _, user := range []string{"alice", "nobody"} {
				r := e.do("POST", "/auth/login", badPasswordBody("username", user, tt.pw, tt.raw), nil)
				if r.code != 401 || r.str("error") != "Invalid credentials" {
					t.Errorf("login as %s: %d %s, want 401 Invalid credentials", user, r.code, r.raw)
				}
			}
			if r := e.login("alice", "correct horse"); r.code != 200 {
				t.Errorf("owner's login after the failures: %d %s", r.code, r.raw)
			}
		})
	}
}

func TestSignupBadPassword(t *testing.T) {
	e := newEnv(t, nil)
	for i, tt := range badPasswords {
		t.Run(tt.name, func(t *testing.T) {
			user := "user" + string(rune('a'+i))
			r := e.do("POST", "/auth/signup", badPasswordBody("username", user, tt.pw, tt.raw), nil)
			if r.code != 400 || !strings.Contains(r.str("error"), tt.errSub) {
				t.Errorf("signup: %d %s, want 400 containing %q", r.code, r.raw, tt.errSub)
			}
		})
	}
}
