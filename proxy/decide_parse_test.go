package proxy_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/metrics"
)

// methodsYAML adds a route that only lets GET pass anonymously, to show
// which method a decision request was judged as.
const methodsYAML = decisionYAML + `  - {name: reads, path: /reads, methods: [GET], upstream: "${UPSTREAM}", auth: none}
  - {name: writes, path: /reads, upstream: "${UPSTREAM}", auth: required}
`

// TestDecisionHeadersTakeOneValue: a header that names the original request
// must carry exactly one value; two header lines, or a list joined into one
// line, are a 400 naming the header, whatever the dialect.
func TestDecisionHeadersTakeOneValue(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, decisionYAML, up.URL)
	tests := []struct {
		dialect, header, second string
	}{
		{dialectNginx, "X-Original-URI", "/public"},
		{dialectNginx, "X-Original-Method", "GET"},
		{"ingress-nginx", "X-Original-URL", "https://app.example.com/public"},
		{"ingress-nginx", "X-Original-Method", "GET"},
		{dialectForward, "X-Forwarded-Uri", "/public"},
		{dialectForward, "X-Forwarded-Method", "GET"},
		{dialectForward, "X-Forwarded-Host", "app.example.com"},
		{dialectForward, "X-Forwarded-Proto", "https"},
	}
	for _, tt := range tests {
		for _, how := range []string{"two lines", "comma", "comma and space"} {
			t.Run(tt.dialect+"/"+tt.header+"/"+how, func(t *testing.T) {
				r := ask(tt.dialect, "GET", "/admin")
				first := r.Header.Get(tt.header)
				switch how {
				case "two lines":
					r.Header.Add(tt.header, tt.second)
				case "comma":
					r.Header.Set(tt.header, first+","+tt.second)
				default:
					r.Header.Set(tt.header, first+", "+tt.second)
				}
				w := serve(g, r)
				if w.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
				}
				if msg := errorBody(t, w); !strings.Contains(msg, tt.header) {
					t.Errorf("error %q does not name %s", msg, tt.header)
				}
			})
		}
	}
	// A comma inside one target is part of it.
	for _, dialect := range []string{dialectNginx, "ingress-nginx", dialectForward} {
		t.Run(dialect+"/comma in the query", func(t *testing.T) {
			if w := serve(g, ask(dialect, "GET", "/public/a?tags=x,y")); w.Code != 200 {
				t.Errorf("status %d: %s", w.Code, w.Body)
			}
		})
	}
}

