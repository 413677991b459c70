package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/metrics"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// accessLine waits for the access-log line of a request to path.
func accessLine(t *testing.T, buf *syncBuffer, path string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(buf.String(), "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) == nil && e["msg"] == "request" && e["path"] == path {
				return e
			}
		}
	}
	t.Fatalf("no access-log line for %s in %q", path, buf.String())
	return nil
}

// TestClientClosedIsNotAnUpstreamError: a client that disconnects while
// the upstream is still working is logged and counted as 499
// client_closed, a 4xx, and not as an upstream error or a 5xx.
func TestClientClosedIsNotAnUpstreamError(t *testing.T) {
	arrived := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	var buf syncBuffer
	m := metrics.New("test", "test")
	cfg := parseConfig(t, tokensYAML+`
routes:
  - {name: r, path: /, upstream: "${UPSTREAM}", auth: none, timeout: 30s}
`, slow.URL)
	g, err := build(t, cfg, assemble.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/slow", nil)
	go func() {
		<-arrived
		cancel()
	}()
	if _, err := front.Client().Do(req); err == nil {
		t.Fatal("the canceled request got an answer")
	}

	e := accessLine(t, &buf, "/slow")
	if e["status"] != float64(499) || e["reason"] != "client_closed" {
		t.Errorf("access log: status %v reason %v, want 499 client_closed", e["status"], e["reason"])
	}
	if strings.Contains(buf.String(), `"upstream error"`) {
		t.Errorf("a client's disconnect was logged as an upstream error: %s", buf.String())
	}
	w := serve(m.Handler(), httptest.NewRequest("GET", "/metrics", nil))
	out := w.Body.String()
	if !strings.Contains(out, `authgate_http_requests_total{method="GET",route="r",status="4xx"} 1`) {
		t.Errorf("requests not counted as 4xx:\n%s", grepLines(out, "authgate_http_requests_total"))
	}
	if strings.Contains(out, `route="r",status="5xx"`) {
		t.Errorf("a client's disconnect counted as 5xx")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "authgate_upstream_errors_total{") && strings.Contains(line, `route="r"`) && !strings.HasSuffix(line, " 0") {
			t.Errorf("a client's disconnect counted as an upstream error: %s", line)
		}
	}
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
