// Package assemble turns a validated configuration into the running
// objects the request path reads: it is the one place where config meets
// the rest of authgate.
//
// [Build] makes an immutable [Snapshot] of one configuration: keys loaded,
// route table compiled, verifier and reverse proxies built. It does no
// network I/O and no store migration. What outlives one configuration,
// the store, revocations, limiters, hashers, external issuers' key sources
// and upstream transports, belongs to [Resources], which every Build of a
// process shares: a reload that leaves an issuer or a route's upstream
// settings unchanged keeps its keys and its connections.
//
// A running gateway is:
//
//	res, err := assemble.Open(ctx, cfg, assemble.Options{...})
//	snap, err := assemble.Build(cfg, res)
//	gw := proxy.New(snap.Gateway)
//	// on reload: snap, err = assemble.Build(newCfg, res); gw.Swap(snap.Gateway)
//	// at exit:   gw.Close(); res.Close()
package assemble

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/browser"
	"github.com/authgate/authgate/proxy/clientip"
	"github.com/authgate/authgate/proxy/crossorigin"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/oidc"
	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/policy"
	"github.com/authgate/authgate/proxy/route"
	"github.com/authgate/authgate/proxy/token"
	"github.com/authgate/authgate/proxy/tokencache"
)

// Snapshot is one configuration assembled.
type Snapshot struct {
	// Gateway is what the request path serves; hand it to proxy.New or
	// Gateway.Swap.
	Gateway *proxy.Snapshot
	// Keys are authgate's own keys, the signing key first; nil without
	// tokens.
	Keys []*keys.Key
	// Signer signs authgate's access tokens; nil without tokens.
	Signer *token.Signer
	// Certificate is the traffic listener's TLS certificate; nil without
	// tls.
	Certificate *tls.Certificate

	release func()
}

// Release gives back the snapshot's references to shared resources. A
// Gateway does this when it retires the snapshot; call it for a snapshot
// that was never served. It is idempotent.
func (s *Snapshot) Release() { s.release() }

// Build assembles cfg, which must have passed config validation, on res.
// It reports every problem it finds (unreadable or mismatched keys, a TLS
// certificate that does not load, an issuer or route the request path
// refuses), each naming its config key, joined in one error.
func Build(cfg *config.Config, res *Resources) (*Snapshot, error) {
	b := &builder{cfg: cfg, res: res}
	snap, err := b.build()
	if err != nil {
		b.leases.release()
		return nil, err
	}
	snap.release = sync.OnceFunc(b.leases.release)
	return snap, nil
}

// builder is the state of one Build.
type builder struct {
	cfg     *config.Config
	res     *Resources
	leases  leases
	errs    []error
	sources []*keySource // of cfg.Issuers, in order
}

func (b *builder) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf(format, args...))
}

