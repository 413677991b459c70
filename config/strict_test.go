package config

import (
	"strings"
	"testing"
)

// strictBase is a valid config; rows insert or replace lines in it.
const strictBase = `listen: 127.0.0.1:8000
tokens:
  issuer: https://auth.example.com
  audience: api
  signing_key: k.pem
routes:
  - name: a
    path: /a
    upstream: http://127.0.0.1:9000
    auth: required
  - name: b
    path: /b
    upstream: http://127.0.0.1:9001
    auth: none
`

// insertAt returns src with text inserted so that it starts on line n.
func insertAt(src string, n int, text string) string {
	lines := strings.SplitAfter(src, "\n")
	return strings.Join(lines[:n-1], "") + text + strings.Join(lines[n-1:], "")
}

// replaceLines returns src with lines from..to (inclusive) replaced by text.
func replaceLines(src string, from, to int, text string) string {
	lines := strings.SplitAfter(src, "\n")
	return strings.Join(lines[:from-1], "") + text + strings.Join(lines[to:], "")
}

func TestParseStrict(t *testing.T) {
	if _, err := Parse("test.yaml", []byte(strictBase), noEnv); err != nil {
		t.Fatalf("strictBase is invalid: %v", err)
	}
	tests := []struct {
		name string
		src  string
		want []wantProblem
	}{
		{"unknown top-level key", insertAt(strictBase, 2, "bogus: 1\n"),
			[]wantProblem{{2, "bogus", `unknown key "bogus"`}}},
		{"keys are case-sensitive", replaceLines(strictBase, 1, 1, "Listen: 127.0.0.1:8000\n"),
			[]wantProblem{{1, "Listen", `unknown key "Listen" (did you mean "listen"?)`}}},
		{"unknown key in tokens", insertAt(strictBase, 4, "  issuerr: x\n"),
			[]wantProblem{{4, "tokens.issuerr", `unknown key "issuerr" (did you mean "issuer"?)`}}},
		{"unknown key in routes[1]", insertAt(strictBase, 13, "    bogus: x\n"),
			[]wantProblem{{13, "routes[1].bogus", `unknown key "bogus"`}}},
		{"unknown first key of routes[1]", replaceLines(strictBase, 11, 11, "  - bogus: x\n    name: b\n"),
			[]wantProblem{{11, "routes[1].bogus", `unknown key "bogus"`}}},
		{"unknown key in accounts", strictBase + "store: sqlite:x.db\naccounts:\n  signupp: open\n",
			[]wantProblem{{17, "accounts.signupp", `unknown key "signupp" (did you mean "signup"?)`}}},
		{"every unknown key at once", insertAt(insertAt(strictBase, 13, "    bogus: x\n"), 4, "  issuerr: x\n"),
			[]wantProblem{
				{4, "tokens.issuerr", `unknown key "issuerr"`},
				{14, "routes[1].bogus", `unknown key "bogus"`},
			}},
		{"duration not a duration", insertAt(strictBase, 9, "    timeout: abc\n"),
			[]wantProblem{{9, "routes[0].timeout", `expected a duration such as 15m, got "abc"`}}},
		{"routes not a list", replaceLines(strictBase, 6, 14, "routes: 3\n"),
			[]wantProblem{{6, "routes", "expected a list such as [3]"}}},
		{"route not a map", replaceLines(strictBase, 11, 14, "  - 3\n"),
			[]wantProblem{{11, "routes[1]", "expected a mapping of keys such as name: and host:, got 3"}}},
		{"listen a list", replaceLines(strictBase, 1, 1, "listen: [a, b]\n"),
			[]wantProblem{{1, "listen", "expected a string, got a list"}}},
		{"bool not a bool", insertAt(strictBase, 9, "    preserve_host: maybe\n"),
			[]wantProblem{{9, "routes[0].preserve_host", `expected true or false, got "maybe"`}}},
		{"case_insensitive not a bool", insertAt(strictBase, 9, "    case_insensitive: sometimes\n"),
			[]wantProblem{{9, "routes[0].case_insensitive", `expected true or false, got "sometimes"`}}},
		{"map value not a string", strictBase + "identity_headers:\n  X-A: [a]\n",
			[]wantProblem{{16, "identity_headers.X-A", "expected a string, got a list"}}},
		{"duplicate key", insertAt(strictBase, 2, "listen: 127.0.0.1:8001\n"),
			[]wantProblem{{2, "listen", `key "listen" is already set at line 1`}}},
		// A decoding problem does not hide validation problems elsewhere,
		// but what only follows from it (routes missing) is left out.
		{"decoding and validation problems together", replaceLines(strictBase, 8, 8, "    path: a\n    colour: blue\n"),
			[]wantProblem{
				{8, "routes[0].path", `"a" must start with "/"`},
				{9, "routes[0].colour", `unknown key "colour"`},
			}},
		{"unknown key does not hide a problem on its line", replaceLines(strictBase, 11, 11, "  - nmae: b\n"),
			[]wantProblem{
				{11, "routes[1].nmae", `unknown key "nmae" (did you mean "name"?)`},
				{11, "routes[1].name", "is required"},
			}},
		// A value of the wrong type or a repeated key is dropped and the
		// rest validated: what only follows from the dropped value (a
		// route at a shifted index, routes missing) is not reported.
		{"tokens not a map", replaceLines(strictBase, 2, 5, "tokens: 3\n"),
			[]wantProblem{{2, "tokens", "expected a mapping of keys such as issuer: and audience:, got 3"}}},
		{"duplicate key in tokens", insertAt(strictBase, 4, "  issuer: x\n"),
			[]wantProblem{{4, "tokens.issuer", `key "issuer" is already set at line 3`}}},
		{"duplicate key in a route", insertAt(strictBase, 9, "    path: /c\n"),
			[]wantProblem{{9, "routes[0].path", `key "path" is already set at line 8`}}},
		{"bad sequence item", replaceLines(strictBase, 7, 10, "  - 3\n"),
			[]wantProblem{{7, "routes[0]", "expected a mapping of keys such as name: and host:, got 3"}}},
		{"bad list item", "trusted_proxies:\n  - [10.0.0.0/8]\n  - bad\n" + strictBase,
			[]wantProblem{
				{2, "trusted_proxies[0]", "expected a string, got a list"},
				{3, "trusted_proxies[1]", "not an IP address or CIDR"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseInvalid(t, tt.src, noEnv)
			checkProblems(t, e.Problems, tt.want)
		})
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want wantProblem
	}{
		{"mapping value in a value", "listen: 127.0.0.1:8000\nrealm: a: b\n",
			wantProblem{2, "", "mapping values are not allowed in this context"}},
		{"tab indentation", "listen: 127.0.0.1:8000\ntokens:\n\tissuer: x\n",
			wantProblem{3, "", "found character that cannot start any token"}},
		{"unclosed quote", "listen: 127.0.0.1:8000\nrealm: \"abc\nroutes: []\n",
			wantProblem{2, "", "found unexpected end of stream"}},
		{"key without colon", "listen: 127.0.0.1:8000\nroutes:\n  - name: a\n    path: /a\n  bogus\n",
			wantProblem{5, "", "could not find expected ':'"}},
		// libyaml's parser errors name the line where the collection being
		// parsed starts; yaml.v3 reports it 0-based and Parse corrects that.
		{"bad indentation in a sequence", "listen: 127.0.0.1:8000\nroutes:\n  - name: a\n   path: /a\n",
			wantProblem{3, "", "did not find expected '-' indicator"}},
		{"outdented key", "listen: 127.0.0.1:8000\ntokens:\n  issuer: a\n bad: c\n",
			wantProblem{4, "", "did not find expected key"}},
		{"unclosed flow sequence", "listen: 127.0.0.1:8000\nrealm: [GET, POST\nadmin_listen: x\n",
			wantProblem{2, "", "did not find expected ',' or ']'"}},
		{"error at the end of the stream", "[a, b\n",
			wantProblem{2, "", "did not find expected ',' or ']'"}},
		{"undefined tag handle", "listen: 127.0.0.1:8000\nrealm: !x!y b\n",
			wantProblem{2, "", "found undefined tag handle"}},
		{"parser error on the first line", "realm: !x!y b\n",
			wantProblem{1, "", "found undefined tag handle"}},
		{"unknown anchor", "listen: 127.0.0.1:8000\nrealm: *nope\n",
			wantProblem{0, "", "unknown anchor 'nope' referenced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseInvalid(t, tt.src, noEnv)
			checkProblems(t, e.Problems, []wantProblem{tt.want})
		})
	}
}

func TestErrorString(t *testing.T) {
	e := parseInvalid(t, insertAt(strictBase, 13, "    bogus: x\n"), noEnv)
	if got, want := e.Error(), `test.yaml:13: routes[1].bogus: unknown key "bogus"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	ps := []Problem{
		{Line: 3, Path: "tokens.issuer", Message: "is required"},
		{Path: "admin_listen", Message: "must differ from listen"},
		{Line: 7, Message: "did not find expected key"},
		{Message: "file is empty"},
	}
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"with file", &Error{File: "a.yaml", Problems: ps}, "a.yaml:3: tokens.issuer: is required\n" +
			"a.yaml: admin_listen: must differ from listen\n" +
			"a.yaml:7: did not find expected key\n" +
			"a.yaml: file is empty"},
		{"without file", &Error{Problems: ps}, "line 3: tokens.issuer: is required\n" +
			"admin_listen: must differ from listen\n" +
			"line 7: did not find expected key\n" +
			"file is empty"},
		{"no problems", &Error{File: "a.yaml"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	for i, want := range []string{"line 3: tokens.issuer: is required", "admin_listen: must differ from listen",
		"line 7: did not find expected key", "file is empty"} {
		if got := ps[i].String(); got != want {
			t.Errorf("Problem.String() = %q, want %q", got, want)
		}
	}
}
