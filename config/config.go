// Package config defines authgate's configuration file: its YAML keys, their
// defaults, and the rules a configuration must satisfy before it is used.
//
// A configuration is read with [Load] (or [Parse]): the YAML is decoded
// strictly (an unknown key is an error), ${VAR} references in string values
// are expanded from the environment, defaults are applied to the keys the
// file leaves out (a key that is present keeps its value, even a zero one),
// and [Config.Validate] reports every problem at once, each with its YAML
// line and key path.
//
// The rules a value must satisfy belong to the package that uses it (host
// patterns and path prefixes to proxy/route, algorithms and key URLs to
// proxy/jwks, trusted proxies to proxy/clientip): Validate asks those
// packages, so a configuration accepted here is one they accept.
//
// The structs here are plain data. Everything derived from them at run time
// (compiled routes, parsed keys, CIDRs) is built by the packages that use it.
package config

import (
	"path/filepath"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/authgate/authgate/proxy/jwks"
	"github.com/authgate/authgate/proxy/postgres"
	"github.com/authgate/authgate/proxy/token"
)

// Auth modes of a route.
const (
	// AuthRequired rejects requests without a valid token.
	AuthRequired = "required"
	// AuthOptional forwards anonymous requests, but rejects a token that is
	// present and invalid.
	AuthOptional = "optional"
	// AuthNone forwards every request without looking at tokens. Identity
	// headers sent by the client are still removed.
	AuthNone = "none"
)

// Config is the whole configuration file.
type Config struct {
	// Listen is the address of the traffic listener. Default "127.0.0.1:8000".
	Listen string `yaml:"listen"`
	// AdminListen is the address of the admin listener (health, metrics),
	// kept apart from traffic. Default "127.0.0.1:9191".
	AdminListen string `yaml:"admin_listen"`
	// TrustedProxies lists the addresses (IPs or CIDRs, as
	// clientip.ParsePrefix reads them) whose X-Forwarded-* and X-Original-*
	// headers are believed. Default: none. An entry covering every address
	// (0.0.0.0/0, ::/0) is allowed but reported by Warnings.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Realm is the realm named in WWW-Authenticate challenges. Default
	// "authgate"; it may not be empty.
	Realm string `yaml:"realm"`
	// Server holds the traffic listener's limits and the shutdown grace.
	Server Server `yaml:"server"`
	// TLS, when present, serves the traffic listener over TLS (HTTP/2 on).
	TLS *TLS `yaml:"tls"`
	// Tokens configures authgate's own access tokens. Optional for a
	// deployment that only verifies tokens of external issuers.
	Tokens *Tokens `yaml:"tokens"`
	// Issuers are trusted external token issuers (Keycloak, Auth0, Okta,
	// Entra ID, another authgate, ...) whose keys are fetched from their
	// JWKS.
	Issuers []Issuer `yaml:"issuers"`
	// IdentityHeaders maps each header set on forwarded requests to the
	// claim it carries. Arrays are joined with ",". "sub" and "roles" mean
	// the identity's subject and roles, read from each issuer's
	// subject_claim and roles_claim. When absent, the map
	// returned by DefaultIdentityHeaders is used; when present, it replaces
	// that map entirely. Every header named here is removed from every
	// incoming request, in all spellings, before authgate sets its own.
	IdentityHeaders map[string]string `yaml:"identity_headers"`
	// Store is where accounts and refresh tokens live: "sqlite:PATH"
	// (relative to the config file) for the embedded store of one node, or
	// "postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=...]" for one
	// database shared by several replicas. Required when accounts are
	// served.
	Store string `yaml:"store"`
	// StoreFile is a file holding the whole store value, typically a
	// postgres:// URL with its password, so that a Kubernetes or Docker
	// secret mounted as a file can provide it (relative to the config file;
	// one trailing newline is ignored). Load reads it into Store, and again
	// on every reload. Exclusive with store.
	StoreFile string `yaml:"store_file"`
	// Postgres tunes a postgres:// store; it is refused with any other.
	Postgres *Postgres `yaml:"postgres"`
	// Accounts, when present, serves signup, login, refresh and logout.
	// Needs tokens and store.
	Accounts *Accounts `yaml:"accounts"`
	// Browser, when present, serves people in browsers: a sign-in page,
	// cookie sessions and redirects to sign in. Needs accounts.
	Browser *Browser `yaml:"browser"`
	// Providers are external OpenID Connect providers people may sign in
	// through from the sign-in page. Needs browser.
	Providers []Provider `yaml:"providers"`
	// ForwardAuth configures the decision endpoints (/auth/verify,
	// /auth/forward, /auth/ext-authz/...).
	ForwardAuth ForwardAuth `yaml:"forward_auth"`
	// Routes are matched in file order; the first match wins. A request
	// that matches no route is answered 404 and never forwarded. A route
	// an earlier one leaves unreachable (same host and path, or a shorter
	// path prefix, for the same methods) is refused, as are methods an
	// earlier route with the same host and path takes.
	Routes []Route `yaml:"routes"`
	// TokenCache keeps the results of successful token verifications so a
	// client sending the same token again skips the signature check.
	TokenCache TokenCache `yaml:"token_cache"`
	// Log sets the level and format of 'authgate serve' logs. The
	// environment variables AUTHGATE_LOG_LEVEL and AUTHGATE_LOG_FORMAT
	// override it, and the -log-level and -log-format flags override both.
	Log Log `yaml:"log"`

	// baseDir is the directory of the file the config was loaded from;
	// relative file paths in the config are resolved against it.
	baseDir string
}

