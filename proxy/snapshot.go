package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/browser"
	"github.com/authgate/authgate/proxy/clientip"
	"github.com/authgate/authgate/proxy/crossorigin"
	"github.com/authgate/authgate/proxy/headers"
	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/metrics"
	"github.com/authgate/authgate/proxy/oidc"
	"github.com/authgate/authgate/proxy/policy"
	"github.com/authgate/authgate/proxy/route"
	"github.com/authgate/authgate/proxy/token"
)

// AuthMode says what a route asks of a request's bearer token.
type AuthMode uint8

const (
	// AuthNone forwards every request without looking at tokens. Identity
	// headers sent by the client are still removed.
	AuthNone AuthMode = iota
	// AuthOptional forwards anonymous requests, but rejects a token that
	// is present and invalid.
	AuthOptional
	// AuthRequired rejects requests without a valid token.
	AuthRequired
)

// String returns the mode as the configuration writes it.
func (m AuthMode) String() string {
	switch m {
	case AuthNone:
		return "none"
	case AuthOptional:
		return "optional"
	case AuthRequired:
		return "required"
	}
	return fmt.Sprintf("AuthMode(%d)", uint8(m))
}

// Route is one route as the request path needs it: which requests it
// matches, what identity they need, and where they go.
type Route struct {
	// Name identifies the route in logs and metrics, and is the audience
	// of its identity tokens.
	Name string
	// Match selects the requests of the route; the first route that
	// matches wins.
	Match route.Rule
	// Auth is what the route asks of a bearer token.
	Auth AuthMode
	// Issuers are the issuer names whose tokens the route accepts; empty
	// accepts every issuer the Verifier trusts.
	Issuers []string
	// Require is what a verified identity must hold (roles, scopes,
	// claims).
	Require policy.Requirement
	// IdentityToken adds a signed X-Auth-Token for the upstream; it needs
	// Settings.IdentitySigner.
	IdentityToken bool
	// Upstream is the base URL requests are forwarded to.
	Upstream *url.URL
	// StripPrefix is removed from the request path before forwarding.
	StripPrefix string
	// PreserveHost forwards the client's Host instead of the upstream's.
	PreserveHost bool
	// ForwardAuthorization forwards the client's Authorization header.
	ForwardAuthorization bool
	// Browser sends a browser navigation without a live session to sign
	// in (through Settings.Browser's renewal) instead of answering 401.
	Browser bool
	// Provider, when set, is the external provider a Browser route's
	// navigation without a session signs in through, instead of the
	// sign-in page.
	Provider string
	// Transport carries requests to the upstream. Snapshots share
	// transports so that upstream connections outlive a reload.
	Transport http.RoundTripper
	// CORS, when set, lets pages of other origins call the route: its
	// preflights are answered without authentication and never
	// forwarded, every answer to an actual request carries its CORS
	// headers (authgate's 401 and 403 included), and the upstream's own
	// Access-Control-* headers are dropped. Nil: no CORS, and preflights
	// are requests like any other.
	CORS *crossorigin.Policy
}

// IdentityHeader is a header set on forwarded requests (and decision
// answers) from a claim of the verified identity. Claim "sub" is the
// identity's subject and "roles" its roles, whatever claims the issuer
// carries them in; any other claim is a dotted path into the token.
type IdentityHeader struct {
	Name  string
	Claim string
}

// Check is one readiness check: Run returns nil when what it checks can
// serve traffic, otherwise what is wrong.
type Check struct {
	Name string
	Run  func(context.Context) error
	// Advisory checks are reported but do not make the process unready
	// (an external sign-in provider that is down).
	Advisory bool
}

// Documents are the public discovery documents served under
// /.well-known/: authgate's JWK Set and its OpenID discovery document.
type Documents struct {
	JWKS, Discovery []byte
}

// Revoker tells whether the access token behind an identity of
// authgate's own was revoked; *accounts.Revocations implements it.
type Revoker interface {
	Revoked(id *identity.Identity) bool
}

// Verifier verifies bearer tokens. *token.Verifier implements it, and so
// does a *tokencache.Cache in front of one; revocation and route policy
// are checked after Verify on every request, cached or not.
type Verifier interface {
	Verify(raw string) (*identity.Identity, error)
}

// Settings is everything one configuration gives the request path. The
// caller builds it (package assemble does, from a config file) and must
// not change it after NewSnapshot.
type Settings struct {
	// Realm is named in WWW-Authenticate challenges.
	Realm string
	// Routes in match order.
	Routes []Route
	// Verifier verifies bearer tokens; nil when no route authenticates.
	Verifier Verifier
	// Revocations are consulted for authgate's own tokens. Nil revokes
	// nothing.
	Revocations Revoker
	// Accounts serves the account endpoints; nil when there are none.
	Accounts *accounts.Service
	// AccountsCORS is the CORS policy of the account endpoints, as a
	// route's CORS is of the route; nil for none.
	AccountsCORS *crossorigin.Policy
	// Browser serves the sign-in pages and makes every route accept the
	// session cookie; nil when browsers have no sessions.
	Browser *browser.Sessions
	// SignIn serves the sign-in through external OpenID Connect
	// providers; nil when there are none.
	SignIn *oidc.Handler
	// Documents are served under /.well-known/; nil serves none.
	Documents *Documents
	// IdentityHeaders are set from every identity; IssuerHeaders adds more
	// for identities of one issuer (by issuer name).
	IdentityHeaders []IdentityHeader
	IssuerHeaders   map[string][]IdentityHeader
	// IdentitySigner signs X-Auth-Token identity tokens; nil without an
	// asymmetric signing key.
	IdentitySigner *token.Signer
	// CacheControl is sent with allowed decision answers.
	CacheControl string
	// TrustedProxies may ask the decision endpoints, and their
	// X-Forwarded-* headers are believed.
	TrustedProxies clientip.Trusted
	// BodyReadTimeout bounds the wait for each read of a request body;
	// 0 means none. A client that stalls longer gets 408 (or, when the
	// upstream already answered, its upload is cut). ReadTimeout is the
	// server's whole-request bound (0 for none), which the body's read
	// deadlines never extend.
	BodyReadTimeout time.Duration
	ReadTimeout     time.Duration
	// Checks decide readiness, in order.
	Checks []Check
	// Logger receives upstream errors and the access log. Nil discards.
	Logger *slog.Logger
	// Metrics records requests, decisions and upstream timings. Nil
	// records nothing.
	Metrics *metrics.Metrics
	// Release, when set, is called once when the snapshot is retired (a
	// Gateway swapped another in, or closed), to give back what the
	// snapshot holds of longer-lived resources. Requests in flight may
	// still be using it.
	Release func()
}

