package config

import (
	"maps"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/clientip"
	"github.com/authgate/authgate/proxy/crossorigin"
	"github.com/authgate/authgate/proxy/headers"
	"github.com/authgate/authgate/proxy/jwks"
	"github.com/authgate/authgate/proxy/route"
	"github.com/authgate/authgate/proxy/token"
)

var (
	routeName  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// reservedHeaders may not be used as identity headers: the proxy or HTTP
// itself owns them.
var reservedHeaders = map[string]bool{
	"authorization": true, "cookie": true, "set-cookie": true, "host": true,
	"connection": true, "content-length": true, "content-type": true,
	"transfer-encoding": true, "te": true, "trailer": true, "upgrade": true,
	"keep-alive": true, "proxy-authorization": true, "proxy-authenticate": true,
	"proxy-connection": true, "forwarded": true, "x-forwarded-for": true,
	"x-forwarded-host": true, "x-forwarded-proto": true,
}

// reservedFolded holds reservedHeaders folded, the way the proxy compares
// header names: "X_Forwarded_For" is X-Forwarded-For to many upstreams.
var reservedFolded = func() map[string]bool {
	m := make(map[string]bool, len(reservedHeaders))
	for h := range reservedHeaders {
		m[headers.Fold(h)] = true
	}
	return m
}()

// Validate checks a configuration whose defaults have been applied and
// returns an *Error listing every problem, or nil. It has no side effects.
// Problems carry key paths; Load and Parse add the YAML lines.
func (c *Config) Validate() error {
	var ps problems
	checkListen(&ps, keyPath{"listen"}, c.Listen)
	checkListen(&ps, keyPath{"admin_listen"}, c.AdminListen)
	if c.Listen != "" && c.Listen == c.AdminListen {
		ps.add(keyPath{"admin_listen"}, "must differ from listen")
	}
	for i, p := range c.TrustedProxies {
		if _, err := clientip.ParsePrefix(p); err != nil {
			ps.add(keyPath{"trusted_proxies", i}, "%v", err)
		}
	}
	switch {
	case c.Realm == "":
		ps.add(keyPath{"realm"}, "must not be empty")
	case strings.ContainsAny(c.Realm, "\"\\") || hasControl(c.Realm):
		ps.add(keyPath{"realm"}, "must not contain quotes, backslashes or control characters")
	}
	if c.Tokens != nil {
		c.Tokens.validate(&ps, keyPath{"tokens"})
	}
	sv := c.Server
	for _, d := range []struct {
		key       string
		v         time.Duration
		zeroMeans string // "" when 0 is refused
	}{{"read_header_timeout", sv.ReadHeaderTimeout, ""}, {"read_timeout", sv.ReadTimeout, "none"},
		{"body_read_timeout", sv.BodyReadTimeout, "none"}, {"write_timeout", sv.WriteTimeout, "none"}, {"idle_timeout", sv.IdleTimeout, ""},
		{"shutdown_grace", sv.ShutdownGrace, ""}} {
		switch {
		case d.zeroMeans == "" && (d.v <= 0 || d.v > time.Hour):
			ps.add(keyPath{"server", d.key}, "must be positive and at most 1h")
		case d.v < 0 || d.v > time.Hour:
			ps.add(keyPath{"server", d.key}, "must be between 0s (%s) and 1h", d.zeroMeans)
		}
	}
	if sv.MaxHeaderBytes < 1024 || sv.MaxHeaderBytes > 1<<20 {
		ps.add(keyPath{"server", "max_header_bytes"}, "must be between 1024 and 1048576")
	}
	if t := c.TLS; t != nil {
		if t.CertFile == "" {
			ps.add(keyPath{"tls", "cert_file"}, "is required")
		}
		if t.KeyFile == "" {
			ps.add(keyPath{"tls", "key_file"}, "is required")
		}
		if t.MinVersion != "1.2" && t.MinVersion != "1.3" {
			ps.add(keyPath{"tls", "min_version"}, "%q is not 1.2 or 1.3", t.MinVersion)
		}
	}
	switch cc := c.ForwardAuth.CacheControl; {
	case cc == "":
		ps.add(keyPath{"forward_auth", "cache_control"}, "must not be empty")
	case hasControl(cc):
		ps.add(keyPath{"forward_auth", "cache_control"}, "must not contain control characters")
	}
	checkHeaderMap(&ps, keyPath{"identity_headers"}, c.IdentityHeaders)
	c.TokenCache.validate(&ps, keyPath{"token_cache"})
	// A store read from store_file is judged at that key.
	storeKey := keyPath{"store"}
	if c.StoreFile != "" {
		storeKey = keyPath{"store_file"}
	}
	if c.Store != "" {
		checkStore(&ps, storeKey, c.Store)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.add(keyPath{"log", "level"}, "%q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		ps.add(keyPath{"log", "format"}, "%q must be json or text", c.Log.Format)
	}
	if c.Postgres != nil && (c.Store != "" || c.StoreFile == "") {
		c.Postgres.validate(&ps, keyPath{"postgres"}, c.Store)
	}
	if c.Accounts != nil {
		c.Accounts.validate(&ps, keyPath{"accounts"}, c)
	}
	if c.Browser != nil {
		c.Browser.validate(&ps, keyPath{"browser"}, c)
	}
	c.validateProviders(&ps)

	issuerNames := map[string]bool{}
	if c.Tokens != nil {
		issuerNames[token.OwnIssuerName] = true
	}
	for i := range c.Issuers {
		is := &c.Issuers[i]
		at := keyPath{"issuers", i}
		is.validate(&ps, at)
		switch {
		case is.Name == token.OwnIssuerName:
			ps.add(at.with("name"), "%q is reserved for authgate's own tokens", is.Name)
		case issuerNames[is.Name]:
			ps.add(at.with("name"), "%q names two issuers", is.Name)
		}
		issuerNames[is.Name] = true
		for j := 0; j < i; j++ {
			if c.Issuers[j].Issuer == is.Issuer && is.Issuer != "" {
				ps.add(at.with("issuer"), "is also the issuer of issuers[%d]: one iss, one set of keys", j)
			}
		}
		if c.Tokens != nil && c.Tokens.Issuer == is.Issuer {
			ps.add(at.with("issuer"), "is tokens.issuer, authgate's own")
		}
		for h := range is.ClaimHeaders {
			if _, clash := foldedKeys(c.IdentityHeaders)[headers.Fold(h)]; clash {
				ps.add(at.with("claim_headers", h), "is already an identity header")
			}
		}
	}

	if len(c.Routes) == 0 {
		ps.add(keyPath{"routes"}, "at least one route is required")
	}
	names := make(map[string]int, len(c.Routes))
	for i := range c.Routes {
		r := &c.Routes[i]
		at := keyPath{"routes", i}
		r.validate(&ps, at)
		if j, dup := names[r.Name]; dup && r.Name != "" {
			ps.add(at.with("name"), "%q is already the name of routes[%d]", r.Name, j)
		} else {
			names[r.Name] = i
		}
		if r.Auth != AuthNone && r.Auth != "" && len(issuerNames) == 0 {
			ps.add(at.with("auth"), "auth %q needs a token verifier: configure tokens or issuers", r.Auth)
		}
		for j, name := range r.Issuers {
			if !issuerNames[name] {
				ps.add(at.with("issuers", j), "%q is not a configured issuer", name)
			}
		}
		if r.IdentityToken && (c.Tokens == nil || c.Tokens.SigningKey == "") {
			ps.add(at.with("identity_token"), "needs tokens.signing_key: upstreams verify it against the published JWKS")
		}
		if r.Browser && c.Browser == nil {
			ps.add(at.with("browser"), "needs the top-level browser key (the sign-in page)")
		}
		if r.Browser && r.Auth == AuthNone {
			ps.add(at.with("browser"), "needs auth: required or optional")
		}
		if r.Provider != "" {
			switch {
			case !r.Browser:
				ps.add(at.with("provider"), "needs browser: true (only browser navigations are sent to a provider)")
			case !slices.ContainsFunc(c.Providers, func(p Provider) bool { return p.Name == r.Provider }):
				ps.add(at.with("provider"), "%q is not a configured provider", r.Provider)
			}
		}
		if len(r.Issuers) > 0 && r.Auth == AuthNone {
			ps.add(at.with("issuers"), "needs auth: required or optional")
		}
	}
	checkRouteTable(&ps, c.Routes)
	if len(ps) > 0 {
		return &Error{Problems: ps}
	}
	return nil
}

func (t *Tokens) validate(ps *problems, at keyPath) {
	if t.Issuer == "" {
		ps.add(at.with("issuer"), "is required")
	} else if hasControl(t.Issuer) {
		ps.add(at.with("issuer"), "must not contain control characters")
	}
	if t.Audience == "" {
		ps.add(at.with("audience"), "is required")
	} else if hasControl(t.Audience) {
		ps.add(at.with("audience"), "must not contain control characters")
	}
	if t.AccessTTL < time.Second || t.AccessTTL > MaxAccessTTL {
		ps.add(at.with("access_ttl"), "must be between 1s and %s", MaxAccessTTL)
	}
	if t.Leeway < 0 || t.Leeway > MaxLeeway {
		ps.add(at.with("leeway"), "must be between 0s and %s", MaxLeeway)
	}
	// A secret read from hmac_secret_file is judged at that key.
	secretKey := "hmac_secret"
	if t.HMACSecretFile != "" {
		secretKey = "hmac_secret_file"
	}
	switch {
	case t.SigningKey == "" && t.HMACSecret == "" && t.HMACSecretFile == "":
		ps.add(at.with("signing_key"), "is required (create one with: authgate keys generate -out FILE), or set hmac_secret or hmac_secret_file")
	case t.SigningKey != "" && (t.HMACSecret != "" || t.HMACSecretFile != ""):
		ps.add(at.with(secretKey), "set either signing_key or %s, not both", secretKey)
	case t.HMACSecret != "":
		// Never echo the secret.
		if why := weakSecret(t.HMACSecret); why != "" {
			ps.add(at.with(secretKey), "%s (generate one with: openssl rand -base64 48)", why)
		}
	}
	for i, k := range t.VerificationKeys {
		if k == "" {
			ps.add(at.with("verification_keys", i), "must name a PEM key file")
		}
	}
}

func (is *Issuer) validate(ps *problems, at keyPath) {
	switch {
	case is.Name == "":
		ps.add(at.with("name"), "is required")
	case !routeName.MatchString(is.Name):
		ps.add(at.with("name"), "%q must be lower-case letters, digits, '-' or '_' (at most 63)", is.Name)
	}
	if is.Issuer == "" || hasControl(is.Issuer) {
		ps.add(at.with("issuer"), "is required: the exact iss of its tokens")
	}
	switch {
	case is.JWKSURL == "" && !is.Discovery:
		ps.add(at.with("jwks_url"), "is required (or set discovery: true)")
	case is.JWKSURL != "" && is.Discovery:
		ps.add(at.with("jwks_url"), "set either jwks_url or discovery, not both")
	case is.JWKSURL != "":
		if err := jwks.CheckURL(is.JWKSURL); err != nil {
			ps.add(at.with("jwks_url"), "%v", err)
		}
	default:
		if err := jwks.CheckURL(is.Issuer); err != nil {
			ps.add(at.with("issuer"), "discovery: %v", err)
		}
	}
	if len(is.Audience) == 0 {
		ps.add(at.with("audience"), "is required: one audience or a list")
	}
	for i, a := range is.Audience {
		if a == "" || hasControl(a) {
			ps.add(at.with("audience", i), "must not be empty")
		}
	}
	if len(is.Algorithms) == 0 {
		ps.add(at.with("algorithms"), "is required: the algorithms its tokens use, e.g. [RS256]")
	}
	for i, alg := range is.Algorithms {
		if err := jwks.CheckAlgorithm(alg); err != nil {
			ps.add(at.with("algorithms", i), "%v", err)
		}
	}
	for i, t := range is.Typ {
		if t == "" || hasControl(t) {
			ps.add(at.with("typ", i), "must not be empty")
		}
	}
	if is.Leeway < 0 || is.Leeway > MaxLeeway {
		ps.add(at.with("leeway"), "must be between 0s and %s", MaxLeeway)
	}
	for _, c := range []struct {
		key, v   string
		optional bool // "" has a meaning of its own
	}{
		{"subject_claim", is.SubjectClaim, false}, {"roles_claim", is.RolesClaim, false},
		{"scopes_claim", is.ScopesClaim, true},
	} {
		switch {
		case c.v == "" && !c.optional:
			ps.add(at.with(c.key), "must name a claim")
		case strings.HasPrefix(c.v, ".") || strings.HasSuffix(c.v, ".") || hasControl(c.v):
			ps.add(at.with(c.key), "is not a claim name or dotted path")
		}
	}
	checkHeaderMap(ps, at.with("claim_headers"), is.ClaimHeaders)
	if is.RefreshInterval < 30*time.Second || is.RefreshInterval > 24*time.Hour {
		ps.add(at.with("refresh_interval"), "must be between 30s and 24h")
	}
}

func foldedKeys(m map[string]string) map[string]struct{} {
	out := make(map[string]struct{}, len(m))
	for k := range m {
		out[headers.Fold(k)] = struct{}{}
	}
	return out
}

func (a *Accounts) validate(ps *problems, at keyPath, c *Config) {
	if a.Signup != SignupOpen && a.Signup != SignupClosed {
		ps.add(at.with("signup"), "%q is not one of open, closed", a.Signup)
	}
	if checkPrefix(ps, at.with("path_prefix"), a.PathPrefix, true) {
		// The endpoints are mounted below it: PathPrefix + "/login".
		switch {
		case a.PathPrefix == "/":
			ps.add(at.with("path_prefix"), "must not be /")
		case strings.HasSuffix(a.PathPrefix, "/"):
			ps.add(at.with("path_prefix"), "%q must not end with /", a.PathPrefix)
		}
	}
	for i, r := range a.DefaultRoles {
		if r == "" || !headers.ValidValue(r) || strings.Contains(r, ",") {
			ps.add(at.with("default_roles", i), "must be a non-empty role without commas or control characters")
		}
	}
	if !a.Passwords {
		if a.Signup == SignupOpen {
			ps.add(at.with("signup"), "open signup needs passwords: true (signup creates password accounts)")
		}
		if len(c.Providers) == 0 {
			ps.add(at.with("passwords"), "false needs at least one entry in providers: nobody could sign in")
		}
	}
	if a.PasswordMinLength < 1 || a.PasswordMinLength > 64 {
		ps.add(at.with("password_min_length"), "must be between 1 and 64")
	}
	if a.RefreshTTL < time.Minute {
		ps.add(at.with("refresh_ttl"), "must be at least 1m")
	}
	if a.RefreshIdle < time.Minute || a.RefreshIdle > a.RefreshTTL {
		ps.add(at.with("refresh_idle"), "must be between 1m and refresh_ttl")
	}
	if a.RefreshGrace < 0 || a.RefreshGrace > time.Minute {
		ps.add(at.with("refresh_grace"), "must be between 0s and 1m")
	}
	if a.HashConcurrency < 1 || a.HashConcurrency > 64 {
		ps.add(at.with("hash_concurrency"), "must be between 1 and 64")
	}
	if a.CORS != nil {
		a.CORS.validate(ps, at.with("cors"))
	}
	if c.Tokens == nil {
		ps.add(at, "accounts need tokens to be configured")
	}
	if c.Store == "" && c.StoreFile == "" {
		ps.add(at, "accounts need a store (store: sqlite:data/authgate.db, or a postgres:// URL)")
	}
}

func (b *Browser) validate(ps *problems, at keyPath, c *Config) {
	if c.Accounts == nil {
		ps.add(at, "the sign-in page needs accounts to be configured")
	}
	for i, h := range b.AllowedRedirectHosts {
		switch {
		case h == "":
			ps.add(at.with("allowed_redirect_hosts", i), "must not be empty")
		case strings.Contains(h, ":") && !strings.HasPrefix(h, "["):
			ps.add(at.with("allowed_redirect_hosts", i), "%q must be a host without a port", h)
		default:
			if err := route.CheckHost(h); err != nil {
				ps.add(at.with("allowed_redirect_hosts", i), "%v", err)
			}
		}
	}
	if d := b.CookieDomain; d != "" {
		if strings.Contains(d, "*") || strings.HasPrefix(d, ".") || !strings.Contains(d, ".") || route.CheckHost(d) != nil {
			ps.add(at.with("cookie_domain"), "%q must be a domain name such as example.com (no leading dot, no wildcard)", d)
		} else if _, err := netip.ParseAddr(d); err == nil {
			ps.add(at.with("cookie_domain"), "%q must be a domain name, not an IP address", d)
		}
	}
}

func checkStore(ps *problems, at keyPath, dsn string) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		if strings.TrimPrefix(dsn, "sqlite:") == "" {
			ps.add(at, "sqlite: needs a file path, e.g. sqlite:data/authgate.db")
		}
	case IsPostgres(dsn):
		u, err := url.Parse(dsn)
		switch {
		case err != nil:
			// Never echo the URL: it may hold a password.
			ps.add(at, "is not a valid postgres:// URL")
		case u.Hostname() == "":
			ps.add(at, "postgres: needs a host, e.g. postgres://authgate@db:5432/authgate")
		case strings.Trim(u.Path, "/") == "":
			ps.add(at, "postgres: needs a database name, e.g. postgres://authgate@db:5432/authgate")
		case u.User == nil || u.User.Username() == "":
			ps.add(at, "postgres: needs a user name, e.g. postgres://authgate@db:5432/authgate")
		}
	default:
		ps.add(at, "must be sqlite:PATH or a postgres:// URL")
	}
}

