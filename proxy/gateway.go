// Package proxy is authgate's traffic handler: it matches each request to a
// route, authenticates the bearer token the route asks for, checks the
// route's requirements, and forwards the request with identity headers to
// the route's upstream through httputil.ReverseProxy.
//
// A Gateway compiles its configuration once into an immutable runtime (route
// table, verifier, reverse proxies) and reads it per request through an
// atomic pointer, so requests never take a lock and Reload swaps a new
// configuration in without disturbing requests in flight.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/metrics"
	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/route"
	"github.com/authgate/authgate/proxy/throttle"
	"github.com/authgate/authgate/proxy/token"
)

// Options are a Gateway's dependencies beyond its configuration.
type Options struct {
	// Logger receives operational messages (upstream errors, reloads). Nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock for token expiry. Nil means time.Now.
	Now func() time.Time
	// Store holds accounts and revocations. Required when the config serves
	// accounts; the caller opens and closes it.
	Store accounts.Store
	// Metrics receives requests, decisions, upstream timings, account
	// events and JWKS fetches. Nil records nothing.
	Metrics *metrics.Metrics
}

// Gateway is an http.Handler that authenticates and forwards requests per
// the configured routes. It is safe for concurrent use.
type Gateway struct {
	rt      atomic.Pointer[runtime]
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics.Metrics

	// State that outlives one configuration, kept across Reload.
	store       accounts.Store
	revocations *accounts.Revocations
	acctLimiter *throttle.Limiter
	ipLimiter   *throttle.Limiter
	hashers     sync.Map // hash_concurrency → *password.Hasher (see hasher)
}

// New compiles cfg, which must have passed Validate (config.Load does
// that), and returns a Gateway serving it. Errors name the config key at
// fault, such as an unreadable signing key.
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	g := &Gateway{logger: opts.Logger, now: opts.Now, store: opts.Store, metrics: opts.Metrics,
		revocations: accounts.NewRevocations()}
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	g.acctLimiter = throttle.New(throttle.Config{Free: 5}, g.now)
	g.ipLimiter = throttle.New(throttle.Config{Free: 50}, g.now)
	if g.store != nil {
		if err := g.revocations.Load(context.Background(), g.store, g.now()); err != nil {
			return nil, fmt.Errorf("store: load revocations: %w", err)
		}
	}
	if err := g.Reload(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

// Reload compiles cfg and, only if that succeeds, makes it the
// configuration for new requests. Requests in flight finish on the
// configuration they started with.
func (g *Gateway) Reload(cfg *config.Config) error {
	rt, err := g.compile(cfg)
	if err != nil {
		return err
	}
	if old := g.rt.Swap(rt); old != nil {
		// No new request can pick the old runtime any more.
		old.close()
	}
	return nil
}

// forwarding is what ServeHTTP decided about a request, handed to Rewrite
// through the request context.
type forwarding struct {
	path    string              // canonical request path
	sent    time.Time           // when the request left for the upstream
	id      *identity.Identity  // nil for anonymous requests
	headers []identityHeaderVal // identity headers to set upstream
}

type forwardingKey struct{}

// ServeHTTP routes, authenticates, authorizes and forwards one request, and
// writes its access-log line.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &accessRecord{ResponseWriter: w, requestID: requestID(r)}
	// The request id goes upstream (ReverseProxy copies the header) and
	// back to the client.
	r.Header.Set("X-Request-Id", rec.requestID)
	w.Header().Set("X-Request-Id", rec.requestID)
	fw := g.serve(rec, r)
	var subject string
	if fw.id != nil {
		subject = fw.id.Subject
	}
	g.logAccess(r.Context(), r, rec, fw.path, subject, start)
	g.record(r, rec, start)
}

