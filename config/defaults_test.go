package config

import (
	"strings"
	"testing"
	"time"
)

// defaultsBase is a valid config touching every section that has defaults.
const defaultsBase = `listen: 127.0.0.1:8000
tokens:
  issuer: https://auth.example.com
  audience: api
  signing_key: keys/signing.pem
issuers:
  - name: corp
    issuer: https://idp.example.com
    jwks_url: https://idp.example.com/jwks
    audience: api
    algorithms: [RS256]
store: sqlite:data/authgate.db
accounts:
  signup: closed
routes:
  - name: todos
    path: /todos
    upstream: http://127.0.0.1:9000
    auth: required
`

// withKey returns defaultsBase with line added right after the line after
// (at the top when after is ""), and the 1-based line it lands on.
func withKey(t *testing.T, after, line string) (string, int) {
	t.Helper()
	if after == "" {
		return line + "\n" + defaultsBase, 1
	}
	i := strings.Index(defaultsBase, after+"\n")
	if i < 0 {
		t.Fatalf("%q is not a line of defaultsBase", after)
	}
	at := i + len(after) + 1
	return defaultsBase[:at] + line + "\n" + defaultsBase[at:], strings.Count(defaultsBase[:at], "\n") + 1
}

// TestDefaultsOnlyForAbsentKeys: a key that is absent (or null) gets its
// default; a key that is present keeps its value, and a zero that is not
// allowed is reported on its line.
func TestDefaultsOnlyForAbsentKeys(t *testing.T) {
	tests := []struct {
		name        string
		after, line string             // line is added after the line after
		check       func(*Config) bool // for a valid result
		wantPath    string             // for an invalid one
		wantMsg     string
	}{
		{"absent leeway is the default", "tokens:", "", func(c *Config) bool {
			return c.Tokens.Leeway == DefaultLeeway && c.Issuers[0].Leeway == DefaultLeeway
		}, "", ""},
		{"null leeway is the default", "tokens:", "  leeway:", func(c *Config) bool { return c.Tokens.Leeway == DefaultLeeway }, "", ""},
		{"~ leeway is the default", "tokens:", "  leeway: ~", func(c *Config) bool { return c.Tokens.Leeway == DefaultLeeway }, "", ""},
		{"tokens leeway 0s stays 0", "tokens:", "  leeway: 0s", func(c *Config) bool { return c.Tokens.Leeway == 0 }, "", ""},
		{"issuer leeway 0s stays 0", "  - name: corp", "    leeway: 0s", func(c *Config) bool { return c.Issuers[0].Leeway == 0 }, "", ""},
		{"read_timeout 0s is none", "", "server: {read_timeout: 0s, write_timeout: 0s}", func(c *Config) bool {
			return c.Server.ReadTimeout == 0 && c.Server.WriteTimeout == 0 && c.Server.ReadHeaderTimeout == defaultReadHeaderTimeout
		}, "", ""},
		{"body_read_timeout defaults to 60s", "", "server: {read_timeout: 0s}", func(c *Config) bool {
			return c.Server.BodyReadTimeout == 60*time.Second
		}, "", ""},
		{"body_read_timeout 0s is none", "", "server: {body_read_timeout: 0s}", func(c *Config) bool {
			return c.Server.BodyReadTimeout == 0
		}, "", ""},
		{"refresh_grace 0s stays 0", "accounts:", "  refresh_grace: 0s", func(c *Config) bool { return c.Accounts.RefreshGrace == 0 }, "", ""},
		{"no identity headers", "", "identity_headers: {}", func(c *Config) bool {
			return c.IdentityHeaders != nil && len(c.IdentityHeaders) == 0
		}, "", ""},
		{"no default roles", "accounts:", "  default_roles: []", func(c *Config) bool {
			return c.Accounts.DefaultRoles != nil && len(c.Accounts.DefaultRoles) == 0
		}, "", ""},
		{"empty scopes_claim is scope or scp", "  - name: corp", `    scopes_claim: ""`, func(c *Config) bool {
			return c.Issuers[0].ScopesClaim == "" && c.Issuers[0].SubjectClaim == "sub" && c.Issuers[0].RolesClaim == "roles"
		}, "", ""},
		{"absent upstream_max_idle_conns is the default", "", "", func(c *Config) bool {
			return c.Routes[0].UpstreamMaxIdleConns == DefaultUpstreamMaxIdleConns
		}, "", ""},
		{"explicit value kept", "  - name: corp", "    refresh_interval: 1h", func(c *Config) bool {
			return c.Issuers[0].RefreshInterval == time.Hour
		}, "", ""},

		{"route timeout 0s", "    path: /todos", "    timeout: 0s", nil, "routes[0].timeout", "must be positive"},
		{"upstream_max_idle_conns 0", "    path: /todos", "    upstream_max_idle_conns: 0", nil, "routes[0].upstream_max_idle_conns", "between 1 and 10000"},
		{"refresh_interval 0s", "  - name: corp", "    refresh_interval: 0s", nil, "issuers[0].refresh_interval", "between 30s and 24h"},
		{"access_ttl 0s", "tokens:", "  access_ttl: 0s", nil, "tokens.access_ttl", "between 1s"},
		{"read_header_timeout 0s", "", "server: {read_header_timeout: 0s}", nil, "server.read_header_timeout", "must be positive"},
		{"idle_timeout 0s", "", "server: {idle_timeout: 0s}", nil, "server.idle_timeout", "must be positive"},
		{"shutdown_grace 0s", "", "server: {shutdown_grace: 0s}", nil, "server.shutdown_grace", "must be positive"},
		{"body_read_timeout negative", "", "server: {body_read_timeout: -1s}", nil, "server.body_read_timeout", "between 0s (none) and 1h"},
		{"body_read_timeout over 1h", "", "server: {body_read_timeout: 2h}", nil, "server.body_read_timeout", "between 0s (none) and 1h"},
		{"max_header_bytes 0", "", "server: {max_header_bytes: 0}", nil, "server.max_header_bytes", "between 1024"},
		{"empty realm", "", `realm: ""`, nil, "realm", "must not be empty"},
		{"empty admin_listen", "", `admin_listen: ""`, nil, "admin_listen", "is not host:port"},
		{"empty cache_control", "", `forward_auth: {cache_control: ""}`, nil, "forward_auth.cache_control", "must not be empty"},
		{"empty subject_claim", "  - name: corp", `    subject_claim: ""`, nil, "issuers[0].subject_claim", "must name a claim"},
		{"empty roles_claim", "  - name: corp", `    roles_claim: ""`, nil, "issuers[0].roles_claim", "must name a claim"},
		{"empty path_prefix", "accounts:", `  path_prefix: ""`, nil, "accounts.path_prefix", "is required"},
		{"password_min_length 0", "accounts:", "  password_min_length: 0", nil, "accounts.password_min_length", "between 1 and 64"},
		{"hash_concurrency 0", "accounts:", "  hash_concurrency: 0", nil, "accounts.hash_concurrency", "between 1 and 64"},
		{"refresh_idle 0s", "accounts:", "  refresh_idle: 0s", nil, "accounts.refresh_idle", "between 1m and refresh_ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, line := withKey(t, tt.after, tt.line)
			if tt.check != nil {
				c, err := Parse("test.yaml", []byte(src), noEnv)
				if err != nil {
					t.Fatalf("Parse: %v\n%s", err, src)
				}
				if !tt.check(c) {
					t.Errorf("unexpected values: %+v", c)
				}
				return
			}
			e := parseInvalid(t, src, noEnv)
			checkProblems(t, e.Problems, []wantProblem{{line, tt.wantPath, tt.wantMsg}})
		})
	}
}

