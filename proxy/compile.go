package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/headers"
	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/metrics"
	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/policy"
	"github.com/authgate/authgate/proxy/route"
	"github.com/authgate/authgate/proxy/token"
)

// OwnIssuerName is the issuer name of authgate's own tokens in routes,
// logs and metrics.
const OwnIssuerName = config.OwnIssuerName

// runtime is one compiled configuration. It is immutable once built.
type runtime struct {
	realm       string
	accounts    *accounts.Service     // nil when accounts are not served
	wellKnown   *wellKnown            // nil without tokens
	revocations *accounts.Revocations // the Gateway's, shared across reloads
	table       *route.Table
	routes      []*gatewayRoute
	verifier    *token.Verifier // nil when no route authenticates
	strip       *headers.Set    // identity headers removed from every request
	idHeaders   []identityHeader
	// claimHeaders are the extra identity headers of each external issuer.
	claimHeaders map[string][]identityHeader
	// sources are the key sources of external issuers, closed with the
	// runtime.
	sources []issuerSource
	// idSigner signs X-Auth-Token identity tokens; nil without a signing key.
	idSigner *token.Signer
	// decisionHeaders are every identity header a decision answer carries,
	// empty when it has no value, so a peer overwrites client copies.
	decisionHeaders []string
	// cacheControl is sent with allowed decisions.
	cacheControl string
	metrics      *metrics.Metrics // the Gateway's; nil records nothing
	trusted      []netip.Prefix
	transport    *transports
}

// gatewayRoute is one compiled route.
type gatewayRoute struct {
	name         string
	auth         string
	issuers      map[string]bool // nil: every issuer
	idToken      bool            // add X-Auth-Token
	require      policy.Requirement
	upstream     *url.URL
	stripPrefix  string
	preserveHost bool
	forwardAuthz bool
	proxy        http.Handler
}

type identityHeader struct {
	name  string // canonical header name
	claim string
}

type identityHeaderVal struct {
	name, value string
}

func (g *Gateway) compile(cfg *config.Config) (_ *runtime, err error) {
	logger, now := g.logger, g.now
	rt := &runtime{realm: cfg.Realm, transport: newTransports(), revocations: g.revocations, metrics: g.metrics,
		claimHeaders: map[string][]identityHeader{}}
	defer func() {
		if err != nil {
			rt.close() // stop the key sources already started
		}
	}()

	names := make([]string, 0, len(cfg.IdentityHeaders))
	for h, claim := range cfg.IdentityHeaders {
		canon := http.CanonicalHeaderKey(h)
		names = append(names, canon)
		rt.idHeaders = append(rt.idHeaders, identityHeader{name: canon, claim: claim})
	}
	for _, is := range cfg.Issuers {
		for h, claim := range is.ClaimHeaders {
			canon := http.CanonicalHeaderKey(h)
			names = append(names, canon)
			rt.claimHeaders[is.Name] = append(rt.claimHeaders[is.Name], identityHeader{name: canon, claim: claim})
		}
	}
	names = append(names, identityTokenHeader)
	rt.decisionHeaders = slices.Compact(slices.Sorted(slices.Values(names)))
	rt.strip = headers.NewSet(names...)
	rt.cacheControl = cfg.ForwardAuth.CacheControl

	for _, s := range cfg.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %w", err)
		}
		rt.trusted = append(rt.trusted, p)
	}

	var trusts []token.Issuer
	var ks []*keys.Key
	if cfg.Tokens != nil {
		if ks, err = LoadKeys(cfg); err != nil {
			return nil, err
		}
		trusts = append(trusts, OwnIssuer(cfg.Tokens, ks...))
	}
	external, err := rt.startIssuers(cfg.Issuers, logger)
	if err != nil {
		return nil, err
	}
	if trusts = append(trusts, external...); len(trusts) > 0 {
		if rt.verifier, err = token.NewVerifier(trusts, now); err != nil {
			return nil, fmt.Errorf("issuers: %w", err)
		}
	}
	if cfg.Tokens != nil {
		if rt.wellKnown, err = newWellKnown(cfg.Tokens, cfg.Accounts, ks); err != nil {
			return nil, err
		}
		if ks[0].Algorithm != keys.HS256 {
			rt.idSigner = token.NewSigner(ks[0], cfg.Tokens.Issuer, cfg.Tokens.Audience, now)
		}
		if cfg.Accounts != nil {
			signer := token.NewSigner(ks[0], cfg.Tokens.Issuer, cfg.Tokens.Audience, now)
			if rt.accounts, err = g.newAccounts(cfg, rt, signer); err != nil {
				return nil, err
			}
		}
	}

	rules := make([]route.Rule, len(cfg.Routes))
	for i := range cfg.Routes {
		rc := &cfg.Routes[i]
		rules[i] = route.Rule{Host: rc.Host, Methods: rc.Methods, Prefix: rc.Path}
		rr, err := rt.compileRoute(rc, logger)
		if err != nil {
			return nil, fmt.Errorf("routes[%d] (%s): %w", i, rc.Name, err)
		}
		rt.routes = append(rt.routes, rr)
	}
	table, err := route.NewTable(rules)
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	rt.table = table
	return rt, nil
}

