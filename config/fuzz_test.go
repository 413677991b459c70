package config

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// fuzzEnv is the fixed environment of FuzzParse.
var fuzzEnv = envFrom(map[string]string{
	"ISSUER": "https://auth.example.com",
	"HOST":   "127.0.0.1",
	"EMPTY":  "",
	"YAML":   "a: b\n- c #d",
})

func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		string(example),
		goodYAML,
		strictBase,
		envBase,
		"",
		"---\n",
		"~\n",
		"[]\n",
		"{}\n",
		"just a string\n",
		"routes: 3\n",
		"listen: [a]\n",
		"bogus: 1\n" + strictBase,
		goodYAML + "---\n" + goodYAML,
		"listen: 127.0.0.1:8000\nrealm: a: b\n",
		"listen: 127.0.0.1:8000\nroutes:\n  - name: a\n   path: /a\n",
		"[a, b",
		"tokens: {issuer: '${ISSUER}', audience: '${EMPTY}x', signing_key: k}\nroutes: [{name: a, path: /, upstream: 'http://${HOST}', auth: required, claims: {t: '${YAML}'}}]\n",
		"tokens: {issuer: ${NOPE}}\n",
		// Anchors, aliases and merge keys.
		"tokens: &t {issuer: a, audience: b, signing_key: k}\nroutes:\n  - &r {name: a, path: /a, upstream: 'http://h', auth: required}\n  - *r\n",
		"routes:\n  - &r {name: a, path: /a, upstream: 'http://h', auth: none}\n  - <<: *r\n    name: b\n",
		"routes: &x [*x]\n",
		"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
		"identity_headers: &h {X-A: sub}\nrealm: *h\n",
		// Deep nesting.
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		"routes:\n" + strings.Repeat("  - ", 200) + "x\n",
		"tokens:\n" + func() string {
			var b strings.Builder
			for i := 1; i < 100; i++ {
				b.WriteString(strings.Repeat("  ", i) + "k:\n")
			}
			return b.String()
		}(),
		"identity_headers: {Authorization: sub, X-A: '', x_a: sub}\nroutes: [{name: A, path: /a//b, upstream: ftp://x, auth: maybe}]\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, fuzzEnv)
		if err == nil {
			if cfg == nil {
				t.Fatal("Parse returned neither a config nor an error")
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("a parsed config fails Validate: %v", err)
			}
			return
		}
		if cfg != nil {
			t.Fatalf("Parse returned a config and the error %v", err)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("errors.Is(%v, ErrInvalid) = false", err)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("errors.As(%T, *Error) = false", err)
		}
		if len(e.Problems) == 0 {
			t.Fatal("an *Error without problems")
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, p := range e.Problems {
			if p.Message == "" {
				t.Errorf("problem with an empty message: %+v", p)
			}
			if p.Line < 0 || p.Line > lines+1 {
				t.Errorf("problem on line %d of a %d-line file: %v", p.Line, lines, p)
			}
		}
		// The same input gives the same report.
		_, again := Parse("fuzz.yaml", data, fuzzEnv)
		if again == nil || again.Error() != err.Error() {
			t.Errorf("Parse is not deterministic:\n%v\nthen\n%v", err, again)
		}
	})
}