func (b *builder) build() (*Snapshot, error) {
	cfg, res := b.cfg, b.res
	snap := &Snapshot{}
	st := proxy.Settings{
		Realm:           cfg.Realm,
		CacheControl:    cfg.ForwardAuth.CacheControl,
		BodyReadTimeout: cfg.Server.BodyReadTimeout,
		ReadTimeout:     cfg.Server.ReadTimeout,
		Revocations:     res.revocations,
		Logger:          res.logger,
		Metrics:         res.metrics,
	}
	trusted, err := clientip.ParseTrusted(cfg.TrustedProxies)
	if err != nil {
		b.fail("trusted_proxies%w", err)
	}
	st.TrustedProxies = trusted
	st.IdentityHeaders, st.IssuerHeaders = identityHeaders(cfg)

	var trusts []token.Issuer
	if cfg.Tokens != nil {
		if snap.Keys = b.ownKeys(); snap.Keys != nil {
			trusts = append(trusts, ownIssuer(cfg.Tokens, snap.Keys))
		}
	}
	for i := range cfg.Issuers {
		if is, ok := b.issuer(i); ok {
			trusts = append(trusts, is)
		}
	}
	var verifier *token.Verifier
	if len(trusts) > 0 && len(b.errs) == 0 {
		if verifier, err = token.NewVerifier(trusts, res.now); err != nil {
			b.fail("issuers: %w", err)
		}
	}
	if verifier != nil {
		st.Verifier = b.tokenCache(verifier)
	}
	if snap.Keys != nil {
		signing := snap.Keys[0]
		snap.Signer = token.NewSigner(signing, cfg.Tokens.Issuer, cfg.Tokens.Audience, res.now)
		if signing.Algorithm != keys.HS256 {
			st.IdentitySigner = snap.Signer
		}
		if st.Documents, err = documents(cfg.Tokens, cfg.Accounts, snap.Keys); err != nil {
			b.fail("tokens: %w", err)
		}
	}
	if cfg.Accounts != nil && verifier != nil && snap.Signer != nil {
		st.Accounts = b.accounts(snap.Signer, verifier, trusted)
	}
	if cfg.Accounts != nil && cfg.Accounts.CORS != nil {
		if st.AccountsCORS, err = corsPolicy(cfg.Accounts.CORS); err != nil {
			b.fail("accounts.cors: %w", err)
		}
	}
	if cfg.Browser != nil && st.Accounts != nil {
		st.Browser = b.browser(st.Accounts)
	}
	if len(cfg.Providers) > 0 && st.Browser != nil && snap.Keys != nil {
		st.SignIn = b.signIn(st.Browser, snap.Keys[0])
	}
	for i := range cfg.Routes {
		if r, ok := b.route(i); ok {
			st.Routes = append(st.Routes, r)
		}
	}
	if cfg.TLS != nil {
		cert, err := tls.LoadX509KeyPair(cfg.ResolvePath(cfg.TLS.CertFile), cfg.ResolvePath(cfg.TLS.KeyFile))
		if err != nil {
			b.fail("tls: %w", err)
		}
		snap.Certificate = &cert
	}
	if res.mode == Check && cfg.Store != "" {
		if err := checkStore(cfg); err != nil {
			b.fail("%w", err)
		}
	}
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	st.Checks = b.checks()
	if h := st.SignIn; h != nil {
		// A provider that is down stops sign-ins through it, not the
		// instance: its check is advisory.
		for _, p := range cfg.Providers {
			name := p.Name
			st.Checks = append(st.Checks, proxy.Check{Name: "provider:" + name, Advisory: true,
				Run: func(ctx context.Context) error { return h.Ready(ctx, name) }})
		}
	}
	st.Release = func() { snap.Release() }
	if snap.Gateway, err = proxy.NewSnapshot(st); err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	return snap, nil
}

// ownKeys loads authgate's own keys: first the one that signs
// (tokens.signing_key, or tokens.hmac_secret), then
// tokens.verification_keys. Paths are resolved against the config file's
// directory. It reports every key that fails, and returns nil then.
func (b *builder) ownKeys() []*keys.Key {
	t := b.cfg.Tokens
	var signing *keys.Key
	var err error
	if t.HMACSecret != "" {
		if signing, err = keys.NewHMAC([]byte(t.HMACSecret)); err != nil {
			b.fail("tokens.hmac_secret: %w", err)
		}
	} else if signing, err = keys.LoadFile(b.cfg.ResolvePath(t.SigningKey)); err != nil {
		b.fail("tokens.signing_key: %w", err)
	}
	ks := []*keys.Key{signing}
	for i, p := range t.VerificationKeys {
		k, err := keys.LoadFile(b.cfg.ResolvePath(p))
		switch {
		case err != nil:
			b.fail("tokens.verification_keys[%d]: %w", i, err)
		case signing != nil && (k.Algorithm == keys.HS256) != (signing.Algorithm == keys.HS256):
			// One issuer never mixes HMAC with asymmetric keys (RFC 8725 §3.1).
			b.fail("tokens.verification_keys[%d]: cannot mix HS256 with asymmetric keys", i)
		default:
			ks = append(ks, k)
		}
	}
	if signing == nil || len(ks) != 1+len(t.VerificationKeys) {
		return nil
	}
	return ks
}