func (rt *runtime) compileRoute(rc *config.Route, logger *slog.Logger) (*gatewayRoute, error) {
	up, err := url.Parse(rc.Upstream)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	if rc.Auth != config.AuthNone && rt.verifier == nil {
		return nil, errors.New("auth needs tokens to be configured")
	}
	rr := &gatewayRoute{
		name:         rc.Name,
		auth:         rc.Auth,
		issuers:      setOf(rc.Issuers),
		idToken:      rc.IdentityToken,
		require:      policy.Requirement{Roles: rc.Roles, Scopes: rc.Scopes, Claims: rc.Claims},
		upstream:     up,
		stripPrefix:  rc.StripPrefix,
		preserveHost: rc.PreserveHost,
		forwardAuthz: rc.ForwardAuthorization,
	}
	rr.proxy = rt.newReverseProxy(rr, rt.transport.forTimeout(rc.Timeout), logger)
	return rr, nil
}

// LoadKeys loads authgate's own keys: first the one that signs
// (tokens.signing_key, or tokens.hmac_secret), then tokens.verification_keys.
// Paths are resolved against the config file's directory.
func LoadKeys(cfg *config.Config) ([]*keys.Key, error) {
	t := cfg.Tokens
	if t == nil {
		return nil, errors.New("tokens: not configured")
	}
	var signing *keys.Key
	var err error
	if t.HMACSecret != "" {
		if signing, err = keys.NewHMAC([]byte(t.HMACSecret)); err != nil {
			return nil, fmt.Errorf("tokens.hmac_secret: %w", err)
		}
	} else if signing, err = keys.LoadFile(cfg.ResolvePath(t.SigningKey)); err != nil {
		return nil, fmt.Errorf("tokens.signing_key: %w", err)
	}
	ks := []*keys.Key{signing}
	for i, p := range t.VerificationKeys {
		k, err := keys.LoadFile(cfg.ResolvePath(p))
		if err != nil {
			return nil, fmt.Errorf("tokens.verification_keys[%d]: %w", i, err)
		}
		if (k.Algorithm == keys.HS256) != (signing.Algorithm == keys.HS256) {
			// One issuer never mixes HMAC with asymmetric keys (RFC 8725 §3.1).
			return nil, fmt.Errorf("tokens.verification_keys[%d]: cannot mix HS256 with asymmetric keys", i)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// OwnIssuer returns the verification rules of authgate's own tokens: exact
// issuer and audience, the key's algorithm only, and typ at+jwt.
func OwnIssuer(t *config.Tokens, ks ...*keys.Key) token.Issuer {
	return token.Issuer{
		Name:       OwnIssuerName,
		Issuer:     t.Issuer,
		Audience:   []string{t.Audience},
		Algorithms: token.Algorithms(ks...),
		Types:      []string{token.TypeAccessToken},
		Leeway:     t.Leeway,
		Keys:       token.StaticKeys(ks...),
	}
}

// identityHeaders renders the configured identity headers from id's
// verified claims. A claim that would not be a safe header value (CR, LF,
// control characters) fails the request rather than being forwarded.
func (rt *runtime) identityHeaders(id *identity.Identity, rr *gatewayRoute) ([]identityHeaderVal, error) {
	extra := rt.claimHeaders[id.Issuer]
	out := make([]identityHeaderVal, 0, len(rt.idHeaders)+len(extra))
	for _, h := range rt.headersFor(extra) {
		var v string
		var ok bool
		switch h.claim {
		case "sub": // the issuer's subject_claim
			v, ok = id.Subject, true
		case "roles": // the issuer's roles_claim
			v, ok = strings.Join(id.Roles, ","), true
		default:
			v, ok = id.ClaimString(h.claim)
		}
		if !ok || v == "" {
			continue
		}
		if !headers.ValidValue(v) {
			return nil, fmt.Errorf("%w: claim %s is not a valid header value", token.ErrInvalid, h.claim)
		}
		out = append(out, identityHeaderVal{name: h.name, value: v})
	}
	if rr.idToken && rt.idSigner != nil {
		tok, err := rt.identityToken(id, rr.name)
		if err != nil {
			return nil, err
		}
		out = append(out, identityHeaderVal{name: identityTokenHeader, value: tok})
	}
	return out, nil
}

func (rt *runtime) isTrusted(remoteAddr string) bool {
	if len(rt.trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	return rt.trustedAddr(ap.Addr().Unmap())
}

func (rt *runtime) trustedAddr(addr netip.Addr) bool {
	for _, p := range rt.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// newAccounts builds the account endpoints of cfg on the Gateway's
// long-lived store, revocations, limiters and hasher.
func (g *Gateway) newAccounts(cfg *config.Config, rt *runtime, signer *token.Signer) (*accounts.Service, error) {
	a := cfg.Accounts
	if g.store == nil {
		return nil, errors.New("store: accounts need a store, and none was opened")
	}
	hasher, err := g.hasher(a.HashConcurrency)
	if err != nil {
		return nil, err
	}
	return accounts.New(accounts.Config{
		Prefix:       a.PathPrefix,
		OpenSignup:   a.Signup == config.SignupOpen,
		DefaultRoles: a.DefaultRoles,
		Policy:       password.Policy{MinLength: a.PasswordMinLength},
		AccessTTL:    cfg.Tokens.AccessTTL,
		RefreshTTL:   a.RefreshTTL,
		RefreshIdle:  a.RefreshIdle,
		RefreshGrace: a.RefreshGrace,
		Cookie:       a.Cookie,
		Realm:        cfg.Realm,
	}, accounts.Deps{
		Store:          g.store,
		Hasher:         hasher,
		Signer:         signer,
		Verifier:       rt.verifier,
		Revocations:    g.revocations,
		AccountLimiter: g.acctLimiter,
		IPLimiter:      g.ipLimiter,
		ClientIP:       rt.clientIP,
		Logger:         g.logger,
		Now:            g.now,
		Metrics:        g.metrics,
	})
}

// hasher returns the Gateway's password hasher for a concurrency bound,
// built once and kept across reloads.
func (g *Gateway) hasher(concurrency int) (*password.Hasher, error) {
	if h, ok := g.hashers.Load(concurrency); ok {
		return h.(*password.Hasher), nil
	}
	h, err := password.NewHasher(password.DefaultParams(), concurrency, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	actual, _ := g.hashers.LoadOrStore(concurrency, h)
	return actual.(*password.Hasher), nil
}

// clientIP is the address a request came from: the peer, or, when the peer
// is a trusted proxy, the nearest address in X-Forwarded-For that is not.
func (rt *runtime) clientIP(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !rt.trustedAddr(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !rt.trustedAddr(a) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}

// close releases what the runtime holds: idle upstream connections (busy
// ones close when their request ends) and the external issuers' key
// sources (their last keys keep answering requests still in flight).
func (rt *runtime) close() {
	rt.transport.closeIdle()
	for _, s := range rt.sources {
		s.src.Close()
	}
}

// headersFor returns the identity headers of an identity whose issuer adds
// extra; without extra, the shared list itself (no allocation per request).
func (rt *runtime) headersFor(extra []identityHeader) []identityHeader {
	if len(extra) == 0 {
		return rt.idHeaders
	}
	return slices.Concat(rt.idHeaders, extra)
}

// identityTokenHeader carries the signed identity token to upstreams.
const identityTokenHeader = "X-Auth-Token"

// identityTokenTTL is the lifetime of an X-Auth-Token: long enough to reach
// the upstream, too short to be worth stealing.
const identityTokenTTL = 30 * time.Second

// identityToken signs id for the upstream of route: audience the route's
// name, the issuer that vouched for id in "idp".
func (rt *runtime) identityToken(id *identity.Identity, route string) (string, error) {
	extra := map[string]any{"idp": id.Issuer, "roles": id.Roles}
	if id.Roles == nil {
		extra["roles"] = []string{}
	}
	for _, c := range []string{"preferred_username", "email"} {
		if v, ok := id.ClaimString(c); ok {
			extra[c] = v
		}
	}
	tok, err := rt.idSigner.SignIdentity(route, id.Subject, extra, identityTokenTTL)
	if err != nil {
		return "", fmt.Errorf("identity token: %w", err)
	}
	return tok, nil
}

func setOf(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
