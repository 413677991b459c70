package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// opsConfig renders a config for a real process: routes is the YAML list
// body, key the signing key file, extra more top-level keys.
func opsConfig(listen, admin, key, upstream, routes, extra string) string {
	return fmt.Sprintf(`listen: %s
admin_listen: %s
tokens: {issuer: %s, audience: %s, signing_key: %s}
%s
routes:
%s`, listen, admin, testIssuer, testAudience, key, extra, strings.ReplaceAll(routes, "UP", upstream))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func status(url, bearer string) int {
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReloadUnderTraffic: SIGHUP and file changes swap routes and keys in a
// running process while other requests keep flowing, none failing; a bad
// config is refused and the running one keeps serving.
func TestReloadUnderTraffic(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k1.pem"), "EdDSA")
	genKey(t, filepath.Join(dir, "k2.pem"), "ES256")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(up.Close)
	listen, admin := freeAddr(t), freeAddr(t)
	base := "http://" + listen
	write := func(key, routes string) string {
		return writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, key, up.URL, routes, ""))
	}
	const always = "  - {name: a, path: /a, upstream: \"UP\", auth: none}\n"
	cfg := write("k1.pem", always+"  - {name: b, path: /b, upstream: \"UP\", auth: none}\n")
	proc, logs := startProcessLogs(t, cfg, admin)

	// Traffic on /a, which every config keeps, throughout.
	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				if status(base+"/a", "") != 200 {
					failed.Add(1)
				}
			}
		}()
	}

	// SIGHUP: /b removed, /c added.
	write("k1.pem", always+"  - {name: c, path: /c, upstream: \"UP\", auth: none}\n")
	if err := proc.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "/c after SIGHUP", func() bool { return status(base+"/c", "") == 200 })
	if code := status(base+"/b", ""); code != 404 {
		t.Errorf("removed route /b: %d, want 404", code)
	}

	// A bad config is refused; /c keeps serving.
	write("k1.pem", always+"  - {name: c, path: /c, upstream: \"UP\", auth: none, bogus: 1}\n")
	_ = proc.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refusal in the log", func() bool { return strings.Contains(logs.String(), "config reload refused") })
	if code := status(base+"/c", ""); code != 200 {
		t.Errorf("after a refused reload /c answers %d, want 200", code)
	}

	// A file change alone reloads: a protected route and a new signing key.
	cfg = write("k2.pem", always+"  - {name: p, path: /p, upstream: \"UP\", auth: required}\n")
	waitFor(t, "/p after the file changed", func() bool { return status(base+"/p", "") == 401 })
	out, _, err := runCmd(t, "token", "-config", cfg, "-sub", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if code := status(base+"/p", strings.TrimSpace(out)); code != 200 {
		t.Errorf("token of the new key: %d, want 200", code)
	}

	close(stop)
	wg.Wait()
	if failed.Load() != 0 || sent.Load() == 0 {
		t.Errorf("%d of %d requests during reloads failed, want 0", failed.Load(), sent.Load())
	}
	t.Logf("%d requests during 3 reloads, %d failed", sent.Load(), failed.Load())
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authgate test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile = writeFile(t, dir, "tls.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "tls.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})))
	return certFile, keyFile, pool
}

func TestTLSWithHTTP2(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	certFile, keyFile, pool := selfSigned(t, dir)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(up.Close)
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, "k.pem", up.URL,
		"  - {name: a, path: /a, upstream: \"UP\", auth: none}\n",
		fmt.Sprintf("tls: {cert_file: %s, key_file: %s, min_version: \"1.2\"}", certFile, keyFile)))
	startProcess(t, cfg, admin)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://" + listen + "/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("got %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
	// The admin listener stays plain HTTP unless tls.admin is set.
	if resp, err := testHTTP.Get("http://" + admin + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("plain admin listener: %v", err)
	} else {
		resp.Body.Close()
	}
	if resp, err := testHTTP.Get("http://" + listen + "/a"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served on the TLS listener")
		}
	}
}

// TestGracefulShutdown: SIGTERM stops accepting, lets a slow request in
// flight finish, and exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	arrived := make(chan struct{}, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		time.Sleep(time.Second)
		_, _ = w.Write([]byte("done"))
	}))
	t.Cleanup(up.Close)
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, "k.pem", up.URL,
		"  - {name: slow, path: /slow, upstream: \"UP\", auth: none}\n", "server: {shutdown_grace: 10s}"))
	proc := startProcess(t, cfg, admin)

	result := make(chan int, 1)
	go func() { result <- status("http://"+listen+"/slow", "") }()
	<-arrived
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := <-result; code != 200 {
		t.Errorf("request in flight at SIGTERM: %d, want 200", code)
	}
	if err := proc.Wait(); err != nil {
		t.Errorf("authgate exited with %v, want a clean exit", err)
	}
	if _, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
		t.Error("the listener still accepts after shutdown")
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runCmd(t, "version")
	if err != nil || !strings.HasPrefix(out, "authgate ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %q, %v", out, err)
	}
}

// TestMetricsAfterKnownTraffic scrapes the real admin endpoint of a running
// process after known requests.
func TestMetricsAfterKnownTraffic(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(up.Close)
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, "k.pem", up.URL,
		"  - {name: a, path: /a, upstream: \"UP\", auth: none}\n  - {name: p, path: /p, upstream: \"UP\", auth: required}\n", ""))
	startProcess(t, cfg, admin)
	base := "http://" + listen
	for range 3 {
		status(base+"/a", "")
	}
	for range 2 {
		status(base+"/p", "")
	}
	status(base+"/nowhere", "")

	resp, err := testHTTP.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256([]byte(mustRead(t, cfg)))
	for _, want := range []string{
		`authgate_http_requests_total{method="GET",route="a",status="2xx"} 3`,
		`authgate_http_requests_total{method="GET",route="p",status="4xx"} 2`,
		`authgate_http_requests_total{method="GET",route="none",status="4xx"} 1`,
		`authgate_auth_decisions_total{decision="deny",reason="no_token",route="p"} 2`,
		`authgate_auth_decisions_total{decision="deny",reason="no_route",route="none"} 1`,
		`authgate_auth_decisions_total{decision="allow",reason="none",route="a"} 3`,
		`authgate_upstream_duration_seconds_count{route="a"} 3`,
		`authgate_config_info{hash="` + hex.EncodeToString(sum[:]) + `"} 1`,
		`authgate_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", grepLines(string(body), "authgate_"))
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAdminTLS: with tls.admin the admin listener speaks TLS too.
func TestAdminTLS(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	certFile, keyFile, pool := selfSigned(t, dir)
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, "k.pem", "http://127.0.0.1:9",
		"  - {name: a, path: /a, upstream: \"UP\", auth: none}\n",
		fmt.Sprintf("tls: {cert_file: %s, key_file: %s, admin: true}", certFile, keyFile)))
	cmd := exec.Command(os.Args[0], "serve", "-config", cfg)
	cmd.Env = append(os.Environ(), "AUTHGATE_RUN_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitFor(t, "the admin listener over TLS", func() bool {
		resp, err := client.Get("https://" + admin + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}
