package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
)

// target is a real authgate process set up the way an attacker meets it: no
// trusted proxies, open signup, a public catch-all route in front of an
// upstream whose /admin is protected by authgate alone, and an upstream that
// records everything that reaches it. The upstream is declared to fold case
// (case_insensitive), as many do.
type target struct {
	base, addr, admin string
	key               *keys.Key
	seen              *seenRequests
}

// seenRequests records every request the upstream received.
type seenRequests struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	path, rawPath string
	header        http.Header
}

func (s *seenRequests) all() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.reqs...)
}

func startTarget(t *testing.T) *target {
	t.Helper()
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	k, err := keys.LoadFile(filepath.Join(dir, "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	seen := &seenRequests{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.reqs = append(seen.reqs, seenRequest{r.URL.Path, r.URL.RawPath, r.Header.Clone()})
		seen.mu.Unlock()
		w.Write([]byte("ok"))
	}))
	t.Cleanup(up.Close)
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, "k.pem", up.URL, `
  - {name: admin, path: /admin, upstream: UP, auth: required, roles: [admin], case_insensitive: true}
  - {name: todos, path: /todos, upstream: UP, auth: required, identity_token: true}
  - {name: opt, path: /opt, upstream: UP, auth: optional}
  - {name: public, path: /, upstream: UP, auth: none, case_insensitive: true}
`, "store: sqlite:state/authgate.db\naccounts: {signup: open}"))
	startProcess(t, cfg, admin)
	return &target{base: "http://" + listen, addr: listen, admin: "http://" + admin, key: k, seen: seen}
}

// sign signs claims with key (or the target's) as an access token of the
// target: iss, aud, iat, exp and typ as authgate issues them unless claims
// or header override them.
func (tg *target) sign(t *testing.T, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	now := time.Now()
	base := jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "mallory", "iat": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(), "jti": "j-" + strconv.FormatInt(now.UnixNano(), 36)}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	tok := jwt.NewWithClaims(tg.key.SigningMethod(), base)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = tg.key.ID
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(tg.key.SigningKey())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// adminReached reports whether any request the upstream received could be
// read as its /admin by a servlet-style, case-insensitive or lenient
// upstream without an identity authgate set.
func (tg *target) adminReached() []string {
	var bad []string
	for _, r := range tg.seen.all() {
		if r.header.Get("X-Auth-Subject") != "" {
			continue
		}
		for _, p := range []string{r.path, r.rawPath} {
			if lenient(p) == "/admin" || strings.HasPrefix(lenient(p), "/admin/") {
				bad = append(bad, p)
			}
		}
	}
	return bad
}

