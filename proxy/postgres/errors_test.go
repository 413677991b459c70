package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

func TestErrors(t *testing.T) {
	t.Parallel()
	s, _ := openFresh(t, Options{})
	ctx := t.Context()
	if err := s.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	plain := errors.New("neither taken, not found nor unavailable")
	for _, c := range []struct {
		name   string
		err    error
		is     error
		prefix string
	}{
		{"username taken", s.CreateUser(ctx, &accounts.User{ID: "x", Username: "ALICE", PasswordHash: "h"}),
			accounts.ErrUsernameTaken, "postgres: create user: "},
		{"email taken", s.CreateUser(ctx, &accounts.User{ID: "x", Username: "bob", Email: "Alice@example.com", PasswordHash: "h"}),
			accounts.ErrEmailTaken, "postgres: create user: "},
		{"not found", func() error { _, err := s.UserByID(ctx, "nope"); return err }(),
			accounts.ErrNotFound, "postgres: user by id: "},
		{"family of unknown user", s.CreateFamily(ctx, testFamily("f", "nobody", "t")),
			accounts.ErrNotFound, "postgres: create family: "},
		{"duplicate id", s.CreateUser(ctx, &accounts.User{ID: "id-alice", Username: "other", PasswordHash: "h"}),
			plain, "postgres: create user: "},
		// PostgreSQL text cannot hold NUL: the request is refused, the
		// store is not down.
		{"NUL in a username", s.CreateUser(ctx, &accounts.User{ID: "nul", Username: "a\x00b", PasswordHash: "h"}),
			plain, "postgres: create user: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error")
			}
			sentinels := []error{accounts.ErrUsernameTaken, accounts.ErrEmailTaken, accounts.ErrNotFound, accounts.ErrUnavailable}
			for _, e := range sentinels {
				if want := e == c.is; errors.Is(c.err, e) != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", c.err, e, !want, want)
				}
			}
			if !strings.HasPrefix(c.err.Error(), c.prefix) {
				t.Errorf("error %q does not start with %q", c.err, c.prefix)
			}
		})
	}
}

// proxy is a TCP relay to the test server that the test can cut, as a
// network failure or a database going away would.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