// Tokens configures the access tokens authgate issues and verifies itself.
type Tokens struct {
	// Issuer is the "iss" of authgate's tokens, usually its public URL. Required.
	Issuer string `yaml:"issuer"`
	// Audience is the "aud" of authgate's tokens. Required.
	Audience string `yaml:"audience"`
	// AccessTTL is the lifetime of access tokens. Default 15m, at most 24h.
	AccessTTL time.Duration `yaml:"access_ttl"`
	// Leeway is the clock skew tolerated when checking exp, nbf and iat.
	// Default 30s, at most 5m; 0s tolerates none.
	Leeway time.Duration `yaml:"leeway"`
	// SigningKey is the path of the PEM private key that signs tokens
	// (Ed25519, ECDSA P-256 or RSA ≥ 2048 bits; the algorithm follows from
	// the key). A relative path is relative to the config file. Exactly one
	// of SigningKey and HMACSecret is required.
	SigningKey string `yaml:"signing_key"`
	// HMACSecret signs tokens with HS256 instead, best given as ${VAR}. Its
	// bytes are the key as written (not decoded). It must be at least 32
	// bytes, not a short pattern repeated, and use enough different
	// characters for its length: at least 12, and 16 at 32 bytes (length ×
	// log2(different characters) ≥ 128). Those floors refuse passwords and
	// padded words, not every weak secret: generate it, e.g. with
	// 'openssl rand -base64 48' (64 characters, 384 random bits). Prefer an
	// asymmetric key: an HMAC secret cannot be published, so other
	// verifiers cannot check the tokens.
	HMACSecret string `yaml:"hmac_secret"`
	// HMACSecretFile is a file holding the HMAC secret, so that a Kubernetes
	// or Docker secret mounted as a file can provide it (relative to the
	// config file; one trailing newline is ignored). Load reads it into
	// HMACSecret, and again on every reload; the same floors apply.
	// Exclusive with hmac_secret and signing_key.
	HMACSecretFile string `yaml:"hmac_secret_file"`
	// VerificationKeys are PEM private keys that no longer sign but still
	// verify, and are still published: rotate keys without logging users out.
	VerificationKeys []string `yaml:"verification_keys"`
}

// Log sets how 'authgate serve' logs.
type Log struct {
	// Level is the least severe level logged: debug, info, warn or error.
	// Default info.
	Level string `yaml:"level"`
	// Format is json (one JSON object a line) or text (key=value). Default
	// json.
	Format string `yaml:"format"`
}

