package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

// replica is one authgate process of a replica set.
type replica struct {
	name, base, admin string
}

// startReplicas starts n authgate processes sharing one signing key and
// the PostgreSQL database at dbURL, with open signup and a protected route.
func startReplicas(t *testing.T, n int, dbURL string) []replica {
	t.Helper()
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	_, up := newUpstream(t)
	var rs []replica
	for i := range n {
		listen, admin := freeAddr(t), freeAddr(t)
		cfg := writeFile(t, dir, fmt.Sprintf("authgate-%d.yaml", i), opsConfig(listen, admin, "k.pem", up.URL,
			"  - {name: todos, path: /todos, upstream: UP, auth: required}\n",
			fmt.Sprintf("store: %q\npostgres: {connect_timeout: 2s, query_timeout: 3s}\naccounts: {signup: open}", dbURL)))
		startProcess(t, cfg, admin)
		rs = append(rs, replica{name: string(rune('A' + i)), base: "http://" + listen, admin: "http://" + admin})
	}
	return rs
}

// tokens is a login's or refresh's answer.
type tokens struct{ access, refresh string }

func login(t *testing.T, r replica, user string) tokens {
	t.Helper()
	code, body := send(t, "POST", r.base+"/auth/login", map[string]string{"username": user, "password": "correct horse"}, "")
	if code != http.StatusOK {
		t.Fatalf("login of %s at %s: %d %v", user, r.name, code, body)
	}
	return tokens{body["access_token"].(string), body["refresh_token"].(string)}
}

func refresh(t *testing.T, r replica, rt string) (int, tokens) {
	t.Helper()
	code, body := send(t, "POST", r.base+"/auth/refresh", map[string]string{"refresh_token": rt}, "")
	if code != http.StatusOK {
		return code, tokens{}
	}
	return code, tokens{body["access_token"].(string), body["refresh_token"].(string)}
}

// refusedWithin polls every replica of rs until each refuses access, and
// returns how long each took; it fails when one still accepts after limit.
func refusedWithin(t *testing.T, rs []replica, access string, limit time.Duration) []time.Duration {
	t.Helper()
	start := time.Now()
	took := make([]time.Duration, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for status(r.base+"/todos", access) != http.StatusUnauthorized {
				if time.Since(start) > limit {
					took[i] = -1
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			took[i] = time.Since(start)
		}()
	}
	wg.Wait()
	for i, d := range took {
		if d < 0 {
			t.Errorf("%s still accepts the token %s after the revocation", rs[i].name, limit)
		}
	}
	return took
}

// TestReplicasShareOnePostgres: three authgate processes on one PostgreSQL
// behave as one: accounts, sessions and revocations are shared, and a
// revocation on one is enforced by the others within a second.
func TestReplicasShareOnePostgres(t *testing.T) {
	rs := startReplicas(t, 3, pgtest.Database(t))
	a, b, c := rs[0], rs[1], rs[2]
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	if code, body := send(t, "POST", a.base+"/auth/signup", creds, ""); code != http.StatusCreated {
		t.Fatalf("signup at A: %d %v", code, body)
	}

	// Signed up at A, logs in at B; B's refresh token refreshes at C; the
	// access token works everywhere.
	fromB := login(t, b, "alice")
	code, fromC := refresh(t, c, fromB.refresh)
	if code != http.StatusOK {
		t.Fatalf("refresh at C of B's token: %d", code)
	}
	for _, r := range rs {
		if got := status(r.base+"/todos", fromC.access); got != http.StatusOK {
			t.Errorf("C's access token at %s: %d", r.name, got)
		}
	}

	// Logout at B ends the session on A and C within a second, every
	// access token of it included.
	earlier := fromC.access
	code, _ = send(t, "POST", b.base+"/auth/logout", nil, fromC.access)
	if code != http.StatusOK {
		t.Fatalf("logout at B: %d", code)
	}
	took := refusedWithin(t, []replica{a, c}, earlier, time.Second)
	t.Logf("logout at B enforced at A after %s, at C after %s", took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))

	// Reuse at A revokes the family at B.
	s := login(t, a, "alice")
	code, next := refresh(t, a, s.refresh)
	if code != http.StatusOK {
		t.Fatalf("refresh at A: %d", code)
	}
	if code, _ := refresh(t, a, s.refresh); code != http.StatusUnauthorized {
		t.Fatalf("reuse at A: %d, want 401", code)
	}
	if code, _ := refresh(t, b, next.refresh); code != http.StatusUnauthorized {
		t.Errorf("refresh at B of a family revoked for reuse at A: %d, want 401", code)
	}
	refusedWithin(t, []replica{b, c}, next.access, time.Second)

	// 50 concurrent refreshes of one token spread over the three: exactly
	// one succeeds.
	race := login(t, c, "alice")
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _ := refresh(t, rs[i%3], race.refresh); code == http.StatusOK {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d of 50 concurrent refreshes of one token succeeded, want exactly 1", wins.Load())
	}
}