// cut closes the listener and every relayed connection.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// calls are one call of every Store method that reaches the database.
func calls(s *Store) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Ping":       s.Ping,
		"CreateUser": func(ctx context.Context) error { return s.CreateUser(ctx, testUser("bob")) },
		"UserByID":   func(ctx context.Context) error { _, err := s.UserByID(ctx, "id-alice"); return err },
		"UserByEmail": func(ctx context.Context) error {
			_, err := s.UserByEmail(ctx, "alice@example.com")
			return err
		},
		"ListUsers": func(ctx context.Context) error { _, err := s.ListUsers(ctx); return err },
		"UpdateUser": func(ctx context.Context) error {
			return s.UpdateUser(ctx, "id-alice", func(*accounts.User) error { return nil }, nil)
		},
		"CreateFamily": func(ctx context.Context) error { return s.CreateFamily(ctx, testFamily("f2", "id-alice", "x")) },
		"UpdateFamily": func(ctx context.Context) error {
			return s.UpdateFamily(ctx, hashOf("t0"), func(f accounts.Family) (*accounts.Family, error) { return &f, nil })
		},
		"RevokeFamily": func(ctx context.Context) error {
			return s.RevokeFamily(ctx, "id-alice", "fam", accounts.ReasonLogout, t0)
		},
		"DenyAccessToken": func(ctx context.Context) error {
			return s.DenyAccessToken(ctx, accounts.DeniedToken{Issuer: "i", JTI: "j", ExpiresAt: t0})
		},
		"Revocations": func(ctx context.Context) error { _, err := s.Revocations(ctx, t0); return err },
		"Prune":       func(ctx context.Context) error { return s.Prune(ctx, t0) },
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("closed store", func(t *testing.T) {
		s, _ := openFresh(t, Options{})
		s.Close()
		for name, call := range calls(s) {
			if err := call(t.Context()); !errors.Is(err, accounts.ErrUnavailable) || !errors.Is(err, errClosed) {
				t.Errorf("%s after Close: %v, want ErrUnavailable", name, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})

	t.Run("database gone", func(t *testing.T) {
		dbURL := pgtest.Database(t)
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		p := startProxy(t, u.Host)
		u.Host = p.ln.Addr().String()
		s, err := Open(t.Context(), u.String(), Options{Timeout: 2 * time.Second, ConnectTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.CreateUser(t.Context(), testUser("alice")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateFamily(t.Context(), testFamily("fam", "id-alice", "t0")); err != nil {
			t.Fatal(err)
		}
		p.cut()
		for name, call := range calls(s) {
			start := time.Now()
			err := call(t.Context())
			if !errors.Is(err, accounts.ErrUnavailable) {
				t.Errorf("%s with the database gone: %v, want ErrUnavailable", name, err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s took %v, more than its timeout", name, d)
			}
		}
	})

	t.Run("nothing listening", func(t *testing.T) {
		pgtest.URL(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		const pw = "s3cret-Pw"
		for _, f := range []func() error{
			func() error {
				s, err := Open(t.Context(), "postgres://authgate:"+pw+"@"+addr+"/authgate?sslmode=disable", Options{})
				if err == nil {
					s.Close()
				}
				return err
			},
			func() error {
				_, err := Migrate(t.Context(), "postgres://authgate:"+pw+"@"+addr+"/authgate?sslmode=disable", Options{})
				return err
			},
		} {
			err := f()
			if !errors.Is(err, accounts.ErrUnavailable) {
				t.Errorf("error %v, want ErrUnavailable", err)
			}
			if err != nil && (strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "authgate:xxxxx@"+addr)) {
				t.Errorf("error %q shows the password or not the redacted URL", err)
			}
		}
	})
}

// TestOpenErrorsHidePassword feeds Open URLs that fail in different places:
// no message holds the password.
func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	admin, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	const pw = "s3cret-Pw"
	wrongPassword := *admin
	wrongPassword.User = url.UserPassword(admin.User.Username(), pw)
	for _, tc := range []struct {
		name, url   string
		unavailable bool
	}{
		{"wrong password", wrongPassword.String(), true},
		{"bad port", "postgres://u:" + pw + "@127.0.0.1:notaport/db", false},
		{"bad escape", "postgres://u:" + pw + "%zz@127.0.0.1/db", false},
		{"password parameter, bad setting", "postgres://u@127.0.0.1/db?password=" + pw + "&connect_timeout=soon", false},
		{"keyword form", "host=127.0.0.1 user=u password=" + pw, false},
		{"pool parameter", "postgres://u:" + pw + "@127.0.0.1/db?pool_max_conns=3", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.url, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error shows the password: %q", err)
			}
			if errors.Is(err, accounts.ErrUnavailable) != tc.unavailable {
				t.Errorf("error %v: ErrUnavailable %v, want %v", err, !tc.unavailable, tc.unavailable)
			}
		})
	}
}

// TestTimeout holds a family's row lock in another session: UpdateFamily
// waits at most Options.Timeout, fails as unavailable, and works once the
// lock is released.
func TestTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s, dbURL := openFresh(t, Options{Timeout: timeout})
	ctx := t.Context()
	if err := s.CreateUser(ctx, testUser("alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFamily(ctx, testFamily("fam", "id-alice", "t0")); err != nil {
		t.Fatal(err)
	}
	holder := connect(t, dbURL)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM refresh_families WHERE id = 'fam' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.UpdateFamily(ctx, hashOf("t0"), rotateTo("t1"))
	if d := time.Since(start); d < timeout || d > timeout+2*time.Second {
		t.Errorf("UpdateFamily returned after %v, want about %v", d, timeout)
	}
	if !errors.Is(err, accounts.ErrUnavailable) {
		t.Errorf("UpdateFamily behind a lock: %v, want ErrUnavailable", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateFamily(ctx, hashOf("t0"), rotateTo("t1")); err != nil {
		t.Errorf("UpdateFamily after the lock was released: %v", err)
	}
}

// TestDurabilityChecked: Open refuses a session that would acknowledge
// commits before they are flushed.
func TestDurabilityChecked(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Database(t)
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"off", false},
		{"local", true},
		{"on", true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			u, err := url.Parse(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("synchronous_commit", tc.value)
			u.RawQuery = q.Encode()
			s, err := Open(t.Context(), u.String(), Options{})
			if err == nil {
				s.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("Open with synchronous_commit=%s: %v, want success %v", tc.value, err, tc.ok)
			}
			if err != nil && (errors.Is(err, accounts.ErrUnavailable) || !strings.Contains(err.Error(), "synchronous_commit")) {
				t.Errorf("error %v: want a plain error naming the setting", err)
			}
		})
	}
}
