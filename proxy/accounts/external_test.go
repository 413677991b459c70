package accounts_test

import (
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/accounts"
)

// TestSignInExternalEmail: a linked user's email is verified, in the
// store and in authgate's access tokens and after a refresh, exactly while
// the provider vouches for it at each sign-in; an unverified or taken
// address never replaces the stored one, and another user is never
// touched.
func TestSignInExternalEmail(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	// bob signs up with a password: his address is not verified.
	if r := e.do("POST", "/auth/signup", map[string]string{"username": "bob", "email": "bob@example.com",
		"password": "correct horse"}, nil); r.code != 201 {
		t.Fatalf("signup: %d %s", r.code, r.raw)
	}
	ext := func(email string, verified bool) accounts.External {
		return accounts.External{Provider: "keycloak", Subject: "sub-alice", Username: "alice",
			Email: email, EmailVerified: verified, Create: true}
	}
	// Each sign-in follows the previous one.
	for _, tc := range []struct {
		name         string
		ext          accounts.External
		wantEmail    string
		wantVerified bool
		wantLog      string // the reason logged when a verified email loses it
	}{
		{"first, unverified: no email stored", ext("alice@example.com", false), "", false, ""},
		{"verified", ext("alice@example.com", true), "alice@example.com", true, ""},
		{"same address unverified", ext("alice@example.com", false), "alice@example.com", false, "unverified"},
		{"verified again", ext("alice@example.com", true), "alice@example.com", true, ""},
		{"new verified address", ext("alice@new.example", true), "alice@new.example", true, ""},
		{"other address unverified", ext("mallory@example.com", false), "alice@new.example", false, "unverified"},
		{"verified again after", ext("alice@new.example", true), "alice@new.example", true, ""},
		{"another user's address verified", ext("BOB@example.com", true), "alice@new.example", false, "taken"},
		{"no email", ext("", false), "alice@new.example", false, ""},
		{"invalid address said verified", ext("not an address", true), "alice@new.example", false, ""},
		{"back to verified", ext("alice@new.example", true), "alice@new.example", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := len(e.logs.String())
			sess, err := e.svc.SignInExternal(ctx, tc.ext)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what, access string) {
				t.Helper()
				id := e.verify(access)
				email, _ := id.Claims["email"].(string)
				verified, _ := id.Claims["email_verified"].(bool)
				if email != tc.wantEmail || verified != tc.wantVerified {
					t.Errorf("%s: email %q verified %v, want %q %v", what, email, verified, tc.wantEmail, tc.wantVerified)
				}
			}
			check("access token", sess.AccessToken)
			if r := e.refresh(sess.RefreshToken); r.code != 200 {
				t.Fatalf("refresh: %d %s", r.code, r.raw)
			} else {
				check("refreshed access token", r.str("access_token"))
			}
			logs := e.logs.String()[logged:]
			const msg = "email no longer verified by the provider"
			if got := strings.Contains(logs, msg); got != (tc.wantLog != "") {
				t.Errorf("logged %q; want %q: %v", logs, msg, tc.wantLog != "")
			}
			if tc.wantLog != "" && !strings.Contains(logs, "reason="+tc.wantLog) {
				t.Errorf("logged %q, want reason=%s", logs, tc.wantLog)
			}
			if strings.Contains(logs, "@") {
				t.Errorf("logged an address: %q", logs)
			}
			bob, err := e.store.UserByUsername(ctx, "bob")
			if err != nil || bob.Email != "bob@example.com" || bob.EmailVerified {
				t.Errorf("bob = %+v, %v; want his own unverified email", bob, err)
			}
		})
	}
}

// TestSignInExternalCreateEmail: a first sign-in stores the provider's
// email as verified only when the provider verified it and no other user
// has it.
func TestSignInExternalCreateEmail(t *testing.T) {
	for _, tc := range []struct {
		name         string
		email        string
		verified     bool
		wantEmail    string
		wantVerified bool
	}{
		{"verified", "carol@example.com", true, "carol@example.com", true},
		{"unverified", "carol@example.com", false, "", false},
		{"verified but another user's", "Bob@Example.com", true, "", false},
		{"none", "", true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if r := e.do("POST", "/auth/signup", map[string]string{"username": "bob", "email": "bob@example.com",
				"password": "correct horse"}, nil); r.code != 201 {
				t.Fatalf("signup: %d %s", r.code, r.raw)
			}
			if _, err := e.svc.SignInExternal(t.Context(), accounts.External{Provider: "dex", Subject: "c",
				Username: "carol", Email: tc.email, EmailVerified: tc.verified, Create: true}); err != nil {
				t.Fatal(err)
			}
			ls := e.store.(accounts.LinkStore)
			u, err := ls.UserByLink(t.Context(), "dex", "c")
			if err != nil {
				t.Fatal(err)
			}
			if u.Email != tc.wantEmail || u.EmailVerified != tc.wantVerified {
				t.Errorf("stored email %q verified %v, want %q %v", u.Email, u.EmailVerified, tc.wantEmail, tc.wantVerified)
			}
		})
	}
}