// ownIssuer returns the verification rules of authgate's own tokens: exact
// issuer and audience, the keys' algorithms only, and typ at+jwt.
func ownIssuer(t *config.Tokens, ks []*keys.Key) token.Issuer {
	return token.Issuer{
		Name:       token.OwnIssuerName,
		Issuer:     t.Issuer,
		Audience:   []string{t.Audience},
		Algorithms: token.Algorithms(ks...),
		Types:      []string{token.TypeAccessToken},
		Leeway:     t.Leeway,
		Keys:       token.StaticKeys(ks...),
	}
}

// issuer returns the verification rules of external issuer i, its keys
// from the shared key source of its settings.
func (b *builder) issuer(i int) (token.Issuer, bool) {
	ic := &b.cfg.Issuers[i]
	ks, release, err := b.res.keySource(ic)
	if err != nil {
		b.fail("issuers[%d] (%s): %w", i, ic.Name, err)
		return token.Issuer{}, false
	}
	b.leases.add(release)
	b.sources = append(b.sources, ks)
	return token.Issuer{
		Name:         ic.Name,
		Issuer:       ic.Issuer,
		Audience:     ic.Audience,
		Algorithms:   ic.Algorithms,
		Types:        ic.Typ,
		Leeway:       ic.Leeway,
		Keys:         ks.Keyfunc,
		SubjectClaim: ic.SubjectClaim,
		RolesClaim:   ic.RolesClaim,
		ScopesClaim:  ic.ScopesClaim,
	}, true
}

// authModes maps the config's auth modes to the request path's.
var authModes = map[string]proxy.AuthMode{
	config.AuthNone:     proxy.AuthNone,
	config.AuthOptional: proxy.AuthOptional,
	config.AuthRequired: proxy.AuthRequired,
}

// route assembles routes[i], its transport shared with every route of the
// same timeout.
func (b *builder) route(i int) (proxy.Route, bool) {
	rc := &b.cfg.Routes[i]
	fail := func(err error) (proxy.Route, bool) {
		b.fail("routes[%d] (%s): %w", i, rc.Name, err)
		return proxy.Route{}, false
	}
	up, err := url.Parse(rc.Upstream)
	if err != nil {
		return fail(fmt.Errorf("upstream: %w", err))
	}
	mode, ok := authModes[rc.Auth]
	if !ok {
		return fail(fmt.Errorf("auth: %q is not one of required, optional, none", rc.Auth))
	}
	match := route.Rule{Host: rc.Host, Methods: rc.Methods, Prefix: rc.Path, CaseInsensitive: rc.CaseInsensitive}
	if _, err := route.NewTable([]route.Rule{match}); err != nil {
		return fail(err)
	}
	var cors *crossorigin.Policy
	if rc.CORS != nil {
		if cors, err = corsPolicy(rc.CORS); err != nil {
			return fail(fmt.Errorf("cors: %w", err))
		}
	}
	tr, release := b.res.transport(transportSettings{timeout: rc.Timeout, maxIdleConnsPerHost: rc.UpstreamMaxIdleConns, protocol: rc.UpstreamProtocol})
	b.leases.add(release)
	return proxy.Route{
		Name:                 rc.Name,
		Match:                match,
		Auth:                 mode,
		Issuers:              rc.Issuers,
		Require:              policy.Requirement{Roles: rc.Roles, Scopes: rc.Scopes, Claims: rc.Claims},
		IdentityToken:        rc.IdentityToken,
		Upstream:             up,
		StripPrefix:          rc.StripPrefix,
		PreserveHost:         rc.PreserveHost,
		ForwardAuthorization: rc.ForwardAuthorization,
		Browser:              rc.Browser && b.cfg.Browser != nil && b.res.mode != Check,
		Provider:             rc.Provider,
		Transport:            tr,
		CORS:                 cors,
	}, true
}

// corsPolicy compiles a cors block, once per configuration.
func corsPolicy(c *config.CORS) (*crossorigin.Policy, error) {
	return crossorigin.New(crossorigin.Options{
		AllowedOrigins:   c.AllowedOrigins,
		AllowedMethods:   c.AllowedMethods,
		AllowedHeaders:   c.AllowedHeaders,
		ExposedHeaders:   c.ExposedHeaders,
		AllowCredentials: c.AllowCredentials,
		MaxAge:           c.MaxAge,
	})
}