// TestIngressNginxHeaderSets: the exact headers each ingress-nginx
// annotation combination sends with its auth sub-request.
func TestIngressNginxHeaderSets(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, methodsYAML, up.URL)
	admin := mint(t, "alice", map[string]any{"roles": []string{"admin"}})
	// authURL is what auth-url alone sends for "POST /admin/users?x=1".
	authURL := func() http.Header {
		return http.Header{
			"X-Original-Url":          {"https://app.example.com/admin/users?x=1"},
			"X-Original-Method":       {"POST"},
			"X-Sent-From":             {"nginx-ingress-controller"},
			"X-Real-Ip":               {"203.0.113.9"},
			"X-Forwarded-For":         {"203.0.113.9"},
			"X-Auth-Request-Redirect": {"/admin/users?x=1"},
			"X-Request-Id":            {"0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
			"Authorization":           {"Bearer " + admin},
			"Cookie":                  {"theme=dark"},
		}
	}
	// withMethod adds what the auth-method annotation adds.
	withMethod := func(h http.Header) http.Header {
		h.Set("X-Original-Uri", "/admin/users?x=1")
		h.Set("X-Scheme", "https")
		return h
	}
	tests := []struct {
		name    string
		h       http.Header
		status  int
		subject string
	}{
		{"auth-url", authURL(), 200, "alice"},
		{"auth-url and auth-method", withMethod(authURL()), 200, "alice"},
		{"auth-url without a token", func() http.Header { h := authURL(); h.Del("Authorization"); return h }(), 401, ""},
		{"auth-url and auth-method without a token", func() http.Header { h := withMethod(authURL()); h.Del("Authorization"); return h }(), 401, ""},
		{"URI names another path", func() http.Header { h := withMethod(authURL()); h.Set("X-Original-Uri", "/public"); return h }(), 400, ""},
		{"URI names another query", func() http.Header { h := withMethod(authURL()); h.Set("X-Original-Uri", "/admin/users?x=2"); return h }(), 400, ""},
		{"URI without the query", func() http.Header { h := withMethod(authURL()); h.Set("X-Original-Uri", "/admin/users"); return h }(), 400, ""},
		{"URI encodes the path differently", func() http.Header {
			h := withMethod(authURL())
			h.Set("X-Original-Uri", "/admin/%75sers?x=1")
			return h
		}(), 400, ""},
		// Without X-Original-Method the URL is judged as a GET.
		{"URL without method, GET route", http.Header{"X-Original-Url": {"https://app.example.com/reads/1"}}, 200, ""},
		{"URL with POST, GET-only route", http.Header{"X-Original-Url": {"https://app.example.com/reads/1"}, "X-Original-Method": {"POST"}}, 401, ""},
		// Plain nginx auth_request.
		{"nginx URI and method", http.Header{"X-Original-Uri": {"/reads/1"}, "X-Original-Method": {"GET"}}, 200, ""},
		{"nginx URI without method", http.Header{"X-Original-Uri": {"/reads/1"}}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/auth/verify", nil)
			r.Header = tt.h
			w := serve(g, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 200 {
				if got := w.Header().Get("X-Auth-Subject"); got != tt.subject {
					t.Errorf("X-Auth-Subject = %q, want %q", got, tt.subject)
				}
			}
		})
	}
}

// TestDecisionBadRequestIsLoggedAndCounted: a peer shows its client a 500
// for a 400, so authgate logs it at WARN with a reason that names the
// header (never a value) and counts it.
func TestDecisionBadRequestIsLoggedAndCounted(t *testing.T) {
	up := newUpstream(t)
	var buf bytes.Buffer
	m := metrics.New("test", "test")
	g, err := build(t, parseConfig(t, decisionYAML, up.URL), assemble.Options{
		Logger:  slog.New(slog.NewJSONHandler(&buf, nil)),
		Metrics: m,
		Now:     func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret-in-a-header"
	tests := []struct {
		name, want string
		req        func() *http.Request
	}{
		{"repeated URI", "X-Original-URI", func() *http.Request {
			r := ask(dialectNginx, "GET", "/public?k="+secret)
			r.Header.Add("X-Original-URI", "/admin?k="+secret)
			return r
		}},
		{"URL and URI differ", "X-Original-URL and X-Original-URI", func() *http.Request {
			r := ask("ingress-nginx", "GET", "/public?k="+secret)
			r.Header.Set("X-Original-URI", "/admin?k="+secret)
			return r
		}},
		{"bad forwarded URI", "X-Forwarded-Uri", func() *http.Request {
			return ask(dialectForward, "GET", "http://"+secret+"/public")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			r := tt.req()
			r.Header.Set("Authorization", "Bearer "+secret)
			if w := serve(g, r); w.Code != http.StatusBadRequest {
				t.Fatalf("status %d", w.Code)
			}
			var warn map[string]any
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if rec["level"] == "WARN" {
					warn = rec
				}
			}
			if warn == nil {
				t.Fatalf("no WARN line in %s", buf.String())
			}
			if warn["msg"] != "forward-auth request refused" || warn["reason"] != "bad_request" ||
				!strings.Contains(warn["error"].(string), tt.want) || warn["request_id"] == "" {
				t.Errorf("WARN line %v", warn)
			}
			if strings.Contains(buf.String(), secret) {
				t.Errorf("log contains a header value: %s", buf.String())
			}
		})
	}
	w := serve(m.Handler(), httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`authgate_auth_decisions_total{decision="deny",reason="bad_request",route="decision_nginx"} 2`,
		`authgate_auth_decisions_total{decision="deny",reason="bad_request",route="decision_forward"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
