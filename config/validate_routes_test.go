package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidateRoutes(t *testing.T) {
	r0 := func(f func(r *Route)) func(c *Config) { return func(c *Config) { f(&c.Routes[0]) } }
	// r1 changes routes[1], which has no strip_prefix to trip over.
	r1 := func(f func(r *Route)) func(c *Config) { return func(c *Config) { f(&c.Routes[1]) } }
	name := func(n string) func(c *Config) { return r0(func(r *Route) { r.Name = n }) }
	host := func(h string) func(c *Config) { return r0(func(r *Route) { r.Host = h }) }
	path := func(p string) func(c *Config) { return r1(func(r *Route) { r.Path = p }) }
	upstream := func(u string) func(c *Config) { return r0(func(r *Route) { r.Upstream = u }) }
	strip := func(p string) func(c *Config) { return r0(func(r *Route) { r.StripPrefix = p }) }
	runValidateRows(t, []validateRow{
		{"name missing", name(""), one("routes[0].name", "is required")},
		{"name upper-case", name("Todos"), one("routes[0].name", `"Todos" must be lower-case letters, digits, '-' or '_'`)},
		{"name leading dash", name("-todos"), one("routes[0].name", "must be lower-case")},
		{"name with a space", name("to dos"), one("routes[0].name", "must be lower-case")},
		{"name with a dot", name("to.dos"), one("routes[0].name", "must be lower-case")},
		{"name too long", name(strings.Repeat("a", 64)), one("routes[0].name", "(at most 63)")},
		{"name 63 long", name(strings.Repeat("a", 63)), nil},
		{"duplicate name", r1(func(r *Route) { r.Name = "todos" }), one("routes[1].name", `"todos" is already the name of routes[0]`)},
		{"two names missing are not duplicates", func(c *Config) { c.Routes[0].Name, c.Routes[1].Name = "", "" },
			[]wantProblem{{0, "routes[0].name", "is required"}, {0, "routes[1].name", "is required"}}},
		{"host with underscore", host("_dmarc.example.com"), nil},
		{"host trailing dot", host("example.com."), nil},
		{"host IPv6 literal", host("[::1]"), nil},
		{"host wildcard only", host("*"), one("routes[0].host", `host "*": wildcard`)},
		{"host wildcard without domain", host("*."), one("routes[0].host", "wildcard")},
		{"host double wildcard", host("*.*.example.com"), one("routes[0].host", "wildcard")},
		{"host inner wildcard", host("api.*.example.com"), one("routes[0].host", "wildcard")},
		{"host empty label", host("a..example.com"), one("routes[0].host", "empty label")},
		{"host with port", host("example.com:8080"), one("routes[0].host", "ports are not allowed")},
		{"host with space", host("exa mple.com"), one("routes[0].host", "invalid character")},
		{"host IPv6 zone", host("fe80::1%eth0"), one("routes[0].host", "zone")},
		{"path missing", path(""), one("routes[1].path", "is required")},
		{"path without leading slash", path("todos"), one("routes[1].path", `"todos" must start with "/"`)},
		{"path double slash", path("/a//b"), one("routes[1].path", `"/a//b" is not canonical (write it as "/a/b")`)},
		{"path dot segment", path("/a/./b"), one("routes[1].path", `"/a/./b" is not canonical (write it as "/a/b")`)},
		{"path dot-dot segment", path("/a/../b"), one("routes[1].path", `"/a/../b" is not canonical (write it as "/b")`)},
		{"path trailing slash", path("/todos/"), nil},
		{"path with query", path("/a?b"), one("routes[1].path", `contains "?" or "#"`)},
		{"path with fragment", path("/a#b"), one("routes[1].path", `contains "?" or "#"`)},
		{"path percent-encoded", path("/a%2Fb"), one("routes[1].path", `contains "%"`)},
		{"path with backslash", path(`/a\b`), one("routes[1].path", "backslash")},
		{"path with control character", path("/a\x00b"), one("routes[1].path", "control character")},
		{"path with dot-dot parameters", path("/..;/admin"), one("routes[1].path", "dot segment with path parameters")},
		{"method lower-case", r0(func(r *Route) { r.Methods = []string{"GET", "post"} }),
			one("routes[0].methods[1]", `"post" is not an upper-case HTTP method`)},
		{"method with a space", r0(func(r *Route) { r.Methods = []string{"GE T"} }), one("routes[0].methods[0]", "is not an upper-case HTTP method")},
		{"method empty", r0(func(r *Route) { r.Methods = []string{""} }), one("routes[0].methods[0]", "is not an upper-case HTTP method")},
		{"upstream missing", upstream(""), one("routes[0].upstream", "is required")},
		{"upstream without scheme", upstream("127.0.0.1:9000"), one("routes[0].upstream", "is not a URL")},
		{"upstream host:port without scheme", upstream("localhost:9000"), one("routes[0].upstream", "must be an http:// or https:// URL")},
		{"upstream scheme-relative", upstream("//localhost:9000"), one("routes[0].upstream", "must be an http:// or https:// URL")},
		{"upstream ftp", upstream("ftp://localhost"), one("routes[0].upstream", "must be an http:// or https:// URL")},
		{"upstream without host", upstream("http:///base"), one("routes[0].upstream", "must name a host")},
		{"upstream with port only", upstream("http://:9000"), one("routes[0].upstream", "must name a host")},
		{"upstream with credentials", upstream("http://user:pass@localhost:9000"), one("routes[0].upstream", "must not carry credentials")},
		{"upstream with user", upstream("http://user@localhost:9000"), one("routes[0].upstream", "must not carry credentials")},
		{"upstream with query", upstream("http://localhost:9000/?a=1"), one("routes[0].upstream", "must not have a query or fragment")},
		{"upstream with empty query", upstream("http://localhost:9000/?"), one("routes[0].upstream", "must not have a query or fragment")},
		{"upstream with fragment", upstream("http://localhost:9000/#f"), one("routes[0].upstream", "must not have a query or fragment")},
		{"auth missing", r1(func(r *Route) { r.Auth = "" }), one("routes[1].auth", "is required: one of required, optional, none")},
		{"auth bad value", r1(func(r *Route) { r.Auth = "Required" }), one("routes[1].auth", `"Required" is not one of required, optional, none`)},
		{"roles with auth optional", r0(func(r *Route) { r.Auth, r.Scopes, r.Claims = AuthOptional, nil, nil }),
			one("routes[0].auth", "roles, scopes and claims rules need auth: required")},
		{"scopes with auth none", r0(func(r *Route) { r.Auth, r.Roles, r.Claims = AuthNone, nil, nil }),
			one("routes[0].auth", "need auth: required")},
		{"claims with auth optional", r0(func(r *Route) { r.Auth, r.Roles, r.Scopes = AuthOptional, nil, nil }),
			one("routes[0].auth", "need auth: required")},
		{"auth required without tokens", func(c *Config) { c.Tokens = nil },
			one("routes[0].auth", `auth "required" needs a token verifier: configure tokens`)},
		{"auth optional without tokens", func(c *Config) {
			c.Tokens = nil
			c.Routes[0] = c.Routes[1]
			c.Routes[0].Name = "other"
			c.Routes[0].Path = "/other"
			c.Routes[1].Auth = AuthOptional
		}, one("routes[1].auth", `auth "optional" needs a token verifier`)},
		{"role empty", r0(func(r *Route) { r.Roles = []string{"admin", ""} }), one("routes[0].roles[1]", "must not be empty")},
		{"scope empty", r0(func(r *Route) { r.Scopes = []string{""} }), one("routes[0].scopes[0]", "one non-empty scope without spaces")},
		{"scope with a space", r0(func(r *Route) { r.Scopes = []string{"todos:read todos:write"} }), one("routes[0].scopes[0]", "without spaces")},
		{"scope with a tab", r0(func(r *Route) { r.Scopes = []string{"a\tb"} }), one("routes[0].scopes[0]", "without spaces")},
		{"claim name empty", r0(func(r *Route) { r.Claims = map[string]string{"": "x"} }), one("routes[0].claims.", "is not a claim name or dotted path")},
		{"claim path leading dot", r0(func(r *Route) { r.Claims = map[string]string{".a": "x"} }), one("routes[0].claims..a", "is not a claim name")},
		{"claim path trailing dot", r0(func(r *Route) { r.Claims = map[string]string{"a.": "x"} }), one("routes[0].claims.a.", "is not a claim name")},
		{"claims in key order", r0(func(r *Route) { r.Claims = map[string]string{"b.": "x", "a.": "x", "ok": "x"} }), []wantProblem{
			{0, "routes[0].claims.a.", "is not a claim name"}, {0, "routes[0].claims.b.", "is not a claim name"}}},
		{"strip_prefix not a segment prefix", strip("/ap"), one("routes[0].strip_prefix", `"/ap" is not a segment prefix of path "/api/todos"`)},
		{"strip_prefix longer than path", strip("/api/todos/x"), one("routes[0].strip_prefix", "is not a segment prefix")},
		{"strip_prefix trailing slash", strip("/api/"), nil},
		{"strip_prefix whole path with trailing slash", strip("/api/todos/"), one("routes[0].strip_prefix", "is not a segment prefix")},
		{"strip_prefix without leading slash", strip("api"), one("routes[0].strip_prefix", `must start with "/"`)},
		{"strip_prefix not canonical", strip("/api//todos"), one("routes[0].strip_prefix", "is not canonical")},
		{"timeout zero", r0(func(r *Route) { r.Timeout = 0 }), one("routes[0].timeout", "must be positive")},
		{"timeout negative", r0(func(r *Route) { r.Timeout = -time.Second }), one("routes[0].timeout", "must be positive")},
		{"upstream_max_idle_conns negative", r0(func(r *Route) { r.UpstreamMaxIdleConns = -1 }), one("routes[0].upstream_max_idle_conns", "between 1 and 10000")},
		{"upstream_max_idle_conns too many", r0(func(r *Route) { r.UpstreamMaxIdleConns = 10001 }), one("routes[0].upstream_max_idle_conns", "between 1 and 10000")},
		{"upstream_protocol unknown", r0(func(r *Route) { r.UpstreamProtocol = "h2c" }), one("routes[0].upstream_protocol", `"h2c": want auto, http1 or http2`)},
		{"upstream_protocol http2", r0(func(r *Route) { r.UpstreamProtocol = "http2" }), nil},
		{"upstream_max_idle_conns 10000", r0(func(r *Route) { r.UpstreamMaxIdleConns = 10000 }), nil},
	})
}

