package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// validCORS is a CORS block with every default applied.
func validCORS() *CORS {
	c := &CORS{AllowedOrigins: []string{"https://app.example.com"}}
	c.setDefaults(noKeys, keyPath{"routes", 0, "cors"})
	return c
}

func TestValidateCORS(t *testing.T) {
	route := func(f func(c *CORS)) func(*Config) {
		return func(cfg *Config) {
			c := validCORS()
			f(c)
			cfg.Routes[0].CORS = c
		}
	}
	origins := func(os ...string) func(*Config) { return route(func(c *CORS) { c.AllowedOrigins = os }) }
	const at = "routes[0].cors"
	runValidateRows(t, []validateRow{
		{"valid", route(func(*CORS) {}), nil},
		{"several origins", origins("https://app.example.com", "http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:3000"), nil},
		{"other schemes", origins("capacitor://localhost", "chrome-extension://abcdefghijklmnop"), nil},
		{"subdomain wildcard", origins("https://*.example.com", "https://*.example.com:8443"), nil},
		{"any origin", origins("*"), nil},
		{"upper case is compared without case", origins("https://App.Example.com"), nil},
		{"no origins", origins(), one(at+".allowed_origins", "is required")},
		{"empty origin", origins(""), one(at+".allowed_origins[0]", "must not be empty")},
		{"null origin", origins("https://ok.example", "null"), one(at+".allowed_origins[1]", `"null" is what sandboxed frames`)},
		{"bare host", origins("app.example.com"), one(at+".allowed_origins[0]", "is not scheme://host[:port]")},
		{"trailing slash", origins("https://app.example.com/"), one(at+".allowed_origins[0]", "without a path")},
		{"path", origins("https://app.example.com/app"), one(at+".allowed_origins[0]", "without a path")},
		{"query", origins("https://app.example.com?x"), one(at+".allowed_origins[0]", "without a path, query")},
		{"user info", origins("https://u@app.example.com"), one(at+".allowed_origins[0]", "user info")},
		{"default https port", origins("https://app.example.com:443"), one(at+".allowed_origins[0]", "write https://app.example.com")},
		{"default http port", origins("http://localhost:80"), one(at+".allowed_origins[0]", "default port")},
		{"bad port", origins("http://localhost:0"), one(at+".allowed_origins[0]", "invalid port")},
		{"port with leading zero", origins("http://localhost:08080"), one(at+".allowed_origins[0]", "invalid port")},
		{"port too large", origins("http://localhost:65536"), one(at+".allowed_origins[0]", "invalid port")},
		{"no host", origins("https://:8443"), one(at+".allowed_origins[0]", "has no host")},
		{"trailing dot", origins("https://app.example.com."), one(at+".allowed_origins[0]", "must not end with a dot")},
		{"IPv6 without brackets", origins("http://::1"), one(at+".allowed_origins[0]", "in brackets")},
		{"not IPv6 in brackets", origins("http://[127.0.0.1]"), one(at+".allowed_origins[0]", "is not an IPv6 address")},
		{"wildcard of a TLD", origins("https://*.com"), one(at+".allowed_origins[0]", "two labels or more")},
		{"wildcard inside a label", origins("https://app-*.example.com"), one(at+".allowed_origins[0]", "whole first label")},
		{"wildcard deeper", origins("https://api.*.example.com"), one(at+".allowed_origins[0]", "whole first label")},
		{"wildcard scheme", origins("*://app.example.com"), one(at+".allowed_origins[0]", "is not scheme://host[:port]")},
		{"host with a space", origins("https://app example.com"), one(at+".allowed_origins[0]", "without a path")},
		{"host with an invalid character", origins("https://app!.example.com"), one(at+".allowed_origins[0]", "invalid character")},
		{"any origin among others", origins("*", "https://app.example.com"), one(at+".allowed_origins", `"*" allows every origin and must be the only one`)},
		{"any origin with credentials", route(func(c *CORS) { c.AllowedOrigins, c.AllowCredentials = []string{"*"}, true }),
			one(at+".allow_credentials", `origin "*" cannot be combined with allow_credentials`)},
		{"named origins with credentials", route(func(c *CORS) { c.AllowCredentials = true }), nil},
		{"no methods", route(func(c *CORS) { c.AllowedMethods = []string{} }), one(at+".allowed_methods", "must not be empty")},
		{"lower-case method", route(func(c *CORS) { c.AllowedMethods = []string{"GET", "put"} }),
			one(at+".allowed_methods[1]", `"put" is not an upper-case HTTP method`)},
		{"any method", route(func(c *CORS) { c.AllowedMethods = []string{"*"} }), one(at+".allowed_methods[0]", "name the methods")},
		{"no headers", route(func(c *CORS) { c.AllowedHeaders = nil }), one(at+".allowed_headers", "must not be empty")},
		{"any header", route(func(c *CORS) { c.AllowedHeaders = []string{"*"} }), nil},
		{"bad header", route(func(c *CORS) { c.AllowedHeaders = []string{"Authorization", "X Bad"} }),
			one(at+".allowed_headers[1]", `"X Bad" is not a header name`)},
		{"exposed headers", route(func(c *CORS) { c.ExposedHeaders = []string{"WWW-Authenticate", "X-Request-Id"} }), nil},
		{"bad exposed header", route(func(c *CORS) { c.ExposedHeaders = []string{"X:Y"} }), one(at+".exposed_headers[0]", "is not a header name")},
		{"any exposed header", route(func(c *CORS) { c.ExposedHeaders = []string{"*"} }), one(at+".exposed_headers[0]", "name the headers")},
		{"max_age 0s", route(func(c *CORS) { c.MaxAge = 0 }), nil},
		{"max_age 24h", route(func(c *CORS) { c.MaxAge = 24 * time.Hour }), nil},
		{"max_age too long", route(func(c *CORS) { c.MaxAge = 25 * time.Hour }), one(at+".max_age", "between 0s and 24h0m0s")},
		{"max_age negative", route(func(c *CORS) { c.MaxAge = -time.Second }), one(at+".max_age", "whole seconds")},
		{"max_age fraction", route(func(c *CORS) { c.MaxAge = 1500 * time.Millisecond }), one(at+".max_age", "whole seconds")},
		{"every problem at once", route(func(c *CORS) {
			c.AllowedOrigins, c.AllowedMethods, c.MaxAge = []string{"https://a.example/", "null"}, []string{"get"}, time.Millisecond
		}), []wantProblem{
			{0, at + ".allowed_origins[0]", "without a path"},
			{0, at + ".allowed_origins[1]", "null"},
			{0, at + ".allowed_methods[0]", "upper-case"},
			{0, at + ".max_age", "whole seconds"},
		}},
		{"account endpoints", func(c *Config) {
			withAccounts(c)
			c.Accounts.CORS = validCORS()
			c.Accounts.CORS.AllowedOrigins = []string{"*"}
			c.Accounts.CORS.AllowCredentials = true
		}, one("accounts.cors.allow_credentials", "cannot be combined")},
	})
}

