// Command loadtest drives the bundled todoapp through a bare
// httputil.ReverseProxy baseline and through `authgate serve`, alternately,
// with wrk, and prints requests/s, latency, CPU per request and peak RSS of
// each proxy side by side. `make loadtest` runs it; see BENCHMARKS.md.
//
// Every process is started on loopback and pinned with taskset: the proxy
// under test on -proxy-cpus, wrk and the upstream on -load-cpus.
//
// Usage:
//
//	loadtest [-rounds 3] [-duration 10s] [-connections 64] [-cases REGEXP]
//	loadtest -baseline-serve ADDR -upstream URL   (the baseline proxy itself)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on
// every Linux architecture Go supports).
const clockTicks = 100

type options struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	connections int
	threads     int
	tokens      int
	proxyCPUs   string
	loadCPUs    string
	rsaBits     int
	idle        int
	cases       *regexp.Regexp
	verbose     bool
}

func main() {
	fs := flag.NewFlagSet("loadtest", flag.ExitOnError)
	serve := fs.String("baseline-serve", "", "run only the baseline reverse proxy on `addr` (used by the harness itself)")
	upstream := fs.String("upstream", "", "upstream `URL` for -baseline-serve")
	var o options
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per case; each round runs the baseline, then authgate")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "duration of one wrk run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured wrk run before each case's rounds, per proxy")
	fs.IntVar(&o.connections, "connections", 64, "wrk connections")
	fs.IntVar(&o.threads, "threads", 1, "wrk threads")
	fs.IntVar(&o.tokens, "tokens", 6000, "distinct tokens for the 'new token every request' cases: more than the token cache holds (about 1,350 by default), so every request misses it")
	fs.StringVar(&o.proxyCPUs, "proxy-cpus", "0", "taskset CPU list for the proxy under test")
	fs.StringVar(&o.loadCPUs, "load-cpus", "1", "taskset CPU list for wrk and the upstream")
	fs.IntVar(&o.rsaBits, "rsa-bits", 2048, "size of the RS256 keys (the case named RS256-3072 uses 3072)")
	fs.IntVar(&o.idle, "idle", 10000, "keep-alive connections held open in the idle case")
	casesRe := fs.String("cases", "", "run only cases whose name matches this `regexp`")
	fs.BoolVar(&o.verbose, "v", false, "print every wrk run")
	_ = fs.Parse(os.Args[1:])

	if *serve != "" {
		if err := baselineServe(*serve, *upstream); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest baseline:", err)
			os.Exit(1)
		}
		return
	}
	re, err := regexp.Compile(*casesRe)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest: -cases:", err)
		os.Exit(2)
	}
	o.cases = re
	if o.rounds < 1 || o.duration < time.Second || o.duration > 10*time.Minute || o.connections < 1 || o.threads < 1 || o.tokens < 1 ||
		o.rsaBits < 2048 || o.idle < 1 {
		fmt.Fprintln(os.Stderr, "loadtest: need -rounds >= 1, 1s <= -duration <= 10m, -connections, -threads, -tokens, -idle >= 1, -rsa-bits >= 2048")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	for _, tool := range []struct{ name, hint string }{
		{"wrk", "install it with: apt-get install -y wrk (Debian/Ubuntu)"},
		{"taskset", "it is part of util-linux: apt-get install -y util-linux"},
		{"go", "install Go from https://go.dev/dl/"},
	} {
		if _, err := exec.LookPath(tool.name); err != nil {
			return fmt.Errorf("%s not found on PATH; %s", tool.name, tool.hint)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "authgate-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(os.Stderr, "building authgate and todoapp...")
	for _, name := range []string{"authgate", "todoapp"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/%s: %w", name, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	ps := newProcs()
	defer ps.stopAll()
	h := &harness{o: o, dir: dir, self: self, ps: ps, log: io.Discard}
	if o.verbose {
		h.log = os.Stderr
	}

	upAddr, err := freeAddr()
	if err != nil {
		return err
	}
	h.upstream = "http://" + upAddr
	app, err := ps.start(o.loadCPUs, io.Discard, filepath.Join(dir, "todoapp"), "-listen", upAddr)
	if err != nil {
		return err
	}
	defer ps.stop(app)
	if err := waitHTTP(ctx, h.upstream+"/healthz", 200, nil); err != nil {
		return err
	}

	var rows []row
	var idle []idleRow
	for _, c := range allCases() {
		if !o.cases.MatchString(c.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "case %s...\n", c.name)
		r, err := h.runCase(ctx, c)
		if err != nil {
			return fmt.Errorf("case %s: %w", c.name, err)
		}
		rows = append(rows, r...)
		idle = append(idle, h.idleRows...)
		h.idleRows = nil
	}
	printTable(os.Stdout, o, rows)
	printPaced(os.Stdout, rows)
	printIdle(os.Stdout, o, idle)
	return nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run loadtest from inside the authgate module")
	}
	return filepath.Dir(gomod), nil
}

// row is one line of the result table.
type row struct {
	caseName, target string
	rps, p50, p99    float64 // req/s, ms, ms
	cpuPerReq        float64 // µs of CPU per request
	rss              int64   // bytes
	ratio            float64 // authgate req/s / baseline req/s (NaN for the baseline)
	errors           int64   // non-2xx/3xx + socket errors, all rounds

	// Paced at half the baseline's maximum rate: achieved req/s, p50 and
	// p99 in ms, and p99 minus the baseline's (NaN for the baseline).
	halfRPS, halfP50, halfP99, addedP99 float64

	hitPct float64 // verified-token cache hits, % of lookups (NaN: none, or the baseline)
}

func printTable(w io.Writer, o options, rows []row) {
	fmt.Fprintf(w, "\n%d rounds x %s, %d connections, %d wrk thread(s); proxy on CPU %s, wrk + upstream on CPU %s; medians over rounds\n\n",
		o.rounds, o.duration, o.connections, o.threads, o.proxyCPUs, o.loadCPUs)
	fmt.Fprintf(w, "| %-34s | %-8s | %8s | %6s | %6s | %10s | %11s | %10s | %11s | %6s |\n",
		"case", "proxy", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "peak RSS MB", "× baseline", "cache hit %", "errors")
	fmt.Fprintln(w, "|------------------------------------|----------|---------:|-------:|-------:|-----------:|------------:|-----------:|------------:|-------:|")
	for _, r := range rows {
		rat := "—"
		if !math.IsNaN(r.ratio) {
			rat = fmt.Sprintf("%.2f", r.ratio)
		}
		hit := "—"
		if !math.IsNaN(r.hitPct) {
			hit = fmt.Sprintf("%.1f", r.hitPct)
		}
		fmt.Fprintf(w, "| %-34s | %-8s | %8.0f | %6.2f | %6.2f | %10.1f | %11.1f | %10s | %11s | %6d |\n",
			r.caseName, r.target, r.rps, r.p50, r.p99, r.cpuPerReq, float64(r.rss)/(1<<20), rat, hit, r.errors)
	}
}
