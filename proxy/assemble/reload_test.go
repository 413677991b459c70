package assemble_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy"
	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/jwks/jwkstest"
	"github.com/authgate/authgate/proxy/keys"
)

// idpIssuer is the iss of every stand-in IdP: a changed JWKS URL is the
// same issuer publishing elsewhere.
const idpIssuer = "https://idp.test/realms/main"

// newIDP starts a stand-in IdP of idpIssuer with a fresh Ed25519 key.
func newIDP(t *testing.T) *jwkstest.IdP {
	t.Helper()
	k, err := keys.Generate(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	return jwkstest.New(t, idpIssuer, k)
}

// token is a valid access token of p for sub.
func token(t testing.TB, p *jwkstest.IdP, sub string) string {
	return p.Sign(t, "", jwt.MapClaims{"aud": "api", "sub": sub})
}

// issuerYAML trusts one external issuer whose keys are at jwksURL, on two
// routes with different upstream timeouts (so two pooled transports).
func issuerYAML(jwksURL, upstream string) string {
	return issYAML(idpIssuer, jwksURL, upstream)
}

// issYAML is issuerYAML for an issuer whose iss is iss.
func issYAML(iss, jwksURL, upstream string) string {
	return `
issuers:
  - name: corp
    issuer: ` + iss + `
    jwks_url: ` + jwksURL + `
    audience: api
    algorithms: [EdDSA]
routes:
  - {name: api, path: /api, upstream: "` + upstream + `", auth: required, issuers: [corp]}
  - {name: slow, path: /slow, upstream: "` + upstream + `", auth: required, timeout: 90s}
`
}

func parse(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// live is a gateway in service on its resources, reloaded as serve does.
type live struct {
	gw  *proxy.Gateway
	res *assemble.Resources
}

func start(t *testing.T, yaml string) *live {
	t.Helper()
	cfg := parse(t, yaml)
	res, err := assemble.Open(context.Background(), cfg, assemble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := assemble.Build(cfg, res)
	if err != nil {
		res.Close()
		t.Fatal(err)
	}
	l := &live{gw: proxy.New(snap.Gateway), res: res}
	t.Cleanup(func() {
		l.gw.Close()
		l.res.Close()
	})
	return l
}

func (l *live) reload(t testing.TB, yaml string) {
	t.Helper()
	snap, err := assemble.Build(parse(t, yaml), l.res)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	l.gw.Swap(snap.Gateway)
}

// status sends GET path with bearer through the gateway.
func (l *live) status(path, bearer string) int {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+bearer)
	w := httptest.NewRecorder()
	l.gw.ServeHTTP(w, r)
	return w.Code
}

func (l *live) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !l.gw.Readiness(context.Background()).Ready {
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %+v", l.gw.Readiness(context.Background()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func okUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestReloadUnchangedKeepsIssuerKeys: reloads of an unchanged config under
// traffic refuse no valid token from an external issuer, and fetch no key
// set again.
func TestReloadUnchangedKeepsIssuerKeys(t *testing.T) {
	p, up := newIDP(t), okUpstream(t)
	yaml := issuerYAML(p.URL(), up.URL)
	l := start(t, yaml)
	l.waitReady(t)
	tok := token(t, p, "alice")
	fetched := p.Requests()

	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				if l.status("/api/x", tok) != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	const reloads = 50
	for range reloads {
		l.reload(t, yaml)
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests across %d reloads, %d refused", sent.Load(), reloads, failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d valid tokens refused across reloads of an unchanged config", failed.Load(), sent.Load())
	}
	if n := p.Requests(); n != fetched {
		t.Errorf("the JWKS was fetched %d more times by reloads, want 0", n-fetched)
	}
}

// TestReloadWhileIdPDown: a reload while the IdP is unreachable keeps the
// keys it had, and readiness stays green.
func TestReloadWhileIdPDown(t *testing.T) {
	p, up := newIDP(t), okUpstream(t)
	yaml := issuerYAML(p.URL(), up.URL)
	l := start(t, yaml)
	l.waitReady(t)
	p.SetDown(true)
	for range 5 {
		l.reload(t, yaml)
	}
	if got := l.status("/api/x", token(t, p, "alice")); got != http.StatusOK {
		t.Errorf("token after reloads with the IdP down = %d, want 200", got)
	}
	if rd := l.gw.Readiness(context.Background()); !rd.Ready {
		t.Errorf("readiness after reloads with the IdP down = %+v, want ready", rd)
	}
}

// TestReloadChangedJWKSURL: an issuer that moves its JWKS gets a new source;
// the old keys keep verifying until the new source has keys, then the new
// key set alone is authoritative.
func TestReloadChangedJWKSURL(t *testing.T) {
	oldIdP, newIdP, up := newIDP(t), newIDP(t), okUpstream(t)
	l := start(t, issuerYAML(oldIdP.URL(), up.URL))
	l.waitReady(t)
	oldTok, newTok := token(t, oldIdP, "alice"), token(t, newIdP, "bob")

	newIdP.SetDown(true)
	l.reload(t, issuerYAML(newIdP.URL(), up.URL))
	if got := l.status("/api/x", oldTok); got != http.StatusOK {
		t.Errorf("old-key token while the new JWKS is unreachable = %d, want 200", got)
	}
	if got := l.status("/api/x", newTok); got != http.StatusUnauthorized {
		t.Errorf("new-key token before its JWKS arrived = %d, want 401", got)
	}
	if rd := l.gw.Readiness(context.Background()); !rd.Ready {
		t.Errorf("readiness while the old keys still serve = %+v, want ready", rd)
	}
	// The same config again while the new source still waits: it keeps the
	// hand-over, not a fresh source without the old keys.
	l.reload(t, issuerYAML(newIdP.URL(), up.URL))
	if got := l.status("/api/x", oldTok); got != http.StatusOK {
		t.Errorf("old-key token after a second reload = %d, want 200", got)
	}

	newIdP.SetDown(false)
	deadline := time.Now().Add(20 * time.Second)
	for l.status("/api/x", newTok) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("new-key token still refused 20 s after the new JWKS came up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := l.status("/api/x", oldTok); got != http.StatusUnauthorized {
		t.Errorf("old-key token once the new key set is in force = %d, want 401", got)
	}
	// The old source was let go: it fetches no more.
	before := oldIdP.Requests()
	l.reload(t, issuerYAML(newIdP.URL(), up.URL))
	if n := oldIdP.Requests(); n != before {
		t.Errorf("the old JWKS was fetched %d times after the hand-over", n-before)
	}
}

// TestReloadToAnotherIssNoHandOver: an issuer entry that now names
// another iss is another identity provider: the old one's keys never vouch
// for it, not even while the new one is unreachable.
func TestReloadToAnotherIssNoHandOver(t *testing.T) {
	oldIdP, up := newIDP(t), okUpstream(t)
	newIdP := newIDP(t)
	newIdP.SetDown(true)
	l := start(t, issuerYAML(oldIdP.URL(), up.URL))
	l.waitReady(t)

	const otherIss = "https://other-idp.test"
	l.reload(t, issYAML(otherIss, newIdP.URL(), up.URL))
	forged := oldIdP.Sign(t, "", jwt.MapClaims{"iss": otherIss, "aud": "api", "sub": "mallory"})
	if got := l.status("/api/x", forged); got != http.StatusUnauthorized {
		t.Errorf("token of the new iss signed with the old IdP's key = %d, want 401", got)
	}
	if rd := l.gw.Readiness(context.Background()); rd.Ready {
		t.Errorf("readiness = %+v, want not ready: the new IdP has no keys yet", rd)
	}
}

// TestReloadsLeaveNothingBehind: 100 reloads under traffic through two
// routes keep the goroutine count flat and reuse the upstream connections.
func TestReloadsLeaveNothingBehind(t *testing.T) {
	p := newIDP(t)
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	yaml := issuerYAML(p.URL(), up.URL)
	l := start(t, yaml)
	l.waitReady(t)
	tok := token(t, p, "alice")
	traffic := func() {
		for _, path := range []string{"/api/x", "/slow/x"} {
			if got := l.status(path, tok); got != http.StatusOK {
				t.Fatalf("GET %s = %d", path, got)
			}
		}
	}
	traffic()
	runtime.GC()
	goroutines, connsBefore := runtime.NumGoroutine(), conns.Load()

	const reloads = 100
	for range reloads {
		l.reload(t, yaml)
		traffic()
	}
	var after int
	deadline := time.Now().Add(5 * time.Second)
	for after = runtime.NumGoroutine(); after > goroutines+2 && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d reloads: goroutines %d → %d, upstream connections opened %d → %d",
		reloads, goroutines, after, connsBefore, conns.Load())
	if after > goroutines+2 {
		t.Errorf("goroutines %d → %d after %d reloads", goroutines, after, reloads)
	}
	if n := conns.Load(); n != connsBefore {
		t.Errorf("%d new upstream connections across reloads, want the pooled ones reused", n-connsBefore)
	}
}

// TestCheckModeHasNoSideEffects: assembling in Check mode reads every file
// the config names and reports each problem, but creates no store and asks
// no IdP.
func TestCheckModeHasNoSideEffects(t *testing.T) {
	p := newIDP(t)
	dir := t.TempDir()
	key, err := keys.Generate(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.WriteFile(dir+"/signing.pem", key); err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf(`
tokens: {issuer: https://authgate.test, audience: api, signing_key: %s/signing.pem}
store: sqlite:%s/data/authgate.db
accounts: {signup: open}
issuers:
  - {name: corp, issuer: %s, jwks_url: %s, audience: api, algorithms: [EdDSA]}
routes:
  - {name: api, path: /api, upstream: "http://127.0.0.1:9", auth: required}
`, dir, dir, idpIssuer, p.URL())
	check := func(yaml string) error {
		cfg := parse(t, yaml)
		res, err := assemble.Open(context.Background(), cfg, assemble.Options{Mode: assemble.Check})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		snap, err := assemble.Build(cfg, res)
		if err == nil {
			snap.Release()
		}
		return err
	}
	if err := check(good); err != nil {
		t.Fatalf("check of a good config: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := p.Requests(); n != 0 {
		t.Errorf("check fetched the JWKS %d times", n)
	}
	if _, err := os.Stat(dir + "/data"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("check created the store's directory (stat: %v)", err)
	}

	bad := strings.Replace(good, "signing.pem}", "missing.pem, verification_keys: [gone.pem]}", 1) +
		fmt.Sprintf("tls: {cert_file: %s/cert.pem, key_file: %s/key.pem}\n", dir, dir)
	err = check(bad)
	if err == nil {
		t.Fatal("check of a config naming missing files passed")
	}
	for _, want := range []string{"tokens.signing_key", "tokens.verification_keys[0]", "tls"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check error does not name %s: %v", want, err)
		}
	}
}

// TestReloadsOfAMovingJWKS: an issuer that moves twice while neither new
// location answers keeps its first keys; a failed Build stops what it
// started; closing the resources mid-hand-over leaves no goroutine behind.
func TestReloadsOfAMovingJWKS(t *testing.T) {
	first, second, third, up := newIDP(t), newIDP(t), newIDP(t), okUpstream(t)
	second.SetDown(true)
	third.SetDown(true)
	before := runtime.NumGoroutine()
	l := start(t, issuerYAML(first.URL(), up.URL))
	l.waitReady(t)
	tok := token(t, first, "alice")

	l.reload(t, issuerYAML(second.URL(), up.URL))
	l.reload(t, issuerYAML(third.URL(), up.URL))
	if got := l.status("/api/x", tok); got != http.StatusOK {
		t.Errorf("first-key token after two moves to unreachable JWKS = %d, want 200", got)
	}
	if rd := l.gw.Readiness(context.Background()); !rd.Ready {
		t.Errorf("readiness = %+v, want ready on the first keys", rd)
	}

	// A Build that fails (a certificate that does not exist) gives back
	// the source it started for a fourth location: that one stops asking.
	fourth := newIDP(t)
	bad := issuerYAML(fourth.URL(), up.URL) + "tls: {cert_file: /nonexistent/cert.pem, key_file: /nonexistent/key.pem}\n"
	if _, err := assemble.Build(parse(t, bad), l.res); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("Build with a missing certificate = %v, want a tls error", err)
	}
	time.Sleep(100 * time.Millisecond)
	asked := fourth.Requests()
	time.Sleep(1500 * time.Millisecond)
	if n := fourth.Requests(); n != asked {
		t.Errorf("the source of a failed Build kept fetching: %d → %d", asked, n)
	}
	if got := l.status("/api/x", tok); got != http.StatusOK {
		t.Errorf("first-key token after a failed Build = %d, want 200", got)
	}

	l.gw.Close()
	l.res.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines %d before start, %d after Close", before, after)
	}
}