// Server holds the traffic listener's limits. Zero read and write timeouts
// mean none: uploads, streams and WebSockets may run long; the upstream
// timeout of each route still bounds the wait for response headers. A
// request body must still keep arriving (BodyReadTimeout). Every duration
// is at most 1h.
type Server struct {
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s;
	// it must be positive (a client sending headers slowly would otherwise
	// hold a connection forever).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request. Default 0 (none).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// BodyReadTimeout bounds the wait between two successive reads of a
	// request body, like nginx's client_body_timeout: a client that sends
	// nothing for that long is cut off (408 when the upstream has not
	// answered yet), however long the whole upload takes; it never
	// extends ReadTimeout. Default 60s; 0 means none.
	BodyReadTimeout time.Duration `yaml:"body_read_timeout"`
	// WriteTimeout bounds writing a response. Default 0 (none).
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s; it
	// must be positive.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's headers. Default 65536; between
	// 1024 and 1048576.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ShutdownGrace is how long requests in flight may finish after
	// SIGTERM or SIGINT. Default 15s; it must be positive.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

// TokenCache bounds the cache of verified tokens. Entries are keyed by the
// SHA-256 of the token; only successful verifications are kept, each until
// the earlier of the token's exp and TTL, and nbf and exp are checked again
// on every hit. A token is stored the second time it is verified while the
// first is still remembered, so tokens used once never displace reused
// ones. Revocation and route policy are checked on every request,
// cached or not. The cache belongs to one configuration: a reload starts
// with an empty one, and a successful fetch of an issuer's JWKS drops
// every entry verified before it.
type TokenCache struct {
	// Enabled turns the cache on. Default true.
	Enabled bool `yaml:"enabled"`
	// MaxEntries bounds the number of cached tokens. Default 10000; it
	// must be positive.
	MaxEntries int `yaml:"max_entries"`
	// MaxBytes bounds the memory of cached tokens: each entry counts an
	// estimate, from above, of the heap its decoded claims hold (about
	// 1.5 KiB for an access token with a few claims; a list of 200 groups
	// makes it about 13 KiB). Default 2097152 (2 MiB, about 1,350 typical
	// access tokens): raise it where more distinct tokens are in use
	// within TTL; the process grows by about twice what it adds (the
	// garbage collector's headroom). It must be positive.
	MaxBytes int64 `yaml:"max_bytes"`
	// TTL is the longest an entry is served without verifying the token
	// again. Default 30s; positive and at most 5m.
	TTL time.Duration `yaml:"ttl"`
}

// TLS configures TLS on the traffic listener. Certificates are read again
// on every reload.
type TLS struct {
	// CertFile is the PEM certificate chain (relative to the config
	// file). Required.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key of the certificate (relative to the
	// config file). Required.
	KeyFile string `yaml:"key_file"`
	// MinVersion is "1.2" (default) or "1.3".
	MinVersion string `yaml:"min_version"`
	// Admin serves the admin listener over TLS too, with the same
	// certificate. Default false (probes and scrapers often speak plain HTTP
	// on a private port).
	Admin bool `yaml:"admin"`
}

// ForwardAuth configures the decision endpoints that nginx, ingress-nginx,
// Traefik, Caddy and Envoy ask.
type ForwardAuth struct {
	// CacheControl is sent with allowed decisions. Default "no-store":
	// a peer must ask again for every request. It may not be empty.
	CacheControl string `yaml:"cache_control"`
}

// Issuer is a trusted external token issuer.
type Issuer struct {
	// Name identifies the issuer in routes, logs and metrics. Required,
	// unique, lower-case letters, digits, "-" and "_"; "authgate" is
	// reserved for authgate's own tokens.
	Name string `yaml:"name"`
	// Issuer is the exact "iss" of its tokens. Required.
	Issuer string `yaml:"issuer"`
	// JWKSURL is where its public keys are published. HTTPS, except for
	// loopback addresses (see jwks.CheckURL). Exactly one of JWKSURL and
	// Discovery is required.
	JWKSURL string `yaml:"jwks_url"`
	// Discovery reads jwks_uri from Issuer + "/.well-known/openid-configuration".
	Discovery bool `yaml:"discovery"`
	// Audience: a token's "aud" must contain one of these. Required; one
	// string or a list.
	Audience Strings `yaml:"audience"`
	// Algorithms is the allow-list of "alg" values: asymmetric only (RS*,
	// PS*, ES*, EdDSA). Required.
	Algorithms []string `yaml:"algorithms"`
	// Typ lists the accepted "typ" header values (e.g. [at+jwt, JWT]).
	// Default: any, including none.
	Typ []string `yaml:"typ"`
	// Leeway is the clock skew tolerated on exp, nbf and iat. Default 30s,
	// at most 5m; 0s tolerates none.
	Leeway time.Duration `yaml:"leeway"`
	// SubjectClaim names the claim holding the subject (a dotted path
	// reaches a nested one). Default sub; it may not be empty.
	SubjectClaim string `yaml:"subject_claim"`
	// RolesClaim names the claim holding the roles (a dotted path reaches
	// a nested one, e.g. realm_access.roles). Default roles; it may not be
	// empty.
	RolesClaim string `yaml:"roles_claim"`
	// ScopesClaim names the claim holding the scopes (a dotted path
	// reaches a nested one). Default: scope, falling back to scp; empty
	// means the default.
	ScopesClaim string `yaml:"scopes_claim"`
	// ClaimHeaders are extra identity headers (header: claim) set for this
	// issuer's tokens. Like identity_headers, they are removed from every
	// incoming request.
	ClaimHeaders map[string]string `yaml:"claim_headers"`
	// RefreshInterval is how often the JWKS is fetched again. Default 10m;
	// between 30s and 24h.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// Postgres tunes the connection pool of a postgres:// store.
type Postgres struct {
	// PasswordFile holds the database password (relative to the config
	// file; one trailing newline is ignored). It replaces a password in the
	// URL. Default: the URL's password, if any (write it as ${VAR}).
	PasswordFile string `yaml:"password_file"`
	// MaxConns bounds the pool's connections. Default 10.
	MaxConns int `yaml:"max_conns"`
	// ConnectTimeout bounds opening one connection. Default 5s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// QueryTimeout bounds one store operation (a transaction included).
	// Default 5s.
	QueryTimeout time.Duration `yaml:"query_timeout"`
}

// Strings is a YAML value written as one string or a list of strings.
type Strings []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (s *Strings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Strings{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// Accounts configures the account endpoints authgate serves itself.
type Accounts struct {
	// Signup is "open" (anyone may sign up) or "closed" (operators create
	// users with 'authgate users add'). Default "closed".
	Signup string `yaml:"signup"`
	// Passwords turns authgate's own password sign-in on: POST
	// {prefix}/login with a password, the password form of the sign-in
	// page and signup. Default true. With false, people sign in only
	// through the configured providers (at least one is then required):
	// the page shows their buttons alone, and password logins and signup
	// are refused with 403.
	Passwords bool `yaml:"passwords"`
	// PathPrefix is where the endpoints live. Default "/auth"; a valid
	// route path other than "/", without a trailing slash.
	PathPrefix string `yaml:"path_prefix"`
	// DefaultRoles are given to users who sign up. Default [user].
	DefaultRoles []string `yaml:"default_roles"`
	// PasswordMinLength is the minimum password length in characters.
	// Default 8; between 1 and 64.
	PasswordMinLength int `yaml:"password_min_length"`
	// RefreshTTL is the absolute lifetime of a login's refresh tokens.
	// Default 720h (30 days).
	RefreshTTL time.Duration `yaml:"refresh_ttl"`
	// RefreshIdle ends a login whose refresh token is unused this long.
	// Default 168h (7 days).
	RefreshIdle time.Duration `yaml:"refresh_idle"`
	// RefreshGrace lets the immediately previous refresh token be presented
	// again for this long after it was rotated (two tabs refreshing at
	// once). Default 0: any reuse revokes the login.
	RefreshGrace time.Duration `yaml:"refresh_grace"`
	// Cookie, when true, hands the refresh token out in the cookie
	// __Secure-authgate-refresh (HttpOnly, Secure, SameSite=Strict, Path =
	// the refresh endpoint, e.g. /auth/refresh) instead of the response
	// body; cookie refreshes need the CSRF token. Not __Host-: that prefix
	// requires Path=/, which would send the token to every upstream.
	Cookie bool `yaml:"cookie"`
	// HashConcurrency bounds concurrent password hashes (each takes about
	// 19 MiB). Default 4.
	HashConcurrency int `yaml:"hash_concurrency"`
	// CORS, when present, lets pages of the origins it names call the
	// account endpoints (signup, login, refresh, logout, me) from the
	// browser, as a route's cors does for the route. With cookie: true a
	// page of another origin needs allow_credentials to refresh.
	CORS *CORS `yaml:"cors"`
}

// CORS lets browser pages of other origins call a route, or the account
// endpoints. Preflights (OPTIONS with Origin and
// Access-Control-Request-Method) are answered by authgate without
// authentication and never forwarded; every answer to an actual request
// carries the CORS headers, authgate's own 401 and 403 included, so a page
// can read why it was refused; the upstream's own Access-Control-* headers
// are dropped, so this policy is the only one a browser sees. Without it a
// preflight is a request like any other (and usually refused for want of
// a token).
type CORS struct {
	// AllowedOrigins are the origins allowed, written as browsers send
	// them: "https://app.example.com", "http://localhost:5173" (no path,
	// no default port), "https://*.example.com" for every subdomain of
	// example.com at any depth (not example.com itself), or "*" alone for
	// every origin. Required.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowedMethods may be announced by a preflight, upper case. Default
	// [GET, HEAD, POST]; it may not be empty.
	AllowedMethods []string `yaml:"allowed_methods"`
	// AllowedHeaders may be announced by a preflight, compared without
	// regard to case; "*" allows any. Default [Authorization,
	// Content-Type], enough for a bearer token and a JSON body; it may not
	// be empty.
	AllowedHeaders []string `yaml:"allowed_headers"`
	// ExposedHeaders are the response headers a page may read beyond the
	// CORS-safelisted ones (e.g. WWW-Authenticate, Retry-After,
	// X-Request-Id). Default none.
	ExposedHeaders []string `yaml:"exposed_headers"`
	// AllowCredentials lets pages send cookies and read the answers.
	// Default false: a bearer token in Authorization needs no credentials.
	// It is refused with the origin "*".
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge is how long a browser may cache a preflight's answer. Default
	// 10m; whole seconds, at most 24h; 0s asks it not to cache (browsers
	// cap it lower: Chromium at 2h).
	MaxAge time.Duration `yaml:"max_age"`
}

// Browser configures the sign-in page and cookie sessions. Every route
// then accepts the session cookie as well as Authorization: Bearer (the
// header wins when both are present), and a cookie-authenticated request
// that changes state (or opens a WebSocket) must come from an allowed
// origin.
type Browser struct {
	// AllowedRedirectHosts are the hosts, besides the request's own, that
	// the rd of the sign-in, renewal and sign-out pages may name, and
	// that are allowed origins of cookie-authenticated requests:
	// "app.example.com" (any port), or "*.example.com" for its
	// subdomains. Default: none.
	AllowedRedirectHosts []string `yaml:"allowed_redirect_hosts"`
	// CookieDomain, when set, puts the session cookies on this parent
	// domain (with the __Secure- prefix) so that several subdomains behind
	// one ingress share the session. Default: host-only cookies (the
	// access cookie with the __Host- prefix).
	CookieDomain string `yaml:"cookie_domain"`
	// DefaultProvider, when set, names the provider that browsers are sent
	// to straight away instead of the sign-in page. Default: none.
	DefaultProvider string `yaml:"default_provider"`
}

// Route is one routing rule: which requests it matches, what identity they
// need, and which upstream serves them.
type Route struct {
	// Name identifies the route in logs and metrics. Required, unique,
	// lower-case letters, digits, "-" and "_".
	Name string `yaml:"name"`
	// Host restricts the route to one host ("api.example.com", an IP
	// literal such as "10.0.0.1" or "[::1]") or to the subdomains of one
	// ("*.example.com"), as route.CheckHost accepts. Default: any host.
	Host string `yaml:"host"`
	// Path is a path prefix matched on segment boundaries: "/todos" matches
	// "/todos" and "/todos/1", not "/todosx"; "/todos/" matches "/todos/1"
	// but not "/todos". It must be canonical (route.CheckPrefix). Required.
	Path string `yaml:"path"`
	// CaseInsensitive says the upstream resolves paths without regard to
	// case (IIS, ASP.NET, Spring or Express configured so). Path then
	// matches whatever the case of the request's letters ("/ECHO/admin"
	// for "/echo/admin"), and a request this route would take that
	// matches an earlier route's path but for case goes to that earlier
	// route instead, so a case variant of a protected path never reaches
	// this upstream with a laxer route's auth. Mark every route whose
	// upstream folds case, catch-alls included. Default false: paths are
	// compared byte for byte.
	CaseInsensitive bool `yaml:"case_insensitive"`
	// Methods restricts the route to these methods, upper case, from the
	// IANA HTTP Method Registry; GET includes HEAD. Default: any method.
	Methods []string `yaml:"methods"`
	// Upstream is the base URL requests are forwarded to. Required.
	Upstream string `yaml:"upstream"`
	// Auth is one of "required", "optional" or "none". Required: there is
	// deliberately no default.
	Auth string `yaml:"auth"`
	// Roles, when set, require the identity to hold at least one of them.
	Roles []string `yaml:"roles"`
	// Scopes, when set, require the identity to hold all of them.
	Scopes []string `yaml:"scopes"`
	// Issuers lists the issuers whose tokens the route accepts, by name
	// ("authgate" for authgate's own). Default: every configured issuer.
	Issuers []string `yaml:"issuers"`
	// Claims, when set, require each claim (a dotted path for nested
	// claims) to equal the given value; an array claim must contain it.
	Claims map[string]string `yaml:"claims"`
	// StripPrefix is removed from the request path before forwarding. It
	// must be a segment prefix of Path: every path the route matches must
	// start with it.
	StripPrefix string `yaml:"strip_prefix"`
	// PreserveHost forwards the client's Host header instead of the
	// upstream's host. Default false.
	PreserveHost bool `yaml:"preserve_host"`
	// ForwardAuthorization forwards the client's Authorization header to
	// the upstream. Default false: the upstream sees identity headers only.
	ForwardAuthorization bool `yaml:"forward_authorization"`
	// IdentityToken adds X-Auth-Token: a JWT of the identity signed by
	// authgate's key (audience = the route's name, lifetime 30s), so an
	// upstream that must not trust the network can verify the identity
	// against /.well-known/jwks.json. Needs tokens.signing_key.
	IdentityToken bool `yaml:"identity_token"`
	// Timeout bounds the wait for the upstream's response headers
	// (answered 504 when exceeded). Default 30s; it must be positive.
	Timeout time.Duration `yaml:"timeout"`
	// CORS, when present, lets pages of other origins call the route
	// from the browser; see CORS. Default: none.
	CORS *CORS `yaml:"cors"`
	// Browser answers a request without a session, when it is a browser
	// navigation, with a redirect to the sign-in page (through the session
	// renewal endpoint) instead of 401. Needs the top-level browser key
	// and auth: required or optional.
	Browser bool `yaml:"browser"`
	// Provider, when set, sends a browser navigation without a session
	// straight to this provider's sign-in instead of the sign-in page
	// (browser.default_provider does so for every route). Needs browser:
	// true and the name of a configured provider. Default: none.
	Provider string `yaml:"provider"`
	// UpstreamMaxIdleConns is how many idle connections to each upstream
	// host are kept for reuse: enough for the concurrency the route
	// serves, or requests beyond it open new connections. Default 256; it
	// must be between 1 and 10000.
	UpstreamMaxIdleConns int `yaml:"upstream_max_idle_conns"`
	// UpstreamProtocol is the HTTP version spoken to the upstream: "auto"
	// (the default: HTTP/1.1 to http:// upstreams, HTTP/2 when a https://
	// upstream offers it), "http1" (HTTP/1.1 only) or "http2" (HTTP/2 only:
	// with prior knowledge, h2c, to http:// upstreams such as gRPC
	// services; negotiated by TLS to https:// ones).
	UpstreamProtocol string `yaml:"upstream_protocol"`
}

// Defaults. They are applied by setDefaults and nowhere else, and only to
// keys absent from the file (or null): a key that is present keeps its
// value, zero included, and Validate judges it. Where a runtime package owns
// a default, the constant here is that package's.
const (
	DefaultListen      = "127.0.0.1:8000"
	DefaultAdminListen = "127.0.0.1:9191"
	DefaultRealm       = "authgate"
	DefaultAccessTTL   = 15 * time.Minute
	DefaultLeeway      = 30 * time.Second
	DefaultTimeout     = 30 * time.Second

	DefaultUpstreamMaxIdleConns = 256
	DefaultUpstreamProtocol     = "auto"
	maxUpstreamMaxIdleConns     = 10000

	DefaultRefreshInterval = jwks.DefaultRefreshInterval

	DefaultSignup            = SignupClosed
	DefaultAccountsPrefix    = "/auth"
	DefaultPasswordMinLength = 8
	DefaultRefreshTTL        = 30 * 24 * time.Hour
	DefaultRefreshIdle       = 7 * 24 * time.Hour
	DefaultHashConcurrency   = 4
)

// CORS defaults.
var (
	// DefaultCORSMethods are the methods a CORS policy allows when it
	// names none: the CORS-safelisted ones.
	DefaultCORSMethods = []string{"GET", "HEAD", "POST"}
	// DefaultCORSHeaders are the request headers a CORS policy allows when
	// it names none: a bearer token and a JSON body.
	DefaultCORSHeaders = []string{"Authorization", "Content-Type"}
)

// DefaultCORSMaxAge is how long browsers may cache a preflight's answer
// when a CORS policy does not say.
const DefaultCORSMaxAge = 10 * time.Minute

// Defaults no other package needs.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultIdleTimeout       = 120 * time.Second
	defaultBodyReadTimeout   = 60 * time.Second
	defaultMaxHeaderBytes    = 64 << 10
	defaultShutdownGrace     = 15 * time.Second
	defaultTLSMinVersion     = "1.2"
	defaultCacheControl      = "no-store"
	defaultRole              = "user"

	// DefaultLogLevel and DefaultLogFormat are the log defaults.
	DefaultLogLevel  = "info"
	DefaultLogFormat = "json"

	// DefaultTokenCacheMaxEntries, DefaultTokenCacheMaxBytes and
	// DefaultTokenCacheTTL are the token_cache defaults.
	DefaultTokenCacheMaxEntries       = 10000
	DefaultTokenCacheMaxBytes   int64 = 2 << 20
	DefaultTokenCacheTTL              = 30 * time.Second

	defaultPostgresMaxConns       = postgres.DefaultMaxConns
	defaultPostgresConnectTimeout = postgres.DefaultConnectTimeout
	defaultPostgresQueryTimeout   = postgres.DefaultTimeout
)

// Signup modes.
const (
	SignupOpen   = "open"
	SignupClosed = "closed"
)

// Limits enforced by Validate.
const (
	MaxAccessTTL = 24 * time.Hour
	MaxLeeway    = 5 * time.Minute
	// MaxTokenCacheTTL bounds token_cache.ttl.
	MaxTokenCacheTTL = 5 * time.Minute
)

// DefaultIdentityHeaders returns the identity headers used when the config
// names none. Whatever header names it, the email claim is forwarded only
// when the token's email_verified claim is true.
func DefaultIdentityHeaders() map[string]string {
	return map[string]string{
		"X-Auth-Subject":  "sub",
		"X-Auth-Username": "preferred_username",
		"X-Auth-Email":    "email",
		"X-Auth-Roles":    "roles",
	}
}

// setDefaults gives every key that has a default, and that set reports
// absent from the file, its default. It is the one place defaults are
// applied: a key the file sets keeps its value, zero included, and Validate
// judges it.
func (c *Config) setDefaults(set func(keyPath) bool) {
	def(set, keyPath{"listen"}, &c.Listen, DefaultListen)
	def(set, keyPath{"admin_listen"}, &c.AdminListen, DefaultAdminListen)
	def(set, keyPath{"realm"}, &c.Realm, DefaultRealm)

	sv, at := &c.Server, keyPath{"server"}
	def(set, at.with("read_header_timeout"), &sv.ReadHeaderTimeout, defaultReadHeaderTimeout)
	def(set, at.with("idle_timeout"), &sv.IdleTimeout, defaultIdleTimeout)
	def(set, at.with("body_read_timeout"), &sv.BodyReadTimeout, defaultBodyReadTimeout)
	def(set, at.with("max_header_bytes"), &sv.MaxHeaderBytes, defaultMaxHeaderBytes)
	def(set, at.with("shutdown_grace"), &sv.ShutdownGrace, defaultShutdownGrace)

	if c.TLS != nil {
		def(set, keyPath{"tls", "min_version"}, &c.TLS.MinVersion, defaultTLSMinVersion)
	}
	def(set, keyPath{"forward_auth", "cache_control"}, &c.ForwardAuth.CacheControl, defaultCacheControl)
	def(set, keyPath{"identity_headers"}, &c.IdentityHeaders, DefaultIdentityHeaders())
	def(set, keyPath{"log", "level"}, &c.Log.Level, DefaultLogLevel)
	def(set, keyPath{"log", "format"}, &c.Log.Format, DefaultLogFormat)
	tc, at := &c.TokenCache, keyPath{"token_cache"}
	def(set, at.with("enabled"), &tc.Enabled, true)
	def(set, at.with("max_entries"), &tc.MaxEntries, DefaultTokenCacheMaxEntries)
	def(set, at.with("max_bytes"), &tc.MaxBytes, DefaultTokenCacheMaxBytes)
	def(set, at.with("ttl"), &tc.TTL, DefaultTokenCacheTTL)
	if pg := c.Postgres; pg != nil {
		at := keyPath{"postgres"}
		def(set, at.with("max_conns"), &pg.MaxConns, defaultPostgresMaxConns)
		def(set, at.with("connect_timeout"), &pg.ConnectTimeout, defaultPostgresConnectTimeout)
		def(set, at.with("query_timeout"), &pg.QueryTimeout, defaultPostgresQueryTimeout)
	}

	if t := c.Tokens; t != nil {
		at := keyPath{"tokens"}
		def(set, at.with("access_ttl"), &t.AccessTTL, DefaultAccessTTL)
		def(set, at.with("leeway"), &t.Leeway, DefaultLeeway)
	}
	for i := range c.Issuers {
		is, at := &c.Issuers[i], keyPath{"issuers", i}
		def(set, at.with("leeway"), &is.Leeway, DefaultLeeway)
		def(set, at.with("subject_claim"), &is.SubjectClaim, token.DefaultSubjectClaim)
		def(set, at.with("roles_claim"), &is.RolesClaim, token.DefaultRolesClaim)
		def(set, at.with("refresh_interval"), &is.RefreshInterval, DefaultRefreshInterval)
	}
	if a := c.Accounts; a != nil {
		at := keyPath{"accounts"}
		def(set, at.with("signup"), &a.Signup, DefaultSignup)
		def(set, at.with("passwords"), &a.Passwords, true)
		def(set, at.with("path_prefix"), &a.PathPrefix, DefaultAccountsPrefix)
		def(set, at.with("default_roles"), &a.DefaultRoles, []string{defaultRole})
		def(set, at.with("password_min_length"), &a.PasswordMinLength, DefaultPasswordMinLength)
		def(set, at.with("refresh_ttl"), &a.RefreshTTL, DefaultRefreshTTL)
		def(set, at.with("refresh_idle"), &a.RefreshIdle, DefaultRefreshIdle)
		def(set, at.with("hash_concurrency"), &a.HashConcurrency, DefaultHashConcurrency)
		a.CORS.setDefaults(set, at.with("cors"))
	}
	c.setProviderDefaults(set)
	for i := range c.Routes {
		def(set, keyPath{"routes", i, "timeout"}, &c.Routes[i].Timeout, DefaultTimeout)
		def(set, keyPath{"routes", i, "upstream_max_idle_conns"}, &c.Routes[i].UpstreamMaxIdleConns, DefaultUpstreamMaxIdleConns)
		def(set, keyPath{"routes", i, "upstream_protocol"}, &c.Routes[i].UpstreamProtocol, DefaultUpstreamProtocol)
		c.Routes[i].CORS.setDefaults(set, keyPath{"routes", i, "cors"})
	}
}

// setDefaults gives the keys of a CORS block at at their defaults; a nil
// block (no CORS) has none.
func (c *CORS) setDefaults(set func(keyPath) bool, at keyPath) {
	if c == nil {
		return
	}
	def(set, at.with("allowed_methods"), &c.AllowedMethods, slices.Clone(DefaultCORSMethods))
	def(set, at.with("allowed_headers"), &c.AllowedHeaders, slices.Clone(DefaultCORSHeaders))
	def(set, at.with("max_age"), &c.MaxAge, DefaultCORSMaxAge)
}

// def sets *field to v unless set reports the key at path present.
func def[T any](set func(keyPath) bool, path keyPath, field *T, v T) {
	if !set(path) {
		*field = v
	}
}

// ResolvePath returns p resolved against the directory of the config file:
// absolute paths are returned unchanged.
func (c *Config) ResolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) || c.baseDir == "" {
		return p
	}
	return filepath.Join(c.baseDir, p)
}
