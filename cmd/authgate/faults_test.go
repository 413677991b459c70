package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssMiB is the resident memory of a process, in MiB.
func rssMiB(t testing.TB, p *exec.Cmd) float64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Process.Pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestUpstreamFaults: an upstream that refuses, hangs, resets mid-body or
// moves huge bodies gets a clear answer, and authgate's memory stays flat.
func TestUpstreamFaults(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	refused := freeAddr(t) // nothing listens there

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	const huge = 256 << 20
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case "/reset":
			w.Header().Set("Content-Length", "1000000")
			w.WriteHeader(200)
			w.Write(make([]byte, 1000))
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
		case "/download":
			w.Header().Set("Content-Length", strconv.Itoa(huge))
			io.CopyN(w, zeros{}, huge)
		case "/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, n)
		default:
			w.Write([]byte("ok"))
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	up := "http://" + ln.Addr().String()

	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", opsConfig(listen, admin, "k.pem", up, `
  - {name: gone, path: /gone, upstream: "http://`+refused+`", auth: none}
  - {name: slow, path: /hang, upstream: UP, auth: none, timeout: 1s}
  - {name: app, path: /, upstream: UP, auth: none}
`, ""))
	proc := startProcess(t, cfg, admin)
	base := "http://" + listen
	client := &http.Client{Timeout: 60 * time.Second}
	get := func(path string) (int, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	if code, _ := get("/gone/x"); code != http.StatusBadGateway {
		t.Errorf("refusing upstream = %d, want 502", code)
	}
	start := time.Now()
	if code, _ := get("/hang"); code != http.StatusGatewayTimeout {
		t.Errorf("hanging upstream = %d, want 504", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the hanging upstream held the request %s, the route's timeout is 1s", d)
	}
	if code, err := get("/reset"); code == 200 && err == nil {
		t.Error("an upstream reset mid-body reached the client as a complete answer")
	}

	before := rssMiB(t, proc)
	if code, err := get("/download"); code != 200 || err != nil {
		t.Fatalf("download of %d MiB: %d %v", huge>>20, code, err)
	}
	resp, err := client.Post(base+"/upload", "application/octet-stream", io.LimitReader(zeros{}, huge))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != strconv.Itoa(huge) {
		t.Errorf("upload: the upstream got %s bytes, want %d", got, huge)
	}
	after := rssMiB(t, proc)
	t.Logf("RSS %.1f MiB before, %.1f MiB after moving %d MiB each way", before, after, huge>>20)
	if after-before > 64 {
		t.Errorf("RSS grew %.1f MiB while streaming %d MiB: bodies are buffered", after-before, huge>>20)
	}
	if code, _ := get("/ok"); code != 200 {
		t.Errorf("after the faults: %d", code)
	}
}
