package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/respond"
)

// exchange is everything the request path learns about one request, from
// routing to the access-log line: the single per-request value. The
// response writer records the status into it, and the reverse proxy finds
// it in the request context.
type exchange struct {
	start     time.Time
	requestID string
	path      string // canonical request path; "" until known
	route     string // route name, "accounts", "well_known" or "decision_<dialect>"
	// reason says why the request was denied or failed; "" when allowed.
	reason  respond.Reason
	id      *identity.Identity  // nil for anonymous requests
	headers []identityHeaderVal // identity headers to set upstream
	sent    time.Time           // when the request left for the upstream
	// bodyTimedOut: the client stalled sending the request body past the
	// body read timeout.
	// Set by the goroutine that sends the body upstream.
	bodyTimedOut atomic.Bool
	status       int
	bytes        int64
	// session says what a browser session did for this request.
	session sessionState
	// provider and signIn are the provider and result of a sign-in
	// through an external provider this request answered (oidc).
	provider, signIn string

	// requestIDIn, requestIDOut and requestIDUp back the X-Request-Id
	// values set on the request, on the answer and upstream, and realIPUp
	// the X-Real-Ip sent upstream, so that setting them allocates nothing.
	// Each is its own one-element array: a header slice is never shared.
	requestIDIn, requestIDOut, requestIDUp, realIPUp [1]string
	// ctx is the request's context with the exchange in it, for the
	// reverse proxy.
	ctx exchangeContext
	// headerBuf backs headers for the default identity headers and an
	// identity token.
	headerBuf [5]identityHeaderVal
}

// exchangeWriter is an exchange and the recorder of its answer, allocated
// together.
type exchangeWriter struct {
	ex  exchange
	rec recorder
}

// newExchange returns the exchange of a request that starts now, and w
// wrapped in its recorder.
func newExchange(w http.ResponseWriter, requestID string) (*exchange, *recorder) {
	ew := &exchangeWriter{ex: exchange{start: time.Now(), requestID: requestID}}
	ew.rec = recorder{ResponseWriter: w, ex: &ew.ex}
	return &ew.ex, &ew.rec
}

type exchangeKey struct{}

// exchangeContext is a request context that holds an exchange under
// exchangeKey: context.WithValue without an allocation of its own.
// Everything else is its parent's.
type exchangeContext struct {
	context.Context
	ex *exchange
}

func (c *exchangeContext) Value(key any) any {
	if _, ok := key.(exchangeKey); ok {
		return c.ex
	}
	return c.Context.Value(key)
}

// withExchange returns r with ex in its context, for exchangeOf.
func (ex *exchange) withExchange(r *http.Request) *http.Request {
	ex.ctx = exchangeContext{Context: r.Context(), ex: ex}
	return r.WithContext(&ex.ctx)
}

// exchangeOf returns the exchange of a request on its way upstream.
func exchangeOf(r *http.Request) *exchange {
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	if ex == nil {
		ex = &exchange{} // never nil: a handler called outside ServeHTTP
	}
	return ex
}

// decision is "allow", or "deny" when the exchange has a reason.
func (ex *exchange) decision() string {
	if ex.reason != "" {
		return "deny"
	}
	return "allow"
}

// finalStatus is the status answered; 200 when the handler wrote nothing.
func (ex *exchange) finalStatus() int {
	if ex.status == 0 {
		return http.StatusOK
	}
	return ex.status
}

// recorder records the status and size of the answer into its exchange.
// Unwrap keeps http.ResponseController (used by ReverseProxy to flush and
// hijack) working through it.
type recorder struct {
	http.ResponseWriter
	ex *exchange
}

func (w *recorder) WriteHeader(code int) {
	if w.ex.status == 0 {
		w.ex.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.ex.status == 0 {
		w.ex.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.ex.bytes += int64(n)
	return n, err
}

// SignInOutcome records the outcome of a sign-in through an external
// provider for the access log; it implements oidc.OutcomeWriter.
func (w *recorder) SignInOutcome(provider, result string) {
	w.ex.provider, w.ex.signIn = provider, result
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAccess writes the one access-log line of a request. It never logs the
// query string, a header value, a token or a cookie.
func (s *Snapshot) logAccess(r *http.Request, ex *exchange) {
	ctx := r.Context()
	if !s.Logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var subject string
	if ex.id != nil {
		subject = ex.id.Subject
	}
	attrs := [...]slog.Attr{
		slog.String("request_id", ex.requestID),
		slog.String("route", ex.route),
		slog.String("method", r.Method),
		slog.String("path", ex.path),
		slog.Int("status", ex.finalStatus()),
		slog.Int64("bytes", ex.bytes),
		slog.Float64("latency_ms", float64(time.Since(ex.start).Microseconds())/1000),
		slog.String("decision", ex.decision()),
		slog.String("reason", string(ex.reason)),
		slog.String("subject", subject),
		// A sign-in through an external provider adds its provider and
		// result.
		slog.String("provider", ex.provider),
		slog.String("signin", ex.signIn),
	}
	n := len(attrs)
	if ex.signIn == "" {
		n -= 2
	}
	s.Logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs[:n]...)
}

// record counts the request and its decision in the metrics.
func (s *Snapshot) record(r *http.Request, ex *exchange) {
	if s.Metrics == nil {
		return
	}
	route := ex.route
	if route == "" {
		route = "none"
	}
	s.Metrics.Request(route, r.Method, ex.finalStatus(), time.Since(ex.start))
	s.Metrics.Decision(route, ex.decision(), ex.reason)
}

// maxRequestID bounds a client's X-Request-Id.
const maxRequestID = 128

// requestID returns the X-Request-Id a trusted proxy sent when it is a
// short token of letters, digits, '-', '_', '.' and ':', or a new random
// one. A client's own id is never kept: it would let the client choose what
// the logs of authgate and the upstream file its request under.
func requestID(r *http.Request, trusted bool) string {
	if id := r.Header.Get("X-Request-Id"); trusted && id != "" && len(id) <= maxRequestID && isIDToken(id) {
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
