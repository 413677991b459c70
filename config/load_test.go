package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// goodYAML is a small valid config; its line numbers are relied on below.
const goodYAML = `listen: 0.0.0.0:8080
tokens:
  issuer: https://auth.example.com
  audience: api
  signing_key: keys/signing.pem
routes:
  - name: todos
    path: /todos
    upstream: http://127.0.0.1:9000
    auth: required
  - name: public
    path: /public
    upstream: http://127.0.0.1:9001
    auth: none
`

// goodConfig is goodYAML decoded, with defaults applied.
func goodConfig() *Config {
	return &Config{
		Listen:          "0.0.0.0:8080",
		AdminListen:     "127.0.0.1:9191",
		Realm:           "authgate",
		IdentityHeaders: DefaultIdentityHeaders(),
		ForwardAuth:     ForwardAuth{CacheControl: "no-store"},
		TokenCache: TokenCache{Enabled: true, MaxEntries: DefaultTokenCacheMaxEntries,
			MaxBytes: DefaultTokenCacheMaxBytes, TTL: DefaultTokenCacheTTL},
		Log: Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Server: Server{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
			BodyReadTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10, ShutdownGrace: 15 * time.Second},
		Tokens: &Tokens{
			Issuer:     "https://auth.example.com",
			Audience:   "api",
			AccessTTL:  15 * time.Minute,
			Leeway:     30 * time.Second,
			SigningKey: "keys/signing.pem",
		},
		Routes: []Route{
			{Name: "todos", Path: "/todos", Upstream: "http://127.0.0.1:9000", Auth: AuthRequired, Timeout: 30 * time.Second, UpstreamMaxIdleConns: DefaultUpstreamMaxIdleConns, UpstreamProtocol: DefaultUpstreamProtocol},
			{Name: "public", Path: "/public", Upstream: "http://127.0.0.1:9001", Auth: AuthNone, Timeout: 30 * time.Second, UpstreamMaxIdleConns: DefaultUpstreamMaxIdleConns, UpstreamProtocol: DefaultUpstreamProtocol},
		},
	}
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want func(c *Config)
	}{
		{"defaults", goodYAML, func(*Config) {}},
		{"listen default", strings.Replace(goodYAML, "listen: 0.0.0.0:8080\n", "", 1), func(c *Config) {
			c.Listen = "127.0.0.1:8000"
		}},
		{"explicit values win", goodYAML + `admin_listen: 127.0.0.1:9999
realm: my realm
trusted_proxies: [10.0.0.0/8, "::1"]
identity_headers:
  X-User: sub
`, func(c *Config) {
			c.AdminListen = "127.0.0.1:9999"
			c.Realm = "my realm"
			c.TrustedProxies = []string{"10.0.0.0/8", "::1"}
			c.IdentityHeaders = map[string]string{"X-User": "sub"}
		}},
		{"empty identity_headers is kept empty", goodYAML + "identity_headers: {}\n", func(c *Config) {
			c.IdentityHeaders = map[string]string{}
		}},
		{"null identity_headers gets the default", goodYAML + "identity_headers:\n", func(*Config) {}},
		{"token durations", strings.Replace(goodYAML, "  audience: api\n", "  audience: api\n  access_ttl: 1h\n  leeway: 2m\n", 1), func(c *Config) {
			c.Tokens.AccessTTL = time.Hour
			c.Tokens.Leeway = 2 * time.Minute
		}},
		{"every route key", strings.Replace(goodYAML, "    auth: none\n", `    auth: required
    host: "*.example.com"
    methods: [GET, POST]
    roles: [admin]
    scopes: ["todos:write"]
    claims: {tenant: acme, org.id: "42"}
    strip_prefix: /public
    preserve_host: true
    forward_authorization: true
    case_insensitive: true
    timeout: 5s
    upstream_max_idle_conns: 1000
`, 1), func(c *Config) {
			r := &c.Routes[1]
			r.Auth = AuthRequired
			r.Host = "*.example.com"
			r.Methods = []string{"GET", "POST"}
			r.Roles = []string{"admin"}
			r.Scopes = []string{"todos:write"}
			r.Claims = map[string]string{"tenant": "acme", "org.id": "42"}
			r.StripPrefix = "/public"
			r.PreserveHost = true
			r.ForwardAuthorization = true
			r.CaseInsensitive = true
			r.Timeout = 5 * time.Second
			r.UpstreamMaxIdleConns = 1000
		}},
		{"accounts defaults", goodYAML + "store: sqlite:data/authgate.db\naccounts: {}\n", func(c *Config) {
			c.Store = "sqlite:data/authgate.db"
			c.Accounts = &Accounts{
				Signup:            "closed",
				Passwords:         true,
				PathPrefix:        "/auth",
				DefaultRoles:      []string{"user"},
				PasswordMinLength: 8,
				RefreshTTL:        720 * time.Hour,
				RefreshIdle:       168 * time.Hour,
				HashConcurrency:   4,
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("test.yaml", []byte(tt.src), noEnv)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := goodConfig()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse =\n%#v\nwant\n%#v", got, want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate of a parsed config: %v", err)
			}
		})
	}
}

