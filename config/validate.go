package config

import (
	"maps"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/headers"
	"github.com/authgate/authgate/proxy/route"
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
		if !validAddrOrPrefix(p) {
			ps.add(keyPath{"trusted_proxies", i}, "%q is not an IP address or CIDR", p)
		}
	}
	if strings.ContainsAny(c.Realm, "\"\\") || hasControl(c.Realm) {
		ps.add(keyPath{"realm"}, "must not contain quotes, backslashes or control characters")
	}
	if c.Tokens != nil {
		c.Tokens.validate(&ps, keyPath{"tokens"})
	}
	checkIdentityHeaders(&ps, c.IdentityHeaders)
	if c.Store != "" {
		checkStore(&ps, keyPath{"store"}, c.Store)
	}
	if c.Accounts != nil {
		c.Accounts.validate(&ps, keyPath{"accounts"}, c)
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
		if r.Auth != AuthNone && r.Auth != "" && c.Tokens == nil {
			ps.add(at.with("auth"), "auth %q needs a token verifier: configure tokens", r.Auth)
		}
	}
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
	switch {
	case t.SigningKey == "" && t.HMACSecret == "":
		ps.add(at.with("signing_key"), "is required (create one with: authgate keys generate -out FILE), or set hmac_secret")
	case t.SigningKey != "" && t.HMACSecret != "":
		ps.add(at.with("hmac_secret"), "set either signing_key or hmac_secret, not both")
	case t.HMACSecret != "" && len(t.HMACSecret) < 32:
		// Never echo the secret.
		ps.add(at.with("hmac_secret"), "must be at least 32 bytes (256 bits) of random data")
	}
	for i, k := range t.VerificationKeys {
		if k == "" {
			ps.add(at.with("verification_keys", i), "must name a PEM key file")
		}
	}
}

func (a *Accounts) validate(ps *problems, at keyPath, c *Config) {
	if a.Signup != SignupOpen && a.Signup != SignupClosed {
		ps.add(at.with("signup"), "%q is not one of open, closed", a.Signup)
	}
	if checkPrefix(ps, at.with("path_prefix"), a.PathPrefix, true) && a.PathPrefix == "/" {
		ps.add(at.with("path_prefix"), "must not be /")
	}
	for i, r := range a.DefaultRoles {
		if r == "" || !headers.ValidValue(r) || strings.Contains(r, ",") {
			ps.add(at.with("default_roles", i), "must be a non-empty role without commas or control characters")
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
	if c.Tokens == nil {
		ps.add(at, "accounts need tokens to be configured")
	}
	if c.Store == "" {
		ps.add(at, "accounts need a store (store: sqlite:data/authgate.db)")
	}
}

func checkStore(ps *problems, at keyPath, dsn string) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		if strings.TrimPrefix(dsn, "sqlite:") == "" {
			ps.add(at, "sqlite: needs a file path, e.g. sqlite:data/authgate.db")
		}
	default:
		ps.add(at, "must be sqlite:PATH")
	}
}

func (r *Route) validate(ps *problems, at keyPath) {
	switch {
	case r.Name == "":
		ps.add(at.with("name"), "is required")
	case !routeName.MatchString(r.Name):
		ps.add(at.with("name"), "%q must be lower-case letters, digits, '-' or '_' (at most 63)", r.Name)
	}
	if r.Host != "" && !validHostPattern(r.Host) {
		ps.add(at.with("host"), "%q is not a host name or *.domain pattern", r.Host)
	}
	checkPrefix(ps, at.with("path"), r.Path, true)
	for i, m := range r.Methods {
		if !headerName.MatchString(m) || m != strings.ToUpper(m) {
			ps.add(at.with("methods", i), "%q is not an upper-case HTTP method", m)
		}
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
			r.Path != "" && !segmentPrefix(r.Path, r.StripPrefix) {
			ps.add(at.with("strip_prefix"), "%q is not a segment prefix of path %q", r.StripPrefix, r.Path)
		}
	}
	if r.Timeout <= 0 {
		ps.add(at.with("timeout"), "must be positive")
	}
}

// checkPrefix reports whether p is a canonical path prefix.
func checkPrefix(ps *problems, at keyPath, p string, required bool) bool {
	if p == "" {
		if required {
			ps.add(at, "is required")
		}
		return false
	}
	clean, err := route.CleanPath(p)
	switch {
	case err != nil:
		ps.add(at, "%v", err)
	case !strings.HasPrefix(p, "/"):
		ps.add(at, "%q must start with /", p)
	case strings.ContainsAny(p, "?#%"):
		ps.add(at, "%q must not contain ?, # or %%", p)
	case p != "/" && strings.HasSuffix(p, "/"):
		ps.add(at, "%q must not end with / (prefixes match on segment boundaries)", p)
	case clean != p:
		ps.add(at, "%q is not canonical, write %q", p, clean)
	default:
		return true
	}
	return false
}

func segmentPrefix(p, prefix string) bool {
	return prefix == "/" || p == prefix || strings.HasPrefix(p, prefix+"/")
}

func checkUpstream(ps *problems, at keyPath, raw string) {
	if raw == "" {
		ps.add(at, "is required")
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
	if host != "" && net.ParseIP(host) == nil && !validHostPattern(host) {
		ps.add(at, "%q has an invalid host", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil || port == "" {
		ps.add(at, "%q has an invalid port", addr)
	}
}

func checkIdentityHeaders(ps *problems, hs map[string]string) {
	seen := make(map[string]string, len(hs))
	for _, h := range slices.Sorted(maps.Keys(hs)) {
		claim := hs[h]
		at := keyPath{"identity_headers", h}
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

func validAddrOrPrefix(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

var hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validHostPattern accepts "example.com", "localhost" and "*.example.com".
func validHostPattern(h string) bool {
	h = strings.ToLower(strings.TrimPrefix(h, "*."))
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !hostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