// corsBase is a file with one route, to which tests append a cors block.
const corsBase = `tokens:
  issuer: https://auth.example.com
  audience: api
  signing_key: keys/signing.pem
routes:
  - name: todos
    path: /todos
    upstream: http://127.0.0.1:9000
    auth: required
`

func TestCORSDefaults(t *testing.T) {
	cfg, err := Parse("cors.yaml", []byte(corsBase+"    cors: {allowed_origins: [https://app.example.com]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &CORS{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{"GET", "HEAD", "POST"},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
		MaxAge:         10 * time.Minute,
	}
	if got := cfg.Routes[0].CORS; !reflect.DeepEqual(got, want) {
		t.Errorf("cors = %+v, want %+v", got, want)
	}
	// The defaults are copies: changing one route's does not change
	// another's, or the defaults themselves.
	cfg.Routes[0].CORS.AllowedMethods[0] = "PUT"
	if DefaultCORSMethods[0] != "GET" {
		t.Errorf("DefaultCORSMethods changed through a config: %v", DefaultCORSMethods)
	}

	cfg, err = Parse("cors.yaml", []byte(corsBase+`    cors:
      allowed_origins: ["*"]
      allowed_methods: [PUT]
      allowed_headers: ["*"]
      exposed_headers: [X-Request-Id]
      max_age: 0s
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want = &CORS{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"},
		ExposedHeaders: []string{"X-Request-Id"}}
	if got := cfg.Routes[0].CORS; !reflect.DeepEqual(got, want) {
		t.Errorf("cors = %+v, want %+v (a key present keeps its value, 0s included)", got, want)
	}

	cfg, err = Parse("cors.yaml", []byte(corsBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Routes[0].CORS != nil {
		t.Errorf("cors = %+v without a cors block, want nil", cfg.Routes[0].CORS)
	}
}

func TestCORSProblemsHaveLines(t *testing.T) {
	src := corsBase + `    cors:
      allowed_origins:
        - https://app.example.com
        - https://app.example.com/
      allowed_methods: []
      allow_credentials: true
      unknown_key: 1
store: sqlite:data/authgate.db
accounts:
  cors:
    allowed_origins: ["*"]
    allow_credentials: true
    max_age: 48h
`
	e := parseInvalid(t, src, noEnv)
	checkProblems(t, e.Problems, []wantProblem{
		{13, "routes[0].cors.allowed_origins[1]", "without a path"},
		{14, "routes[0].cors.allowed_methods", "must not be empty"},
		{16, "routes[0].cors.unknown_key", `unknown key "unknown_key"`},
		{21, "accounts.cors.allow_credentials", `origin "*" cannot be combined with allow_credentials`},
		{22, "accounts.cors.max_age", "between 0s and 24h"},
	})
	if msg := e.Error(); !strings.Contains(msg, "test.yaml:13: routes[0].cors.allowed_origins[1]: ") {
		t.Errorf("error text %q does not name file, line and key path", msg)
	}
}

func TestWarningsCORS(t *testing.T) {
	tests := []struct {
		name        string
		origins     []string
		credentials bool
		want        []string // key paths warned about
	}{
		{"named origins with credentials", []string{"https://app.example.com"}, true, nil},
		{"subdomains without credentials", []string{"https://*.example.com"}, false, nil},
		{"subdomains with credentials", []string{"https://app.example.com", "https://*.example.com"}, true,
			[]string{"routes[0].cors.allowed_origins[1]", "accounts.cors.allowed_origins[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			withAccounts(c)
			for _, at := range []**CORS{&c.Routes[0].CORS, &c.Accounts.CORS} {
				*at = validCORS()
				(*at).AllowedOrigins, (*at).AllowCredentials = tt.origins, tt.credentials
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v (a warning must not be a problem)", err)
			}
			var got []string
			for _, w := range c.Warnings() {
				key, msg, _ := strings.Cut(w, ": ")
				if !strings.Contains(msg, "any subdomain") {
					t.Errorf("warning %q does not say why", w)
				}
				got = append(got, key)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Warnings keys = %v, want %v", got, tt.want)
			}
		})
	}
}