// lenient reads a path the way the most forgiving upstreams do: decoded,
// matrix parameters (;...) dropped, segments lower-cased and trimmed of
// trailing dots and spaces, backslashes as slashes, empty and dot segments
// resolved.
func lenient(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	p = strings.ReplaceAll(p, "\\", "/")
	var out []string
	for _, seg := range strings.Split(p, "/") {
		seg, _, _ = strings.Cut(seg, ";")
		seg = strings.ToLower(strings.TrimRight(seg, ". \t"))
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}

// TestAttackTokens: no forged, tampered, confused or misused token gets
// through, and none reaches the upstream.
func TestAttackTokens(t *testing.T) {
	tg := startTarget(t)
	valid := tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}}, nil)
	parts := strings.Split(valid, ".")
	flip := func(s string) string { // one changed character in the middle
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	enc := base64.RawURLEncoding.EncodeToString
	payload := func(c jwt.MapClaims) string { b, _ := json.Marshal(c); return enc(b) }
	pub := tg.key.VerificationKey().(ed25519.PublicKey)
	hsWithPublicKey := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": testIssuer, "aud": testAudience,
			"sub": "mallory", "roles": []string{"admin"}, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", tg.key.ID
		s, _ := tok.SignedString([]byte(pub))
		return s
	}()
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	foreign := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": testIssuer, "aud": testAudience,
			"sub": "mallory", "roles": []string{"admin"}, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", tg.key.ID
		s, _ := tok.SignedString(other)
		return s
	}()
	tests := []struct {
		name, token string
		want        int
	}{
		{"alg none", enc([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + ".", 401},
		{"alg none, no dot", enc([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1], 401},
		{"HS256 keyed with the public key", hsWithPublicKey, 401},
		{"signed by another key, same kid", foreign, 401},
		{"tampered payload", parts[0] + "." + payload(jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "root",
			"roles": []string{"admin"}, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}) + "." + parts[2], 401},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2]), 401},
		{"tampered header", flip(parts[0]) + "." + parts[1] + "." + parts[2], 401},
		{"expired", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}, "exp": time.Now().Add(-time.Hour).Unix()}, nil), 401},
		{"no exp", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}, "exp": nil}, nil), 401},
		{"not yet valid", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}, "nbf": time.Now().Add(time.Hour).Unix()}, nil), 401},
		{"issued in the future", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}, "iat": time.Now().Add(time.Hour).Unix()}, nil), 401},
		{"wrong issuer", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}, "iss": "https://evil.example"}, nil), 401},
		{"wrong audience", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}, "aud": "other"}, nil), 401},
		{"typ JWT (an ID or identity token)", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}}, map[string]any{"typ": "JWT"}), 401},
		{"kid path traversal", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}}, map[string]any{"kid": "../../../../etc/passwd"}), 401},
		{"jku header", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}}, map[string]any{"jku": "https://evil.example/jwks"}), 200},
		{"crit header", tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}}, map[string]any{"crit": []string{"exp"}}), 401},
		{"oversized token", valid + strings.Repeat("A", 9000), 401},
		{"two dots only", "..", 401},
		{"garbage", "not-a-jwt", 401},
		{"valid but no admin role", tg.sign(t, nil, nil), 403},
		{"valid admin (control)", valid, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := status(tg.base+"/admin/panel", tt.token)
			// A malformed header may also be a 400; either way it never passes.
			if got != tt.want && !(tt.want == 401 && got == 400) {
				t.Errorf("GET /admin/panel with %s = %d, want %d", tt.name, got, tt.want)
			}
		})
	}
	// An identity token handed to an upstream is not an access token.
	if status(tg.base+"/todos/1", valid) != 200 {
		t.Fatal("control request to /todos failed")
	}
	var idTok string
	for _, r := range tg.seen.all() {
		if v := r.header.Get("X-Auth-Token"); v != "" {
			idTok = v
		}
	}
	if idTok == "" {
		t.Fatal("the upstream got no X-Auth-Token")
	}
	if got := status(tg.base+"/admin/panel", idTok); got != 401 {
		t.Errorf("an identity token as an access token = %d, want 401", got)
	}
	for _, r := range tg.seen.all() {
		if strings.HasPrefix(r.path, "/admin") && r.header.Get("X-Auth-Subject") != "mallory" {
			t.Errorf("the upstream's /admin got a request as %q", r.header.Get("X-Auth-Subject"))
		}
	}
}

