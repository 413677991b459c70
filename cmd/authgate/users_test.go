package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/sqlite"
)

// usersConfig writes a config serving accounts with closed signup.
func usersConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	return writeFile(t, dir, "authgate.yaml", fmt.Sprintf(`
tokens: {issuer: %s, audience: %s, signing_key: k.pem}
store: sqlite:state/authgate.db
accounts: {signup: closed}
routes:
  - {name: todos, path: /todos, upstream: "http://127.0.0.1:9", auth: required}
`, testIssuer, testAudience))
}

// users runs "authgate users ..." with stdin.
func users(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runWithInput(context.Background(), append([]string{"users"}, args...), strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestUsersCommands(t *testing.T) {
	cfg := usersConfig(t)
	tests := []struct {
		name    string
		stdin   string
		args    []string
		wantOut string
		wantErr string
	}{
		{"add", "correct horse\n", []string{"add", "-config", cfg, "-username", "alice", "-email", "alice@example.com"}, "created user alice", ""},
		{"add taken", "correct horse\n", []string{"add", "-config", cfg, "-username", "ALICE"}, "", `users add: user "alice" already exists`},
		{"add email taken", "correct horse\n", []string{"add", "-config", cfg, "-username", "carol", "-email", "ALICE@example.com"}, "", `users add: email "ALICE@example.com" is already registered to another user`},
		{"add weak password", "short\n", []string{"add", "-config", cfg, "-username", "bob"}, "", "at least 8"},
		{"add no password", "", []string{"add", "-config", cfg, "-username", "bob"}, "", "no password"},
		{"add with roles", "correct horse\n", []string{"add", "-config", cfg, "-username", "bob", "-roles", "admin, ops"}, "created user bob", ""},
		{"set roles", "", []string{"set-roles", "-config", cfg, "-username", "alice", "-roles", "admin,user"}, "set roles of alice", ""},
		{"set roles unknown", "", []string{"set-roles", "-config", cfg, "-username", "nobody", "-roles", "x"}, "", `users set-roles: no user "nobody"`},
		{"disable unknown", "", []string{"disable", "-config", cfg, "-username", "nobody"}, "", `users disable: no user "nobody"`},
		{"set password unknown", "pw long enough\n", []string{"set-password", "-config", cfg, "-username", "nobody"}, "", `users set-password: no user "nobody"`},
		{"disable", "", []string{"disable", "-config", cfg, "-username", "bob"}, "disabled user bob", ""},
		{"set password", "battery staple\n", []string{"set-password", "-config", cfg, "-username", "alice"}, "all of their logins ended", ""},
		{"list", "", []string{"list", "-config", cfg}, "alice", ""},
		{"missing username", "", []string{"disable", "-config", cfg}, "", "-username is required"},
		{"unknown subcommand", "", []string{"delete", "-config", cfg, "-username", "x"}, "", "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := users(t, tt.stdin, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q (output %q)", err, tt.wantErr, out)
				}
				// A store error reads in the operator's words only: never
				// the store's wrapping ("sqlite: user by username: ...").
				if strings.HasPrefix(tt.wantErr, "users ") && err.Error() != tt.wantErr {
					t.Errorf("err = %q, want exactly %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "no user") && !errors.Is(err, accounts.ErrNotFound) {
					t.Errorf("errors.Is(%v, accounts.ErrNotFound) = false", err)
				}
				return
			}
			if err != nil || !strings.Contains(out, tt.wantOut) {
				t.Fatalf("err = %v, output %q, want it to contain %q", err, out, tt.wantOut)
			}
		})
	}
	out, _ := users(t, "", "list", "-config", cfg)
	for _, want := range []string{"alice", "alice@example.com", "admin,user", "bob", "admin,ops", "true"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
	if _, err := users(t, "", "list"); !errors.Is(err, errUsage) {
		t.Errorf("users list without -config: %v, want a usage error", err)
	}
}

// TestUsersListVerifiedEmail: the list marks the emails a provider
// verified, the ones upstreams receive.
func TestUsersListVerifiedEmail(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	for _, u := range []*accounts.User{
		{ID: "u1", Username: "carol", Email: "carol@example.com", EmailVerified: true, Roles: []string{"user"}, CreatedAt: now, UpdatedAt: now},
		{ID: "u2", Username: "dave", Email: "dave@example.com", PasswordHash: "x", Roles: []string{"user"}, CreatedAt: now, UpdatedAt: now},
	} {
		if err := store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	if err := listUsers(ctx, store, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "carol@example.com (verified)") || strings.Contains(out.String(), "dave@example.com (verified)") ||
		!strings.Contains(out.String(), "dave@example.com") {
		t.Errorf("list:\n%s", out.String())
	}
}