// IsPostgres reports whether a store names a PostgreSQL database.
func IsPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

func (pg *Postgres) validate(ps *problems, at keyPath, store string) {
	if !IsPostgres(store) {
		ps.add(at, "needs a postgres:// store")
	}
	if pg.MaxConns < 1 || pg.MaxConns > 1000 {
		ps.add(at.with("max_conns"), "must be between 1 and 1000")
	}
	if pg.ConnectTimeout <= 0 || pg.ConnectTimeout > time.Minute {
		ps.add(at.with("connect_timeout"), "must be between 1ns and 1m")
	}
	if pg.QueryTimeout <= 0 || pg.QueryTimeout > time.Minute {
		ps.add(at.with("query_timeout"), "must be between 1ns and 1m")
	}
}

func (r *Route) validate(ps *problems, at keyPath) {
	switch {
	case r.Name == "":
		ps.add(at.with("name"), "is required")
	case !routeName.MatchString(r.Name):
		ps.add(at.with("name"), "%q must be lower-case letters, digits, '-' or '_' (at most 63)", r.Name)
	}
	if err := route.CheckHost(r.Host); err != nil {
		ps.add(at.with("host"), "%v", err)
	}
	checkPrefix(ps, at.with("path"), r.Path, true)
	for i, m := range r.Methods {
		checkMethod(ps, at.with("methods", i), m)
	}
	checkUpstream(ps, at.with("upstream"), r.Upstream)

	switch r.Auth {
	case AuthRequired:
	case AuthOptional, AuthNone:
		if len(r.Roles)+len(r.Scopes)+len(r.Claims) > 0 {
			ps.add(at.with("auth"), "roles, scopes and claims rules need auth: required")
		}
	case "":
		ps.add(at.with("auth"), "is required: one of required, optional, none")
	default:
		ps.add(at.with("auth"), "%q is not one of required, optional, none", r.Auth)
	}
	for i, v := range r.Roles {
		if v == "" {
			ps.add(at.with("roles", i), "must not be empty")
		}
	}
	for i, v := range r.Scopes {
		if v == "" || strings.ContainsAny(v, " \t") {
			ps.add(at.with("scopes", i), "must be one non-empty scope without spaces")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Claims)) {
		if k == "" || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			ps.add(at.with("claims", k), "is not a claim name or dotted path")
		}
	}
	if r.StripPrefix != "" {
		if checkPrefix(ps, at.with("strip_prefix"), r.StripPrefix, false) &&
			r.Path != "" && !route.HasPrefix(r.Path, r.StripPrefix) {
			ps.add(at.with("strip_prefix"), "%q is not a segment prefix of path %q", r.StripPrefix, r.Path)
		}
	}
	if r.Timeout <= 0 {
		ps.add(at.with("timeout"), "must be positive")
	}
	if r.UpstreamMaxIdleConns < 1 || r.UpstreamMaxIdleConns > maxUpstreamMaxIdleConns {
		ps.add(at.with("upstream_max_idle_conns"), "must be between 1 and %d", maxUpstreamMaxIdleConns)
	}
	switch r.UpstreamProtocol {
	case "auto", "http1", "http2":
	default:
		ps.add(at.with("upstream_protocol"), "%q: want auto, http1 or http2", r.UpstreamProtocol)
	}
	if r.CORS != nil {
		r.CORS.validate(ps, at.with("cors"))
	}
}

