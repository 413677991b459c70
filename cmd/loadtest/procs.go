package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// procs tracks every child process the harness starts, so that all of them
// are stopped, by PID, on every exit path.
type procs struct {
	mu   sync.Mutex
	live map[int]*exec.Cmd
}

func newProcs() *procs { return &procs{live: map[int]*exec.Cmd{}} }

// start runs argv (pinned with taskset to cpus) with output to log.
func (p *procs) start(cpus string, log io.Writer, argv ...string) (*exec.Cmd, error) {
	args := append([]string{"-c", cpus}, argv...)
	cmd := exec.Command("taskset", args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// taskset execs argv in place: the PID is the program's own.
	p.mu.Lock()
	p.live[cmd.Process.Pid] = cmd
	p.mu.Unlock()
	return cmd, nil
}

// stop sends SIGTERM to one process, then SIGKILL after a grace period.
func (p *procs) stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	pid := cmd.Process.Pid
	p.mu.Lock()
	_, ok := p.live[pid]
	delete(p.live, pid)
	p.mu.Unlock()
	if !ok {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// stopAll stops every process still running.
func (p *procs) stopAll() {
	p.mu.Lock()
	var all []*exec.Cmd
	for _, c := range p.live {
		all = append(all, c)
	}
	p.mu.Unlock()
	for _, c := range all {
		p.stop(c)
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP polls url until it answers with want, or the deadline passes.
func waitHTTP(ctx context.Context, url string, want int, header http.Header) error {
	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second}
	var last error
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready: %v", url, last)
}

// procCPU is utime+stime of pid, in clock ticks.
func procCPU(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return cpuTicks(string(b))
}

// procHWM is the peak RSS (VmHWM) of pid, in bytes.
func procHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return vmHWM(string(b))
}
