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

// TestRequestID: a trusted proxy's well-formed id is kept, logged,
// forwarded and echoed; a client's own id, in any spelling, or a malformed
// one is replaced by a generated one, and the upstream sees only the id
// used.
func TestRequestID(t *testing.T) {
	up := newUpstream(t)
	untrusted := newGateway(t, modesYAML, up.URL)
	trusted := newGateway(t, "trusted_proxies: [192.0.2.1/32]\n"+modesYAML, up.URL)
	for _, tt := range []struct {
		name      string
		g         *Gateway
		key, sent string
		want      string // "" = a generated id
	}{
		{"trusted well-formed", trusted, "X-Request-Id", "abc-123_x.y:z", "abc-123_x.y:z"},
		{"trusted with spaces", trusted, "X-Request-Id", "bad id with spaces", ""},
		{"trusted too long", trusted, "X-Request-Id", strings.Repeat("a", 200), ""},
		{"trusted none", trusted, "", "", ""},
		{"untrusted well-formed", untrusted, "X-Request-Id", "abc-123_x.y:z", ""},
		{"untrusted underscore spelling", untrusted, "X_Request_Id", "abc-123", ""},
		{"untrusted lower-case spelling", untrusted, "x-request-id", "abc-123", ""},
		{"untrusted dotted spelling", untrusted, "X.Request.Id", "abc-123", ""},
		{"untrusted none", untrusted, "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/none", nil)
			if tt.key != "" {
				r.Header[tt.key] = []string{tt.sent}
			}
			w := serve(tt.g, r)
			got := w.Header().Get("X-Request-Id")
			if tt.want != "" && got != tt.want || tt.want == "" && (len(got) != 32 || got == tt.sent) {
				t.Errorf("sent %q: response id %q", tt.sent, got)
			}
			var ids []string
			for name, vals := range up.last(t).Header {
				if strings.EqualFold(strings.NewReplacer("_", "-", ".", "-").Replace(name), "X-Request-Id") {
					ids = append(ids, vals...)
				}
			}
			if len(ids) != 1 || ids[0] != got {
				t.Errorf("sent %q: upstream got ids %q, response %q", tt.sent, ids, got)
			}
		})
	}
}
