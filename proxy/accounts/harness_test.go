package accounts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/sqlite"
	"github.com/authgate/authgate/proxy/throttle"
	"github.com/authgate/authgate/proxy/token"
)

const (
	issuer   = "https://authgate.test"
	audience = "authgate-test"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	keyOnce sync.Once
	key     *keys.Key
	hashers sync.Map
)

// env is one Service on a fresh SQLite file.
type env struct {
	t     *testing.T
	svc   *accounts.Service
	store accounts.Store
	clock *clock
	ver   *token.Verifier
	logs  *syncBuffer // the Service's log, as text
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newEnv returns a Service with open signup, the given tweaks applied to its
// Config, a real SQLite store in a temp dir and real argon2id hashing.
func newEnv(t *testing.T, tweak func(*accounts.Config)) *env {
	t.Helper()
	return newEnvIssuers(t, tweak)
}

// newEnvIssuers is newEnv with a verifier that also accepts tokens of the
// external issuers given.
func newEnvIssuers(t *testing.T, tweak func(*accounts.Config), external ...token.Issuer) *env {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key, err = keys.Generate(keys.EdDSA); err != nil {
			panic(err)
		}
	})
	clk := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ver, err := token.NewVerifier(append([]token.Issuer{{
		Name: token.OwnIssuerName, Issuer: issuer, Audience: []string{audience},
		Algorithms: token.Algorithms(key), Types: []string{token.TypeAccessToken},
		Keys: token.StaticKeys(key),
	}}, external...), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := accounts.Config{
		Prefix: "/auth", OpenSignup: true, DefaultRoles: []string{"user"},
		Policy:    password.Policy{MinLength: 8},
		AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour, RefreshIdle: time.Hour,
		Realm: "authgate",
	}
	if tweak != nil {
		tweak(&cfg)
	}
	logs := &syncBuffer{}
	svc, err := accounts.New(cfg, accounts.Deps{
		Logger:      slog.New(slog.NewTextHandler(logs, nil)),
		Store:       store,
		Hasher:      sharedHasher(t),
		Signer:      token.NewSigner(key, issuer, audience, clk.Now),
		Verifier:    ver,
		Revocations: accounts.NewRevocations(),
		Throttles: accounts.Throttles{
			Pair:    throttle.InProcess{L: throttle.New(throttle.Config{Free: 3}, clk.Now)},
			Account: throttle.InProcess{L: throttle.New(throttle.Config{Free: 10}, clk.Now)},
			IP:      throttle.InProcess{L: throttle.New(throttle.Config{Free: 20}, clk.Now)},
		},
		Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, svc: svc, store: store, clock: clk, ver: ver, logs: logs}
}

// sharedHasher is one hasher per test binary: hashing is the slow part.
func sharedHasher(t *testing.T) *password.Hasher {
	if h, ok := hashers.Load("h"); ok {
		return h.(*password.Hasher)
	}
	h, err := password.NewHasher(password.DefaultParams(), 4, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := hashers.LoadOrStore("h", h)
	return actual.(*password.Hasher)
}

// resp is a decoded JSON response.
type resp struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (r resp) str(k string) string { s, _ := r.body[k].(string); return s }

// do sends a request to the Service. body is JSON-encoded unless it is a
// string (sent as is); hdr adds headers.
func (e *env) do(method, path string, body any, hdr map[string]string) resp {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.svc.ServeHTTP(w, r)
	out := resp{code: w.Code, header: w.Header(), raw: w.Body.String()}
	_ = json.Unmarshal(w.Body.Bytes(), &out.body)
	return out
}

func (e *env) signup(username, pw string) resp {
	e.t.Helper()
	return e.do("POST", "/auth/signup", map[string]string{"username": username, "password": pw}, nil)
}

func (e *env) login(username, pw string) resp {
	e.t.Helper()
	return e.do("POST", "/auth/login", map[string]string{"username": username, "password": pw}, nil)
}

// loginFrom logs in from the client address addr ("ip:port").
func (e *env) loginFrom(addr, username, pw string) resp {
	e.t.Helper()
	js, _ := json.Marshal(map[string]string{"username": username, "password": pw})
	r := httptest.NewRequest("POST", "/auth/login", bytes.NewReader(js))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr
	w := httptest.NewRecorder()
	e.svc.ServeHTTP(w, r)
	return resp{code: w.Code, header: w.Header(), raw: w.Body.String()}
}

func (e *env) refresh(rt string) resp {
	e.t.Helper()
	return e.do("POST", "/auth/refresh", map[string]string{"refresh_token": rt}, nil)
}

// mustLogin signs up (if needed) and logs in, returning the tokens.
func (e *env) mustLogin(username string) (access, refresh string) {
	e.t.Helper()
	if r := e.signup(username, "correct horse"); r.code != 201 && r.code != 409 {
		e.t.Fatalf("signup: %d %s", r.code, r.raw)
	}
	r := e.login(username, "correct horse")
	if r.code != 200 {
		e.t.Fatalf("login: %d %s", r.code, r.raw)
	}
	return r.str("access_token"), r.str("refresh_token")
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