// identityHeaders returns the configured identity headers, and the extra
// ones of each external issuer by issuer name.
func identityHeaders(cfg *config.Config) ([]proxy.IdentityHeader, map[string][]proxy.IdentityHeader) {
	var all []proxy.IdentityHeader
	for h, claim := range cfg.IdentityHeaders {
		all = append(all, proxy.IdentityHeader{Name: h, Claim: claim})
	}
	byIssuer := map[string][]proxy.IdentityHeader{}
	for _, is := range cfg.Issuers {
		for h, claim := range is.ClaimHeaders {
			byIssuer[is.Name] = append(byIssuer[is.Name], proxy.IdentityHeader{Name: h, Claim: claim})
		}
	}
	return all, byIssuer
}

// tokenCache puts the verified-token cache of token_cache in front of v
// for the request path, or returns v when the cache is disabled. The cache
// is built with the Verifier, so every snapshot (every reload) starts with
// an empty one.
func (b *builder) tokenCache(v *token.Verifier) proxy.Verifier {
	tc := b.cfg.TokenCache
	if !tc.Enabled {
		return v
	}
	return tokencache.New(v, tokencache.Options{
		MaxEntries: tc.MaxEntries,
		MaxBytes:   tc.MaxBytes,
		TTL:        tc.TTL,
		Now:        b.res.now,
		Record:     b.res.metrics.TokenCache,
		Generation: keysGeneration(b.sources),
	})
}

// keysGeneration returns a count that grows whenever the keys of any of
// sources change (nil when there are none: own keys are fixed for the
// snapshot).
func keysGeneration(sources []*keySource) func() uint64 {
	if len(sources) == 0 {
		return nil
	}
	sources = slices.Clone(sources)
	return func() uint64 {
		var g uint64
		for _, ks := range sources {
			g += ks.generation()
		}
		return g
	}
}

// accounts builds the account endpoints on the shared store, revocations,
// limiters and hasher. Without a store (a check) it checks what it can and
// returns nil.
func (b *builder) accounts(signer *token.Signer, verifier accounts.Verifier, trusted clientip.Trusted) *accounts.Service {
	cfg, res := b.cfg, b.res
	a := cfg.Accounts
	if res.mode == Check {
		return nil // no store is opened by a check
	}
	if res.store == nil {
		b.fail("store: accounts need a store, and none was opened")
		return nil
	}
	hasher, err := res.hasher(a.HashConcurrency)
	if err != nil {
		b.fail("accounts.hash_concurrency: %w", err)
		return nil
	}
	svc, err := accounts.New(accounts.Config{
		Prefix:       a.PathPrefix,
		OpenSignup:   a.Signup == config.SignupOpen,
		NoPasswords:  !a.Passwords,
		DefaultRoles: a.DefaultRoles,
		Policy:       password.Policy{MinLength: a.PasswordMinLength},
		AccessTTL:    cfg.Tokens.AccessTTL,
		RefreshTTL:   a.RefreshTTL,
		RefreshIdle:  a.RefreshIdle,
		RefreshGrace: a.RefreshGrace,
		Cookie:       a.Cookie,
		Realm:        cfg.Realm,
	}, accounts.Deps{
		Store:       res.store,
		Hasher:      hasher,
		Signer:      signer,
		Verifier:    verifier,
		Revocations: res.revocations,
		Throttles:   res.throttles,
		ClientIP:    trusted.ClientIP,
		Logger:      res.logger,
		Now:         res.now,
		Metrics:     res.metrics,
	})
	if err != nil {
		b.fail("accounts: %w", err)
		return nil
	}
	return svc
}

// browser builds the sign-in pages and session cookies on the account
// service.
func (b *builder) browser(acc *accounts.Service) *browser.Sessions {
	bc := b.cfg.Browser
	s, err := browser.New(browser.Config{
		AllowedHosts: bc.AllowedRedirectHosts,
		CookieDomain: bc.CookieDomain,
		Logger:       b.res.logger,
		Now:          b.res.now,
	}, acc)
	if err != nil {
		b.fail("browser: %w", err)
		return nil
	}
	return s
}

