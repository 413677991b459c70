package config

import (
	"reflect"
	"strings"
	"testing"
)

// problemStrings returns the problems of the error Parse returns for src,
// each as Problem.String formats it.
func problemStrings(t *testing.T, src string) []string {
	t.Helper()
	e := parseInvalid(t, src, noEnv)
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

// checkExact compares problems with want, exactly and in order.
func checkExact(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems differ\ngot:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const decodeTokens = "tokens: {issuer: https://a.example, audience: api, signing_key: k.pem}\n"

// TestParseTypeErrors checks the message of each kind of value of the
// wrong type, exactly, and that the key path and line are the wrong key's,
// in a one-line {...} mapping too.
func TestParseTypeErrors(t *testing.T) {
	route := func(extra string) string {
		return decodeTokens + "routes:\n  - {name: a, path: /a, upstream: 'http://127.0.0.1:9000', auth: required" + extra + "}\n"
	}
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"list given one value, in a flow mapping", route(", methods: GET"),
			[]string{"line 3: routes[0].methods: expected a list such as [GET]"}},
		{"list given a mapping", route(", roles: {a: b}"),
			[]string{"line 3: routes[0].roles: expected a list such as [a, b], got a mapping"}},
		{"duration given a word", "token_cache: {ttl: soon}\n" + route(""),
			[]string{`line 1: token_cache.ttl: expected a duration such as 15m, got "soon"`}},
		{"duration without a unit", "tokens:\n  issuer: https://a.example\n  audience: api\n  signing_key: k.pem\n  access_ttl: 15\n" +
			"routes: [{name: a, path: /a, upstream: 'http://127.0.0.1:9000', auth: required}]\n",
			[]string{"line 5: tokens.access_ttl: expected a duration such as 15m, got 15 (add a unit: 15s)"}},
		{"whole number", "server: {max_header_bytes: 64k}\n" + route(""),
			[]string{`line 1: server.max_header_bytes: expected a whole number, got "64k"`}},
		{"boolean", route(", preserve_host: sometimes"),
			[]string{`line 3: routes[0].preserve_host: expected true or false, got "sometimes"`}},
		{"map given a list", route(", claims: [a]"),
			[]string{"line 3: routes[0].claims: expected a mapping such as {name: value}, got a list"}},
		{"struct given a value", "server: 30s\n" + route(""),
			[]string{`line 1: server: expected a mapping of keys such as read_header_timeout: and read_timeout:, got "30s"`}},
		{"string given a list", "realm: [a]\n" + route(""),
			[]string{"line 1: realm: expected a string, got a list"}},
		{"string or list given a mapping", route("") +
			"issuers: [{name: kc, issuer: 'https://kc.example', discovery: true, algorithms: [RS256], audience: {a: b}}]\n",
			[]string{"line 4: issuers[0].audience: expected a string or a list such as [a, b], got a mapping"}},
		{"unknown key in a flow mapping", route(", upstrem: x"),
			[]string{`line 3: routes[0].upstrem: unknown key "upstrem" (did you mean "upstream"?)`}},
		{"unknown key, transposed letters", "lsiten: 127.0.0.1:8000\n" + route(""),
			[]string{`line 1: lsiten: unknown key "lsiten" (did you mean "listen"?)`}},
		{"unknown key, nothing near", "colour: blue\n" + route(""),
			[]string{`line 1: colour: unknown key "colour"`}},
		// Without tokens, a route needing a token verifier follows from
		// the dropped value; its bad path does not.
		{"section of the wrong type", "tokens: [issuer]\nroutes: [{name: a, path: a, upstream: 'http://h', auth: required}]\n",
			[]string{
				"line 1: tokens: expected a mapping of keys such as issuer: and audience:, got a list",
				`line 2: routes[0].path: prefix "a" must start with "/"`,
			}},
		{"repeated key in a flow mapping", route(", path: /b"),
			[]string{`line 3: routes[0].path: key "path" is already set at line 3`}},
		// One type error does not hide the rest of the file: the other
		// type errors, unknown keys and validation problems are all
		// reported, each at its own key.
		{"every problem at once",
			"listen: [a]\n" +
				"tokens: {issuer: https://a.example, audience: api, signing_key: k.pem, access_ttl: 1d}\n" +
				"routes:\n" +
				"  - {name: a, path: /a, methods: GET, upstream: 'http://127.0.0.1:9000', auth: required, timeout: 30}\n" +
				"  - 3\n" +
				"  - {name: c, path: c, upstream: 'http://127.0.0.1:9000', auth: maybe, cors_: x}\n",
			[]string{
				"line 1: listen: expected a string, got a list",
				`line 2: tokens.access_ttl: expected a duration such as 15m, got "1d"`,
				"line 4: routes[0].methods: expected a list such as [GET]",
				"line 4: routes[0].timeout: expected a duration such as 15m, got 30 (add a unit: 30s)",
				"line 5: routes[1]: expected a mapping of keys such as name: and host:, got 3",
				`line 6: routes[2].cors_: unknown key "cors_" (did you mean "cors"?)`,
				`line 6: routes[2].path: prefix "c" must start with "/"`,
				`line 6: routes[2].auth: "maybe" is not one of required, optional, none`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkExact(t, problemStrings(t, tt.src), tt.want)
		})
	}
}

