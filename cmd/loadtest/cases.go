package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/golang-jwt/jwt/v5"
)

// tokenMode says which Authorization header a case sends.
type tokenMode int

const (
	noToken     tokenMode = iota
	reusedToken           // one token on every request
	newToken              // rotate through -tokens distinct tokens
)

type benchCase struct {
	name   string
	alg    string // signing algorithm of authgate's key
	auth   string // auth mode of the route under test
	tokens tokenMode
	verify bool // authgate is asked at /auth/verify (nginx dialect)
	routes int  // routes in the table; the request matches the last
	// external: tokens come from an external issuer whose keys authgate
	// fetches from a JWKS the harness serves on loopback.
	external bool
	// rsaBits is the size of an RS256 key; 0 means -rsa-bits.
	rsaBits int
	// idle: instead of wrk, hold -idle keep-alive connections open on
	// each proxy and measure the memory they take (idle.go).
	idle bool
}

func allCases() []benchCase {
	return []benchCase{
		{name: "auth: none", alg: "EdDSA", auth: "none", routes: 1},
		{name: "one token reused, EdDSA", alg: "EdDSA", auth: "required", tokens: reusedToken, routes: 1},
		{name: "one token reused, ES256", alg: "ES256", auth: "required", tokens: reusedToken, routes: 1},
		{name: "one token reused, RS256", alg: "RS256", auth: "required", tokens: reusedToken, routes: 1},
		{name: "new token per request, EdDSA", alg: "EdDSA", auth: "required", tokens: newToken, routes: 1},
		{name: "new token per request, RS256", alg: "RS256", auth: "required", tokens: newToken, routes: 1},
		{name: "new token per request, RS256-3072", alg: "RS256", auth: "required", tokens: newToken, routes: 1, rsaBits: 3072},
		{name: "/auth/verify, EdDSA reused", alg: "EdDSA", auth: "required", tokens: reusedToken, verify: true, routes: 1},
		{name: "100 routes, auth: none", alg: "EdDSA", auth: "none", routes: 100},
		{name: "external issuer (JWKS), RS256", alg: "RS256", auth: "required", tokens: reusedToken, routes: 1, external: true},
		{name: "idle keep-alive connections", alg: "EdDSA", auth: "required", tokens: reusedToken, routes: 1, idle: true},
	}
}

type harness struct {
	o        options
	dir      string
	self     string
	upstream string
	ps       *procs
	log      io.Writer
	idleRows []idleRow // results of the idle case just run
}

// target is one proxy under test, as wrk sees it.
type target struct {
	name string
	cmd  *exec.Cmd
	url  string
	args []string // extra wrk arguments (headers, script)

	rps, p50, p99, cpu []float64
	errors             int64

	// At half the baseline's maximum rate (paced wrk, see paceLua).
	paced                     []string // wrk arguments of the paced runs
	halfRPS, halfP50, halfP99 []float64
}

const (
	targetPath = "/headers"
	issuer     = "http://loadtest"
	audience   = "authgate"
)