// TestAttackPathsAndHeaders: no path trick reaches the protected /admin
// without a token, through the public catch-all; forged identity headers
// never reach the upstream; smuggling shapes and oversized input are
// refused without a 5xx.
func TestAttackPathsAndHeaders(t *testing.T) {
	tg := startTarget(t)
	paths := []string{
		"/admin", "/admin/", "/admin/panel", "//admin", "///admin/panel", "/./admin", "/x/../admin",
		"/x/%2e%2e/admin", "/%2e%2e/admin", "/x/..%2fadmin", "/x%2f..%2fadmin", "/%61dmin", "/%41dmin",
		"/admin%2fpanel", "/x/..%5cadmin", "/x\\..\\admin", "/admin%00", "/admin%00/panel",
		"/public/../admin", "/public/%2e%2e/admin/panel", "/admin/..;/panel", "/admin..;/panel",
	}
	for _, p := range paths {
		got := rawRequest(t, tg.addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if got >= 500 || got == 0 {
			t.Errorf("GET %s = %d, want a 4xx", p, got)
		}
	}
	if bad := tg.adminReached(); len(bad) > 0 {
		t.Errorf("the upstream's /admin was reached without an identity as %q", bad)
	}

	// Forged identity headers, in every spelling, never reach the upstream.
	forged := []string{"X-Auth-Subject", "x-auth-subject", "X_Auth_Subject", "X.Auth.Subject", "X-AUTH-SUBJECT",
		"X-Auth-Roles", "X-Auth-Token", "X-Auth-Email"}
	var req strings.Builder
	req.WriteString("GET /public/headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n")
	for _, h := range forged {
		req.WriteString(h + ": root\r\n")
	}
	req.WriteString("Connection: X-Auth-Subject\r\n\r\n")
	if got := rawRequest(t, tg.addr, req.String()); got != 200 {
		t.Fatalf("forged-header request = %d", got)
	}
	for _, r := range tg.seen.all() {
		for name, v := range r.header {
			if strings.Contains(strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name)), "x-auth") {
				t.Errorf("the upstream got %s: %q from a client", name, v)
			}
		}
	}

	// Smuggling shapes and oversized input: refused, never a 5xx, never
	// a second request hidden in the body.
	before := len(tg.seen.all())
	smuggled := "GET /admin/panel HTTP/1.1\r\nHost: x\r\n\r\n"
	shapes := map[string]string{
		"CL and TE":   "POST /public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"two CL":      "POST /public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd" + smuggled,
		"TE xchunked": "POST /public/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled,
		"TE space":    "POST /public/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"TE list":     "POST /public/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"LF only":     "GET /public/x HTTP/1.1\nHost: x\n\n" + smuggled,
		"huge header": "GET /public/x HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n",
		"huge line":   "GET /" + strings.Repeat("a", 70<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"huge login":  "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000\r\n\r\n{\"username\":\"" + strings.Repeat("a", 39970) + "\"}",
		"no host":     "GET /public/x HTTP/1.1\r\n\r\n",
		"bad version": "GET /public/x HTTP/9.9\r\nHost: x\r\n\r\n",
	}
	for name, raw := range shapes {
		// 501 (an unknown transfer coding) and 505 (an unknown HTTP
		// version) are the protocol's own refusals, not faults.
		if got := rawRequest(t, tg.addr, raw); got >= 500 && got != 501 && got != 505 {
			t.Errorf("%s = %d, want no 5xx", name, got)
		}
	}
	for _, r := range tg.seen.all()[before:] {
		if strings.HasPrefix(lenient(r.path), "/admin") {
			t.Errorf("a smuggled request reached the upstream as %s", r.path)
		}
	}
	if got := status(tg.admin+"/healthz", ""); got != 200 {
		t.Errorf("healthz after the attacks = %d", got)
	}
}

// TestAttackAccounts: failed logins look alike whether the user exists,
// and guessing is throttled.
func TestAttackAccounts(t *testing.T) {
	tg := startTarget(t)
	if code, _ := send(t, "POST", tg.base+"/auth/signup", map[string]string{"username": "alice", "password": "correct horse"}, ""); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	answer := func(user, pw string) (int, string) {
		code, body := send(t, "POST", tg.base+"/auth/login", map[string]string{"username": user, "password": pw}, "")
		b, _ := json.Marshal(body)
		return code, string(b)
	}
	c1, b1 := answer("alice", "wrong horse!")
	c2, b2 := answer("nobody-here", "wrong horse!")
	if c1 != c2 || b1 != b2 {
		t.Errorf("wrong password %d %s, unknown user %d %s: they must look alike", c1, b1, c2, b2)
	}
	throttled := false
	for range 8 {
		if code, _ := answer("alice", "wrong horse!"); code == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Error("8 more wrong passwords from one address were never throttled")
	}
}

// sweepSize is how many malformed requests TestMalformedSweep sends:
// AUTHGATE_SWEEP, or a bounded default for make test.
func sweepSize() int {
	if n, err := strconv.Atoi(os.Getenv("AUTHGATE_SWEEP")); err == nil && n > 0 {
		return n
	}
	return 3000
}

