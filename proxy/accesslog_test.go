package proxy_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/assemble"
)

func TestAccessLogOneJSONLinePerRequestWithoutSecrets(t *testing.T) {
	up := newUpstream(t)
	var buf bytes.Buffer
	cfg := parseConfig(t, rulesYAML+`
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required}
`, up.URL)
	g, err := build(t, cfg, assemble.Options{
		Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		Now:    func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, "alice", map[string]any{"roles": []string{"user"}})
	tests := []struct {
		target, authz                    string
		route, decision, reason, subject string
		status                           float64
	}{
		{"/todos/1?password=hunter2", "Bearer " + tok, "todos", "allow", "", "alice", 200},
		{"/todos", "", "todos", "deny", "no_token", "", 401},
		{"/todos", "Bearer " + tok + "x", "todos", "deny", "invalid", "", 401},
		{"/admin", "Bearer " + tok, "admin", "deny", "forbidden", "alice", 403},
		{"/nowhere", "", "", "deny", "no_route", "", 404},
	}
	for _, tt := range tests {
		buf.Reset()
		r := httptest.NewRequest("GET", tt.target, nil)
		if tt.authz != "" {
			r.Header.Set("Authorization", tt.authz)
		}
		r.Header.Set("Cookie", "session=secret-cookie")
		serve(g, r)

		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("%s: %d log lines, want 1: %q", tt.target, len(lines), buf.String())
		}
		var entry map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
			t.Fatalf("%s: log line is not JSON: %v", tt.target, err)
		}
		want := map[string]any{
			"msg": "request", "route": tt.route, "method": "GET", "status": tt.status,
			"decision": tt.decision, "reason": tt.reason, "subject": tt.subject,
		}
		for k, v := range want {
			if entry[k] != v {
				t.Errorf("%s: %s = %v, want %v", tt.target, k, entry[k], v)
			}
		}
		if id, _ := entry["request_id"].(string); len(id) != 32 {
			t.Errorf("%s: request_id = %q, want a generated 32-hex id", tt.target, id)
		}
		if _, ok := entry["latency_ms"].(float64); !ok {
			t.Errorf("%s: no latency_ms", tt.target)
		}
		for _, secret := range []string{tok[:40], "hunter2", "secret-cookie", "password"} {
			if strings.Contains(lines[0], secret) {
				t.Errorf("%s: log line contains %q", tt.target, secret)
			}
		}
	}
}

// TestRequestID: a well-formed client id is kept, logged, forwarded and
// echoed; anything else is replaced by a generated one.
func TestRequestID(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	for _, tt := range []struct{ sent, want string }{
		{"abc-123_x.y:z", "abc-123_x.y:z"},
		{"bad id with spaces", ""},
		{strings.Repeat("a", 200), ""},
		{"", ""},
	} {
		r := httptest.NewRequest("GET", "/none", nil)
		if tt.sent != "" {
			r.Header.Set("X-Request-Id", tt.sent)
		}
		w := serve(g, r)
		got := w.Header().Get("X-Request-Id")
		if tt.want != "" && got != tt.want || tt.want == "" && (len(got) != 32 || got == tt.sent) {
			t.Errorf("sent %q: response id %q", tt.sent, got)
		}
		if fwd := up.last(t).Header.Get("X-Request-Id"); fwd != got {
			t.Errorf("sent %q: upstream got %q, response %q", tt.sent, fwd, got)
		}
	}
}
