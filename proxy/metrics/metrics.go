// Package metrics holds authgate's Prometheus instrumentation.
//
// Every metric lives on a registry owned by a *Metrics value; nothing is
// registered on the global default registry. All label values are bounded:
// routes and issuers are configured names, everything else is folded into a
// fixed set of classes, so no subject, kid, raw issuer URL, request path or
// token can ever become a label value.
//
// A nil *Metrics is valid: every method is a no-op on a nil receiver, so
// callers never need nil checks when metrics are disabled.
package metrics

import (
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate/proxy/respond"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "authgate"

// Other is the label value that any out-of-set input is folded into.
const Other = "other"

// None is the label value used for an empty reason or route.
const None = "none"

// Metrics owns authgate's Prometheus registry and collectors. The zero value
// is not usable; build one with New. A nil *Metrics is a valid no-op.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	decisions       *prometheus.CounterVec
	upstreamDur     *prometheus.HistogramVec
	upstreamErrors  *prometheus.CounterVec
	account         *prometheus.CounterVec
	refreshReuse    prometheus.Counter
	loginThrottled  *prometheus.CounterVec
	jwksRefreshes   *prometheus.CounterVec
	jwksLastSuccess *prometheus.GaugeVec
	configReloads   *prometheus.CounterVec
	configInfo      *prometheus.GaugeVec
	configLastOK    prometheus.Gauge
	tokenCache      *prometheus.CounterVec
	oidcSignIns     *prometheus.CounterVec

	mu         sync.Mutex // guards configHash and the configInfo swap
	configHash string
	hasHash    bool
}

// latencyBuckets spans 1ms to 10s in 1-2.5-5 steps; slower samples land in +Inf.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New builds a Metrics with a fresh registry holding the Go and process
// collectors, every authgate metric, and authgate_build_info{version,commit,
// goversion} set to 1.
func New(version, commit string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := promauto.With(reg)
	m := &Metrics{reg: reg}

	f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Build information about the running authgate binary; always 1.",
	}, []string{"version", "commit", "goversion"}).
		WithLabelValues(version, commit, runtime.Version()).Set(1)

	m.requests = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests served, by route, method class and status class.",
	}, []string{"route", "method", "status"})
	m.requestDuration = f.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "End-to-end HTTP request latency in seconds, by route.",
		Buckets: latencyBuckets,
	}, []string{"route"})
	m.decisions = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "auth", Name: "decisions_total",
		Help: "Authorization decisions, by route, decision (allow|deny) and reason.",
	}, []string{"route", "decision", "reason"})
	m.upstreamDur = f.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "upstream", Name: "duration_seconds",
		Help:    "Upstream round-trip latency in seconds, by route.",
		Buckets: latencyBuckets,
	}, []string{"route"})
	m.upstreamErrors = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "upstream", Name: "errors_total",
		Help: "Failed upstream round trips, by route and kind (error|timeout).",
	}, []string{"route", "kind"})
	m.account = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "account", Name: "operations_total",
		Help: "Account operations, by op (login|signup|refresh|logout) and result.",
	}, []string{"op", "result"})
	m.oidcSignIns = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "oidc", Name: "signins_total",
		Help: "Sign-ins through external OpenID Connect providers, by provider and result.",
	}, []string{"provider", "result"})
	m.refreshReuse = f.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "refresh", Name: "reuse_detected_total",
		Help: "Refresh tokens presented again after rotation (possible theft).",
	})
	m.loginThrottled = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "login", Name: "throttled_total",
		Help: "Login attempts rejected by the throttle, by scope (account|ip).",
	}, []string{"scope"})
	m.jwksRefreshes = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "jwks", Name: "refreshes_total",
		Help: "JWKS refresh attempts, by configured issuer name and result.",
	}, []string{"issuer", "result"})
	m.jwksLastSuccess = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "jwks", Name: "last_success_timestamp_seconds",
		Help: "Unix time of the last successful JWKS refresh, by issuer name.",
	}, []string{"issuer"})
	m.configReloads = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "config", Name: "reloads_total",
		Help: "Configuration reload attempts, by result (success|failure).",
	}, []string{"result"})
	m.configInfo = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "config", Name: "info",
		Help: "Hash of the active configuration; exactly one series, value 1.",
	}, []string{"hash"})
	m.configLastOK = f.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "config", Name: "last_reload_success_timestamp_seconds",
		Help: "Unix time of the last successful configuration reload.",
	})
	m.tokenCache = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "token_cache", Name: "total",
		Help: "Verified-token cache lookups, evictions and verified tokens not stored (seen once), by result (hit|miss|eviction|not_admitted).",
	}, []string{"result"})
	return m
}

