// Package proxy is authgate's request path: it matches each request to a
// route, authenticates the bearer token the route asks for, checks the
// route's requirements, and forwards the request with identity headers to
// the route's upstream through httputil.ReverseProxy, or answers a
// forward-auth decision request with the same rules.
//
// The request path reads one immutable [Snapshot] per request through an
// atomic pointer, so requests never take a lock and [Gateway.Swap] puts a
// new configuration in service without disturbing requests in flight.
// Everything a request learns on its way (route, identity, decision, status)
// is kept in one per-request value, the exchange. Turning a configuration
// file into a Snapshot is package assemble's job; this package knows
// nothing of files.
package proxy

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/route"
)

// Gateway is an http.Handler that authenticates and forwards requests per
// the routes of its current Snapshot. It is safe for concurrent use.
type Gateway struct {
	snap   atomic.Pointer[Snapshot]
	mu     sync.Mutex // serialises Swap and Close
	closed bool
}

// New returns a Gateway serving s.
func New(s *Snapshot) *Gateway {
	g := &Gateway{}
	g.snap.Store(s)
	return g
}

// Swap puts s in service for new requests and retires the snapshot it
// replaces: requests in flight finish on the snapshot they started with.
// After Close, Swap retires s at once and keeps the closed state.
func (g *Gateway) Swap(s *Snapshot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		s.retire()
		return
	}
	if old := g.snap.Swap(s); old != nil && old != s {
		// No new request can pick the old snapshot any more.
		old.retire()
	}
}

// Snapshot returns the snapshot in service.
func (g *Gateway) Snapshot() *Snapshot { return g.snap.Load() }

// Close retires the snapshot in service. The Gateway keeps answering from
// it (its resources may be closed by then); call Close after the server
// stopped accepting requests.
func (g *Gateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		g.snap.Load().retire()
	}
}

// Readiness checks what traffic depends on, by the current snapshot's
// checks: a reachable store and keys for every external issuer.
func (g *Gateway) Readiness(ctx context.Context) Readiness {
	return g.snap.Load().readiness(ctx)
}

// ServeHTTP routes, authenticates, authorizes and forwards one request, and
// writes its access-log line.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := g.snap.Load()
	ex, rec := newExchange(w, requestID(r, s.TrustedProxies.Peer(r.RemoteAddr)))
	// The request id goes upstream (ReverseProxy copies the header) and
	// back to the client. (Header.Set, without allocating the value.)
	ex.requestIDIn[0], ex.requestIDOut[0] = ex.requestID, ex.requestID
	r.Header["X-Request-Id"] = ex.requestIDIn[:]
	w.Header()["X-Request-Id"] = ex.requestIDOut[:]
	s.limitBody(w, r, ex)
	s.serve(rec, r, ex)
	s.logAccess(r, ex)
	s.record(r, ex)
}

func (s *Snapshot) serve(w http.ResponseWriter, r *http.Request, ex *exchange) {
	// Decision endpoints are recognised on the path as received: after
	// /auth/ext-authz everything is Envoy's original path, dot segments
	// included, and must never be cleaned into some other route of ours.
	if dialect := decisionDialect(r.URL.Path); dialect != dialectNone {
		s.decide(w, r, dialect, ex)
		return
	}
	p, err := route.CleanPath(r.URL.Path)
	if err != nil {
		ex.reason = respond.ReasonBadPath
		respond.Error(w, http.StatusBadRequest, "invalid request path")
		return
	}
	ex.path = p
	if dialect := decisionDialect(p); dialect != dialectNone {
		s.decide(w, r, dialect, ex)
		return
	}
	if h := s.SignIn; h != nil && h.Serves(p) {
		ex.route = "accounts"
		r2, u := *r, *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		h.ServeHTTP(w, &r2)
		return
	}
	if b := s.Browser; b != nil && b.Serves(r, p) {
		ex.route = "accounts"
		r2, u := *r, *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		b.ServeHTTP(w, &r2)
		return
	}
	if acc := s.Settings.Accounts; acc != nil && acc.Owns(p) {
		ex.route = "accounts"
		if s.AccountsCORS != nil && s.accountsCORS(w, r) {
			return
		}
		r2, u := *r, *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		acc.ServeHTTP(w, &r2)
		return
	}
	if s.Documents != nil && s.Documents.serve(w, r, p) {
		ex.route = "well_known"
		return
	}
	if r.Method == http.MethodOptions && s.cors && s.preflight(w, r, ex) {
		return
	}
	ex.session.uri = r.URL
	rr := s.admit(w, r.Header, r.Host, r.Method, ex, http.StatusNotFound)
	if rr == nil {
		return
	}
	rr.proxy.ServeHTTP(w, ex.withExchange(r))
}

var _ http.Handler = (*Gateway)(nil)
