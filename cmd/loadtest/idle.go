package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// idleRow is the result of holding -idle keep-alive connections on one
// proxy.
type idleRow struct {
	target             string
	conns              int   // connections that got their first answer
	rssBefore, rssHeld int64 // VmRSS before opening them and while all are held
	reused             int   // connections that answered a second request after the hold
	hold               time.Duration
}

// idleHold is how long the connections stay idle between their two
// requests: well below every proxy's idle timeout.
const idleHold = 5 * time.Second

// idleCase opens -idle connections to each target, sends one request on
// each (so each is an established, served keep-alive connection), holds
// them all idle, measures the proxy's resident memory, then sends a second
// request on each to show that all of them were kept.
func (h *harness) idleCase(ctx context.Context, c benchCase, targets []*target, header http.Header) ([]row, error) {
	for _, t := range targets {
		r, err := h.holdIdle(ctx, t, header)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		h.idleRows = append(h.idleRows, r)
		fmt.Fprintf(os.Stderr, "  %-8s %d connections: VmRSS %.1f → %.1f MB, %d answered again after %s\n",
			t.name, r.conns, mb(r.rssBefore), mb(r.rssHeld), r.reused, r.hold)
	}
	return nil, nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func (h *harness) holdIdle(ctx context.Context, t *target, header http.Header) (idleRow, error) {
	u, err := url.Parse(t.url)
	if err != nil {
		return idleRow{}, err
	}
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	for k, vs := range header {
		for _, v := range vs {
			req += k + ": " + v + "\r\n"
		}
	}
	req += "\r\n"

	status := func() (int64, error) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
		if err != nil {
			return 0, err
		}
		return statusKB(string(b), "VmRSS")
	}
	row := idleRow{target: t.name, hold: idleHold}
	if row.rssBefore, err = status(); err != nil {
		return row, err
	}

	n := h.o.idle
	conns := make([]*idleConn, n)
	var failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	each := func(f func(i int) error) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 100) // at most 100 requests in flight
		for i := range conns {
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer func() { <-sem; wg.Done() }()
				if err := f(i); err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}(i)
		}
		wg.Wait()
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	d := net.Dialer{Timeout: 5 * time.Second}
	each(func(i int) error {
		nc, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return err
		}
		conns[i] = &idleConn{Conn: nc, r: bufio.NewReaderSize(nc, 4096)}
		return conns[i].roundTrip(req)
	})
	row.conns = n - int(failed.Load())
	if failed.Load() > 0 {
		return row, fmt.Errorf("%d of %d connections failed their first request (first error: %v); raise the open-files limit (ulimit -n) if they ran out", failed.Load(), n, firstErr)
	}
	select {
	case <-ctx.Done():
		return row, ctx.Err()
	case <-time.After(idleHold):
	}
	if row.rssHeld, err = status(); err != nil {
		return row, err
	}
	failed.Store(0)
	each(func(i int) error { return conns[i].roundTrip(req) })
	row.reused = n - int(failed.Load())
	return row, nil
}

// idleConn is one client keep-alive connection.
type idleConn struct {
	net.Conn
	r *bufio.Reader
}

// roundTrip sends req and reads a 200 answer to its end, leaving the
// connection open.
func (c *idleConn) roundTrip(req string) error {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

// printIdle prints the idle-connection table.
func printIdle(w io.Writer, o options, rows []idleRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d keep-alive connections, each served one request, then held idle for %s and served a second\n\n", o.idle, idleHold)
	fmt.Fprintf(w, "| %-8s | %11s | %11s | %12s | %16s |\n", "proxy", "RSS before", "RSS held", "KiB per conn", "answered again")
	fmt.Fprintln(w, "|----------|------------:|------------:|-------------:|-----------------:|")
	for _, r := range rows {
		per := float64(r.rssHeld-r.rssBefore) / 1024 / float64(r.conns)
		fmt.Fprintf(w, "| %-8s | %8.1f MB | %8.1f MB | %12.1f | %7d of %6d |\n", r.target, mb(r.rssBefore), mb(r.rssHeld), per, r.reused, r.conns)
	}
}
