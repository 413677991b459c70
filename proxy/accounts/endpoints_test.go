package accounts_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

func TestSignup(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.signup("alice", "correct horse"); r.code != 201 {
		t.Fatalf("first signup: %d %s", r.code, r.raw)
	}
	tests := []struct {
		name   string
		body   any
		ctype  string
		status int
		errSub string
	}{
		{"taken, other case", map[string]string{"username": "ALICE", "password": "correct horse"}, "", 409, "username or email already registered"},
		{"email taken", map[string]string{"username": "bob", "password": "correct horse", "email": "x@example.com"}, "", 201, ""},
		{"email taken again", map[string]string{"username": "bob2", "password": "correct horse", "email": "X@example.com"}, "", 409, "username or email already registered"},
		{"short password", map[string]string{"username": "carol", "password": "short"}, "", 400, "at least 8"},
		{"bad username", map[string]string{"username": "a b", "password": "correct horse"}, "", 400, "username must be"},
		{"bad email", map[string]string{"username": "dave", "password": "correct horse", "email": "nope"}, "", 400, "email"},
		{"unknown field", map[string]string{"username": "erin", "password": "correct horse", "admin": "true"}, "", 400, "unknown field"},
		{"not JSON", "{", "", 400, "not valid JSON"},
		{"empty body", "", "", 400, "empty"},
		{"two objects", `{"username":"f1","password":"correct horse"}{}`, "", 400, "single JSON object"},
		{"wrong type", `{"username":1,"password":"correct horse"}`, "", 400, "username"},
		{"wrong content type", "username=x", "application/x-www-form-urlencoded", 415, "application/json"},
		{"too large", `{"username":"g","password":"` + strings.Repeat("x", 20000) + `"}`, "", 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.ctype != "" {
				hdr["Content-Type"] = tt.ctype
			}
			r := e.do("POST", "/auth/signup", tt.body, hdr)
			if r.code != tt.status {
				t.Fatalf("status %d, want %d: %s", r.code, tt.status, r.raw)
			}
			if tt.errSub != "" && !strings.Contains(r.str("error"), tt.errSub) {
				t.Errorf("error %q does not contain %q", r.str("error"), tt.errSub)
			}
		})
	}
	closed := newEnv(t, func(c *accounts.Config) { c.OpenSignup = false })
	if r := closed.signup("zed", "correct horse"); r.code != 403 {
		t.Errorf("closed signup: %d, want 403", r.code)
	}
}

