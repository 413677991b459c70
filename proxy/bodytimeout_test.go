package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// bodyUpstream reads each request's whole body and answers its length; a
// handler's end (with the body read or failed) is sent on done.
func bodyUpstream(t *testing.T, delay time.Duration) (url string, done chan error) {
	t.Helper()
	done = make(chan error, 4)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		done <- err
		if err != nil {
			return
		}
		time.Sleep(delay)
		fmt.Fprintf(w, "%d", len(b))
	}))
	t.Cleanup(up.Close)
	return up.URL, done
}

// bodyGateway serves a route to upstream with a short body read timeout.
func bodyGateway(t *testing.T, upstream string, timeout time.Duration) string {
	t.Helper()
	g := newGateway(t, tokensYAML+fmt.Sprintf(`
server: {body_read_timeout: %s}
routes:
  - {name: up, path: /, upstream: "${UPSTREAM}", auth: none}
`, timeout), upstream)
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)
	return strings.TrimPrefix(front.URL, "http://")
}

// sendSlowly sends a POST of n bytes to addr, one byte every gap, and
// returns the connection and its reader once everything was sent or the
// connection failed.
func sendSlowly(t *testing.T, addr string, n int, gap time.Duration) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", n)
	for i := 0; i < n; i++ {
		if _, err := c.Write([]byte{'x'}); err != nil {
			break
		}
		time.Sleep(gap)
	}
	return c, bufio.NewReader(c)
}

// TestStalledBodyIsCut: a client that sends headers, then the body more
// slowly than one read per body_read_timeout, gets 408 and its connection
// closed, and the upstream request is aborted, freeing both.
func TestStalledBodyIsCut(t *testing.T) {
	upstream, done := bodyUpstream(t, 0)
	addr := bodyGateway(t, upstream, 200*time.Millisecond)

	start := time.Now()
	c, br := sendSlowly(t, addr, 3, 500*time.Millisecond)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled body: status %d, want 408", resp.StatusCode)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("stalled body cut after %v", took)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
		t.Errorf("the connection stays open after 408: %q %v", rest, err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the upstream read the whole stalled body")
		}
	case <-time.After(5 * time.Second):
		t.Error("the upstream request was not aborted")
	}
}

// TestSteadyBodyCompletes: a slow upload that keeps sending within
// body_read_timeout completes, however long it takes in all, and so does
// a request whose upstream answers long after the body was read.
func TestSteadyBodyCompletes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		n     int
		gap   time.Duration
		delay time.Duration
	}{
		{"steady upload longer than the timeout", 10, 60 * time.Millisecond, 0},
		{"slow upstream after the body", 2, 0, 900 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			upstream, _ := bodyUpstream(t, tt.delay)
			addr := bodyGateway(t, upstream, 300*time.Millisecond)
			c, br := sendSlowly(t, addr, tt.n, tt.gap)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != fmt.Sprint(tt.n) {
				t.Fatalf("status %d body %q, want 200 %d", resp.StatusCode, b, tt.n)
			}
		})
	}
}

// TestStalledAccountsBodyIs408: the account endpoints read their JSON
// bodies under the same timeout, and answer a stalled one 408.
func TestStalledAccountsBodyIs408(t *testing.T) {
	g := newAccountsGateway(t, accountsYAML+"server: {body_read_timeout: 200ms}\n", "http://127.0.0.1:9")
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)
	c, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled signup: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled signup: status %d, want 408", resp.StatusCode)
	}
}