// TestDefaultsSeeAliasesAndMerges: a key given through an alias or a merge
// key is present, as the decoder sees it.
func TestDefaultsSeeAliasesAndMerges(t *testing.T) {
	src := `tokens:
  issuer: https://auth.example.com
  audience: api
  signing_key: keys/signing.pem
  leeway: &zero 0s
issuers:
  - &corp
    name: corp
    issuer: https://idp.example.com
    jwks_url: https://idp.example.com/jwks
    audience: api
    algorithms: [RS256]
    leeway: *zero
    refresh_interval: 1h
  - <<: *corp
    name: corp2
    issuer: https://idp2.example.com
  - <<: [*corp]
    name: corp3
    issuer: https://idp3.example.com
    refresh_interval: 2h
routes:
  - name: todos
    path: /todos
    upstream: http://127.0.0.1:9000
    auth: required
`
	c, err := Parse("test.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tokens.Leeway != 0 {
		t.Errorf("tokens.leeway = %v, want 0", c.Tokens.Leeway)
	}
	for i, want := range []time.Duration{time.Hour, time.Hour, 2 * time.Hour} {
		is := c.Issuers[i]
		if is.Leeway != 0 || is.RefreshInterval != want {
			t.Errorf("issuers[%d]: leeway %v, refresh_interval %v; want 0 and %v", i, is.Leeway, is.RefreshInterval, want)
		}
	}
}

