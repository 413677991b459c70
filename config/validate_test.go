package config

import (
	"reflect"
	"testing"
	"time"
)

// validConfig returns a valid config, defaults applied, that uses most keys.
func validConfig() *Config {
	c := &Config{
		TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1", "::1"},
		Tokens: &Tokens{
			Issuer:     "https://auth.example.com",
			Audience:   "api",
			SigningKey: "keys/signing.pem",
		},
		Routes: []Route{{
			Name:        "todos",
			Host:        "*.example.com",
			Path:        "/api/todos",
			Methods:     []string{"GET", "POST"},
			Upstream:    "http://127.0.0.1:9000/base",
			Auth:        AuthRequired,
			Roles:       []string{"admin"},
			Scopes:      []string{"todos:write"},
			Claims:      map[string]string{"tenant": "acme", "org.id": "42"},
			StripPrefix: "/api",
		}, {
			Name:     "public",
			Path:     "/",
			Upstream: "https://example.com",
			Auth:     AuthNone,
		}},
	}
	c.setDefaults(noKeys)
	return c
}

// noKeys is a file that sets no key: every default applies.
func noKeys(keyPath) bool { return false }

// withAccounts adds accounts and a store to validConfig.
func withAccounts(c *Config) {
	c.Store = "sqlite:data/authgate.db"
	c.Accounts = &Accounts{}
	c.setDefaults(func(k keyPath) bool { return k[0] != "accounts" })
}

type validateRow struct {
	name   string
	mutate func(c *Config)
	want   []wantProblem // Line is 0: Validate knows no lines
}

// one is the usual single expected problem.
func one(path, msg string) []wantProblem { return []wantProblem{{0, path, msg}} }

func runValidateRows(t *testing.T, rows []validateRow) {
	t.Helper()
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkProblems(t, validationErr(t, err), tt.want)
		})
	}
}

func TestValidateValid(t *testing.T) {
	runValidateRows(t, []validateRow{
		{"base", func(*Config) {}, nil},
		{"with accounts", withAccounts, nil},
		{"hmac secret", func(c *Config) {
			c.Tokens.SigningKey = ""
			c.Tokens.HMACSecret = testHMACSecret
		}, nil},
		{"limits", func(c *Config) {
			c.Tokens.AccessTTL = MaxAccessTTL
			c.Tokens.Leeway = MaxLeeway
		}, nil},
		{"no tokens when every route is auth none", func(c *Config) {
			c.Tokens = nil
			c.Routes = c.Routes[1:]
		}, nil},
		{"listen on any host and a named port", func(c *Config) {
			c.Listen = ":http"
			c.AdminListen = "localhost:9191"
		}, nil},
		{"strip_prefix equal to path", func(c *Config) { c.Routes[0].StripPrefix = "/api/todos" }, nil},
		{"strip_prefix /", func(c *Config) { c.Routes[0].StripPrefix = "/" }, nil},
		{"plain host", func(c *Config) { c.Routes[0].Host = "API.example.com" }, nil},
		{"no identity headers", func(c *Config) { c.IdentityHeaders = map[string]string{} }, nil},
	})
}