// TestParseRepairsKeepDefaults checks that a value dropped for its type
// leaves the key at its default, so nothing else is reported about it.
func TestParseRepairsKeepDefaults(t *testing.T) {
	src := decodeTokens + "server: {idle_timeout: forever}\nroutes: [{name: a, path: /a, upstream: 'http://127.0.0.1:9000', auth: required}]\n"
	checkExact(t, problemStrings(t, src), []string{`line 2: server.idle_timeout: expected a duration such as 15m, got "forever"`})
}

func TestNearest(t *testing.T) {
	fields := fieldsOf(typeOfRoute).types
	for _, tt := range []struct{ in, want string }{
		{"upstrem", "upstream"}, {"Name", "name"}, {"nmae", "name"}, {"methds", "methods"},
		{"bogus", ""}, {"x", ""}, {"timeout_", "timeout"}, {"pth", "path"},
	} {
		if got := nearest(tt.in, fields); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var typeOfRoute = reflect.TypeFor[Route]()

// TestParseAnchors checks problems in anchored values, aliases and merge
// keys: each reported where it is written, the rest decoded.
func TestParseAnchors(t *testing.T) {
	const up = "upstream: 'http://127.0.0.1:9000', auth: none"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown key in a merged route, once",
			"routes:\n  - &r {name: a, path: /a, " + up + ", colour: x}\n  - <<: *r\n    name: b\n    path: /b\n",
			[]string{`line 2: routes[0].colour: unknown key "colour"`}},
		{"merged key overridden is no repeat",
			"routes:\n  - &r {name: a, path: /a, " + up + "}\n  - <<: *r\n    name: b\n    path: /b\n    path_: /c\n",
			[]string{`line 6: routes[1].path_: unknown key "path_" (did you mean "path"?)`}},
		{"bad anchored value and its alias",
			"server: {idle_timeout: &d forever, read_timeout: *d}\nroutes: [{name: a, path: /a, " + up + "}]\n",
			[]string{
				`line 1: server.idle_timeout: expected a duration such as 15m, got "forever"`,
				`line 1: server.read_timeout: expected a duration such as 15m, got "forever"`,
			}},
		{"anchor good for one type, bad for another",
			"realm: &m [GET]\nroutes: [{name: a, path: /a, methods: *m, " + up + "}]\n",
			[]string{"line 1: realm: expected a string, got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkExact(t, problemStrings(t, tt.src), tt.want)
		})
	}
}

func TestNamesKey(t *testing.T) {
	for _, tt := range []struct {
		msg, key string
		want     bool
	}{
		{"accounts need tokens to be configured", "tokens", true},
		{"needs tokens.signing_key: upstreams verify it", "tokens", true},
		{"configure tokens or issuers", "issuers", true},
		{"needs access_tokens", "tokens", false},
		{"tokensx and tokens_y", "tokens", false},
		{"", "tokens", false},
	} {
		if got := namesKey(tt.msg, tt.key); got != tt.want {
			t.Errorf("namesKey(%q, %q) = %v, want %v", tt.msg, tt.key, got, tt.want)
		}
	}
}
