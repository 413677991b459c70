package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

// clients is how many concurrent clients the load benchmarks run.
const clients = 100

// loadServer is a real authgate process serving accounts, for the load
// benchmarks: it measures the program as deployed, over loopback HTTP.
type loadServer struct {
	base string
	proc *exec.Cmd
}

// loadStores are the stores the load benchmarks compare: each returns the
// config's store line (and settings) for a fresh store.
var loadStores = []struct {
	name  string
	store func(b *testing.B) string
}{
	{"sqlite", func(*testing.B) string { return "store: sqlite:state/authgate.db" }},
	{"postgres", func(b *testing.B) string { return fmt.Sprintf("store: %q", pgtest.Database(b)) }},
}

// startLoadServers starts n authgate processes serving accounts on one
// store (store is the config's store line) with one signing key, and signs
// up the user "bench".
func startLoadServers(b *testing.B, n int, store string) []*loadServer {
	b.Helper()
	dir := b.TempDir()
	genKey(b, filepath.Join(dir, "k.pem"), "EdDSA")
	var ss []*loadServer
	for i := range n {
		listen, admin := freeAddr(b), freeAddr(b)
		cfg := writeFile(b, dir, fmt.Sprintf("authgate-%d.yaml", i), fmt.Sprintf(`
listen: %s
admin_listen: %s
tokens: {issuer: %s, audience: %s, signing_key: k.pem}
%s
accounts: {signup: open}
routes:
  - {name: todos, path: /todos, upstream: "http://127.0.0.1:9", auth: required}
`, listen, admin, testIssuer, testAudience, store))
		ss = append(ss, &loadServer{base: "http://" + listen, proc: startProcess(b, cfg, admin)})
	}
	if code, _ := ss[0].post(b, "/auth/signup", map[string]string{"username": "bench", "password": "correct horse"}); code != 201 {
		b.Fatalf("signup: %d", code)
	}
	return ss
}

func startLoadServer(b *testing.B, store string) *loadServer {
	return startLoadServers(b, 1, store)[0]
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
	for _, st := range loadStores {
		b.Run(st.name, func(b *testing.B) { benchLogin(b, startLoadServer(b, st.store(b))) })
	}
}

func benchLogin(b *testing.B, s *loadServer) {
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
// own login's token chain, and reports refreshes/s (each one a durable
// transaction of the store).
func BenchmarkServerRefresh100(b *testing.B) {
	for _, st := range loadStores {
		b.Run(st.name, func(b *testing.B) { benchRefresh(b, startLoadServer(b, st.store(b))) })
	}
}

func benchRefresh(b *testing.B, s *loadServer) {
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

// BenchmarkServerRevocationPropagation logs out at one of two processes
// sharing a store and measures how long until the other refuses the
// logged-out access token: p50 and max over b.N logouts.
func BenchmarkServerRevocationPropagation(b *testing.B) {
	for _, st := range loadStores {
		b.Run(st.name, func(b *testing.B) {
			ss := startLoadServers(b, 2, st.store(b))
			a, other := ss[0], ss[1]
			delays := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				_, body := a.post(b, "/auth/login", map[string]string{"username": "bench", "password": "correct horse"})
				access, _ := body["access_token"].(string)
				if status(other.base+"/todos", access) == http.StatusUnauthorized {
					b.Fatal("the other process refuses a fresh token")
				}
				if code, _ := send(b, http.MethodPost, a.base+"/auth/logout", nil, access); code != http.StatusOK {
					b.Fatalf("logout: %d", code)
				}
				start := time.Now()
				for status(other.base+"/todos", access) != http.StatusUnauthorized {
					if time.Since(start) > 30*time.Second {
						b.Fatal("the other process never refused the logged-out token")
					}
					time.Sleep(time.Millisecond)
				}
				delays = append(delays, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(delays)
			b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(delays[len(delays)-1].Microseconds())/1000, "max-ms")
		})
	}
}
