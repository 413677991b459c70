package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

// adminExec runs sql on a connection of its own to the database at rawURL.
func adminExec(t testing.TB, rawURL, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
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
	dbURL := pgtest.Database(t)
	s, err := Open(context.Background(), dbURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dbURL
}