// Handler returns the scrape handler for this registry. Collection errors
// are reported in the response but do not fail the whole scrape. On a nil
// receiver it returns a handler answering 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
}

// Registry returns the underlying registry (nil on a nil receiver), for
// tests and for registering extra collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Request records one served HTTP request: authgate_http_requests_total
// {route,method,status} and authgate_http_request_duration_seconds{route}.
// The method is folded to a standard verb or "other" and the status to its
// class ("1xx".."5xx", else "other"). route must be a configured route name.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	route = routeLabel(route)
	m.requests.WithLabelValues(route, MethodClass(method), StatusClass(status)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Decision records an authorization decision in
// authgate_auth_decisions_total{route,decision,reason}. decision is
// allow|deny (else "other"); reason is folded with ReasonLabel.
func (m *Metrics) Decision(route, decision string, reason respond.Reason) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(routeLabel(route), fold(decision, decisions), ReasonLabel(string(reason))).Inc()
}

// Upstream records one upstream round trip: its latency in
// authgate_upstream_duration_seconds{route} and, when err is non-empty,
// authgate_upstream_errors_total{route,kind} with kind "error" or "timeout"
// (any other value becomes "other").
func (m *Metrics) Upstream(route string, d time.Duration, err string) {
	if m == nil {
		return
	}
	route = routeLabel(route)
	m.upstreamDur.WithLabelValues(route).Observe(d.Seconds())
	if err != "" {
		m.upstreamErrors.WithLabelValues(route, fold(err, upstreamKinds)).Inc()
	}
}

// Account records an account operation in authgate_account_operations_total
// {op,result}: op login|signup|refresh|logout, result
// success|failure|throttled|unavailable|reuse; anything else is "other".
func (m *Metrics) Account(op, result string) {
	if m == nil {
		return
	}
	m.account.WithLabelValues(fold(op, accountOps), fold(result, accountResults)).Inc()
}

// OIDCSignIn records a sign-in through an external provider in
// authgate_oidc_signins_total{provider,result}. provider is a configured
// provider's name; a result outside the known set is "other".
func (m *Metrics) OIDCSignIn(provider, result string) {
	if m == nil {
		return
	}
	m.oidcSignIns.WithLabelValues(provider, fold(result, oidcResults)).Inc()
}

// RefreshReuse increments authgate_refresh_reuse_detected_total.
func (m *Metrics) RefreshReuse() {
	if m == nil {
		return
	}
	m.refreshReuse.Inc()
}

// LoginThrottled increments authgate_login_throttled_total{scope}; scope is
// account_ip|account|ip, anything else is "other".
func (m *Metrics) LoginThrottled(scope string) {
	if m == nil {
		return
	}
	m.loginThrottled.WithLabelValues(fold(scope, throttleScopes)).Inc()
}

// JWKSRefresh records a JWKS refresh attempt in authgate_jwks_refreshes_total
// {issuer,result} (result success|failure, else "other"). On success it also
// sets authgate_jwks_last_success_timestamp_seconds{issuer} to at. issuer
// must be the configured issuer name, never the raw iss URL.
func (m *Metrics) JWKSRefresh(issuer, result string, at time.Time) {
	if m == nil {
		return
	}
	result = fold(result, outcomes)
	m.jwksRefreshes.WithLabelValues(issuer, result).Inc()
	if result == "success" {
		m.jwksLastSuccess.WithLabelValues(issuer).Set(unixSeconds(at))
	}
}