func (g *Gateway) serve(w *accessRecord, r *http.Request) *forwarding {
	rt := g.rt.Load()
	fw := &forwarding{}
	// Decision endpoints are recognised on the path as received: after
	// /auth/ext-authz everything is Envoy's original path, dot segments
	// included, and must never be cleaned into some other route of ours.
	if dialect := decisionDialect(r.URL.Path); dialect != "" {
		return g.decide(w, r, rt, dialect, fw)
	}
	p, err := route.CleanPath(r.URL.Path)
	if err != nil {
		w.reason = "bad_path"
		respond.Error(w, http.StatusBadRequest, "invalid request path")
		return fw
	}
	fw.path = p
	if dialect := decisionDialect(p); dialect != "" {
		return g.decide(w, r, rt, dialect, fw)
	}
	if rt.accounts != nil && rt.accounts.Owns(p) {
		w.route = "accounts"
		r2, u := *r, *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		rt.accounts.ServeHTTP(w, &r2)
		return fw
	}
	if rt.wellKnown != nil && rt.wellKnown.serve(w, r, p) {
		w.route = "well_known"
		return fw
	}
	rr := rt.admit(w, r.Header, r.Host, r.Method, fw, http.StatusNotFound)
	if rr == nil {
		return fw
	}
	ctx := context.WithValue(r.Context(), forwardingKey{}, fw)
	rr.proxy.ServeHTTP(w, r.WithContext(ctx))
	return fw
}

// admit matches the request (canonical path fw.path) to its route, applies
// the route's authentication and requirements, and fills fw.id and
// fw.headers. It returns the route when the request may pass; otherwise it
// has answered: noRoute when no route matches, the denial when auth fails.
func (rt *runtime) admit(w *accessRecord, h http.Header, host, method string, fw *forwarding, noRoute int) *gatewayRoute {
	i := rt.table.Match(host, method, fw.path)
	if i < 0 {
		w.reason = "no_route"
		respond.Error(w, noRoute, "no route for this request")
		return nil
	}
	rr := rt.routes[i]
	w.route = rr.name
	var err error
	if fw.id, err = rt.authenticate(h, rr); err == nil && fw.id != nil {
		fw.headers, err = rt.identityHeaders(fw.id, rr)
	}
	if err != nil {
		w.reason = respond.Deny(w, rt.realm, err).Reason
		return nil
	}
	return rr
}

// authenticate applies the route's auth mode. It returns a nil identity for
// an anonymous request the route lets through. When the identity is valid but
// fails the route's requirements it returns both, for the access log.
func (rt *runtime) authenticate(h http.Header, rr *gatewayRoute) (*identity.Identity, error) {
	if rr.auth == config.AuthNone {
		return nil, nil
	}
	raw, err := token.FromHeader(h)
	if err != nil {
		if rr.auth == config.AuthOptional && errors.Is(err, token.ErrMissing) {
			return nil, nil
		}
		return nil, err
	}
	id, err := rt.verifier.Verify(raw)
	if err != nil {
		return nil, err
	}
	if id.Issuer == OwnIssuerName && rt.revocations.Revoked(id) {
		return nil, fmt.Errorf("%w: revoked", token.ErrInvalid)
	}
	if rr.issuers != nil && !rr.issuers[id.Issuer] {
		return nil, fmt.Errorf("%w: issuer %s not accepted on route %s", token.ErrInvalid, id.Issuer, rr.name)
	}
	if err := rr.require.Check(id); err != nil {
		return id, err // verified but not allowed: the access log names who
	}
	return id, nil
}

var _ http.Handler = (*Gateway)(nil)

// Accounts returns the account endpoints of the current configuration, nil
// when it serves none. The 'authgate users' command administers through it.
func (g *Gateway) Accounts() *accounts.Service { return g.rt.Load().accounts }

// SyncRevocations reloads revocations from the store every interval until
// ctx is done, forgets expired ones, and hourly prunes what has ended from
// the store: logouts and password changes made
// by other replicas or by 'authgate users' reach this process within one
// interval. Requests never wait for it. Without a store it returns at once.
func (g *Gateway) SyncRevocations(ctx context.Context, interval time.Duration) {
	if g.store == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := g.now()
			if err := g.revocations.Load(ctx, g.store, now); err != nil && ctx.Err() == nil {
				g.logger.Warn("revocation sync failed", "error", err)
			}
			g.revocations.Sweep(now)
		case <-prune.C:
			if err := g.store.Prune(ctx, g.now()); err != nil && ctx.Err() == nil {
				g.logger.Warn("store prune failed", "error", err)
			}
		}
	}
}

// pruneInterval is how often ended families, their tokens and expired
// revocations are deleted from the store.
const pruneInterval = time.Hour
