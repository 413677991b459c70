package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/proxy/migration"
	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

// latestVersion is the schema version this binary migrates to.
func latestVersion(t testing.TB) int {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// connect opens a plain connection to the database at dbURL, closed when
// the test ends.
func connect(t testing.TB, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// versions returns the versions recorded in schema_migrations, in order.
func versions(t testing.TB, conn *pgx.Conn) []int {
	t.Helper()
	rows, err := conn.Query(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func wantVersions(t testing.TB, conn *pgx.Conn, latest int) {
	t.Helper()
	var want []int
	for v := 1; v <= latest; v++ {
		want = append(want, v)
	}
	if got := versions(t, conn); !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}
}

func TestMigrationsNumbered(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Name != "0001_init.sql" {
		t.Fatalf("migrations %v", ms)
	}
}

func TestMigrateFresh(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Database(t)
	applied, err := Migrate(t.Context(), dbURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != latestVersion(t) || applied[0] != "0001_init.sql" {
		t.Errorf("applied %q, want every migration", applied)
	}
	conn := connect(t, dbURL)
	wantVersions(t, conn, latestVersion(t))
	for _, table := range []string{"users", "refresh_families", "refresh_tokens", "denied_tokens", "subject_revocations"} {
		var n int
		if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = $1",
			table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, %v", table, n, err)
		}
	}
}

// TestConcurrentMigrations starts replicas together on a fresh database:
// all succeed, and each migration is applied once.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	const n = 5
	t.Run("Migrate", func(t *testing.T) {
		dbURL := pgtest.Database(t)
		var mu sync.Mutex
		var all []string
		errs := together(n, func(int) error {
			applied, err := Migrate(t.Context(), dbURL, Options{})
			mu.Lock()
			all = append(all, applied...)
			mu.Unlock()
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate %d: %v", i, err)
			}
		}
		if len(all) != latestVersion(t) {
			t.Errorf("applied in all %q, want each migration once", all)
		}
		wantVersions(t, connect(t, dbURL), latestVersion(t))
	})
	t.Run("Open", func(t *testing.T) {
		dbURL := pgtest.Database(t)
		stores := make([]*Store, n)
		errs := together(n, func(i int) error {
			s, err := Open(t.Context(), dbURL, Options{MaxConns: 2})
			stores[i] = s
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				continue
			}
			defer stores[i].Close()
		}
		wantVersions(t, connect(t, dbURL), latestVersion(t))
		// Every store works on the one schema.
		for i, s := range stores {
			if s == nil {
				continue
			}
			if err := s.CreateUser(t.Context(), testUser(fmt.Sprint("u", i))); err != nil {
				t.Errorf("store %d: CreateUser: %v", i, err)
			}
		}
	})
}

func TestReopenIsNoop(t *testing.T) {
	t.Parallel()
	s, dbURL := openFresh(t, Options{})
	if err := s.CreateUser(t.Context(), testUser("alice")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	applied, err := Migrate(t.Context(), dbURL, Options{})
	if err != nil || len(applied) != 0 {
		t.Errorf("Migrate on a migrated database = %q, %v; want nothing applied", applied, err)
	}
	for range 2 {
		s2, err := Open(t.Context(), dbURL, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if _, err := s2.UserByUsername(t.Context(), "alice"); err != nil {
			t.Errorf("user after reopen: %v", err)
		}
		s2.Close()
	}
	wantVersions(t, connect(t, dbURL), latestVersion(t))
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	s, dbURL := openFresh(t, Options{})
	s.Close()
	newer := latestVersion(t) + 1
	conn := connect(t, dbURL)
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", newer); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("a database from a newer authgate was accepted")
		}
		if !errors.Is(err, errSchemaTooNew) {
			t.Errorf("error %v, want errSchemaTooNew", err)
		}
		for _, want := range []string{fmt.Sprint("version ", newer), "upgrade authgate", "xxxxx"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	}
	t.Run("Open", func(t *testing.T) {
		s2, err := Open(t.Context(), dbURL, Options{})
		if err == nil {
			s2.Close()
		}
		check(t, err)
	})
	t.Run("Migrate", func(t *testing.T) {
		applied, err := Migrate(t.Context(), dbURL, Options{})
		check(t, err)
		if len(applied) != 0 {
			t.Errorf("applied %q", applied)
		}
	})
}

// TestFailedMigrationRollsBack applies a migration that fails halfway: none
// of it stays, and it is not recorded.
func TestFailedMigrationRollsBack(t *testing.T) {
	t.Parallel()
	s, dbURL := openFresh(t, Options{})
	s.Close()
	conn := connect(t, dbURL)
	v := latestVersion(t)
	bad := migration.Migration{Version: v + 1, Name: "9999_bad.sql",
		SQL: "CREATE TABLE half (a integer); INSERT INTO no_such_table VALUES (1);"}
	if err := apply(t.Context(), conn, bad); err == nil {
		t.Fatal("bad migration applied")
	}
	wantVersions(t, conn, v)
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE tablename = 'half'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table of the failed migration: count %d, %v", n, err)
	}
}

// TestMigrateKeepsForeignTables migrates a database that already holds a
// table of its own, which is left alone.
func TestMigrateKeepsForeignTables(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Database(t)
	conn := connect(t, dbURL)
	if _, err := conn.Exec(t.Context(), "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(t.Context(), dbURL, Options{}); err != nil {
		t.Fatal(err)
	}
	var body string
	if err := conn.QueryRow(t.Context(), "SELECT body FROM notes").Scan(&body); err != nil || body != "kept" {
		t.Errorf("notes: %q, %v", body, err)
	}
}

// TestMigrateWaitsForLock holds the migration lock as another replica
// would: Migrate waits for it, and gives up at MigrateTimeout.
func TestMigrateWaitsForLock(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Database(t)
	holder := connect(t, dbURL)
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	_, err := Migrate(t.Context(), dbURL, Options{MigrateTimeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("Migrate ran while another session held the lock")
	}
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_unlock($1)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(t.Context(), dbURL, Options{}); err != nil {
		t.Errorf("Migrate after the lock was released: %v", err)
	}
}

// TestEmailVerifiedMigration: users stored before migration 5 come out of
// it unverified, whatever their email.
func TestEmailVerifiedMigration(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Database(t)
	conn := connect(t, dbURL)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), migrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:4] {
		if err := apply(t.Context(), conn, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ id, username, email string }{
		{"id-alice", "alice", "alice@example.com"},
		{"id-bob", "bob", ""},
	} {
		if _, err := conn.Exec(t.Context(), `INSERT INTO users (id, username, username_key, email, email_key, password_hash)
			VALUES ($1, $2, $3, $4, $5, '')`, u.id, u.username, foldKey(u.username), u.email, emailKey(u.email)); err != nil {
			t.Fatal(err)
		}
	}
	applied, err := Migrate(t.Context(), dbURL, Options{})
	if err != nil || len(applied) != 1 || applied[0] != "0005_email_verified.sql" {
		t.Fatalf("Migrate = %q, %v; want 0005_email_verified.sql alone", applied, err)
	}
	s, err := Open(t.Context(), dbURL, Options{})
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