func TestLoginAndMe(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.do("POST", "/auth/signup", map[string]string{"username": "alice", "password": "correct horse", "email": "alice@example.com"}, nil); r.code != 201 {
		t.Fatalf("signup: %d %s", r.code, r.raw)
	}
	r := e.login("alice", "correct horse")
	if r.code != 200 || r.str("message") != "Login successful" || r.str("token_type") != "Bearer" ||
		r.body["expires_in"] != float64(900) || len(r.str("refresh_token")) != 64 {
		t.Fatalf("login: %d %s", r.code, r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
	}
	id, err := e.ver.Verify(r.str("access_token"))
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	if id.Subject == "" || id.TokenID == "" || id.Roles[0] != "user" {
		t.Errorf("identity = %+v", id)
	}
	byEmail := e.do("POST", "/auth/login", map[string]string{"email": "ALICE@example.com", "password": "correct horse"}, nil)
	if byEmail.code != 200 {
		t.Errorf("login by email: %d %s", byEmail.code, byEmail.raw)
	}
	me := e.do("GET", "/auth/me", nil, bearer(r.str("access_token")))
	if me.code != 200 || me.str("sub") != id.Subject || me.str("preferred_username") != "alice" || me.str("email") != "alice@example.com" {
		t.Errorf("me: %d %s", me.code, me.raw)
	}
	if me := e.do("GET", "/auth/me", nil, nil); me.code != 401 || me.header.Get("WWW-Authenticate") != `Bearer realm="authgate"` {
		t.Errorf("me without token: %d %q", me.code, me.header.Get("WWW-Authenticate"))
	}
	if r := e.do("GET", "/auth/login", nil, nil); r.code != 405 || r.header.Get("Allow") != "POST" {
		t.Errorf("GET login: %d Allow %q", r.code, r.header.Get("Allow"))
	}
	if r := e.do("GET", "/auth/nothing", nil, nil); r.code != 404 || r.str("error") == "" {
		t.Errorf("unknown: %d %s", r.code, r.raw)
	}
}

// TestLoginFailuresLookAlike: unknown user, wrong password and disabled
// account answer exactly the same.
func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("alice", "correct horse")
	e.signup("dora", "correct horse")
	if err := e.svc.SetDisabled(t.Context(), "dora", true); err != nil {
		t.Fatal(err)
	}
	var first resp
	for i, c := range []struct{ user, pw string }{
		{"nobody", "correct horse"}, {"alice", "wrong horse!"}, {"dora", "correct horse"},
	} {
		r := e.login(c.user, c.pw)
		if r.code != 401 || r.str("error") != "Invalid credentials" {
			t.Fatalf("%s: %d %s", c.user, r.code, r.raw)
		}
		if i == 0 {
			first = r
			continue
		}
		if r.raw != first.raw || r.header.Get("WWW-Authenticate") != first.header.Get("WWW-Authenticate") {
			t.Errorf("%s answered %q / %q, unknown user %q / %q", c.user, r.raw,
				r.header.Get("WWW-Authenticate"), first.raw, first.header.Get("WWW-Authenticate"))
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("alice", "correct horse")
	for i := 0; i < 3; i++ { // Free: 3 in the test env
		if r := e.login("alice", "wrong horse!"); r.code != 401 {
			t.Fatalf("failure %d: %d", i, r.code)
		}
	}
	r := e.login("alice", "wrong horse!") // the 4th failure starts the back-off
	if r.code != 401 {
		t.Fatalf("4th failure: %d", r.code)
	}
	r = e.login("alice", "correct horse")
	if r.code != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("throttled: %d Retry-After %q", r.code, r.header.Get("Retry-After"))
	}
	// Unknown accounts are throttled alike: 429 reveals nothing.
	for i := 0; i < 4; i++ {
		e.login("ghost", "wrong horse!")
	}
	if r := e.login("ghost", "wrong horse!"); r.code != 429 {
		t.Errorf("unknown account throttled: %d, want 429", r.code)
	}
	e.clock.Advance(time.Minute)
	if r := e.login("alice", "correct horse"); r.code != 200 {
		t.Errorf("after back-off: %d %s", r.code, r.raw)
	}
	if r := e.login("alice", "wrong horse!"); r.code != 401 {
		t.Errorf("a success resets the account: %d", r.code)
	}
}

// TestLoginThrottlingPerAddress: guessing from one address throttles that
// address's tries at the account, not the owner's from elsewhere; guessing
// spread over many addresses meets the account-wide threshold (10 in the
// test env) instead.
func TestLoginThrottlingPerAddress(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("alice", "correct horse")
	e.signup("bob", "correct horse")
	const attacker, owner = "203.0.113.7:4000", "198.51.100.2:5000"
	for i := range 4 {
		if r := e.loginFrom(attacker, "alice", "wrong horse!"); r.code != 401 {
			t.Fatalf("guess %d: %d", i, r.code)
		}
	}
	if r := e.loginFrom(attacker, "alice", "correct horse"); r.code != 429 {
		t.Errorf("the guessing address is not throttled: %d", r.code)
	}
	if r := e.loginFrom(owner, "alice", "correct horse"); r.code != 200 {
		t.Errorf("the owner from another address: %d %s, want 200", r.code, r.raw)
	}

	for i := range 11 {
		addr := fmt.Sprintf("192.0.2.%d:4000", 10+i)
		if r := e.loginFrom(addr, "bob", "wrong horse!"); r.code != 401 {
			t.Fatalf("spread guess %d: %d", i, r.code)
		}
	}
	if r := e.loginFrom("192.0.2.200:4000", "bob", "wrong horse!"); r.code != 429 {
		t.Errorf("guessing spread over 11 addresses is not throttled account-wide: %d", r.code)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, nil)
	_, rt1 := e.mustLogin("alice")
	e.clock.Advance(time.Minute)
	r := e.refresh(rt1)
	if r.code != 200 || r.str("message") != "Token refreshed" {
		t.Fatalf("refresh: %d %s", r.code, r.raw)
	}
	rt2 := r.str("refresh_token")
	if rt2 == rt1 || len(rt2) != 64 {
		t.Fatalf("refresh token not rotated: %q", rt2)
	}
	if _, err := e.ver.Verify(r.str("access_token")); err != nil {
		t.Fatalf("new access token: %v", err)
	}
	r = e.refresh(rt2)
	if r.code != 200 {
		t.Fatalf("second refresh: %d %s", r.code, r.raw)
	}
	rt3 := r.str("refresh_token")

	// Reuse of an old token revokes the whole family, the newest token too.
	if r := e.refresh(rt1); r.code != 401 || r.str("error") != "invalid refresh token" {
		t.Fatalf("reuse: %d %s", r.code, r.raw)
	}
	if r := e.refresh(rt3); r.code != 401 {
		t.Fatalf("newest token after reuse: %d, want 401", r.code)
	}
	for _, bad := range []string{"", "garbage", strings.Repeat("0", 64)} {
		r := e.refresh(bad)
		if r.code != 401 && r.code != 400 {
			t.Errorf("refresh(%q): %d", bad, r.code)
		}
	}
}

func TestRefreshConcurrentExactlyOneWins(t *testing.T) {
	e := newEnv(t, nil)
	_, rt := e.mustLogin("alice")
	const n = 8
	codes := make(chan int, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			<-start
			codes <- e.refresh(rt).code
		}()
	}
	close(start)
	won := 0
	for i := 0; i < n; i++ {
		switch c := <-codes; c {
		case 200:
			won++
		case 401:
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent refreshes won, want exactly 1", won)
	}
}

func TestRefreshGracePeriod(t *testing.T) {
	e := newEnv(t, func(c *accounts.Config) { c.RefreshGrace = 10 * time.Second })
	_, rt1 := e.mustLogin("alice")
	a := e.refresh(rt1) // tab A
	if a.code != 200 {
		t.Fatal(a.raw)
	}
	e.clock.Advance(5 * time.Second)
	b := e.refresh(rt1) // tab B, with the same token, within the grace period
	if b.code != 200 {
		t.Fatalf("replay within grace: %d %s", b.code, b.raw)
	}
	if a := e.refresh(a.str("refresh_token")); a.code != 200 { // tab A's token is now the previous one
		t.Fatalf("tab A after tab B: %d %s", a.code, a.raw)
	}
	e.clock.Advance(11 * time.Second)
	if r := e.refresh(rt1); r.code != 401 {
		t.Fatalf("old token after grace: %d, want 401", r.code)
	}
}

func TestFamilyExpiry(t *testing.T) {
	tests := []struct {
		name    string
		advance []time.Duration // refresh after each
		want    int
	}{
		{"idle timeout", []time.Duration{61 * time.Minute}, 401},
		{"within idle", []time.Duration{59 * time.Minute}, 200},
		{"absolute lifetime despite activity", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			_, rt := e.mustLogin("alice")
			var r resp
			for _, d := range tt.advance {
				e.clock.Advance(d)
				r = e.refresh(rt)
				if r.code != 200 {
					break
				}
				rt = r.str("refresh_token")
			}
			if r.code != tt.want {
				t.Errorf("status %d, want %d", r.code, tt.want)
			}
		})
	}
}

func TestStoreUnavailableIs503(t *testing.T) {
	e := newEnv(t, nil)
	_, refresh := e.mustLogin("alice")
	e.store.Close()
	for _, r := range []resp{
		e.login("alice", "correct horse"),
		e.refresh(refresh),
		e.signup("bob", "correct horse"),
	} {
		if r.code != 503 || r.header.Get("Retry-After") == "" || r.str("error") != "service temporarily unavailable" {
			t.Errorf("got %d Retry-After %q %s, want 503", r.code, r.header.Get("Retry-After"), r.raw)
		}
		if strings.Contains(r.raw, "sqlite") {
			t.Errorf("internal detail leaked: %s", r.raw)
		}
	}
}