func TestValidateTop(t *testing.T) {
	runValidateRows(t, []validateRow{
		{"listen not host:port", func(c *Config) { c.Listen = "8000" }, one("listen", `"8000" is not host:port`)},
		{"listen bad host", func(c *Config) { c.Listen = "bad host:8000" }, one("listen", "has an invalid host")},
		{"listen wildcard host", func(c *Config) { c.Listen = "*.example.com:8000" }, one("listen", "has an invalid host")},
		{"listen bad port", func(c *Config) { c.Listen = "127.0.0.1:99999" }, one("listen", `"127.0.0.1:99999": port 99999 is out of range (0-65535)`)},
		{"listen empty port", func(c *Config) { c.Listen = "127.0.0.1:" }, one("listen", `"127.0.0.1:" has no port`)},
		{"admin_listen bad", func(c *Config) { c.AdminListen = "nope" }, one("admin_listen", "is not host:port")},
		{"listen == admin_listen", func(c *Config) { c.AdminListen = c.Listen }, one("admin_listen", "must differ from listen")},
		{"trusted_proxies not an address", func(c *Config) { c.TrustedProxies[1] = "proxy.example.com" },
			one("trusted_proxies[1]", `not an IP address or CIDR: ParseAddr("proxy.example.com")`)},
		{"trusted_proxies bad prefix length", func(c *Config) { c.TrustedProxies[0] = "10.0.0.0/33" },
			one("trusted_proxies[0]", "not an IP address or CIDR")},
		{"trusted_proxies empty", func(c *Config) { c.TrustedProxies = []string{""} },
			one("trusted_proxies[0]", "not an IP address or CIDR")},
		{"realm empty", func(c *Config) { c.Realm = "" }, one("realm", "must not be empty")},
		{"realm with a quote", func(c *Config) { c.Realm = `a"b` }, one("realm", "must not contain quotes")},
		{"realm with a backslash", func(c *Config) { c.Realm = `a\b` }, one("realm", "must not contain quotes")},
		{"realm with a control character", func(c *Config) { c.Realm = "a\nb" }, one("realm", "control characters")},
		{"no routes", func(c *Config) { c.Routes = nil }, one("routes", "at least one route is required")},
		{"store neither sqlite nor postgres", func(c *Config) { c.Store = "mysql://u@db/a" }, one("store", "must be sqlite:PATH or a postgres:// URL")},
		{"postgres", func(c *Config) { c.Store = "postgres://authgate:pw@db:5432/authgate?sslmode=verify-full" }, nil},
		{"postgresql scheme", func(c *Config) { c.Store = "postgresql://authgate@db/authgate" }, nil},
		{"postgres without database", func(c *Config) { c.Store = "postgres://authgate@db" }, one("store", "needs a database name")},
		{"postgres without host", func(c *Config) { c.Store = "postgres:///authgate" }, one("store", "needs a host")},
		{"postgres without user", func(c *Config) { c.Store = "postgres://db/authgate" }, one("store", "needs a user name")},
		{"postgres URL that does not parse hides the password", func(c *Config) { c.Store = "postgres://u:s3cret@db:port/a" },
			one("store", "is not a valid postgres:// URL")},
		{"postgres settings", func(c *Config) {
			c.Store = "postgres://authgate@db/authgate"
			c.Postgres = &Postgres{MaxConns: 20, ConnectTimeout: time.Second, QueryTimeout: 2 * time.Second}
		}, nil},
		{"postgres settings out of range", func(c *Config) {
			c.Store = "postgres://authgate@db/authgate"
			c.Postgres = &Postgres{MaxConns: 0, ConnectTimeout: time.Second, QueryTimeout: 2 * time.Hour}
		}, []wantProblem{{0, "postgres.max_conns", "between 1 and 1000"}, {0, "postgres.query_timeout", "between 1ns and 1m"}}},
		{"postgres settings with sqlite", func(c *Config) {
			c.Postgres = &Postgres{MaxConns: 1, ConnectTimeout: time.Second, QueryTimeout: time.Second}
		}, one("postgres", "needs a postgres:// store")},
		{"store sqlite without path", func(c *Config) { c.Store = "sqlite:" }, one("store", "sqlite: needs a file path")},
	})
}