// TestMalformedSweep sends randomized malformed requests (paths with odd
// %-encodings, header names and values, Authorization values, JSON bodies)
// to a real process and asserts that none is answered with a 5xx and the
// process stays healthy.
func TestMalformedSweep(t *testing.T) {
	tg := startTarget(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (AUTHGATE_SWEEP=%d)", seed, sweepSize())
	rng := mrand.New(mrand.NewPCG(seed, 1))
	valid := tg.sign(t, jwt.MapClaims{"roles": []string{"admin"}}, nil)
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	junk := func(n int) string {
		b := make([]byte, rng.IntN(n)+1)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	printable := func(n int) string {
		const alphabet = "abcAZ09%./\\;:,_-~!$&'()*+=@?#[] \t\"<>^`{|}"
		b := make([]byte, rng.IntN(n)+1)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	pathOf := func() string {
		segs := []string{"", "admin", "todos", "opt", "auth", "login", "verify", "..", ".", "%2e%2e", "%2F", "%00", "%ff",
			"%", "%zz", "a;b", "ADMIN", "admin.", "admin%20", "~", "\\"}
		var b strings.Builder
		for range rng.IntN(5) + 1 {
			b.WriteString("/" + pick(segs...))
			if rng.IntN(4) == 0 {
				b.WriteString(url.PathEscape(printable(6)))
			}
		}
		return b.String()
	}
	authz := func() string {
		return pick("Bearer "+valid, "Bearer\t"+valid, "Bearer  "+valid, "bearer "+valid, "Bearer", "Bearer ",
			"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer "+valid+" extra", "Bearer "+strings.Repeat("A", rng.IntN(20000)),
			"Bearer "+printable(40), printable(30), "Bearer "+valid[:rng.IntN(len(valid))])
	}
	body := func() string {
		return pick(`{"username":"`+printable(20)+`","password":"`+printable(20)+`"}`, `{"username":1}`, `[]`, `null`,
			`{"username":"a","password":"`+strings.Repeat("x", rng.IntN(3000))+`"}`, `{"refresh_token":"`+printable(60)+`"}`,
			`{`, junk(200), `{"username":"a\u0000b","password":"pw\u0000"}`, `{"username":"a","password":"b","x":`+strconv.Itoa(rng.IntN(1e6))+`}`)
	}
	var fivexx []string
	for i := range sweepSize() {
		var req strings.Builder
		method := pick("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "get", "CONNECT", "TRACE")
		target := pick(pathOf(), "/auth/login", "/auth/signup", "/auth/refresh", "/auth/logout", "/auth/me",
			"/auth/verify", "/auth/forward", "/auth/ext-authz"+pathOf(), "/.well-known/jwks.json")
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, pick("x", "x:80", "[::1]", "", "a b"))
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&req, "Authorization: %s\r\n", authz())
		}
		for range rng.IntN(4) {
			name := pick("X-Original-URI", "X-Original-URL", "X-Original-Method", "X-Forwarded-Uri", "X-Forwarded-Host",
				"X-Forwarded-Method", "X-Forwarded-For", "X-Request-Id", "Cookie", "Content-Type", "X_Auth_Subject",
				"Upgrade", "Connection", "Expect", printable(10))
			fmt.Fprintf(&req, "%s: %s\r\n", name, strings.NewReplacer("\r", "", "\n", "").Replace(printable(50)))
		}
		b := ""
		if method == "POST" || rng.IntN(5) == 0 {
			b = body()
			fmt.Fprintf(&req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(b))
		}
		req.WriteString("\r\n" + b)
		// 503: a login queued too long for the hasher; 501 and 505: the
		// protocol's refusals of an unknown method or version.
		if got := rawRequest(t, tg.addr, req.String()); got >= 500 && got != 503 && got != 501 && got != 505 {
			if len(fivexx) < 10 {
				fivexx = append(fivexx, fmt.Sprintf("#%d %d: %q", i, got, truncate(req.String(), 300)))
			}
		}
	}
	for _, f := range fivexx {
		t.Errorf("5xx: %s", f)
	}
	if got := status(tg.admin+"/healthz", ""); got != 200 {
		t.Fatalf("the process is not healthy after the sweep: %d", got)
	}
	if bad := tg.adminReached(); len(bad) > 0 {
		t.Errorf("the sweep reached the upstream's /admin without an identity as %q", bad)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
