package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

// testIssuer and testAudience are the own-token settings of test configs.
const (
	testIssuer   = "https://authgate.test"
	testAudience = "authgate-test"
)

// testNow is the fixed clock of every test gateway.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	keyOnce sync.Once
	testKey *keys.Key
	keyPath string
)

// signingKey returns one Ed25519 key per test binary, written to a file the
// configs name.
func signingKey(t testing.TB) (*keys.Key, string) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := keys.Generate(keys.EdDSA)
		if err != nil {
			panic(err)
		}
		dir, err := os.MkdirTemp("", "authgate-proxy-test")
		if err != nil {
			panic(err)
		}
		p := filepath.Join(dir, "signing.pem")
		if err := keys.WriteFile(p, k); err != nil {
			panic(err)
		}
		testKey, keyPath = k, p
	})
	return testKey, keyPath
}

// received is what a recording upstream saw of one request.
type received struct {
	Method string
	Path   string
	Query  string
	Host   string
	Header http.Header
}

// upstream is an httptest server that records every request it receives
// and answers 200 {"ok": true}.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newUpstream(t testing.TB) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.reqs = append(u.reqs, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Clone()})
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(u.Close)
	return u
}

// last returns the last request received; it fails the test if none was.
func (u *upstream) last(t testing.TB) received {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatal("upstream received no request")
	}
	return u.reqs[len(u.reqs)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// Gateway is a proxy.Gateway assembled from a config, with the resources
// it runs on.
type Gateway struct {
	*proxy.Gateway
	res *assemble.Resources
}

// build opens resources for cfg (Serve mode unless opts say otherwise) and
// returns the gateway serving it; both are closed when the test ends.
func build(t testing.TB, cfg *config.Config, opts assemble.Options) (*Gateway, error) {
	t.Helper()
	res, err := assemble.Open(t.Context(), cfg, opts)
	if err != nil {
		return nil, err
	}
	snap, err := assemble.Build(cfg, res)
	if err != nil {
		res.Close()
		return nil, err
	}
	g := &Gateway{Gateway: proxy.New(snap.Gateway), res: res}
	t.Cleanup(func() {
		g.Close()
		res.Close()
	})
	return g, nil
}

// Reload assembles cfg on the gateway's resources and swaps it in.
func (g *Gateway) Reload(cfg *config.Config) error {
	snap, err := assemble.Build(cfg, g.res)
	if err != nil {
		return err
	}
	g.Swap(snap.Gateway)
	return nil
}

// Accounts returns the account endpoints being served.
func (g *Gateway) Accounts() *accounts.Service { return g.Snapshot().Accounts() }

// SyncRevocations runs the resources' revocation sync.
func (g *Gateway) SyncRevocations(ctx context.Context, interval time.Duration) {
	g.res.SyncRevocations(ctx, interval)
}

// newGateway parses cfgYAML, in which ${UPSTREAM} names the upstream's URL
// and ${KEY} the signing key file, and returns the gateway serving it.
func newGateway(t testing.TB, cfgYAML, upstreamURL string) *Gateway {
	t.Helper()
	cfg := parseConfig(t, cfgYAML, upstreamURL)
	g, err := build(t, cfg, assemble.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func parseConfig(t testing.TB, cfgYAML, upstreamURL string) *config.Config {
	t.Helper()
	_, kp := signingKey(t)
	env := map[string]string{"UPSTREAM": upstreamURL, "KEY": kp}
	cfg, err := config.Parse("test.yaml", []byte(cfgYAML), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// tokensYAML is the tokens block of every test config.
const tokensYAML = `
tokens:
  issuer: ` + testIssuer + `
  audience: ` + testAudience + `
  signing_key: ${KEY}
`

// signer returns a Signer for test tokens, at the test clock.
func signer(t testing.TB) *token.Signer {
	k, _ := signingKey(t)
	return token.NewSigner(k, testIssuer, testAudience, func() time.Time { return testNow })
}

// mint signs a token for sub with extra claims, valid for 10 minutes.
func mint(t testing.TB, sub string, extra map[string]any) string {
	t.Helper()
	tok, _, err := signer(t).Sign(sub, extra, 10*time.Minute)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

// serve sends r through g and returns the recorded response.
func serve(g http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w
}

// errorBody decodes a JSON error response.
func errorBody(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json (body %q)", ct, w.Body.String())
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
		t.Fatalf("body %q is not {\"error\": ...}: %v", w.Body.String(), err)
	}
	return body.Error
}