func TestValidateTokens(t *testing.T) {
	runValidateRows(t, []validateRow{
		{"issuer missing", func(c *Config) { c.Tokens.Issuer = "" }, one("tokens.issuer", "is required")},
		{"issuer control character", func(c *Config) { c.Tokens.Issuer = "https://a\x00" }, one("tokens.issuer", "control characters")},
		{"audience missing", func(c *Config) { c.Tokens.Audience = "" }, one("tokens.audience", "is required")},
		{"audience control character", func(c *Config) { c.Tokens.Audience = "api\r" }, one("tokens.audience", "control characters")},
		{"access_ttl over 24h", func(c *Config) { c.Tokens.AccessTTL = 24*time.Hour + time.Second },
			one("tokens.access_ttl", "must be between 1s and 24h0m0s")},
		{"access_ttl negative", func(c *Config) { c.Tokens.AccessTTL = -time.Minute }, one("tokens.access_ttl", "must be between 1s")},
		{"access_ttl under 1s", func(c *Config) { c.Tokens.AccessTTL = time.Millisecond }, one("tokens.access_ttl", "must be between 1s")},
		{"leeway over 5m", func(c *Config) { c.Tokens.Leeway = 5*time.Minute + time.Second },
			one("tokens.leeway", "must be between 0s and 5m0s")},
		{"leeway negative", func(c *Config) { c.Tokens.Leeway = -time.Second }, one("tokens.leeway", "must be between 0s")},
		{"no signing key", func(c *Config) { c.Tokens.SigningKey = "" }, one("tokens.signing_key", "is required")},
		{"signing key and hmac secret", func(c *Config) { c.Tokens.HMACSecret = testHMACSecret },
			one("tokens.hmac_secret", "either signing_key or hmac_secret, not both")},
		{"hmac secret short", func(c *Config) {
			c.Tokens.SigningKey = ""
			c.Tokens.HMACSecret = "short-secret"
		}, one("tokens.hmac_secret", "at least 32 bytes")},
		{"verification key empty", func(c *Config) { c.Tokens.VerificationKeys = []string{"old.pem", ""} },
			one("tokens.verification_keys[1]", "must name a PEM key file")},
	})
}

func TestValidateIdentityHeaders(t *testing.T) {
	hs := func(kv ...string) func(c *Config) {
		return func(c *Config) {
			c.IdentityHeaders = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				c.IdentityHeaders[kv[i]] = kv[i+1]
			}
		}
	}
	runValidateRows(t, []validateRow{
		{"Authorization reserved", hs("Authorization", "sub"), one("identity_headers.Authorization", "is reserved")},
		{"Cookie reserved", hs("Cookie", "sub"), one("identity_headers.Cookie", "is reserved")},
		{"Host reserved", hs("host", "sub"), one("identity_headers.host", "is reserved")},
		{"X-Forwarded-For reserved", hs("X-Forwarded-For", "sub"), one("identity_headers.X-Forwarded-For", "is reserved")},
		{"reserved in another spelling", hs("X_Forwarded_For", "sub"), one("identity_headers.X_Forwarded_For", "is reserved")},
		{"reserved with a dot", hs("Set.Cookie", "sub"), one("identity_headers.Set.Cookie", "is reserved")},
		{"space in name", hs("X Auth", "sub"), one("identity_headers.X Auth", "is not a valid header name")},
		{"colon in name", hs("X-Auth:", "sub"), one("identity_headers.X-Auth:", "is not a valid header name")},
		{"empty name", hs("", "sub"), one("identity_headers.", "is not a valid header name")},
		{"same header folded", hs("X-Auth-Subject", "sub", "x_auth_subject", "sub"),
			one("identity_headers.x_auth_subject", `is the same header as "X-Auth-Subject"`)},
		{"same header by case", hs("X-Auth-Roles", "roles", "x-auth-roles", "roles"),
			one("identity_headers.x-auth-roles", `is the same header as "X-Auth-Roles"`)},
		{"empty claim", hs("X-Auth-Subject", ""), one("identity_headers.X-Auth-Subject", "must name a claim")},
		{"claim with a control character", hs("X-Auth-Subject", "s\nub"), one("identity_headers.X-Auth-Subject", "must name a claim")},
		// Reported in key order, whatever the map's order.
		{"every bad header at once", hs("Cookie", "", "B:", "sub", "A-B", "a", "a_b", "a"), []wantProblem{
			{0, "identity_headers.B:", "is not a valid header name"},
			{0, "identity_headers.Cookie", "is reserved"},
			{0, "identity_headers.Cookie", "must name a claim"},
			{0, "identity_headers.a_b", `is the same header as "A-B"`},
		}},
	})
}

