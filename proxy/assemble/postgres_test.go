package assemble_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

// TestPostgresStore: a postgres:// store opens with the password from
// postgres.password_file, serves accounts and readiness, and a wrong or
// missing password file is a clear error that never shows the password.
func TestPostgresStore(t *testing.T) {
	db := pgtest.Database(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	u.User = url.User(u.User.Username()) // the password comes from the file
	dir := t.TempDir()
	key, err := keys.Generate(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.WriteFile(filepath.Join(dir, "k.pem"), key); err != nil {
		t.Fatal(err)
	}
	yaml := func(passwordFile string) *config.Config {
		src := `tokens: {issuer: https://authgate.test, audience: api, signing_key: ` + filepath.Join(dir, "k.pem") + `}
store: "` + u.String() + `"
postgres: {password_file: ` + passwordFile + `}
accounts: {signup: open}
routes:
  - {name: api, path: /api, upstream: "http://127.0.0.1:9", auth: required}
`
		return parse(t, src)
	}
	tests := []struct {
		name     string
		file     string // written into dir as pw, unless empty
		wantErr  string
		wantOpen bool
	}{
		{name: "password file", file: password + "\n", wantOpen: true},
		{name: "wrong password", file: "not-" + password, wantErr: "store: postgres"},
		{name: "empty password file", file: "\n", wantErr: "postgres.password_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := yaml(filepath.Join(dir, "pw"))
			res, err := assemble.Open(context.Background(), cfg, assemble.Options{Mode: assemble.Admin})
			if !tt.wantOpen {
				if err == nil {
					res.Close()
					t.Fatal("Open succeeded")
				}
				if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), ":"+password+"@") ||
					strings.Contains(err.Error(), "not-"+password) {
					t.Errorf("Open: %v, want %q and never the password", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer res.Close()
			snap, err := assemble.Build(cfg, res)
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Release()
			if snap.Gateway.Accounts() == nil {
				t.Fatal("no account endpoints on a postgres store")
			}
			if _, err := snap.Gateway.Accounts().NewUser(context.Background(), "alice", "", "correct horse", nil); err != nil {
				t.Errorf("NewUser on postgres: %v", err)
			}
			if users, err := res.Store().ListUsers(context.Background()); err != nil || len(users) != 1 {
				t.Errorf("ListUsers = %d users, %v", len(users), err)
			}
		})
	}

	// A check reads the password file and connects nowhere.
	os.Remove(filepath.Join(dir, "pw"))
	cfg := yaml(filepath.Join(dir, "pw"))
	res, err := assemble.Open(context.Background(), cfg, assemble.Options{Mode: assemble.Check})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if _, err := assemble.Build(cfg, res); err == nil || !strings.Contains(err.Error(), "postgres.password_file") {
		t.Errorf("check without the password file: %v", err)
	}
}
