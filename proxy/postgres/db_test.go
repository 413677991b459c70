package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testURLEnv names the variable holding the URL of the test server, such as
// postgres://authgate:authgate@127.0.0.1:5432/authgate?sslmode=disable.
//
// The URL's database is only connected to; every test gets a database of
// its own, created from it and dropped when the test ends. The URL's role
// therefore needs the CREATEDB privilege:
//
//	CREATE ROLE authgate LOGIN CREATEDB PASSWORD '...';
//	CREATE DATABASE authgate OWNER authgate;
//
// It owns the databases it creates, so it can also end their leftover
// connections and drop them. The server must be PostgreSQL 13 or later
// (DROP DATABASE ... WITH (FORCE)).
const testURLEnv = "AUTHGATE_TEST_POSTGRES_URL"

// adminURL returns the test server's URL. Without one the test is skipped,
// except in CI (CI=true), where a missing database is a failure.
func adminURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(testURLEnv)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(testURLEnv + " is not set: in CI the PostgreSQL store tests must run (.ci/run starts a database)")
		}
		t.Skip(testURLEnv + " is not set: PostgreSQL store tests need a database (.ci/run starts one)")
	}
	return raw
}

// freshDB creates an empty database for t, dropped when t ends, and returns
// its URL.
func freshDB(t testing.TB) string {
	t.Helper()
	admin := adminURL(t)
	var b [8]byte
	rand.Read(b[:])
	name := "authgate_test_" + hex.EncodeToString(b[:])
	adminExec(t, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		// t's context has ended by now; the drop gets a time of its own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// A store a test left open (or a killed connection) must not keep
		// the database alive. WITH (FORCE) would end them too; doing it
		// first makes the drop not wait for them to notice.
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
			t.Errorf("end connections to %s: %v", name, err)
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", testURLEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// adminExec runs sql on a connection of its own to the database at rawURL.
func adminExec(t testing.TB, rawURL, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", testURLEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// openFresh opens a Store on a fresh database, closed when the test ends,
// and returns it with the database's URL.
func openFresh(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	dbURL := freshDB(t)
	s, err := Open(context.Background(), dbURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dbURL
}