// ConfigReload records a configuration reload in
// authgate_config_reloads_total{result} (success|failure, else "other"). On
// success it replaces authgate_config_info{hash} so exactly one series (the
// new hash, value 1) remains, and sets
// authgate_config_last_reload_success_timestamp_seconds to now.
func (m *Metrics) ConfigReload(result, hash string) {
	if m == nil {
		return
	}
	result = fold(result, outcomes)
	m.configReloads.WithLabelValues(result).Inc()
	if result != "success" {
		return
	}
	m.mu.Lock()
	if m.hasHash && m.configHash != hash {
		m.configInfo.DeleteLabelValues(m.configHash)
	}
	m.configInfo.WithLabelValues(hash).Set(1)
	m.configHash, m.hasHash = hash, true
	m.mu.Unlock()
	m.configLastOK.Set(unixSeconds(time.Now()))
}

// TokenCache increments authgate_token_cache_total{result}; result is
// hit|miss|eviction|not_admitted, anything else is "other".
func (m *Metrics) TokenCache(result string) {
	if m == nil {
		return
	}
	m.tokenCache.WithLabelValues(fold(result, tokenCacheResults)).Inc()
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

type set map[string]struct{}

func newSet(vals ...string) set {
	s := make(set, len(vals))
	for _, v := range vals {
		s[v] = struct{}{}
	}
	return s
}

var (
	methods           = newSet("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
	decisions         = newSet("allow", "deny")
	reasons           = reasonSet()
	upstreamKinds     = newSet("error", "timeout")
	accountOps        = newSet("login", "signup", "refresh", "logout")
	accountResults    = newSet("success", "failure", "throttled", "unavailable", "reuse")
	throttleScopes    = newSet("account_ip", "account", "ip")
	outcomes          = newSet("success", "failure")
	tokenCacheResults = newSet("hit", "miss", "eviction", "not_admitted")
	oidcResults       = newSet("success", "forbidden", "unavailable", "bad_state", "denied", "mix_up",
		"exchange_failed", "bad_id_token", "bad_nonce", "bad_redirect", "method", "error", "busy")
)

// reasonSet is respond's closed set of reasons.
func reasonSet() set {
	s := set{}
	for _, r := range respond.Reasons() {
		s[string(r)] = struct{}{}
	}
	return s
}

// Reasons returns the fixed set of decision reasons accepted as labels
// (excluding the "none" and "other" fold targets).
func Reasons() []string {
	out := make([]string, 0, len(reasons))
	for r := range reasons {
		out = append(out, r)
	}
	return out
}

func fold(v string, allowed set) string {
	if _, ok := allowed[v]; ok {
		return v
	}
	return Other
}

func routeLabel(route string) string {
	if route == "" {
		return None
	}
	return route
}

// ReasonLabel folds a decision reason to its label value: a member of the
// fixed reason set is kept, "" becomes "none", anything else "other".
func ReasonLabel(reason string) string {
	if reason == "" {
		return None
	}
	return fold(reason, reasons)
}

// MethodClass folds an HTTP method to GET, HEAD, POST, PUT, PATCH, DELETE,
// OPTIONS or "other". Matching is case-sensitive, as methods are.
func MethodClass(method string) string {
	return fold(method, methods)
}

// StatusClass maps an HTTP status code to "1xx".."5xx", or "other" when it
// is outside 100..599.
func StatusClass(status int) string {
	switch {
	case status >= 100 && status < 200:
		return "1xx"
	case status >= 200 && status < 300:
		return "2xx"
	case status >= 300 && status < 400:
		return "3xx"
	case status >= 400 && status < 500:
		return "4xx"
	case status >= 500 && status < 600:
		return "5xx"
	}
	return Other
}
