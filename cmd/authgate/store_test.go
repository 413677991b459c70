package main

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/postgres"
	"github.com/authgate/authgate/proxy/postgres/pgtest"
	"github.com/authgate/authgate/proxy/sqlite"
)

// pgConfig writes, in a directory of its own, a config whose store is a
// fresh PostgreSQL database reached with the password from a file, and
// returns the config's path, the database URL without its password, the
// password file and the password.
func pgConfig(t *testing.T, listen, admin string) (cfg, dbURL, pwFile, pw string) {
	t.Helper()
	u, err := url.Parse(pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ = u.User.Password()
	u.User = url.User(u.User.Username())
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	pwFile = writeFile(t, dir, "pg-password", pw+"\n")
	cfg = writeFile(t, dir, "authgate.yaml", fmt.Sprintf(`
listen: %s
admin_listen: %s
tokens: {issuer: %s, audience: %s, signing_key: k.pem}
store: %q
postgres: {password_file: pg-password}
accounts: {signup: closed}
routes:
  - {name: todos, path: /todos, upstream: "http://127.0.0.1:9", auth: required}
`, listen, admin, testIssuer, testAudience, u.String()))
	return cfg, u.String(), pwFile, pw
}

// TestStoreMigrate: migrate applies every migration of a fresh database
// once, then finds nothing to do; a SQLite store migrates on open.
func TestStoreMigrate(t *testing.T) {
	cfg, _, _, pw := pgConfig(t, "127.0.0.1:18000", "127.0.0.1:19191")
	out, stderr, err := runCmd(t, "store", "migrate", "-config", cfg)
	if err != nil {
		t.Fatalf("store migrate: %v\n%s", err, stderr)
	}
	if !regexp.MustCompile(`^applied 0001_init\.sql, 0002_\w+\.sql, 0003_login_failures\.sql`).MatchString(out) {
		t.Errorf("first migrate printed %q, want every migration applied", out)
	}
	out, stderr, err = runCmd(t, "store", "migrate", "-config", cfg)
	if err != nil || out != "schema is up to date\n" {
		t.Errorf("second migrate: %q, %v\n%s", out, err, stderr)
	}
	if strings.Contains(out+stderr, ":"+pw+"@") {
		t.Errorf("migrate printed the password")
	}

	out, stderr, err = runCmd(t, "store", "migrate", "-config", usersConfig(t))
	if err != nil || !strings.Contains(out, "schema is up to date") {
		t.Errorf("migrate of a SQLite store: %q, %v\n%s", out, err, stderr)
	}
}

// reportLine matches the copy table's line for kind with its counts.
func reportLine(kind string, added, present int) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + kind + ` +` + fmt.Sprint(added) + ` +` + fmt.Sprint(present) + `$`)
}

