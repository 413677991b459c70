package proxy_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/sqlite"
)

// replicas are gateways ("processes") on one SQLite file with one settable
// clock, starting at testNow.
type replicas struct {
	t    *testing.T
	gs   []*Gateway
	up   *upstream
	nano atomic.Int64
}

func newReplicas(t *testing.T, n int) *replicas {
	t.Helper()
	r := &replicas{t: t, up: newUpstream(t)}
	r.nano.Store(testNow.UnixNano())
	dbPath := filepath.Join(t.TempDir(), "authgate.db")
	for range n {
		store, err := sqlite.Open(context.Background(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		g, err := build(t, parseConfig(t, accountsYAML, r.up.URL), assemble.Options{Store: store, Now: r.now})
		if err != nil {
			t.Fatal(err)
		}
		r.gs = append(r.gs, g)
	}
	return r
}

func (r *replicas) now() time.Time          { return time.Unix(0, r.nano.Load()).UTC() }
func (r *replicas) advance(d time.Duration) { r.nano.Add(int64(d)) }

// load reloads g's revocation index from the store, as its periodic sync
// does.
func (r *replicas) load(g *Gateway) {
	r.t.Helper()
	if err := g.res.Revocations().Load(r.t.Context(), g.res.Store(), r.now()); err != nil {
		r.t.Fatal(err)
	}
}

// login signs up (if needed) and logs in through g.
func (r *replicas) login(g *Gateway, username, pw string) (access, refresh string) {
	r.t.Helper()
	creds := map[string]string{"username": username, "password": pw}
	call(r.t, g, "POST", "/auth/signup", creds, "")
	code, body := call(r.t, g, "POST", "/auth/login", creds, "")
	if code != 200 {
		r.t.Fatalf("login: %d %v", code, body)
	}
	access, _ = body["access_token"].(string)
	refresh, _ = body["refresh_token"].(string)
	return access, refresh
}

// refresh exchanges a refresh token through g, returning the HTTP status.
func (r *replicas) refresh(g *Gateway, rt string) (code int, access, refresh string) {
	r.t.Helper()
	code, body := call(r.t, g, "POST", "/auth/refresh", map[string]string{"refresh_token": rt}, "")
	access, _ = body["access_token"].(string)
	refresh, _ = body["refresh_token"].(string)
	return code, access, refresh
}

// me returns the verified claims of access, as g's /auth/me shows them.
func (r *replicas) me(g *Gateway, access string) map[string]any {
	r.t.Helper()
	code, body := call(r.t, g, "GET", "/auth/me", nil, access)
	if code != 200 {
		r.t.Fatalf("me: %d %v", code, body)
	}
	return body
}

// expect checks that each access token gets want on g's protected route,
// and that a refused one never reaches the upstream.
func (r *replicas) expect(g *Gateway, what string, want int, access ...string) {
	r.t.Helper()
	for i, a := range access {
		before := r.up.count()
		code, _ := call(r.t, g, "GET", "/todos", nil, a)
		if code != want {
			r.t.Errorf("%s: access token %d: %d, want %d", what, i, code, want)
		}
		if code != 200 && r.up.count() != before {
			r.t.Errorf("%s: access token %d: a refused request reached the upstream", what, i)
		}
	}
}

// TestGatewaySessionEnds: logging out with any access token of a session,
// or reusing a rotated refresh token, refuses every access token of that
// session on this gateway at once and on another one sharing the store
// after its next revocation load; another session of the user is untouched.
func TestGatewaySessionEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(r *replicas, g *Gateway, access, refresh []string)
	}{
		{"logout with one access token", func(r *replicas, g *Gateway, access, _ []string) {
			if code, body := call(r.t, g, "POST", "/auth/logout", nil, access[1]); code != 200 {
				r.t.Fatalf("logout: %d %v", code, body)
			}
		}},
		{"refresh token reuse", func(r *replicas, g *Gateway, _, refresh []string) {
			if code, _, _ := r.refresh(g, refresh[0]); code != 401 {
				r.t.Fatalf("reuse: %d, want 401", code)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplicas(t, 2)
			a, b := r.gs[0], r.gs[1]
			access0, refresh0 := r.login(a, "alice", "correct horse")
			access, refresh := []string{access0}, []string{refresh0}
			for range 2 {
				r.advance(time.Second)
				code, at, rt := r.refresh(a, refresh[len(refresh)-1])
				if code != 200 {
					t.Fatalf("refresh: %d", code)
				}
				access, refresh = append(access, at), append(refresh, rt)
			}
			other, _ := r.login(a, "alice", "correct horse")
			r.expect(a, "before, here", 200, append(access, other)...)
			r.expect(b, "before, there", 200, append(access, other)...)

			tt.end(r, a, access, refresh)
			r.expect(a, "after, here", 401, access...)
			r.expect(a, "other session, here", 200, other)
			r.load(b)
			r.expect(b, "after, there", 401, access...)
			r.expect(b, "other session, there", 200, other)
		})
	}
}

// TestGatewayUserChangeInTheSameSecond: a password change refuses a token
// issued earlier in the same second (iat has whole seconds), on this
// gateway and on another one after its load, while a login after the
// change in that same second is accepted.
func TestGatewayUserChangeInTheSameSecond(t *testing.T) {
	r := newReplicas(t, 2)
	a, b := r.gs[0], r.gs[1]
	before, _ := r.login(a, "alice", "correct horse")
	issued := r.me(a, before)["expires_at"] // whole seconds, as iat
	r.advance(300 * time.Millisecond)
	if err := a.Accounts().SetPassword(t.Context(), "alice", "battery staple"); err != nil {
		t.Fatal(err)
	}
	r.advance(300 * time.Millisecond)
	after, _ := r.login(a, "alice", "battery staple")
	if again := r.me(a, after)["expires_at"]; again != issued {
		t.Fatalf("tokens issued in different seconds (%v, %v): the test proves nothing", issued, again)
	}
	r.expect(a, "before the change, here", 401, before)
	r.expect(a, "after the change, here", 200, after)
	r.load(b)
	r.expect(b, "before the change, there", 401, before)
	r.expect(b, "after the change, there", 200, after)
}

// TestGatewayLogoutLeavesOtherUsersSessions: an access token of alice whose
// sid names bob's session ends only itself: bob's tokens and refresh token
// keep working, here and on another gateway.
func TestGatewayLogoutLeavesOtherUsersSessions(t *testing.T) {
	r := newReplicas(t, 2)
	a, b := r.gs[0], r.gs[1]
	aliceAccess, _ := r.login(a, "alice", "correct horse")
	bobAccess, bobRefresh := r.login(a, "bob", "correct horse")
	alice, _ := r.me(a, aliceAccess)["sub"].(string)
	bobSID, _ := r.me(a, bobAccess)["sid"].(string)
	forged := mint(t, alice, map[string]any{"sid": bobSID})

	if code, body := call(t, a, "POST", "/auth/logout", nil, forged); code != 200 {
		t.Fatalf("logout: %d %v", code, body)
	}
	r.expect(a, "the presented token", 401, forged)
	r.expect(a, "bob, here", 200, bobAccess)
	r.load(b)
	r.expect(b, "bob, there", 200, bobAccess)
	if code, _, _ := r.refresh(b, bobRefresh); code != 200 {
		t.Errorf("bob's refresh: %d, want 200", code)
	}
}