func TestDefaultIdentityHeadersIsFresh(t *testing.T) {
	m := DefaultIdentityHeaders()
	m["X-Auth-Subject"] = "changed"
	if got := DefaultIdentityHeaders()["X-Auth-Subject"]; got != "sub" {
		t.Errorf("DefaultIdentityHeaders shares its map: X-Auth-Subject = %q", got)
	}
}

// TestLoadExample keeps the demo config valid.
func TestLoadExample(t *testing.T) {
	cfg, err := Load("../config.example.yaml")
	if err != nil {
		t.Fatalf("Load(config.example.yaml): %v", err)
	}
	want := []struct{ name, path, auth string }{
		{"todos", "/todos", AuthRequired},
		{"headers", "/headers", AuthOptional},
	}
	if len(cfg.Routes) != len(want) {
		t.Fatalf("%d routes, want %d", len(cfg.Routes), len(want))
	}
	for i, w := range want {
		r := cfg.Routes[i]
		if r.Name != w.name || r.Path != w.path || r.Auth != w.auth || r.Timeout != DefaultTimeout {
			t.Errorf("routes[%d] = %+v, want name %s path %s auth %s", i, r, w.name, w.path, w.auth)
		}
	}
	if cfg.Tokens == nil || cfg.Tokens.AccessTTL != 15*time.Minute || cfg.Tokens.Leeway != 30*time.Second {
		t.Errorf("tokens = %+v", cfg.Tokens)
	}
	root, _ := filepath.Abs("..")
	if got, want := cfg.ResolvePath(cfg.Tokens.SigningKey), filepath.Join(root, "data", "signing-key.pem"); got != want {
		t.Errorf("signing key resolves to %q, want %q", got, want)
	}
}

func TestLoadResolvePath(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "resolve.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	dir, _ := filepath.Abs("testdata")
	tests := []struct{ name, in, want string }{
		{"relative", "keys/signing.pem", filepath.Join(dir, "keys", "signing.pem")},
		{"dot-dot", "../k.pem", filepath.Join(filepath.Dir(dir), "k.pem")},
		{"absolute", "/etc/authgate/older.pem", "/etc/authgate/older.pem"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cfg.ResolvePath(tt.in); got != tt.want {
				t.Errorf("ResolvePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Parse knows no file: relative paths stay as written.
	parsed, err := Parse("x.yaml", []byte(goodYAML), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := parsed.ResolvePath("keys/signing.pem"); got != "keys/signing.pem" {
		t.Errorf("ResolvePath after Parse = %q, want it unchanged", got)
	}
}

func TestLoadEnv(t *testing.T) {
	t.Setenv("AUTHGATE_TEST_ISSUER", "https://from-env.example.com")
	path := filepath.Join(t.TempDir(), "authgate.yaml")
	src := strings.Replace(goodYAML, "https://auth.example.com", "${AUTHGATE_TEST_ISSUER}", 1)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Tokens.Issuer != "https://from-env.example.com" {
		t.Errorf("issuer = %q, want it read from the environment", cfg.Tokens.Issuer)
	}
}

// padTo pads a valid config with a trailing comment to exactly n bytes.
func padTo(n int) []byte {
	b := []byte(goodYAML + "#")
	return append(b, strings.Repeat("x", n-len(b))...)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		data    []byte // written to the file; nil: the file does not exist
		invalid bool   // the error wraps ErrInvalid
		want    []wantProblem
	}{
		{name: "missing file"},
		{"empty file", []byte{}, true, []wantProblem{{0, "", "file is empty"}}},
		{"only comments", []byte("# nothing here\n\n"), true, []wantProblem{{0, "", "file is empty"}}},
		{"two documents", []byte(goodYAML + "---\n" + goodYAML), true, []wantProblem{{0, "", "more than one YAML document"}}},
		{"second document empty", []byte(goodYAML + "---\n"), true, []wantProblem{{0, "", "more than one YAML document"}}},
		{"over MaxFileSize", padTo(MaxFileSize + 1), true, []wantProblem{{0, "", "larger than 1048576 bytes"}}},
		{"far over MaxFileSize", padTo(3 * MaxFileSize), true, []wantProblem{{0, "", "larger than"}}},
		{"syntax error", []byte("listen: 127.0.0.1:8000\nrealm: a: b\n"), true,
			[]wantProblem{{2, "", "mapping values are not allowed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if tt.data != nil {
				if err := os.WriteFile(path, tt.data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := Load(path)
			if err == nil || cfg != nil {
				t.Fatalf("Load = %v, %v; want nil and an error", cfg, err)
			}
			if errors.Is(err, ErrInvalid) != tt.invalid {
				t.Errorf("errors.Is(%v, ErrInvalid) = %v, want %v", err, !tt.invalid, tt.invalid)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
			if !tt.invalid {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("errors.As(%T, *Error) = false", err)
			}
			if e.File != path {
				t.Errorf("Error.File = %q, want %q", e.File, path)
			}
			checkProblems(t, e.Problems, tt.want)
		})
	}
}

func TestLoadExactlyMaxFileSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, padTo(MaxFileSize), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("Load of a %d-byte file: %v", MaxFileSize, err)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("Load(dir) = %v, want a read error", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name %s", err, dir)
	}
}
