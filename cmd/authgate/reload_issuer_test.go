package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/jwks/jwkstest"
	"github.com/authgate/authgate/proxy/keys"
)

// Token settings of the stand-in identity provider.
const (
	idpIssuer   = "https://idp.reload.test"
	idpAudience = "reload-api"
)

// newReloadIdP starts a stand-in IdP of idpIssuer with a fresh ES256 key.
func newReloadIdP(t *testing.T) *jwkstest.IdP {
	t.Helper()
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return jwkstest.New(t, idpIssuer, k)
}

// idpToken is a token of p for the configured audience, valid for an hour.
func idpToken(t *testing.T, p *jwkstest.IdP) string {
	return p.Sign(t, "", jwt.MapClaims{"aud": idpAudience, "sub": "alice"})
}

// issuerProcess is a running authgate whose routes accept the tokens of one
// external issuer, "corp".
type issuerProcess struct {
	proc                          *exec.Cmd
	dir, cfg, listen, admin, base string
	upstream, routes              string
}

// issuerConfig renders the config of an issuerProcess: opsConfig's routes
// (UP is the upstream) plus the issuer "corp" publishing at jwksURL, and a
// trailer (YAML comments) that changes the file but not its meaning.
func (s *issuerProcess) issuerConfig(jwksURL, trailer string) string {
	issuers := fmt.Sprintf(`issuers:
  - name: corp
    issuer: %s
    jwks_url: %s
    audience: %s
    algorithms: [ES256]
    refresh_interval: 10m`, idpIssuer, jwksURL, idpAudience)
	return opsConfig(s.listen, s.admin, "k.pem", s.upstream, s.routes, issuers) + trailer
}

// startIssuerProcess writes the config and starts authgate on it. routes is
// opsConfig's route list.
func startIssuerProcess(t *testing.T, jwksURL, routes string) *issuerProcess {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(up.Close)
	listen := freeAddr(t)
	s := &issuerProcess{dir: t.TempDir(), listen: listen, admin: freeAddr(t), base: "http://" + listen,
		upstream: up.URL, routes: routes}
	genKey(t, filepath.Join(s.dir, "k.pem"), "EdDSA")
	s.cfg = writeFile(t, s.dir, "authgate.yaml", s.issuerConfig(jwksURL, ""))
	s.proc = startProcess(t, s.cfg, s.admin)
	return s
}

// rewrite replaces the config file.
func (s *issuerProcess) rewrite(t *testing.T, jwksURL, trailer string) {
	t.Helper()
	writeFile(t, s.dir, "authgate.yaml", s.issuerConfig(jwksURL, trailer))
}

