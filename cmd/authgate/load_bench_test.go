package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// clients is how many concurrent clients the load benchmarks run.
const clients = 100

// loadServer is a real authgate process serving accounts, for the load
// benchmarks: it measures the program as deployed, over loopback HTTP.
type loadServer struct {
	base string
	proc *exec.Cmd
}

func startLoadServer(b *testing.B) *loadServer {
	b.Helper()
	dir := b.TempDir()
	genKey(b, filepath.Join(dir, "k.pem"), "EdDSA")
	listen, admin := freeAddr(b), freeAddr(b)
	cfg := writeFile(b, dir, "authgate.yaml", fmt.Sprintf(`
listen: %s
admin_listen: %s
tokens: {issuer: %s, audience: %s, signing_key: k.pem}
store: sqlite:state/authgate.db
accounts: {signup: open}
routes:
  - {name: todos, path: /todos, upstream: "http://127.0.0.1:9", auth: required}
`, listen, admin, testIssuer, testAudience))
	s := &loadServer{
		base: "http://" + listen,
		proc: startProcess(b, cfg, admin),
	}
	if code, _ := s.post(b, "/auth/signup", map[string]string{"username": "bench", "password": "correct horse"}); code != 201 {
		b.Fatalf("signup: %d", code)
	}
	return s
}

func (s *loadServer) post(b *testing.B, path string, body any) (int, map[string]any) {
	return send(b, http.MethodPost, s.base+path, body, "")
}

// peakRSS reports the process's peak resident memory (VmHWM) in MiB.
func (s *loadServer) peakRSS(b *testing.B) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.proc.Process.Pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkServerLogin100 runs 100 concurrent clients logging in against a
// real authgate process (argon2id m=19456 t=2 p=1, hash_concurrency 4) and
// reports logins/s and the server's peak RSS.
func BenchmarkServerLogin100(b *testing.B) {
	s := startLoadServer(b)
	var failed atomic.Int64
	b.SetParallelism(clients / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code, body := s.post(b, "/auth/login", map[string]string{"username": "bench", "password": "correct horse"}); code != 200 {
				if failed.Add(1) == 1 {
					b.Logf("login failed: %d %v", code, body)
				}
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	b.ReportMetric(s.peakRSS(b), "peak-RSS-MiB")
	b.ReportMetric(float64(failed.Load()), "failed")
}

// BenchmarkServerRefresh100 runs 100 concurrent clients, each refreshing its
// own login's token chain, and reports refreshes/s (each one an fsynced
// SQLite transaction).
func BenchmarkServerRefresh100(b *testing.B) {
	s := startLoadServer(b)
	var failed atomic.Int64
	// One login per client, before the clock starts.
	chains := make([]string, clients)
	for i := range chains {
		_, body := s.post(b, "/auth/login", map[string]string{"username": "bench", "password": "correct horse"})
		chains[i], _ = body["refresh_token"].(string)
	}
	var next atomic.Int64
	b.SetParallelism(clients / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rt := chains[int(next.Add(1)-1)%clients]
		for pb.Next() {
			code, out := s.post(b, "/auth/refresh", map[string]string{"refresh_token": rt})
			if code != 200 {
				failed.Add(1)
				continue
			}
			rt, _ = out["refresh_token"].(string)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "refreshes/s")
	b.ReportMetric(s.peakRSS(b), "peak-RSS-MiB")
	b.ReportMetric(float64(failed.Load()), "failed")
}