// TestStoreCopy copies a SQLite store made by 'authgate users add', with a
// user linked to an external provider, into PostgreSQL, twice, finds the
// linked user, its email still verified, by its link there, and logs in as a copied user through a
// real 'authgate serve' on the PostgreSQL store.
func TestStoreCopy(t *testing.T) {
	lite := usersConfig(t)
	for _, name := range []string{"alice", "bob"} {
		if out, err := users(t, "correct horse\n", "add", "-config", lite, "-username", name); err != nil {
			t.Fatalf("users add %s: %v\n%s", name, err, out)
		}
	}
	litePath := filepath.Join(filepath.Dir(lite), "state", "authgate.db")
	from := "sqlite:" + litePath
	// A user a provider's sign-in created, as accounts.SignInExternal does.
	carol := &accounts.User{ID: "id-carol", Username: "carol", Email: "carol@example.com", EmailVerified: true,
		Roles: []string{}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	link := accounts.Link{Provider: "keycloak", Subject: "sub-carol", UserID: carol.ID, CreatedAt: time.Now()}
	src, err := sqlite.Open(t.Context(), litePath)
	if err != nil {
		t.Fatal(err)
	}
	err = src.CreateLinkedUser(t.Context(), carol, link)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	listen, admin := freeAddr(t), freeAddr(t)
	cfg, dbURL, pwFile, pw := pgConfig(t, listen, admin)

	out, stderr, err := runCmd(t, "store", "copy", "-from", from, "-to", dbURL, "-to-password-file", pwFile)
	if err != nil {
		t.Fatalf("store copy: %v\n%s", err, stderr)
	}
	t.Logf("first copy:\n%s", out)
	for _, want := range []*regexp.Regexp{
		reportLine("users", 3, 0), reportLine("refresh families", 0, 0), reportLine("subject revocations", 0, 0),
		reportLine("external links", 1, 0),
	} {
		if !want.MatchString(out) {
			t.Errorf("first copy printed\n%s\nwant a line matching %s", out, want)
		}
	}
	if strings.Contains(out+stderr, ":"+pw+"@") {
		t.Errorf("copy printed the password:\n%s", out)
	}

	// Again, into the config's store: everything is there already.
	out, stderr, err = runCmd(t, "store", "copy", "-from", from, "-config", cfg)
	if err != nil {
		t.Fatalf("second store copy: %v\n%s", err, stderr)
	}
	if !reportLine("users", 0, 3).MatchString(out) || !reportLine("external links", 0, 1).MatchString(out) {
		t.Errorf("second copy printed\n%s\nwant every user and the link already present", out)
	}

	// The provider's next sign-in finds the same user, not a new one.
	withPW, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	withPW.User = url.UserPassword(withPW.User.Username(), pw)
	pg, err := postgres.Open(t.Context(), withPW.String(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := pg.UserByLink(t.Context(), link.Provider, link.Subject)
	pg.Close()
	if err != nil || got.ID != carol.ID || !got.EmailVerified {
		t.Errorf("UserByLink on the copy: %+v, %v; want user %s with a verified email", got, err, carol.ID)
	}

	startProcess(t, cfg, admin)
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	if code, body := send(t, "POST", "http://"+listen+"/auth/login", creds, ""); code != 200 {
		t.Errorf("login of a copied user on the postgres store: %d %v", code, body)
	}
	creds["password"] = "wrong password"
	if code, _ := send(t, "POST", "http://"+listen+"/auth/login", creds, ""); code != 401 {
		t.Errorf("login with a wrong password: %d, want 401", code)
	}
}

// TestStoreUsage: a bad command line is a usage error, refused before
// anything is opened.
func TestStoreUsage(t *testing.T) {
	lite := usersConfig(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"unknown command", []string{"drop"}},
		{"migrate without -config", []string{"migrate"}},
		{"migrate with an argument", []string{"migrate", "-config", lite, "extra"}},
		{"copy without -from", []string{"copy", "-to", "postgres://db.example/authgate"}},
		{"copy from postgres", []string{"copy", "-from", "postgres://db.example/a", "-to", "postgres://db.example/b"}},
		{"copy from sqlite without a path", []string{"copy", "-from", "sqlite:", "-to", "postgres://db.example/b"}},
		{"copy without a destination", []string{"copy", "-from", "sqlite:a.db"}},
		{"copy to both", []string{"copy", "-from", "sqlite:a.db", "-to", "postgres://db.example/b", "-config", lite}},
		{"copy to sqlite", []string{"copy", "-from", "sqlite:a.db", "-to", "sqlite:b.db"}},
		{"copy to a config's sqlite store", []string{"copy", "-from", "sqlite:a.db", "-config", lite}},
		{"password file without -to", []string{"copy", "-from", "sqlite:a.db", "-config", lite, "-to-password-file", "pw"}},
		{"unknown flag", []string{"copy", "-from", "sqlite:a.db", "-to", "postgres://db.example/b", "-force"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, append([]string{"store"}, tc.args...)...)
			if !errors.Is(err, errUsage) {
				t.Errorf("store %q: %v, want a usage error", tc.args, err)
			}
		})
	}
}