func (h *harness) runCase(ctx context.Context, c benchCase) ([]row, error) {
	cdir := filepath.Join(h.dir, strings.NewReplacer(" ", "", ":", "", ",", "-", "/", "").Replace(c.name))
	if err := os.MkdirAll(cdir, 0o700); err != nil {
		return nil, err
	}
	agAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	adminAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var idp *externalIdP
	if c.external {
		if idp, err = startIdP(c.alg, h.bits(c)); err != nil {
			return nil, err
		}
		defer idp.close()
	}
	cfgPath, err := h.writeConfig(cdir, c, agAddr, adminAddr, idp)
	if err != nil {
		return nil, err
	}

	// Headers/script: the same for both proxies, so both parse the same bytes.
	var common []string
	var lua string // the wrk script, when the case has one
	var probe http.Header
	switch c.tokens {
	case reusedToken:
		var tok string
		if idp != nil {
			toks, err := mintTokens(idp.key, idpIssuer, idpAudience, 1)
			if err != nil {
				return nil, err
			}
			tok = toks[0]
			common = append(common, "-H", "Authorization: Bearer "+tok)
			probe = http.Header{"Authorization": {"Bearer " + tok}}
			break
		}
		out, err := exec.CommandContext(ctx, filepath.Join(h.dir, "authgate"), "token", "-config", cfgPath, "-sub", "bench-user", "-ttl", "6h").Output()
		if err != nil {
			return nil, fmt.Errorf("authgate token: %w", err)
		}
		tok = strings.TrimSpace(string(out))
		common = append(common, "-H", "Authorization: Bearer "+tok)
		probe = http.Header{"Authorization": {"Bearer " + tok}}
	case newToken:
		k, err := keys.LoadFile(filepath.Join(cdir, "signing-key.pem"))
		if err != nil {
			return nil, err
		}
		toks, err := mintTokens(k, issuer, audience, h.o.tokens)
		if err != nil {
			return nil, err
		}
		tokFile := filepath.Join(cdir, "tokens.txt")
		if err := os.WriteFile(tokFile, []byte(strings.Join(toks, "\n")+"\n"), 0o600); err != nil {
			return nil, err
		}
		lua = rotateLua(tokFile)
		script := filepath.Join(cdir, "rotate.lua")
		if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
			return nil, err
		}
		common = append(common, "-s", script)
		probe = http.Header{"Authorization": {"Bearer " + toks[0]}}
	}

	baseAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	base := &target{name: "baseline", url: "http://" + baseAddr + targetPath, args: common}
	base.cmd, err = h.ps.start(h.o.proxyCPUs, h.log, h.self, "-baseline-serve", baseAddr, "-upstream", h.upstream)
	if err != nil {
		return nil, err
	}
	defer h.ps.stop(base.cmd)

	ag := &target{name: "authgate", url: "http://" + agAddr + targetPath}
	ag.args = common
	if c.verify {
		ag.url = "http://" + agAddr + "/auth/verify"
		ag.args = append(append([]string(nil), common...), "-H", "X-Original-URI: "+targetPath, "-H", "X-Original-Method: GET")
	}
	// authgate runs as in production: an access-log line per request (JSON,
	// info level), here into a file, so that its cost is measured too.
	agLog, err := os.Create(filepath.Join(cdir, "authgate.log"))
	if err != nil {
		return nil, err
	}
	defer os.Remove(agLog.Name()) // hundreds of MB after a case
	defer agLog.Close()
	ag.cmd, err = h.ps.start(h.o.proxyCPUs, agLog, filepath.Join(h.dir, "authgate"), "serve", "-config", cfgPath)
	if err != nil {
		return nil, err
	}
	defer h.ps.stop(ag.cmd)

	if err := waitHTTP(ctx, base.url, 200, probe); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	agProbe := probe.Clone()
	if c.verify {
		if agProbe == nil {
			agProbe = http.Header{}
		}
		agProbe.Set("X-Original-URI", targetPath)
		agProbe.Set("X-Original-Method", "GET")
	}
	if err := waitHTTP(ctx, ag.url, 200, agProbe); err != nil {
		return nil, fmt.Errorf("authgate: %w", err)
	}

	targets := []*target{base, ag}
	if c.idle {
		return h.idleCase(ctx, c, targets, probe)
	}
	if h.o.warmup > 0 {
		for _, t := range targets {
			if _, err := h.wrk(ctx, t, h.o.warmup); err != nil {
				return nil, fmt.Errorf("%s warm-up: %w", t.name, err)
			}
		}
	}
	for i := 0; i < h.o.rounds; i++ {
		for _, t := range targets {
			before, err := procCPU(t.cmd.Process.Pid)
			if err != nil {
				return nil, err
			}
			res, err := h.wrk(ctx, t, h.o.duration)
			if err != nil {
				return nil, fmt.Errorf("%s round %d: %w", t.name, i+1, err)
			}
			after, err := procCPU(t.cmd.Process.Pid)
			if err != nil {
				return nil, err
			}
			t.rps = append(t.rps, res.RPS)
			t.p50 = append(t.p50, ms(res.P50))
			t.p99 = append(t.p99, ms(res.P99))
			t.cpu = append(t.cpu, float64(after-before)/clockTicks*1e6/float64(res.Requests))
			t.errors += res.Non2xx + res.SockErrs
			fmt.Fprintf(os.Stderr, "  round %d %-8s %8.0f req/s p50 %.2fms p99 %.2fms\n", i+1, t.name, res.RPS, ms(res.P50), ms(res.P99))
		}
	}
	if err := h.pacedRounds(ctx, c, cdir, targets, common, lua); err != nil {
		return nil, err
	}
	var rows []row
	for _, t := range targets {
		hwm, err := procHWM(t.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		r := row{caseName: c.name, target: t.name, rps: median(t.rps), p50: median(t.p50), p99: median(t.p99),
			cpuPerReq: median(t.cpu), rss: hwm, ratio: math.NaN(), errors: t.errors,
			halfRPS: median(t.halfRPS), halfP50: median(t.halfP50), halfP99: median(t.halfP99), addedP99: math.NaN()}
		if t == ag {
			r.ratio = ratio(r.rps, median(base.rps))
			r.addedP99 = r.halfP99 - median(base.halfP99)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// wrk runs one bounded wrk process pinned to the load CPUs.
func (h *harness) wrk(ctx context.Context, t *target, d time.Duration) (wrkResult, error) {
	return h.wrkArgs(ctx, t, t.args, d)
}

// wrkArgs is wrk with extra arguments extra in place of t's.
func (h *harness) wrkArgs(ctx context.Context, t *target, extra []string, d time.Duration) (wrkResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	args := []string{"-c", h.o.loadCPUs, "wrk", "-t", fmt.Sprint(h.o.threads), "-c", fmt.Sprint(h.o.connections),
		"-d", fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second)), "--latency", "--timeout", "5s"}
	args = append(args, extra...)
	args = append(args, t.url)
	out, err := exec.CommandContext(ctx, "taskset", args...).CombinedOutput()
	if h.o.verbose {
		fmt.Fprintf(os.Stderr, "%s", out)
	}
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return parseWrk(string(out))
}

// rotateLua is a wrk script sending each request with the next token of file.
func rotateLua(file string) string {
	return fmt.Sprintf(`local tokens = {}
for line in io.lines(%q) do
  if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
end
local i = 0
request = function()
  i = i %% #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = tokens[i] })
end
`, file)
}

// writeConfig writes the authgate config (and its signing key) for c.
func (h *harness) writeConfig(dir string, c benchCase, listen, admin string, idp *externalIdP) (string, error) {
	key := filepath.Join(dir, "signing-key.pem")
	if c.alg == keys.RS256 {
		// `authgate keys generate` makes 3072-bit RSA keys; the size is
		// the harness's choice here (-rsa-bits, or the case's).
		pemKey, err := rsaKeyPEM(h.bits(c))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(key, pemKey, 0o600); err != nil {
			return "", err
		}
	} else if out, err := exec.Command(filepath.Join(h.dir, "authgate"), "keys", "generate", "-alg", c.alg, "-out", key).CombinedOutput(); err != nil {
		return "", fmt.Errorf("authgate keys generate: %w: %s", err, out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\nadmin_listen: %s\ntrusted_proxies: [127.0.0.1/32]\n", listen, admin)
	fmt.Fprintf(&b, "tokens:\n  issuer: %s\n  audience: %s\n  signing_key: %s\n", issuer, audience, key)
	if c.verify {
		b.WriteString("forward_auth: {}\n")
	}
	if idp != nil {
		fmt.Fprintf(&b, "issuers:\n  - name: ext\n    issuer: %s\n    jwks_url: %s\n    audience: %s\n    algorithms: [%s]\n",
			idpIssuer, idp.url, idpAudience, c.alg)
	}
	b.WriteString("identity_headers:\n  X-Auth-Subject: sub\nroutes:\n")
	for i := 0; i < c.routes-1; i++ {
		fmt.Fprintf(&b, "  - name: r%d\n    path: /svc%d\n    upstream: %s\n    auth: %s\n", i, i, h.upstream, c.auth)
	}
	fmt.Fprintf(&b, "  - name: target\n    path: %s\n    upstream: %s\n    auth: %s\n", targetPath, h.upstream, c.auth)
	path := filepath.Join(dir, "authgate.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// mintTokens signs n access tokens for distinct subjects with the key file,
// with the claims and header `authgate token` gives them (iss, aud, sub, iat,
// exp, jti; typ at+jwt, kid), without a process per token.
func mintTokens(k *keys.Key, issuer, audience string, n int) ([]string, error) {
	var err error
	now := time.Now().Truncate(time.Second)
	toks := make([]string, n)
	for i := range toks {
		t := jwt.NewWithClaims(k.SigningMethod(), jwt.MapClaims{
			"iss": issuer, "aud": audience, "sub": fmt.Sprintf("user-%d", i),
			"iat": now.Unix(), "exp": now.Add(6 * time.Hour).Unix(), "jti": fmt.Sprintf("loadtest-%d", i),
		})
		t.Header["kid"] = k.ID
		t.Header["typ"] = "at+jwt"
		if toks[i], err = t.SignedString(k.SigningKey()); err != nil {
			return nil, err
		}
	}
	return toks, nil
}

const (
	idpIssuer   = "http://loadtest-idp"
	idpAudience = "api"
)

// externalIdP serves the public key of an external issuer as a JWKS.
type externalIdP struct {
	key *keys.Key
	url string
	srv *http.Server
}

func startIdP(alg string, rsaBits int) (*externalIdP, error) {
	var k *keys.Key
	var err error
	if alg == keys.RS256 {
		var pemKey []byte
		if pemKey, err = rsaKeyPEM(rsaBits); err == nil {
			k, err = keys.Parse(pemKey)
		}
	} else {
		k, err = keys.Generate(alg)
	}
	if err != nil {
		return nil, err
	}
	jwk, ok := k.PublicJWK()
	if !ok {
		return nil, fmt.Errorf("no public JWK for %s", alg)
	}
	body, err := json.Marshal(keys.JWKS{Keys: []keys.JWK{jwk}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &externalIdP{key: k, url: "http://" + ln.Addr().String() + "/jwks", srv: srv}, nil
}

func (p *externalIdP) close() { _ = p.srv.Close() }

// bits is the RSA key size of case c.
func (h *harness) bits(c benchCase) int {
	if c.rsaBits != 0 {
		return c.rsaBits
	}
	return h.o.rsaBits
}

// rsaKeyPEM returns a new RSA private key of bits bits, PKCS #8 PEM.
func rsaKeyPEM(bits int) ([]byte, error) {
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