// dbProxy forwards TCP connections to PostgreSQL; cut drops every
// connection and refuses new ones for a while: a database restart or
// failover as the replicas see it.
type dbProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   atomic.Bool
}

func newDBProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.drop()
	})
	return p
}

func (p *dbProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *dbProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// cut resets every connection and refuses new ones until restore.
func (p *dbProxy) cut() {
	p.down.Store(true)
	p.drop()
}

func (p *dbProxy) restore() { p.down.Store(false) }

// TestReplicasSurviveADatabaseRestart: connections reset mid-traffic and
// the database unreachable for two seconds: every acknowledged signup is
// there afterwards, proxied requests with valid tokens keep flowing, and
// every replica serves accounts again without a restart.
func TestReplicasSurviveADatabaseRestart(t *testing.T) {
	dbURL := pgtest.Database(t)
	proxy := newDBProxy(t, pgtest.HostPort(t, dbURL))
	rs := startReplicas(t, 3, pgtest.WithHostPort(t, dbURL, proxy.ln.Addr().String()))
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	if code, _ := send(t, "POST", rs[0].base+"/auth/signup", creds, ""); code != http.StatusCreated {
		t.Fatal("signup")
	}
	s := login(t, rs[1], "alice")

	var acked []string
	var mu sync.Mutex
	var proxied, proxiedFailed, unavailable atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				user := fmt.Sprintf("u%d-%d", w, i)
				code, _ := send(t, "POST", rs[i%3].base+"/auth/signup",
					map[string]string{"username": user, "password": "correct horse"}, "")
				switch code {
				case http.StatusCreated:
					mu.Lock()
					acked = append(acked, user)
					mu.Unlock()
				case http.StatusServiceUnavailable:
					unavailable.Add(1)
				}
				proxied.Add(1)
				if status(rs[w].base+"/todos", s.access) != http.StatusOK {
					proxiedFailed.Add(1)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	proxy.cut()
	cutAt := time.Now()
	// Readiness says why: the store is unreachable.
	waitFor(t, "readiness to name the store", func() bool {
		code, body := send(t, "GET", rs[0].admin+"/readyz", nil, "")
		checks, _ := body["checks"].(map[string]any)
		return code == http.StatusServiceUnavailable && checks["store"] == "unreachable"
	})
	time.Sleep(2*time.Second - time.Since(cutAt))
	proxy.restore()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d signups acknowledged, %d answered 503 while the database was away; %d proxied requests, %d failed",
		len(acked), unavailable.Load(), proxied.Load(), proxiedFailed.Load())
	if proxiedFailed.Load() != 0 {
		t.Errorf("%d proxied requests with a valid token failed while the database was away", proxiedFailed.Load())
	}
	if unavailable.Load() == 0 {
		t.Error("no signup was answered 503 while the database was away: the cut did not happen")
	}

	// Every replica recovers, and every acknowledged signup is there.
	for _, r := range rs {
		waitFor(t, r.name+" ready again", func() bool { return status(r.admin+"/readyz", "") == http.StatusOK })
		waitFor(t, r.name+" serving logins again", func() bool {
			code, _ := send(t, "POST", r.base+"/auth/login", creds, "")
			return code == http.StatusOK
		})
	}
	slices.Sort(acked)
	for i, user := range acked {
		code, _ := send(t, "POST", rs[i%3].base+"/auth/login", map[string]string{"username": user, "password": "correct horse"}, "")
		if code != http.StatusOK {
			t.Errorf("acknowledged signup %s cannot log in: %d", user, code)
		}
	}
}