func TestValidateAccounts(t *testing.T) {
	acc := func(f func(c *Config)) func(c *Config) {
		return func(c *Config) {
			withAccounts(c)
			f(c)
		}
	}
	runValidateRows(t, []validateRow{
		{"signup bad", acc(func(c *Config) { c.Accounts.Signup = "Open" }), one("accounts.signup", `"Open" is not one of open, closed`)},
		{"path_prefix /", acc(func(c *Config) { c.Accounts.PathPrefix = "/" }), one("accounts.path_prefix", "must not be /")},
		{"path_prefix relative", acc(func(c *Config) { c.Accounts.PathPrefix = "auth" }), one("accounts.path_prefix", `must start with "/"`)},
		{"path_prefix trailing slash", acc(func(c *Config) { c.Accounts.PathPrefix = "/auth/" }), one("accounts.path_prefix", "must not end with /")},
		{"default role empty", acc(func(c *Config) { c.Accounts.DefaultRoles = []string{"user", ""} }), one("accounts.default_roles[1]", "non-empty role")},
		{"default role with comma", acc(func(c *Config) { c.Accounts.DefaultRoles = []string{"a,b"} }), one("accounts.default_roles[0]", "without commas")},
		{"default role with control character", acc(func(c *Config) { c.Accounts.DefaultRoles = []string{"a\nb"} }), one("accounts.default_roles[0]", "control characters")},
		{"password_min_length 0", acc(func(c *Config) { c.Accounts.PasswordMinLength = 0 }), one("accounts.password_min_length", "between 1 and 64")},
		{"password_min_length 65", acc(func(c *Config) { c.Accounts.PasswordMinLength = 65 }), one("accounts.password_min_length", "between 1 and 64")},
		{"refresh_ttl under 1m", acc(func(c *Config) {
			c.Accounts.RefreshTTL = 59 * time.Second
			c.Accounts.RefreshIdle = time.Minute
		}), []wantProblem{{0, "accounts.refresh_ttl", "at least 1m"}, {0, "accounts.refresh_idle", "between 1m and refresh_ttl"}}},
		{"refresh_idle over refresh_ttl", acc(func(c *Config) { c.Accounts.RefreshIdle = c.Accounts.RefreshTTL + 1 }),
			one("accounts.refresh_idle", "between 1m and refresh_ttl")},
		{"refresh_idle under 1m", acc(func(c *Config) { c.Accounts.RefreshIdle = time.Second }), one("accounts.refresh_idle", "between 1m")},
		{"refresh_grace over 1m", acc(func(c *Config) { c.Accounts.RefreshGrace = 61 * time.Second }), one("accounts.refresh_grace", "between 0s and 1m")},
		{"refresh_grace negative", acc(func(c *Config) { c.Accounts.RefreshGrace = -time.Second }), one("accounts.refresh_grace", "between 0s and 1m")},
		{"hash_concurrency 0", acc(func(c *Config) { c.Accounts.HashConcurrency = 0 }), one("accounts.hash_concurrency", "between 1 and 64")},
		{"hash_concurrency 65", acc(func(c *Config) { c.Accounts.HashConcurrency = 65 }), one("accounts.hash_concurrency", "between 1 and 64")},
		{"accounts without tokens", acc(func(c *Config) {
			c.Tokens = nil
			c.Routes = c.Routes[1:]
		}), one("accounts", "accounts need tokens")},
		{"accounts without store", acc(func(c *Config) { c.Store = "" }), one("accounts", "accounts need a store")},
	})
}

// TestValidatePure: Validate changes nothing, valid or not, and copes with
// a config whose defaults were never applied.
func TestValidatePure(t *testing.T) {
	tests := []struct {
		name   string
		config func() *Config
	}{
		{"valid", validConfig},
		{"invalid", func() *Config {
			c := validConfig()
			withAccounts(c)
			c.Tokens.AccessTTL = -1
			c.Routes[0].Claims = map[string]string{"": "", "b.": "x"}
			c.IdentityHeaders = map[string]string{"Cookie": "", "x_a": "a", "X-A": "a"}
			return c
		}},
		{"zero", func() *Config { return &Config{Routes: make([]Route, 2), Tokens: &Tokens{}, Accounts: &Accounts{}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.config()
			first := c.Validate()
			if !reflect.DeepEqual(c, tt.config()) {
				t.Errorf("Validate changed the config:\n%+v", c)
			}
			for range 5 {
				again := c.Validate()
				if (first == nil) != (again == nil) || (first != nil && first.Error() != again.Error()) {
					t.Fatalf("Validate is not deterministic:\n%v\nthen\n%v", first, again)
				}
			}
		})
	}
}
