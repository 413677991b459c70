package jwks

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidation(t *testing.T) {
	base := func() Config {
		return Config{Name: "idp", Issuer: "https://idp.example", JWKSURL: "https://idp.example/jwks", Algorithms: []string{"RS256"}}
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" when valid
	}{
		{"https", func(c *Config) {}, ""},
		{"http to 127.0.0.1", func(c *Config) { c.JWKSURL = "http://127.0.0.1:8080/jwks" }, ""},
		{"http to 127.1.2.3", func(c *Config) { c.JWKSURL = "http://127.1.2.3/jwks" }, ""},
		{"http to ::1", func(c *Config) { c.JWKSURL = "http://[::1]:8080/jwks" }, ""},
		{"http to localhost", func(c *Config) { c.JWKSURL = "http://LocalHost:8080/jwks" }, ""},
		{"all asymmetric algorithms", func(c *Config) { c.Algorithms = asymmetricAlgs }, ""},
		{"discovery", func(c *Config) { c.JWKSURL, c.Discovery = "", true }, ""},
		{"discovery on loopback http", func(c *Config) { c.Issuer, c.JWKSURL, c.Discovery = "http://localhost:9000/realms/x", "", true }, ""},

		{"http to a remote host", func(c *Config) { c.JWKSURL = "http://idp.example/jwks" }, "loopback"},
		{"http to a name that merely contains localhost", func(c *Config) { c.JWKSURL = "http://localhost.evil.example/jwks" }, "loopback"},
		{"http to a private address", func(c *Config) { c.JWKSURL = "http://10.0.0.1/jwks" }, "loopback"},
		{"ftp", func(c *Config) { c.JWKSURL = "ftp://idp.example/jwks" }, "https"},
		{"no host", func(c *Config) { c.JWKSURL = "https:///jwks" }, "no host"},
		{"relative URL", func(c *Config) { c.JWKSURL = "/jwks" }, "https"},
		{"credentials in URL", func(c *Config) { c.JWKSURL = "https://user:secret@idp.example/jwks" }, "credentials"},
		{"no JWKS URL", func(c *Config) { c.JWKSURL = "" }, "no jwks_url"},
		{"JWKS URL and discovery", func(c *Config) { c.Discovery = true }, "exclusive"},
		{"discovery over http to a remote host", func(c *Config) { c.Issuer, c.JWKSURL, c.Discovery = "http://idp.example", "", true }, "loopback"},
		{"discovery without issuer", func(c *Config) { c.Issuer, c.JWKSURL, c.Discovery = "", "", true }, "issuer"},
		{"no algorithms", func(c *Config) { c.Algorithms = nil }, "no algorithms"},
		{"HS256", func(c *Config) { c.Algorithms = []string{"RS256", "HS256"} }, `"HS256"`},
		{"none", func(c *Config) { c.Algorithms = []string{"none"} }, `"none"`},
		{"unknown algorithm", func(c *Config) { c.Algorithms = []string{"rs256"} }, `"rs256"`},
		{"no name", func(c *Config) { c.Name = "" }, "name"},
		{"negative timeout", func(c *Config) { c.FetchTimeout = -time.Second }, "negative"},
		{"negative max bytes", func(c *Config) { c.MaxBytes = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.edit(&cfg)
			var err error
			if tt.wantErr == "" {
				// Not New: it would start fetching from idp.example.
				_, err = cfg.withDefaults()
			} else {
				var src *Source
				if src, err = New(cfg); src != nil {
					src.Close()
				}
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("New accepted the config, want an error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("New: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	algs := []string{"ES256"}
	cfg, err := Config{Name: "idp", JWKSURL: "https://idp.example/jwks", Algorithms: algs}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RefreshInterval != 10*time.Minute || cfg.UnknownKIDInterval != 30*time.Second ||
		cfg.FetchTimeout != 5*time.Second || cfg.MaxBytes != 512<<10 || cfg.Logger == nil {
		t.Errorf("defaults = %+v", cfg)
	}
	algs[0] = "HS256"
	if cfg.Algorithms[0] != "ES256" {
		t.Error("Config keeps the caller's Algorithms slice")
	}
}