// Snapshot is one configuration compiled for the request path: route
// table, reverse proxies, verifier and identity headers. It is immutable;
// a Gateway reads it through an atomic pointer, so requests never take a
// lock and a reload never disturbs requests in flight.
type Snapshot struct {
	Settings
	table           *route.Table
	routes          []*gatewayRoute
	strip           *headers.Set // identity headers removed from every request
	decisionHeaders []string     // every identity header, set empty when absent
	cors            bool         // some route has a CORS policy
	release         sync.Once
}

// gatewayRoute is one compiled route.
type gatewayRoute struct {
	Route
	issuers map[string]bool // nil: every issuer
	proxy   *httputil.ReverseProxy
}

// NewSnapshot compiles s. It fails when a route's match rule is invalid,
// when a route authenticates without a Verifier, or when a route lacks an
// upstream or transport.
func NewSnapshot(s Settings) (*Snapshot, error) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Revocations == nil {
		s.Revocations = noRevocations{}
	}
	snap := &Snapshot{Settings: s}
	names := []string{identityTokenHeader}
	for _, h := range s.IdentityHeaders {
		names = append(names, http.CanonicalHeaderKey(h.Name))
	}
	for _, hs := range s.IssuerHeaders {
		for _, h := range hs {
			names = append(names, http.CanonicalHeaderKey(h.Name))
		}
	}
	snap.decisionHeaders = slices.Compact(slices.Sorted(slices.Values(names)))
	snap.strip = headers.NewSet(names...)
	snap.IdentityHeaders = canonical(s.IdentityHeaders)
	snap.IssuerHeaders = make(map[string][]IdentityHeader, len(s.IssuerHeaders))
	for name, hs := range s.IssuerHeaders {
		snap.IssuerHeaders[name] = canonical(hs)
	}

	rules := make([]route.Rule, len(s.Routes))
	for i, r := range s.Routes {
		switch {
		case r.Auth != AuthNone && s.Verifier == nil:
			return nil, fmt.Errorf("route %s: auth %s needs a token verifier", r.Name, r.Auth)
		case r.Upstream == nil || r.Transport == nil:
			return nil, fmt.Errorf("route %s: no upstream", r.Name)
		case r.IdentityToken && s.IdentitySigner == nil:
			return nil, fmt.Errorf("route %s: identity tokens need a signer", r.Name)
		case r.Browser && s.Browser == nil:
			return nil, fmt.Errorf("route %s: browser routes need the sign-in pages", r.Name)
		}
		rules[i] = r.Match
		gr := &gatewayRoute{Route: r}
		if len(r.Issuers) > 0 {
			gr.issuers = make(map[string]bool, len(r.Issuers))
			for _, name := range r.Issuers {
				gr.issuers[name] = true
			}
		}
		gr.proxy = snap.newReverseProxy(gr)
		snap.cors = snap.cors || r.CORS != nil
		snap.routes = append(snap.routes, gr)
	}
	table, err := route.NewTable(rules)
	if err != nil {
		return nil, err
	}
	snap.table = table
	return snap, nil
}

// Accounts returns the account endpoints, nil when the snapshot serves
// none. The 'authgate users' command administers through it.
func (s *Snapshot) Accounts() *accounts.Service { return s.Settings.Accounts }

// retire releases what the snapshot holds, once.
func (s *Snapshot) retire() {
	s.release.Do(func() {
		if s.Release != nil {
			s.Release()
		}
	})
}

// Readiness is the answer to /readyz: whether this process should receive
// traffic, and the state of each check.
type Readiness struct {
	Ready bool `json:"ready"`
	// Checks maps a check ("config", "store", "issuer:corp") to "ok" or
	// what is wrong.
	Checks map[string]string `json:"checks"`
}

// readiness runs the snapshot's checks.
func (s *Snapshot) readiness(ctx context.Context) Readiness {
	r := Readiness{Ready: true, Checks: map[string]string{"config": "ok"}}
	for _, c := range s.Checks {
		if err := c.Run(ctx); err != nil {
			r.Ready = r.Ready && c.Advisory
			r.Checks[c.Name] = err.Error()
			continue
		}
		r.Checks[c.Name] = "ok"
	}
	return r
}

func canonical(hs []IdentityHeader) []IdentityHeader {
	out := make([]IdentityHeader, len(hs))
	for i, h := range hs {
		out[i] = IdentityHeader{Name: http.CanonicalHeaderKey(h.Name), Claim: h.Claim}
	}
	// A stable order keeps headers and tests deterministic.
	slices.SortFunc(out, func(a, b IdentityHeader) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

type noRevocations struct{}

func (noRevocations) Revoked(*identity.Identity) bool { return false }
