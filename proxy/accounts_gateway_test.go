package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/metrics"
	"github.com/authgate/authgate/proxy/sqlite"
	"github.com/authgate/authgate/proxy/token"
)

// accountsYAML serves accounts with open signup in front of ${UPSTREAM}.
const accountsYAML = tokensYAML + `
store: sqlite:unused.db
accounts: {signup: open}
routes:
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required}
`

// newAccountsGateway is newGateway on the real clock with a real SQLite
// store in a temp dir.
func newAccountsGateway(t *testing.T, cfgYAML, upstreamURL string) *Gateway {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	g, err := build(t, parseConfig(t, cfgYAML, upstreamURL), assemble.Options{Store: store})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

// call sends a JSON request through h and decodes the JSON answer.
func call(t *testing.T, h http.Handler, method, path string, body any, bearer string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := serve(h, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

// TestSeedClientFlow runs the client flow users follow (signup, login, then
// a protected call with the bearer token) through the whole gateway.
func TestSeedClientFlow(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, accountsYAML, up.URL)
	creds := map[string]string{"username": "testuser", "password": "testpass123"}

	code, body := call(t, g, "POST", "/auth/signup", creds, "")
	if code != 201 || body["message"] != "User created" {
		t.Fatalf("signup: %d %v", code, body)
	}
	user, _ := body["user"].(map[string]any)
	code, body = call(t, g, "POST", "/auth/login", creds, "")
	if code != 200 || body["message"] != "Login successful" {
		t.Fatalf("login: %d %v", code, body)
	}
	access, _ := body["access_token"].(string)
	if refresh, _ := body["refresh_token"].(string); access == "" || refresh == "" {
		t.Fatalf("login body lacks tokens: %v", body)
	}
	if code, _ = call(t, g, "GET", "/todos", nil, access); code != 200 {
		t.Fatalf("todos: %d", code)
	}
	if got := up.last(t).Header.Get("X-Auth-Subject"); got == "" || got != user["id"] {
		t.Errorf("upstream X-Auth-Subject = %q, want the user id %v", got, user["id"])
	}
	if got := up.last(t).Header.Get("X-Auth-Username"); got != "testuser" {
		t.Errorf("upstream X-Auth-Username = %q", got)
	}

	// Logging out revokes the access token on the proxy path at once.
	if code, _ = call(t, g, "POST", "/auth/logout", nil, access); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	before := up.count()
	if code, _ = call(t, g, "GET", "/todos", nil, access); code != 401 {
		t.Errorf("todos after logout: %d, want 401", code)
	}
	if up.count() != before {
		t.Error("a revoked token reached the upstream")
	}
	// Paths under the accounts prefix are never forwarded.
	if code, _ := call(t, g, "GET", "/auth//../auth/me", nil, ""); code != 401 {
		t.Errorf("accounts path after cleaning: %d, want 401 from /auth/me", code)
	}
}

// TestJWKSVerifiedIndependently checks the published keys with keyfunc, an
// implementation that is not ours, including a retired key still published.
func TestJWKSVerifiedIndependently(t *testing.T) {
	up := newUpstream(t)
	old, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	oldPath := filepath.Join(t.TempDir(), "old.pem")
	if err := keys.WriteFile(oldPath, old); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(accountsYAML, "  signing_key: ${KEY}\n",
		"  signing_key: ${KEY}\n  verification_keys: ["+oldPath+"]\n", 1)
	g := newAccountsGateway(t, cfg, up.URL)

	w := serve(g, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(w.Body.Bytes()))
	if err != nil {
		t.Fatalf("keyfunc cannot load our JWKS: %v", err)
	}

	creds := map[string]string{"username": "alice", "password": "correct horse"}
	call(t, g, "POST", "/auth/signup", creds, "")
	_, body := call(t, g, "POST", "/auth/login", creds, "")
	access, _ := body["access_token"].(string)

	// A token signed by the retired key still verifies, by its kid.
	retired, _, err := token.NewSigner(old, testIssuer, testAudience, time.Now).Sign("alice", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"current key": access, "retired key": retired} {
		parsed, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithValidMethods([]string{"EdDSA", "ES256"}),
			jwt.WithIssuer(testIssuer), jwt.WithAudience(testAudience), jwt.WithExpirationRequired())
		if err != nil || !parsed.Valid {
			t.Errorf("%s: keyfunc rejects our token: %v", name, err)
		}
		if code, _ := call(t, g, "GET", "/todos", nil, tok); code != 200 {
			t.Errorf("%s: the gateway rejects it: %d", name, code)
		}
	}

	w = serve(g, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	var disc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &disc); err != nil || w.Code != 200 {
		t.Fatalf("discovery: %d %v", w.Code, err)
	}
	if disc["issuer"] != testIssuer || disc["jwks_uri"] != testIssuer+"/.well-known/jwks.json" ||
		disc["login_endpoint"] != testIssuer+"/auth/login" {
		t.Errorf("discovery document: %v", disc)
	}
	if w := serve(g, httptest.NewRequest("POST", "/.well-known/jwks.json", nil)); w.Code != 405 {
		t.Errorf("POST jwks: %d, want 405", w.Code)
	}
}

// TestRevocationsReachOtherProcesses: a password change made through another
// gateway on the same store (as 'authgate users set-password' or a replica
// does) revokes this gateway's access tokens after one sync.
func TestRevocationsReachOtherProcesses(t *testing.T) {
	up := newUpstream(t)
	dbPath := filepath.Join(t.TempDir(), "authgate.db")
	var now atomic.Int64 // the clock both gateways share, in Unix seconds
	now.Store(testNow.Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	open := func() *Gateway {
		store, err := sqlite.Open(context.Background(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		g, err := build(t, parseConfig(t, accountsYAML, up.URL), assemble.Options{Store: store, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	served, admin := open(), open()
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	call(t, served, "POST", "/auth/signup", creds, "")
	_, body := call(t, served, "POST", "/auth/login", creds, "")
	access, _ := body["access_token"].(string)
	if code, _ := call(t, served, "GET", "/todos", nil, access); code != 200 {
		t.Fatalf("before: %d", code)
	}

	now.Add(2) // iat has whole seconds: change the password in a later second
	if err := admin.Accounts().SetPassword(t.Context(), "alice", "battery staple"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go served.SyncRevocations(ctx, 20*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := call(t, served, "GET", "/todos", nil, access)
		if code == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("access token still accepted (%d) after another process changed the password", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHMACTokens: with tokens.hmac_secret authgate signs HS256, verifies its
// own HS256 tokens, and publishes no key.
func TestHMACTokens(t *testing.T) {
	up := newUpstream(t)
	cfg := strings.Replace(accountsYAML, "  signing_key: ${KEY}\n",
		"  hmac_secret: 0123456789abcdef0123456789abcdef-test\n", 1)
	g := newAccountsGateway(t, cfg, up.URL)
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	call(t, g, "POST", "/auth/signup", creds, "")
	_, body := call(t, g, "POST", "/auth/login", creds, "")
	access, _ := body["access_token"].(string)
	tok, _, err := jwt.NewParser().ParseUnverified(access, jwt.MapClaims{})
	if err != nil || tok.Method.Alg() != "HS256" {
		t.Fatalf("alg = %v (%v), want HS256", tok.Header["alg"], err)
	}
	if code, _ := call(t, g, "GET", "/todos", nil, access); code != 200 {
		t.Errorf("HS256 token refused: %d", code)
	}
	w := serve(g, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if strings.TrimSpace(w.Body.String()) != `{"keys":[]}` {
		t.Errorf("jwks with an HMAC secret = %s, want no keys", w.Body)
	}
	// A token signed with a different secret of the same shape fails.
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, tok.Claims).SignedString([]byte("another-secret-another-secret-32b"))
	if code, _ := call(t, g, "GET", "/todos", nil, forged); code != 401 {
		t.Errorf("token with another secret: %d, want 401", code)
	}
}

// TestReadinessFollowsTheStore: /readyz-level readiness turns false when the
// store becomes unreachable.
func TestReadinessFollowsTheStore(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := build(t, parseConfig(t, accountsYAML, "http://127.0.0.1:9"), assemble.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if rd := g.Readiness(context.Background()); !rd.Ready || rd.Checks["store"] != "ok" {
		t.Fatalf("with the store up: %+v", rd)
	}
	store.Close()
	if rd := g.Readiness(context.Background()); rd.Ready || rd.Checks["store"] != "unreachable" {
		t.Errorf("with the store closed: %+v", rd)
	}
}

// TestAccountMetrics: logins, refreshes and reuse detections are counted.
func TestAccountMetrics(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := metrics.New("test", "test")
	g, err := build(t, parseConfig(t, accountsYAML, "http://127.0.0.1:9"), assemble.Options{Store: store, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	call(t, g, "POST", "/auth/signup", creds, "")
	_, body := call(t, g, "POST", "/auth/login", creds, "")
	call(t, g, "POST", "/auth/login", map[string]string{"username": "alice", "password": "wrong horse!"}, "")
	rt, _ := body["refresh_token"].(string)
	call(t, g, "POST", "/auth/refresh", map[string]string{"refresh_token": rt}, "")
	call(t, g, "POST", "/auth/refresh", map[string]string{"refresh_token": rt}, "") // reuse

	w := serve(m.Handler(), httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`authgate_account_operations_total{op="signup",result="success"} 1`,
		`authgate_account_operations_total{op="login",result="success"} 1`,
		`authgate_account_operations_total{op="login",result="failure"} 1`,
		`authgate_account_operations_total{op="refresh",result="success"} 1`,
		`authgate_account_operations_total{op="refresh",result="failure"} 1`,
		`authgate_refresh_reuse_detected_total 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
