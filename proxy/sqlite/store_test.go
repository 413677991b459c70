package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/accounts/storetest"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, time.UTC)

// openTemp opens a Store on a new file in a temporary directory, closed
// when the test ends.
func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authgate.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) accounts.Store {
		s, _ := openTemp(t)
		return s
	})
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testUser(name string) *accounts.User {
	return &accounts.User{ID: "id-" + name, Username: name, Email: name + "@example.com",
		PasswordHash: "$argon2id$x", Roles: []string{"user"}, CreatedAt: t0, UpdatedAt: t0}
}

func testFamily(id, userID, first string) *accounts.Family {
	return &accounts.Family{ID: id, UserID: userID, Current: hashOf(first),
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
}

// rotateTo is a decide that rotates to hashOf(next).
func rotateTo(next string) func(accounts.Family) (*accounts.Family, error) {
	return func(f accounts.Family) (*accounts.Family, error) {
		f.Previous, f.Current = f.Current, hashOf(next)
		f.RotatedAt, f.LastUsedAt = t0.Add(time.Minute), t0.Add(time.Minute)
		return &f, nil
	}
}

func TestPragmas(t *testing.T) {
	s, _ := openTemp(t)
	for _, c := range []struct {
		pool, pragma, want string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"},
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "5000"},
		{"reader", "journal_mode", "wal"},
		{"reader", "synchronous", "2"},
		{"reader", "busy_timeout", "5000"},
		{"reader", "query_only", "1"},
	} {
		db := s.wr
		if c.pool == "reader" {
			db = s.rd
		}
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("%s PRAGMA %s: %v", c.pool, c.pragma, err)
		}
		if !strings.EqualFold(got, c.want) {
			t.Errorf("%s PRAGMA %s = %s, want %s", c.pool, c.pragma, got, c.want)
		}
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "authgate.db")
	s, err := Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path %s", err, path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v is not os.ErrNotExist", err)
	}
}

// TestOpenOddPath opens a file whose path has characters that are special
// in a file: URI.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "we?ird #dir %41 & more")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "auth?gate#.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(t.Context(), testUser("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authgate.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on garbage")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestErrors(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	if err := s.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		err     error
		is      error
		prefix  string
		notUnav bool
	}{
		{"username taken", s.CreateUser(ctx, &accounts.User{ID: "x", Username: "ALICE", PasswordHash: "h"}),
			accounts.ErrUsernameTaken, "sqlite: create user: ", true},
		{"email taken", s.CreateUser(ctx, &accounts.User{ID: "x", Username: "bob", Email: "Alice@example.com", PasswordHash: "h"}),
			accounts.ErrEmailTaken, "sqlite: create user: ", true},
		{"not found", func() error { _, err := s.UserByID(ctx, "nope"); return err }(),
			accounts.ErrNotFound, "sqlite: user by id: ", true},
		{"family of unknown user", s.CreateFamily(ctx, testFamily("f", "nobody", "t")),
			accounts.ErrNotFound, "sqlite: create family: ", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.is) {
				t.Errorf("error %v, want %v", c.err, c.is)
			}
			if c.notUnav && errors.Is(c.err, accounts.ErrUnavailable) {
				t.Errorf("error %v is ErrUnavailable", c.err)
			}
			if c.err != nil && !strings.HasPrefix(c.err.Error(), c.prefix) {
				t.Errorf("error %q does not start with %q", c.err, c.prefix)
			}
		})
	}

	t.Run("duplicate id is neither taken nor unavailable", func(t *testing.T) {
		u := testUser("other")
		u.ID = "id-alice"
		err := s.CreateUser(ctx, u)
		if err == nil || errors.Is(err, accounts.ErrUsernameTaken) || errors.Is(err, accounts.ErrEmailTaken) ||
			errors.Is(err, accounts.ErrUnavailable) {
			t.Errorf("CreateUser with a duplicate ID: %v", err)
		}
	})

	t.Run("closed store is unavailable", func(t *testing.T) {
		s2, _ := openTemp(t)
		s2.Close()
		_, err := s2.UserByID(ctx, "x")
		if !errors.Is(err, accounts.ErrUnavailable) || !strings.HasPrefix(err.Error(), "sqlite: user by id: ") {
			t.Errorf("UserByID after Close: %v, want ErrUnavailable naming the operation", err)
		}
		err = s2.UpdateFamily(ctx, hashOf("x"), rotateTo("y"))
		if !errors.Is(err, accounts.ErrUnavailable) {
			t.Errorf("UpdateFamily after Close: %v, want ErrUnavailable", err)
		}
	})
}

func TestSubjectRevocationKeepsLaterCutoff(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	u := testUser("alice")
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	later, earlier := t0.Add(2*time.Hour), t0.Add(time.Hour)
	for _, at := range []time.Time{later, earlier} {
		if err := s.UpdateUser(ctx, u.ID, storetest.Replace(u), &accounts.Revocation{Reason: accounts.ReasonPasswordChange, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	set, err := s.Revocations(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	subs := set.Subjects
	if len(subs) != 1 || !subs[0].Before.Equal(later) {
		t.Errorf("subject revocations = %+v, want one at %v", subs, later)
	}
}

func TestPruneDeletesTokenRows(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	if err := s.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFamily(ctx, testFamily("f", "id-alice", "t0")); err != nil {
		t.Fatal(err)
	}
	for i, next := range []string{"t1", "t2"} {
		if err := s.UpdateFamily(ctx, hashOf([]string{"t0", "t1"}[i]), rotateTo(next)); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		if err := s.rd.QueryRowContext(ctx, "SELECT count(*) FROM refresh_tokens").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("%d token rows, want 3", n)
	}
	if err := s.Prune(ctx, t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("%d token rows after Prune, want 0", n)
	}
}

// TestTwoStoresOneFile is two processes sharing the file, as far as SQLite
// is concerned: separate connections serialised by file locks and
// busy_timeout rather than by one writer pool.
func TestTwoStoresOneFile(t *testing.T) {
	a, path := openTemp(t)
	b, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	if err := a.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	for i := range n {
		if err := b.CreateFamily(ctx, testFamily(string(rune('a'+i)), "id-alice", string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wins int
	for i := range 2 * n {
		st := []*Store{a, b}[i%2]
		wg.Go(func() {
			// Everyone races for family "a"; each also rotates a family of
			// its own, which must never fail.
			err := st.UpdateFamily(ctx, hashOf("a"), func(f accounts.Family) (*accounts.Family, error) {
				if !bytes.Equal(f.Current, hashOf("a")) {
					return nil, errLostTest
				}
				return rotateTo("won")(f)
			})
			mu.Lock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, errLostTest):
				t.Errorf("racing UpdateFamily: %v", err)
			}
			mu.Unlock()
			if i%n != 0 {
				own := string(rune('a' + i%n))
				if err := st.UpdateFamily(ctx, hashOf(own), func(f accounts.Family) (*accounts.Family, error) {
					return &f, nil
				}); err != nil {
					t.Errorf("UpdateFamily %s: %v", own, err)
				}
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d winners, want 1", wins)
	}
}

var errLostTest = errors.New("lost")
