package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// soakDuration is how long TestSoak runs: AUTHGATE_SOAK (a duration, e.g.
// 10m); unset, the test is skipped (make soak sets it).
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("AUTHGATE_SOAK")
	if v == "" {
		t.Skip("AUTHGATE_SOAK is not set: the soak runs for minutes (make soak)")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("AUTHGATE_SOAK=%q: want a duration such as 10m", v)
	}
	return d
}

// metricValue reads one unlabelled sample from a Prometheus text page.
func metricValue(t *testing.T, admin, name string) float64 {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return -1
}

// TestSoak runs mixed traffic against a real process for AUTHGATE_SOAK:
// proxying with tokens, signups, logins, refreshes, logouts and
// forward-auth decisions, with faults injected (an upstream that goes away
// and hangs, config reloads, malformed requests). It asserts no unexpected
// 5xx, no lost acknowledged signup, and flat memory and goroutines.
func TestSoak(t *testing.T) {
	d := soakDuration(t)
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")

	var upDown, upHang atomic.Bool
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if upHang.Load() && strings.HasPrefix(r.URL.Path, "/flaky") {
			time.Sleep(1500 * time.Millisecond)
		}
		if upDown.Load() && strings.HasPrefix(r.URL.Path, "/flaky") {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	})}
	go up.Serve(ln)
	t.Cleanup(func() { up.Close() })
	upURL := "http://" + ln.Addr().String()

	listen, admin := freeAddr(t), freeAddr(t)
	routes := `
  - {name: todos, path: /todos, upstream: UP, auth: required}
  - {name: flaky, path: /flaky, upstream: UP, auth: required, timeout: 1s}
  - {name: public, path: /, upstream: UP, auth: none}
`
	extra := "trusted_proxies: [127.0.0.1]\nstore: sqlite:state/authgate.db\naccounts: {signup: open, hash_concurrency: 2}"
	cfgPath := writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, "k.pem", upURL, routes, extra))
	proc := startProcess(t, cfgPath, admin)
	base, adminURL := "http://"+listen, "http://"+admin

	var (
		mu         sync.Mutex
		acked      []string
		counts     = map[string]int{}
		unexpected []string
	)
	note := func(kind string, code int, allowed ...int) {
		mu.Lock()
		defer mu.Unlock()
		counts[kind]++
		if code >= 500 {
			for _, a := range allowed {
				if code == a {
					return
				}
			}
			if len(unexpected) < 20 {
				unexpected = append(unexpected, fmt.Sprintf("%s: %d", kind, code))
			}
			counts["unexpected"]++
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	worker := func(w int) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		user := fmt.Sprintf("soak-%d", w)
		creds := map[string]string{"username": user, "password": "correct horse"}
		code, _ := send(t, "POST", base+"/auth/signup", creds, "")
		note("signup", code)
		if code == 201 {
			mu.Lock()
			acked = append(acked, user)
			mu.Unlock()
		}
		var access, refreshTok string
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch op := rng.IntN(100); {
			case access == "" || op < 3:
				code, body := send(t, "POST", base+"/auth/login", creds, "")
				note("login", code, 503) // 503: hashing queue full
				if code == 200 {
					access, _ = body["access_token"].(string)
					refreshTok, _ = body["refresh_token"].(string)
				}
			case op < 8:
				code, body := send(t, "POST", base+"/auth/refresh", map[string]string{"refresh_token": refreshTok}, "")
				note("refresh", code)
				if code == 200 {
					access, _ = body["access_token"].(string)
					refreshTok, _ = body["refresh_token"].(string)
				} else {
					access = ""
				}
			case op < 10:
				code, _ := send(t, "POST", base+"/auth/logout", nil, access)
				note("logout", code)
				access = ""
			case op < 20:
				note("flaky", status(base+"/flaky/x", access), 502, 504)
			case op < 30:
				req, _ := http.NewRequest("GET", base+"/auth/verify", nil)
				req.Header.Set("X-Original-URI", "/todos/1")
				req.Header.Set("X-Original-Method", "GET")
				req.Header.Set("Authorization", "Bearer "+access)
				code := 0
				if resp, err := testHTTP.Do(req); err == nil {
					code = resp.StatusCode
					resp.Body.Close()
				}
				note("verify", code)
			case op < 33:
				note("malformed", rawRequest(t, listen, "GET /%zz/..%2f HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\t"+access+"\r\n\r\n"), 501, 505)
			default:
				note("proxy", status(base+"/todos/"+strconv.Itoa(i), access))
			}
		}
	}
	const workers = 16
	for w := range workers {
		wg.Add(1)
		go worker(w)
	}

	// Faults, on a schedule: the flaky upstream goes away and hangs, the
	// config is reloaded (SIGHUP, and a rewritten file).
	start := time.Now()
	var rss, goroutines []float64
	sample := func() {
		rss = append(rss, rssMiB(t, proc))
		goroutines = append(goroutines, metricValue(t, adminURL, "go_goroutines"))
	}
	time.Sleep(time.Second)
	sample()
	for tick := 0; time.Since(start) < d; tick++ {
		time.Sleep(time.Second)
		switch tick % 30 {
		case 5:
			upDown.Store(true)
		case 10:
			upDown.Store(false)
			upHang.Store(true)
		case 15:
			upHang.Store(false)
		case 20:
			proc.Process.Signal(syscall.SIGHUP)
		case 25:
			os.WriteFile(cfgPath, []byte(opsConfig(listen, admin, "k.pem", upURL, routes, extra)+"\n# rewritten "+strconv.Itoa(tick)+"\n"), 0o600)
		}
		if tick%10 == 0 {
			sample()
		}
	}
	close(stop)
	wg.Wait()
	sample()

	// Every acknowledged signup is there.
	lost := 0
	for _, u := range acked {
		if code, _ := send(t, "POST", base+"/auth/login", map[string]string{"username": u, "password": "correct horse"}, ""); code != 200 {
			lost++
		}
	}
	t.Logf("soak %s, %d workers: %v", d, workers, counts)
	t.Logf("RSS MiB first/peak/last: %.1f/%.1f/%.1f; goroutines first/peak/last: %.0f/%.0f/%.0f; lost writes: %d",
		rss[0], maxOf(rss), rss[len(rss)-1], goroutines[0], maxOf(goroutines), goroutines[len(goroutines)-1], lost)
	for _, u := range unexpected {
		t.Errorf("unexpected 5xx: %s", u)
	}
	if lost > 0 {
		t.Errorf("%d acknowledged signups lost", lost)
	}
	// Flat: the second half of the run grows no more than a margin over
	// the first sample taken after warm-up.
	if len(rss) > 3 && rss[len(rss)-1] > 2*rss[1]+32 {
		t.Errorf("RSS grew from %.1f to %.1f MiB", rss[1], rss[len(rss)-1])
	}
	if g := goroutines[len(goroutines)-1]; g > goroutines[0]+50 {
		t.Errorf("goroutines grew from %.0f to %.0f", goroutines[0], g)
	}
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
