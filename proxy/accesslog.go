package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

// accessRecord wraps a ResponseWriter to capture what the access log needs.
// Unwrap keeps http.ResponseController (used by ReverseProxy to flush and
// hijack) working through it.
type accessRecord struct {
	http.ResponseWriter
	status    int
	bytes     int64
	route     string
	reason    string // why the request was denied or failed; "" when allowed
	requestID string
}

func (a *accessRecord) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *accessRecord) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	n, err := a.ResponseWriter.Write(p)
	a.bytes += int64(n)
	return n, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (a *accessRecord) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// logAccess writes the one access-log line of a request. It never logs the
// query string, a header value, a token or a cookie.
func (g *Gateway) logAccess(ctx context.Context, r *http.Request, rec *accessRecord, path, subject string, start time.Time) {
	if !g.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	decision := "allow"
	if rec.reason != "" {
		decision = "deny"
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("request_id", rec.requestID),
		slog.String("route", rec.route),
		slog.String("method", r.Method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("decision", decision),
		slog.String("reason", rec.reason),
		slog.String("subject", subject),
	)
}

// maxRequestID bounds a client's X-Request-Id.
const maxRequestID = 128

// requestID returns the request's X-Request-Id when it is a short token of
// letters, digits, '-', '_', '.' and ':', or a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= maxRequestID && isIDToken(id) {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isIDToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// record counts the request and its decision in the metrics.
func (g *Gateway) record(r *http.Request, rec *accessRecord, start time.Time) {
	if g.metrics == nil {
		return
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	route := rec.route
	if route == "" {
		route = "none"
	}
	g.metrics.Request(route, r.Method, status, time.Since(start))
	decision := "allow"
	if rec.reason != "" {
		decision = "deny"
	}
	g.metrics.Decision(route, decision, rec.reason)
}