// checkPrefix reports whether p is a valid route path prefix, as the route
// table defines it, and adds a problem at at when it is not.
func checkPrefix(ps *problems, at keyPath, p string, required bool) bool {
	if p == "" {
		if required {
			ps.add(at, "is required")
		}
		return false
	}
	if err := route.CheckPrefix(p); err != nil {
		ps.add(at, "%v", err)
		return false
	}
	return true
}

func checkUpstream(ps *problems, at keyPath, raw string) {
	if raw == "" {
		ps.add(at, "is required")
		return
	}
	if why := checkPort(upstreamHost(raw)); why != "" {
		ps.add(at, "%s", why)
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		ps.add(at, "is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		ps.add(at, "must be an http:// or https:// URL")
	case u.Hostname() == "":
		ps.add(at, "must name a host")
	case u.User != nil:
		ps.add(at, "must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		ps.add(at, "must not have a query or fragment")
	}
}

func checkListen(ps *problems, at keyPath, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		ps.add(at, "%q is not host:port", addr)
		return
	}
	if host != "" && !validListenHost(host) {
		ps.add(at, "%q has an invalid host", addr)
	}
	switch n, err := strconv.Atoi(port); {
	case port == "":
		ps.add(at, "%q has no port", addr)
	case err == nil && (n < 0 || n > 65535 || strings.ContainsAny(port, "+-")):
		ps.add(at, "%q: port %s is out of range (0-65535)", addr, port)
	case err != nil:
		if _, err := net.LookupPort("tcp", port); err != nil {
			ps.add(at, "%q: port %q is not a number", addr, port)
		}
	}
}

// checkHeaderMap checks a header: claim map (identity_headers,
// claim_headers) found at base.
func checkHeaderMap(ps *problems, base keyPath, hs map[string]string) {
	seen := make(map[string]string, len(hs))
	for _, h := range slices.Sorted(maps.Keys(hs)) {
		claim := hs[h]
		at := base.with(h)
		norm := headers.Fold(h)
		switch {
		case !headerName.MatchString(h):
			ps.add(at, "is not a valid header name")
		case reservedFolded[norm]:
			ps.add(at, "is reserved by HTTP or the proxy")
		case seen[norm] != "":
			ps.add(at, "is the same header as %q once case, '-' and '_' are ignored", seen[norm])
		}
		seen[norm] = h
		if claim == "" || hasControl(claim) {
			ps.add(at, "must name a claim")
		}
	}
}

// validListenHost reports whether host, from a listen address, is an IP
// address or a host name (a route host without a wildcard).
func validListenHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return !strings.Contains(host, "*") && route.CheckHost(host) == nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// validate checks the cache bounds; they are judged even when the cache is
// disabled, so enabling it later needs no other change.
func (tc TokenCache) validate(ps *problems, at keyPath) {
	if tc.MaxEntries <= 0 {
		ps.add(at.with("max_entries"), "must be positive")
	}
	if tc.MaxBytes <= 0 {
		ps.add(at.with("max_bytes"), "must be positive")
	}
	if tc.TTL <= 0 || tc.TTL > MaxTokenCacheTTL {
		ps.add(at.with("ttl"), "must be positive and at most %s", MaxTokenCacheTTL)
	}
}

// validate checks a CORS block found at at by the rules of
// proxy/crossorigin, which enforces them.
func (c *CORS) validate(ps *problems, at keyPath) {
	if len(c.AllowedOrigins) == 0 {
		ps.add(at.with("allowed_origins"), "is required: the origins whose pages may call, e.g. [https://app.example.com]")
	}
	originsOK := true
	for i, o := range c.AllowedOrigins {
		if err := crossorigin.CheckOrigin(o); err != nil {
			ps.add(at.with("allowed_origins", i), "%v", err)
			originsOK = false
		}
	}
	if originsOK {
		if err := crossorigin.CheckOrigins(c.AllowedOrigins, false); err != nil {
			ps.add(at.with("allowed_origins"), "%v", err)
		} else if err := crossorigin.CheckOrigins(c.AllowedOrigins, c.AllowCredentials); err != nil {
			ps.add(at.with("allow_credentials"), "%v", err)
		}
	}
	if len(c.AllowedMethods) == 0 {
		ps.add(at.with("allowed_methods"), "must not be empty (leave it out for GET, HEAD, POST)")
	}
	for i, m := range c.AllowedMethods {
		if err := crossorigin.CheckMethod(m); err != nil {
			ps.add(at.with("allowed_methods", i), "%v", err)
		}
	}
	if len(c.AllowedHeaders) == 0 {
		ps.add(at.with("allowed_headers"), "must not be empty (leave it out for Authorization, Content-Type)")
	}
	for i, h := range c.AllowedHeaders {
		if h == "*" {
			continue
		}
		if err := crossorigin.CheckHeader(h); err != nil {
			ps.add(at.with("allowed_headers", i), "%v", err)
		}
	}
	for i, h := range c.ExposedHeaders {
		if err := crossorigin.CheckHeader(h); err != nil {
			ps.add(at.with("exposed_headers", i), "%v", err)
		}
	}
	if err := crossorigin.CheckMaxAge(c.MaxAge); err != nil {
		ps.add(at.with("max_age"), "must be whole seconds between 0s and %s", crossorigin.MaxMaxAge)
	}
}