// TestValidateAllProblemsAtOnce: every problem is reported in one error,
// each on its own line.
func TestValidateAllProblemsAtOnce(t *testing.T) {
	src := `listen: 127.0.0.1:8000
admin_listen: 127.0.0.1:8000
trusted_proxies: [10.0.0.0/8, nope]
realm: 'a"b'
tokens:
  audience: api
  access_ttl: 25h
  leeway: 10m
identity_headers:
  Authorization: sub
  X-Auth-Subject: sub
  x_auth_subject: sub
routes:
  - name: todos
    path: /todos/.
    upstream: http://u:p@127.0.0.1:9000
    auth: required
    methods: [get]
  - name: todos
    path: /a//b
    upstream: 127.0.0.1:9000
    strip_prefix: /x
    roles: [admin]
    auth: optional
  - name: Bad
    host: "*.*.example.com"
    path: nope
    upstream: http://localhost/?q
    timeout: -1s
`
	e := parseInvalid(t, src, noEnv)
	want := []wantProblem{
		{2, "admin_listen", "must differ from listen"},
		{3, "trusted_proxies[1]", `not an IP address or CIDR: ParseAddr("nope")`},
		{4, "realm", "must not contain quotes"},
		{5, "tokens.issuer", "is required"},
		{5, "tokens.signing_key", "is required"},
		{7, "tokens.access_ttl", "must be between 1s and 24h"},
		{8, "tokens.leeway", "must be between 0s and 5m"},
		{10, "identity_headers.Authorization", "is reserved"},
		{12, "identity_headers.x_auth_subject", `is the same header as "X-Auth-Subject"`},
		{15, "routes[0].path", `"/todos/." is not canonical`},
		{16, "routes[0].upstream", "must not carry credentials"},
		{18, "routes[0].methods[0]", `"get" is not an upper-case HTTP method`},
		{19, "routes[1].name", `"todos" is already the name of routes[0]`},
		{20, "routes[1].path", `"/a//b" is not canonical (write it as "/a/b")`},
		{21, "routes[1].upstream", "is not a URL"},
		{22, "routes[1].strip_prefix", `"/x" is not a segment prefix of path "/a//b"`},
		{24, "routes[1].auth", "roles, scopes and claims rules need auth: required"},
		{25, "routes[2].name", `"Bad" must be lower-case`},
		{25, "routes[2].auth", "is required"},
		{26, "routes[2].host", "wildcard"},
		{27, "routes[2].path", `"nope" must start with "/"`},
		{28, "routes[2].upstream", "must not have a query or fragment"},
		{29, "routes[2].timeout", "must be positive"},
	}
	checkProblems(t, e.Problems, want)
	// Error() lists them in the order of the file.
	lines := strings.Split(e.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("Error() has %d lines, want %d:\n%s", len(lines), len(want), e)
	}
	for i, w := range want {
		if prefix := fmt.Sprintf("test.yaml:%d: %s: ", w.Line, w.Path); !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("Error() line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}
}
