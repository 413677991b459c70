package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/migration"
)

// latestVersion is the schema version this binary migrates to.
func latestVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err)
	}
	return len(ms)
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrationsNumbered(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || latestVersion() != len(ms) {
		t.Fatalf("%d migrations, latest version %d", len(ms), latestVersion())
	}
}

func TestMigrateFresh(t *testing.T) {
	s, _ := openTemp(t)
	if v := userVersion(t, s.wr); v != latestVersion() {
		t.Errorf("user_version = %d, want %d", v, latestVersion())
	}
	for _, table := range []string{"users", "refresh_families", "refresh_tokens", "denied_tokens", "subject_revocations"} {
		var n int
		if err := s.rd.QueryRowContext(t.Context(),
			"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, %v", table, n, err)
		}
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	s, path := openTemp(t)
	if err := s.CreateUser(t.Context(), testUser("alice")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 {
		s2, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if v := userVersion(t, s2.wr); v != latestVersion() {
			t.Errorf("user_version after reopen = %d, want %d", v, latestVersion())
		}
		if _, err := s2.UserByUsername(t.Context(), "alice"); err != nil {
			t.Errorf("user after reopen: %v", err)
		}
		s2.Close()
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	s, path := openTemp(t)
	newer := latestVersion() + 1
	if _, err := s.wr.ExecContext(t.Context(), fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(t.Context(), path)
	if err == nil {
		s2.Close()
		t.Fatal("Open accepted a database from a newer version")
	}
	if !errors.Is(err, errSchemaTooNew) {
		t.Errorf("error %v, want errSchemaTooNew", err)
	}
	for _, want := range []string{path, fmt.Sprint(newer), "upgrade authgate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestMigrateKeepsForeignTables migrates a database at version 0 that
// already holds a table of its own, which is left alone.
func TestMigrateKeepsForeignTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authgate.db")
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var body string
	if err := s.rd.QueryRowContext(t.Context(), "SELECT body FROM notes").Scan(&body); err != nil || body != "kept" {
		t.Errorf("notes: %q, %v", body, err)
	}
	if v := userVersion(t, s.wr); v != latestVersion() {
		t.Errorf("user_version = %d", v)
	}
}

// TestFailedMigrationRollsBack applies a migration that fails halfway: none
// of it stays, and the version is unchanged.
func TestFailedMigrationRollsBack(t *testing.T) {
	s, _ := openTemp(t)
	v := latestVersion()
	bad := migration.Migration{Version: v + 1, Name: "9999_bad.sql",
		SQL: "CREATE TABLE half (a INTEGER); INSERT INTO no_such_table VALUES (1);"}
	if err := apply(t.Context(), s.wr, bad, v+1); err == nil {
		t.Fatal("bad migration applied")
	}
	if got := userVersion(t, s.wr); got != v {
		t.Errorf("user_version = %d, want %d", got, v)
	}
	var n int
	if err := s.wr.QueryRowContext(t.Context(), "SELECT count(*) FROM sqlite_schema WHERE name = 'half'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table of the failed migration: count %d, %v", n, err)
	}
}

// TestEmailVerifiedMigration: users stored before migration 4 come out of
// it unverified, whatever their email.
func TestEmailVerifiedMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authgate.db")
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		if err := apply(t.Context(), db, m, 3); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ id, username, email string }{
		{"id-alice", "alice", "alice@example.com"},
		{"id-bob", "bob", ""},
	} {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO users (id, username, username_key, email, email_key, password_hash)
			VALUES (?, ?, ?, ?, ?, '')`, u.id, u.username, foldKey(u.username), u.email, emailKey(u.email)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	us, err := s.ListUsers(t.Context())
	if err != nil || len(us) != 2 {
		t.Fatalf("ListUsers = %+v, %v", us, err)
	}
	for _, u := range us {
		if u.EmailVerified {
			t.Errorf("user %s: EmailVerified after the migration", u.Username)
		}
	}
}