// metrics scrapes the admin listener's /metrics: the value of every
// sample, keyed by its name and labels as written.
func (s *issuerProcess) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := testHTTP.Get("http://" + s.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, l := range nonEmptyLines(string(body)) {
		i := strings.LastIndexByte(l, ' ')
		if strings.HasPrefix(l, "#") || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(l[i+1:], 64); err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

// reloads is the number of successful config reloads so far.
func (s *issuerProcess) reloads(t *testing.T) int {
	t.Helper()
	return int(s.metrics(t)[`authgate_config_reloads_total{result="success"}`])
}

// sighup sends SIGHUP and waits until the process has reloaded.
func (s *issuerProcess) sighup(t *testing.T) {
	t.Helper()
	before := s.reloads(t)
	if err := s.proc.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload after SIGHUP", func() bool { return s.reloads(t) > before })
}

// readyz returns the admin listener's /readyz status and body.
func (s *issuerProcess) readyz() (int, string) {
	resp, err := testHTTP.Get("http://" + s.admin + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// waitServing waits until /readyz answers 200 and bearer passes on url.
func (s *issuerProcess) waitServing(t *testing.T, url, bearer string) {
	t.Helper()
	waitFor(t, "/readyz 200", func() bool { code, _ := s.readyz(); return code == 200 })
	waitFor(t, "the IdP's token to pass", func() bool { return status(url, bearer) == 200 })
}

// pollFor polls cond until it holds or d has passed, and reports whether it
// held.
func pollFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// Bounds of the traffic of these tests.
const (
	trafficMaxPerWorker = 100_000
	trafficMaxDuration  = 60 * time.Second
)

// traffic is workers sending GETs with a bearer token to urls in turn, as
// fast as they can, until stopped, each for at most trafficMaxPerWorker
// requests and trafficMaxDuration.
type traffic struct {
	stopC chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	sent  atomic.Int64
	mu    sync.Mutex
	bad   map[int]int // status (0: no answer) → count, for answers other than 200
}

func startTraffic(t *testing.T, workers int, bearer string, urls ...string) *traffic {
	t.Helper()
	tr := &traffic{stopC: make(chan struct{}), bad: map[int]int{}}
	deadline := time.Now().Add(trafficMaxDuration)
	for w := range workers {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			for n := 0; n < trafficMaxPerWorker && time.Now().Before(deadline); n++ {
				select {
				case <-tr.stopC:
					return
				default:
				}
				code := status(urls[(w+n)%len(urls)], bearer)
				tr.sent.Add(1)
				if code != 200 {
					tr.mu.Lock()
					tr.bad[code]++
					tr.mu.Unlock()
				}
			}
		}()
	}
	t.Cleanup(tr.stop)
	return tr
}

// stop stops the workers and waits for them; it may be called again.
func (tr *traffic) stop() {
	tr.once.Do(func() { close(tr.stopC) })
	tr.wg.Wait()
}

// failures is the number of answers other than 200, and their statuses.
func (tr *traffic) failures() (int, string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	var codes []string
	for code, c := range tr.bad {
		n += c
		codes = append(codes, fmt.Sprintf("%d×%d", c, code))
	}
	slices.Sort(codes)
	return n, strings.Join(codes, " ")
}

const corpRoute = "  - {name: api, path: /api, upstream: \"UP\", auth: required, issuers: [corp]}\n"

// TestReloadKeepsIssuerKeys: reloading an unchanged config, by SIGHUP or a
// file change, refuses no valid token of an external issuer and fetches
// its keys no extra time. The first phase, without reloads, is the
// control: the same traffic passes entirely.
func TestReloadKeepsIssuerKeys(t *testing.T) {
	p := newReloadIdP(t)
	s := startIssuerProcess(t, p.URL(), corpRoute)
	url, tok := s.base+"/api", idpToken(t, p)
	s.waitServing(t, url, tok)

	edits := 0
	phases := []struct {
		name    string
		reloads int
		reload  func(t *testing.T)
	}{
		{name: "no reload", reloads: 0},
		{name: "SIGHUP", reloads: 20, reload: s.sighup},
		{name: "file change", reloads: 2, reload: func(t *testing.T) {
			before := s.reloads(t)
			edits++
			s.rewrite(t, p.URL(), strings.Repeat("# unchanged meaning\n", edits))
			waitFor(t, "the reload after a file change", func() bool { return s.reloads(t) > before })
		}},
	}
	for _, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			fetches, reloads := p.Requests(), s.reloads(t)
			tr := startTraffic(t, 4, tok, url)
			if ph.reloads == 0 {
				time.Sleep(time.Second)
			}
			for range ph.reloads {
				ph.reload(t)
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // requests right after the last reload
			tr.stop()
			failed, codes := tr.failures()
			reloads = s.reloads(t) - reloads
			fetches = p.Requests() - fetches
			t.Logf("%d requests, %d reloads, %d failed (%s), %d JWKS fetches", tr.sent.Load(), reloads, failed, codes, fetches)
			if reloads != ph.reloads {
				t.Errorf("%d reloads, want %d", reloads, ph.reloads)
			}
			if tr.sent.Load() == 0 || failed != 0 {
				t.Errorf("%d of %d requests with a valid token failed (%s), want none", failed, tr.sent.Load(), codes)
			}
			if fetches != 0 {
				t.Errorf("the IdP saw %d JWKS fetches during %d reloads of an unchanged config, want 0", fetches, reloads)
			}
		})
	}
}

// TestReloadWhileIdPDown: with the IdP down, reloads keep the keys fetched
// before: its tokens keep passing and the process stays ready.
func TestReloadWhileIdPDown(t *testing.T) {
	tests := []struct {
		name string
		down func(p *jwkstest.IdP)
	}{
		{name: "IdP answers 503", down: func(p *jwkstest.IdP) { p.SetDown(true) }},
		{name: "IdP refuses connections", down: func(p *jwkstest.IdP) { p.Server.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newReloadIdP(t)
			s := startIssuerProcess(t, p.URL(), corpRoute)
			url, tok := s.base+"/api", idpToken(t, p)
			s.waitServing(t, url, tok)

			tt.down(p)
			const reloads = 3
			for range reloads {
				s.sighup(t)
			}
			// Watch for 3 s: the new config's key source retries, fails,
			// and the process must keep serving on the keys it had.
			checks, refused, unready := 0, 0, 0
			var lastCode int
			var lastReady string
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				checks++
				if code := status(url, tok); code != 200 {
					refused++
					lastCode = code
				}
				if code, body := s.readyz(); code != 200 {
					unready++
					lastReady = fmt.Sprintf("%d %s", code, body)
				}
			}
			t.Logf("%d reloads with the IdP down; over %d checks: %d tokens refused, %d times not ready", reloads, checks, refused, unready)
			if refused != 0 {
				t.Errorf("a valid token was refused %d of %d times after reloads with the IdP down (last: %d), want never", refused, checks, lastCode)
			}
			if unready != 0 {
				t.Errorf("/readyz failed %d of %d times after reloads with the IdP down (last: %s), want never", unready, checks, lastReady)
			}
		})
	}
}

