package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/authgate/authgate/proxy/respond"
)

// scrape fetches the real handler's text exposition and parses it.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape content type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

func labelsOf(mt *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range mt.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

func match(mt *dto.Metric, want map[string]string) bool {
	got := labelsOf(mt)
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// value returns the counter/gauge value (or histogram sample count) of the
// series with exactly the given labels, and whether it exists.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, mt := range f.GetMetric() {
		if !match(mt, labels) {
			continue
		}
		switch {
		case mt.Counter != nil:
			return mt.GetCounter().GetValue(), true
		case mt.Gauge != nil:
			return mt.GetGauge().GetValue(), true
		case mt.Histogram != nil:
			return float64(mt.GetHistogram().GetSampleCount()), true
		case mt.Untyped != nil:
			return mt.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func series(fams map[string]*dto.MetricFamily, name string) []map[string]string {
	var out []map[string]string
	for _, mt := range fams[name].GetMetric() {
		out = append(out, labelsOf(mt))
	}
	return out
}

type L = map[string]string

func TestClasses(t *testing.T) {
	methods := []struct{ in, want string }{
		{"GET", "GET"}, {"HEAD", "HEAD"}, {"POST", "POST"}, {"PUT", "PUT"},
		{"PATCH", "PATCH"}, {"DELETE", "DELETE"}, {"OPTIONS", "OPTIONS"},
		{"CONNECT", "other"}, {"TRACE", "other"}, {"get", "other"}, {"", "other"}, {"PROPFIND", "other"},
	}
	for _, tc := range methods {
		if got := MethodClass(tc.in); got != tc.want {
			t.Errorf("MethodClass(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	statuses := []struct {
		in   int
		want string
	}{
		{0, "other"}, {99, "other"}, {100, "1xx"}, {101, "1xx"}, {200, "2xx"}, {204, "2xx"}, {299, "2xx"},
		{301, "3xx"}, {304, "3xx"}, {400, "4xx"}, {401, "4xx"}, {403, "4xx"}, {499, "4xx"},
		{500, "5xx"}, {502, "5xx"}, {504, "5xx"}, {599, "5xx"}, {600, "other"}, {-1, "other"},
	}
	for _, tc := range statuses {
		if got := StatusClass(tc.in); got != tc.want {
			t.Errorf("StatusClass(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
	reasons := []struct{ in, want string }{
		{"", "none"}, {"no_token", "no_token"}, {"malformed", "malformed"}, {"expired", "expired"},
		{"invalid", "invalid"}, {"forbidden", "forbidden"}, {"no_route", "no_route"}, {"bad_path", "bad_path"},
		{"untrusted_peer", "untrusted_peer"}, {"bad_request", "bad_request"}, {"upstream_error", "upstream_error"},
		{"upstream_timeout", "upstream_timeout"}, {"sub:alice", "other"}, {"EXPIRED", "other"}, {"none", "other"},
	}
	for _, tc := range reasons {
		if got := ReasonLabel(tc.in); got != tc.want {
			t.Errorf("ReasonLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestScrapeValues(t *testing.T) {
	m := New("1.2.3", "abc123")

	m.Request("api", "GET", 200, 5*time.Millisecond)
	m.Request("api", "GET", 204, 5*time.Millisecond)
	m.Request("api", "POST", 201, time.Second)
	m.Request("api", "PROPFIND", 207, time.Millisecond)
	m.Request("api", "get", 404, time.Millisecond)
	m.Request("api", "DELETE", 503, 20*time.Second)
	m.Request("admin", "PATCH", 302, time.Millisecond)
	m.Request("", "GET", 404, time.Millisecond)

	m.Decision("api", "allow", "")
	m.Decision("api", "allow", "")
	m.Decision("api", "deny", "expired")
	m.Decision("api", "deny", "kid=abc; sub=alice")
	m.Decision("api", "deny", "totally-unknown")
	m.Decision("", "deny", "no_route")
	m.Decision("api", "maybe", "forbidden")

	m.Upstream("api", 10*time.Millisecond, "")
	m.Upstream("api", 10*time.Millisecond, "error")
	m.Upstream("api", 10*time.Second, "timeout")
	m.Upstream("api", time.Millisecond, "dial tcp 10.0.0.1:443: connection refused")

	m.Account("login", "success")
	m.Account("login", "failure")
	m.Account("login", "failure")
	m.Account("refresh", "reuse")
	m.Account("signup", "unavailable")
	m.Account("logout", "success")
	m.Account("login", "throttled")
	m.Account("delete", "bogus")

	m.RefreshReuse()
	m.RefreshReuse()

	m.LoginThrottled("account")
	m.LoginThrottled("ip")
	m.LoginThrottled("ip")
	m.LoginThrottled("alice@example.com")

	okAt := time.Unix(1_700_000_000, 500_000_000)
	m.JWKSRefresh("corp", "success", okAt.Add(-time.Hour))
	m.JWKSRefresh("corp", "success", okAt)
	m.JWKSRefresh("corp", "failure", okAt.Add(time.Hour))
	m.JWKSRefresh("partner", "failure", okAt)

	m.TokenCache("hit")
	m.TokenCache("hit")
	m.TokenCache("miss")
	m.TokenCache("eviction")
	m.TokenCache("not_admitted")
	m.TokenCache("eyJhbGciOi")

	m.OIDCSignIn("keycloak", "success")
	m.OIDCSignIn("keycloak", "busy")
	m.OIDCSignIn("keycloak", "eyJhbGciOi")

	before := time.Now()
	m.ConfigReload("success", "hash-one")
	m.ConfigReload("failure", "hash-bad")
	m.ConfigReload("success", "hash-two")
	m.ConfigReload("success", "hash-two")

	fams := scrape(t, m)

	counters := []struct {
		name   string
		labels L
		want   float64
	}{
		{"authgate_http_requests_total", L{"route": "api", "method": "GET", "status": "2xx"}, 2},
		{"authgate_http_requests_total", L{"route": "api", "method": "POST", "status": "2xx"}, 1},
		{"authgate_http_requests_total", L{"route": "api", "method": "other", "status": "2xx"}, 1},
		{"authgate_http_requests_total", L{"route": "api", "method": "other", "status": "4xx"}, 1},
		{"authgate_http_requests_total", L{"route": "api", "method": "DELETE", "status": "5xx"}, 1},
		{"authgate_http_requests_total", L{"route": "admin", "method": "PATCH", "status": "3xx"}, 1},
		{"authgate_http_requests_total", L{"route": "none", "method": "GET", "status": "4xx"}, 1},
		{"authgate_http_request_duration_seconds", L{"route": "api"}, 6},
		{"authgate_http_request_duration_seconds", L{"route": "admin"}, 1},

		{"authgate_auth_decisions_total", L{"route": "api", "decision": "allow", "reason": "none"}, 2},
		{"authgate_auth_decisions_total", L{"route": "api", "decision": "deny", "reason": "expired"}, 1},
		{"authgate_auth_decisions_total", L{"route": "api", "decision": "deny", "reason": "other"}, 2},
		{"authgate_auth_decisions_total", L{"route": "none", "decision": "deny", "reason": "no_route"}, 1},
		{"authgate_auth_decisions_total", L{"route": "api", "decision": "other", "reason": "forbidden"}, 1},

		{"authgate_upstream_duration_seconds", L{"route": "api"}, 4},
		{"authgate_upstream_errors_total", L{"route": "api", "kind": "error"}, 1},
		{"authgate_upstream_errors_total", L{"route": "api", "kind": "timeout"}, 1},
		{"authgate_upstream_errors_total", L{"route": "api", "kind": "other"}, 1},

		{"authgate_oidc_signins_total", L{"provider": "keycloak", "result": "success"}, 1},
		{"authgate_oidc_signins_total", L{"provider": "keycloak", "result": "busy"}, 1},
		{"authgate_oidc_signins_total", L{"provider": "keycloak", "result": "other"}, 1},

		{"authgate_account_operations_total", L{"op": "login", "result": "success"}, 1},
		{"authgate_account_operations_total", L{"op": "login", "result": "failure"}, 2},
		{"authgate_account_operations_total", L{"op": "login", "result": "throttled"}, 1},
		{"authgate_account_operations_total", L{"op": "refresh", "result": "reuse"}, 1},
		{"authgate_account_operations_total", L{"op": "signup", "result": "unavailable"}, 1},
		{"authgate_account_operations_total", L{"op": "logout", "result": "success"}, 1},
		{"authgate_account_operations_total", L{"op": "other", "result": "other"}, 1},

		{"authgate_refresh_reuse_detected_total", L{}, 2},

		{"authgate_login_throttled_total", L{"scope": "account"}, 1},
		{"authgate_login_throttled_total", L{"scope": "ip"}, 2},
		{"authgate_login_throttled_total", L{"scope": "other"}, 1},

		{"authgate_jwks_refreshes_total", L{"issuer": "corp", "result": "success"}, 2},
		{"authgate_jwks_refreshes_total", L{"issuer": "corp", "result": "failure"}, 1},
		{"authgate_jwks_refreshes_total", L{"issuer": "partner", "result": "failure"}, 1},
		{"authgate_jwks_last_success_timestamp_seconds", L{"issuer": "corp"}, 1_700_000_000.5},

		{"authgate_token_cache_total", L{"result": "hit"}, 2},
		{"authgate_token_cache_total", L{"result": "miss"}, 1},
		{"authgate_token_cache_total", L{"result": "eviction"}, 1},
		{"authgate_token_cache_total", L{"result": "not_admitted"}, 1},
		{"authgate_token_cache_total", L{"result": "other"}, 1},

		{"authgate_config_reloads_total", L{"result": "success"}, 3},
		{"authgate_config_reloads_total", L{"result": "failure"}, 1},
		{"authgate_config_info", L{"hash": "hash-two"}, 1},

		{"authgate_build_info", L{"version": "1.2.3", "commit": "abc123", "goversion": runtime.Version()}, 1},
	}
	for _, tc := range counters {
		t.Run(tc.name+fmt.Sprint(tc.labels), func(t *testing.T) {
			got, ok := value(fams, tc.name, tc.labels)
			if !ok {
				t.Fatalf("series %s%v missing; have %v", tc.name, tc.labels, series(fams, tc.name))
			}
			if got != tc.want {
				t.Fatalf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
			}
		})
	}

	// Exact series sets: nothing beyond what was asserted above.
	exactCounts := map[string]int{
		"authgate_http_requests_total":                 7,
		"authgate_auth_decisions_total":                5,
		"authgate_upstream_errors_total":               3,
		"authgate_account_operations_total":            7,
		"authgate_login_throttled_total":               3,
		"authgate_token_cache_total":                   5,
		"authgate_jwks_last_success_timestamp_seconds": 1, // partner never succeeded
		"authgate_config_info":                         1, // hash-one was deleted
		"authgate_build_info":                          1,
	}
	for name, n := range exactCounts {
		if got := len(fams[name].GetMetric()); got != n {
			t.Errorf("%s has %d series, want %d: %v", name, got, n, series(fams, name))
		}
	}

	// Histogram: sum and bucket sanity for the request histogram.
	for _, mt := range fams["authgate_http_request_duration_seconds"].GetMetric() {
		if labelsOf(mt)["route"] != "api" {
			continue
		}
		h := mt.GetHistogram()
		if want := 0.005 + 0.005 + 1 + 0.001 + 0.001 + 20; abs(h.GetSampleSum()-want) > 1e-9 {
			t.Errorf("api duration sum = %v, want %v", h.GetSampleSum(), want)
		}
		var bounds []float64
		counts := map[float64]uint64{}
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), +1) {
				bounds = append(bounds, b.GetUpperBound())
			}
			counts[b.GetUpperBound()] = b.GetCumulativeCount()
		}
		if !slices.Equal(bounds, latencyBuckets) {
			t.Errorf("buckets = %v, want %v", bounds, latencyBuckets)
		}
		// le is inclusive: 1ms lands in le=0.001; 20s only in +Inf.
		for le, want := range map[float64]uint64{0.001: 2, 0.005: 4, 1: 5, 10: 5} {
			if got := counts[le]; got != want {
				t.Errorf("le=%v bucket = %d, want %d", le, got, want)
			}
		}
	}

	ts, ok := value(fams, "authgate_config_last_reload_success_timestamp_seconds", L{})
	if !ok || ts < float64(before.Unix()) || ts > float64(time.Now().Unix()+1) {
		t.Errorf("config last reload timestamp = %v (present %v), want ~now", ts, ok)
	}

	// Runtime collectors.
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "go_info"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("Go collector metric %s missing", name)
		}
	}
	if runtime.GOOS == "linux" {
		for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"} {
			if _, ok := fams[name]; !ok {
				t.Errorf("process collector metric %s missing", name)
			}
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestConfigInfoSingleSeries(t *testing.T) {
	steps := []struct {
		result, hash string
		want         string // the one expected hash series; "" = none yet
	}{
		{"failure", "h0", ""},
		{"success", "h1", "h1"},
		{"failure", "h-bad", "h1"},
		{"success", "h2", "h2"},
		{"success", "h2", "h2"},
		{"success", "h1", "h1"},
	}
	m := New("v", "c")
	for i, s := range steps {
		m.ConfigReload(s.result, s.hash)
		got := series(scrape(t, m), "authgate_config_info")
		if s.want == "" {
			if len(got) != 0 {
				t.Fatalf("step %d: config_info = %v, want none", i, got)
			}
			continue
		}
		if len(got) != 1 || got[0]["hash"] != s.want {
			t.Fatalf("step %d: config_info = %v, want exactly hash=%s", i, got, s.want)
		}
	}
}

func TestConcurrentConfigReload(t *testing.T) {
	m := New("v", "c")
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 200 {
				m.ConfigReload("success", fmt.Sprintf("h%d", (i+j)%5))
				m.Request("r", "GET", 200, time.Millisecond)
				m.Decision("r", "deny", "expired")
			}
		}()
	}
	for range 8 {
		<-done
	}
	if got := series(scrape(t, m), "authgate_config_info"); len(got) != 1 {
		t.Fatalf("config_info after concurrent reloads = %v, want one series", got)
	}
}

func TestReasonCardinalityBounded(t *testing.T) {
	m := New("v", "c")
	r := rand.New(rand.NewPCG(1, 2))
	known := Reasons()
	for i := range 1000 {
		var reason string
		switch i % 4 {
		case 0:
			reason = known[r.IntN(len(known))]
		case 1:
			reason = ""
		default:
			b := make([]byte, 1+r.IntN(24))
			for k := range b {
				b[k] = byte(33 + r.IntN(94))
			}
			reason = string(b)
		}
		decision := "deny"
		if r.IntN(2) == 0 {
			decision = "allow"
		}
		m.Decision("api", decision, respond.Reason(reason))
		m.LoginThrottled(reason)
		m.Account(reason, reason)
		m.Upstream("api", time.Millisecond, reason)
	}
	allowed := map[string]bool{"none": true, "other": true}
	for _, k := range known {
		allowed[k] = true
	}
	fams := scrape(t, m)
	reasonsSeen := map[string]bool{}
	for _, l := range series(fams, "authgate_auth_decisions_total") {
		if !allowed[l["reason"]] {
			t.Errorf("unbounded reason label %q", l["reason"])
		}
		if d := l["decision"]; d != "allow" && d != "deny" {
			t.Errorf("unexpected decision label %q", d)
		}
		reasonsSeen[l["reason"]] = true
	}
	if len(reasonsSeen) > len(allowed) {
		t.Errorf("%d reason values, want at most %d", len(reasonsSeen), len(allowed))
	}
	if n := len(fams["authgate_auth_decisions_total"].GetMetric()); n > 2*len(allowed) {
		t.Errorf("decisions has %d series, bound is %d", n, 2*len(allowed))
	}
	limits := map[string]int{
		"authgate_login_throttled_total":    3,     // account, ip, other
		"authgate_account_operations_total": 5 * 6, // 4 ops + other × 5 results + other
		"authgate_upstream_errors_total":    3,     // error, timeout, other
	}
	for name, limit := range limits {
		if n := len(fams[name].GetMetric()); n > limit {
			t.Errorf("%s has %d series, bound is %d: %v", name, n, limit, series(fams, name))
		}
	}
	want := append([]string{"none", "other"}, known...)
	sort.Strings(want)
	if len(known) != 14 {
		t.Errorf("fixed reason set has %d members, want 14: %v", len(known), want)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	calls := []struct {
		name string
		fn   func()
	}{
		{"Request", func() { m.Request("r", "GET", 200, time.Second) }},
		{"Decision", func() { m.Decision("r", "deny", "expired") }},
		{"Upstream", func() { m.Upstream("r", time.Second, "timeout") }},
		{"Account", func() { m.Account("login", "success") }},
		{"RefreshReuse", func() { m.RefreshReuse() }},
		{"LoginThrottled", func() { m.LoginThrottled("ip") }},
		{"JWKSRefresh", func() { m.JWKSRefresh("corp", "success", time.Now()) }},
		{"ConfigReload", func() { m.ConfigReload("success", "h") }},
		{"TokenCache", func() { m.TokenCache("hit") }},
		{"Registry", func() {
			if m.Registry() != nil {
				t.Error("nil Metrics has a registry")
			}
		}},
		{"Handler", func() {
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			if rec.Code != http.StatusNotFound {
				t.Errorf("nil Handler status %d, want 404", rec.Code)
			}
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s panicked on nil *Metrics: %v", c.name, r)
				}
			}()
			c.fn()
		})
	}
}

func TestIndependentRegistries(t *testing.T) {
	a, b := New("a", "1"), New("b", "2") // must not panic with duplicate registration
	a.RefreshReuse()
	fa, fb := scrape(t, a), scrape(t, b)
	if v, _ := value(fa, "authgate_refresh_reuse_detected_total", L{}); v != 1 {
		t.Errorf("a reuse = %v, want 1", v)
	}
	if v, _ := value(fb, "authgate_refresh_reuse_detected_total", L{}); v != 0 {
		t.Errorf("b reuse = %v, want 0", v)
	}
}