// signIn builds the sign-in through external OpenID Connect providers.
// Its state cookies are sealed with a key derived from the signing key, so
// that every replica with the same keys opens them.
func (b *builder) signIn(sessions *browser.Sessions, signing *keys.Key) *oidc.Handler {
	cfg := b.cfg
	material, err := keyMaterial(signing)
	if err != nil {
		b.fail("providers: %w", err)
		return nil
	}
	key, err := oidc.DeriveKey(material)
	if err != nil {
		b.fail("providers: %w", err)
		return nil
	}
	ps := make([]oidc.Provider, 0, len(cfg.Providers))
	for i, p := range cfg.Providers {
		secret := p.ClientSecret
		if p.ClientSecretFile != "" {
			data, err := os.ReadFile(cfg.ResolvePath(p.ClientSecretFile))
			if err != nil {
				b.fail("providers[%d].client_secret_file: %w", i, err)
				continue
			}
			secret = strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		}
		var clientKey crypto.Signer
		if p.PrivateKeyFile != "" {
			data, err := os.ReadFile(cfg.ResolvePath(p.PrivateKeyFile))
			if err == nil {
				clientKey, err = oidc.ParseClientKey(data)
			}
			if err != nil {
				b.fail("providers[%d].private_key_file: %w", i, err)
				continue
			}
		}
		ps = append(ps, oidc.Provider{
			Name: p.Name, DisplayName: p.DisplayName, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: secret,
			ClientKey: clientKey, ClientKeyID: p.PrivateKeyID,
			RedirectURL: p.RedirectURL, Scopes: p.Scopes, Algorithms: p.Algorithms,
			UsernameClaim: p.UsernameClaim, EmailClaim: p.EmailClaim, RolesClaim: p.RolesClaim,
			AllowedEmailDomains: p.AllowedEmailDomains, AllowedGroups: p.AllowedGroups,
			RequireEmailVerified: p.RequireEmailVerified, CreateUsers: p.CreateUsers,
			EndSession: p.SignOut == config.SignOutProvider, PostLogoutRedirectURL: p.PostLogoutRedirectURL,
		})
	}
	h, err := oidc.New(oidc.Config{
		Prefix: cfg.Accounts.PathPrefix, Providers: ps, Key: key, AllowedHosts: cfg.Browser.AllowedRedirectHosts,
		Finisher: sessions, Metrics: b.res.metrics, Logger: b.res.logger, Now: b.res.now,
	})
	if err != nil {
		b.fail("providers: %w", err)
		return nil
	}
	sessions.SetExternal(h, cfg.Browser.DefaultProvider)
	return h
}

// keyMaterial is the secret of a signing key: an HMAC secret's bytes, or
// the PEM of a private key.
func keyMaterial(k *keys.Key) ([]byte, error) {
	if secret, ok := k.SigningKey().([]byte); ok {
		return secret, nil
	}
	return k.MarshalPEM()
}

// writeHealther is a store that knows whether it can write without
// writing (see accounts.WriteMonitor).
type writeHealther interface {
	WriteHealth(context.Context) error
}

// checks are the readiness checks of the snapshot: the store is reachable
// and, when it can tell, writable (accounts cannot be served otherwise),
// and every external issuer has keys.
func (b *builder) checks() []proxy.Check {
	var cs []proxy.Check
	if s := b.res.store; s != nil {
		wh, _ := s.(writeHealther)
		cs = append(cs, proxy.Check{Name: "store", Run: func(ctx context.Context) error {
			if s.Ping(ctx) != nil {
				return errors.New("unreachable")
			}
			if wh != nil && wh.WriteHealth(ctx) != nil {
				return errors.New("not writable")
			}
			return nil
		}})
	}
	for _, ks := range b.sources {
		cs = append(cs, proxy.Check{Name: "issuer:" + ks.key.name, Run: func(context.Context) error { return ks.ready() }})
	}
	return cs
}