// TestReloadChangedJWKSURL: when an issuer's jwks_url changes, the old keys
// keep serving until the new URL has answered; from then on the new key
// set is authoritative.
func TestReloadChangedJWKSURL(t *testing.T) {
	oldIdP, newIdP := newReloadIdP(t), newReloadIdP(t)
	newIdP.SetDown(true)
	s := startIssuerProcess(t, oldIdP.URL(), corpRoute)
	url, oldTok, newTok := s.base+"/api", idpToken(t, oldIdP), idpToken(t, newIdP)
	s.waitServing(t, url, oldTok)

	s.rewrite(t, newIdP.URL(), "")
	s.sighup(t)

	// The new URL is down: the old keys keep serving, the process ready.
	checks, refused, unready := 0, 0, 0
	var lastReady string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		checks++
		if status(url, oldTok) != 200 {
			refused++
		}
		if code, body := s.readyz(); code != 200 {
			unready++
			lastReady = fmt.Sprintf("%d %s", code, body)
		}
	}
	t.Logf("new jwks_url down: over %d checks, %d old-key tokens refused, %d times not ready", checks, refused, unready)
	if refused != 0 {
		t.Errorf("old-key token refused %d of %d times while the new jwks_url was down, want never", refused, checks)
	}
	if unready != 0 {
		t.Errorf("/readyz failed %d of %d times while the new jwks_url was down (last: %s), want never", unready, checks, lastReady)
	}

	// The new URL comes up: its key passes within the source's backoff.
	newIdP.SetDown(false)
	up := time.Now()
	if !pollFor(40*time.Second, func() bool { return status(url, newTok) == 200 }) {
		t.Fatalf("new-key token still refused %s after the new jwks_url came up", time.Since(up).Round(time.Millisecond))
	}
	t.Logf("new-key token passes %s after the new jwks_url came up (%d fetches there)", time.Since(up).Round(time.Millisecond), newIdP.Requests())
	if code := status(url, oldTok); code != 401 {
		t.Errorf("old-key token after the new key set arrived: %d, want 401 (the new set does not publish it)", code)
	}
	if code, body := s.readyz(); code != 200 {
		t.Errorf("/readyz with the new key set: %d %s, want 200", code, body)
	}
}

// TestReloadGoroutinesFlat: reloads of an unchanged config under traffic
// leave no goroutines or file descriptors behind (key sources, upstream
// connections of the old config).
func TestReloadGoroutinesFlat(t *testing.T) {
	p := newReloadIdP(t)
	s := startIssuerProcess(t, p.URL(),
		"  - {name: fast, path: /fast, upstream: \"UP\", auth: required, issuers: [corp], timeout: 5s}\n"+
			"  - {name: slow, path: /slow, upstream: \"UP\", auth: required, issuers: [corp], timeout: 7s}\n")
	tok := idpToken(t, p)
	urls := []string{s.base + "/fast", s.base + "/slow"}
	s.waitServing(t, urls[0], tok)

	// usage settles the client's connections and reads the process's
	// goroutines and open file descriptors.
	usage := func() (goroutines, fds int) {
		testHTTP.CloseIdleConnections()
		m := s.metrics(t)
		g, okG := m["go_goroutines"]
		f, okF := m["process_open_fds"]
		if !okG || !okF {
			t.Fatalf("/metrics lacks go_goroutines or process_open_fds")
		}
		return int(g), int(f)
	}
	// Warm up the upstream pools of both routes the way the loop will.
	warm := startTraffic(t, 8, tok, urls...)
	time.Sleep(500 * time.Millisecond)
	warm.stop()
	time.Sleep(200 * time.Millisecond)
	g0, f0 := usage()

	const reloads = 100
	tr := startTraffic(t, 8, tok, urls...)
	start := time.Now()
	for range reloads {
		s.sighup(t)
		time.Sleep(30 * time.Millisecond)
	}
	tr.stop()
	took := time.Since(start)
	gEnd, fEnd := usage()
	var g1, f1 int
	settled := pollFor(5*time.Second, func() bool {
		g1, f1 = usage()
		return g1 <= g0+10 && f1 <= f0+10
	})
	failed, codes := tr.failures()
	t.Logf("%d reloads in %s with %d requests (%d failed: %s); goroutines %d before, %d right after, %d settled; open fds %d before, %d right after, %d settled",
		reloads, took.Round(time.Millisecond), tr.sent.Load(), failed, codes, g0, gEnd, g1, f0, fEnd, f1)
	if !settled {
		t.Errorf("after %d reloads: %d goroutines (before: %d) and %d open fds (before: %d), want at most 10 more of each",
			reloads, g1, g0, f1, f0)
	}
}