// TestPostgresDefaults: a postgres block gets a default for each absent
// key; an explicit zero is reported on its line.
func TestPostgresDefaults(t *testing.T) {
	base := strings.Replace(defaultsBase, "store: sqlite:data/authgate.db", "store: postgres://authgate@db:5432/authgate", 1)
	cfg, err := Parse("pg.yaml", []byte(base+"postgres: {password_file: pw}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Postgres{PasswordFile: "pw", MaxConns: defaultPostgresMaxConns,
		ConnectTimeout: defaultPostgresConnectTimeout, QueryTimeout: defaultPostgresQueryTimeout}
	if *cfg.Postgres != want {
		t.Errorf("postgres = %+v, want %+v", *cfg.Postgres, want)
	}
	_, err = Parse("pg.yaml", []byte(base+"postgres:\n  query_timeout: 0s\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "pg.yaml:21: postgres.query_timeout: must be between 1ns and 1m") {
		t.Errorf("explicit query_timeout 0s: %v", err)
	}
}

// TestTokenCacheDefaults: an absent token_cache block gets every default;
// explicit values (false and zero included) are kept and judged.
func TestTokenCacheDefaults(t *testing.T) {
	cfg, err := Parse("tc.yaml", []byte(defaultsBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := TokenCache{Enabled: true, MaxEntries: DefaultTokenCacheMaxEntries,
		MaxBytes: DefaultTokenCacheMaxBytes, TTL: DefaultTokenCacheTTL}
	if cfg.TokenCache != want {
		t.Errorf("token_cache = %+v, want %+v", cfg.TokenCache, want)
	}
	cfg, err = Parse("tc.yaml", []byte(defaultsBase+"token_cache: {enabled: false, ttl: 5m}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want.Enabled, want.TTL = false, 5*time.Minute
	if cfg.TokenCache != want {
		t.Errorf("token_cache = %+v, want %+v", cfg.TokenCache, want)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"token_cache: {max_entries: 0}\n", "token_cache.max_entries: must be positive"},
		{"token_cache: {max_entries: -1}\n", "token_cache.max_entries: must be positive"},
		{"token_cache: {max_bytes: 0}\n", "token_cache.max_bytes: must be positive"},
		{"token_cache: {ttl: 0s}\n", "token_cache.ttl: must be positive and at most 5m0s"},
		{"token_cache: {ttl: 6m}\n", "token_cache.ttl: must be positive and at most 5m0s"},
	} {
		_, err := Parse("tc.yaml", []byte(defaultsBase+tt.yaml), noEnv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
