package config_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/clientip"
	"github.com/authgate/authgate/proxy/jwks"
	"github.com/authgate/authgate/proxy/route"
)

// A rule kind: how a value is written into a config file, where its
// problems are reported, and how the runtime package that owns the rule
// judges it.
type ruleKind struct {
	name    string
	yaml    string // a config with one %s for the value, written as a YAML string
	keyPath string // where config reports the value's problems
	runtime func(t *testing.T, v string) error
}

var (
	hostRule = ruleKind{
		name: "host",
		yaml: `routes:
  - {name: r, host: %s, path: /, upstream: "http://127.0.0.1:9000", auth: none}
`,
		keyPath: "routes[0].host",
		runtime: func(t *testing.T, v string) error {
			_, err := route.NewTable([]route.Rule{{Prefix: "/", Host: v}})
			if (err == nil) != (route.CheckHost(v) == nil) {
				t.Errorf("route.CheckHost(%q) and route.NewTable disagree", v)
			}
			return err
		},
	}
	prefixRule = ruleKind{
		name: "prefix",
		yaml: `routes:
  - {name: r, path: %s, upstream: "http://127.0.0.1:9000", auth: none}
`,
		keyPath: "routes[0].path",
		runtime: func(t *testing.T, v string) error {
			_, err := route.NewTable([]route.Rule{{Prefix: v}})
			if (err == nil) != (route.CheckPrefix(v) == nil) {
				t.Errorf("route.CheckPrefix(%q) and route.NewTable disagree", v)
			}
			return err
		},
	}
	algRule = ruleKind{
		name:    "algorithm",
		yaml:    issuerYAML(`jwks_url: "https://idp.example/jwks", algorithms: [%s]`),
		keyPath: "issuers[0].algorithms[0]",
		runtime: func(t *testing.T, v string) error {
			err := newSource(t, jwks.Config{JWKSURL: "https://idp.example/jwks", Algorithms: []string{v}})
			if (err == nil) != (jwks.CheckAlgorithm(v) == nil) {
				t.Errorf("jwks.CheckAlgorithm(%q) and jwks.New disagree", v)
			}
			return err
		},
	}
	urlRule = ruleKind{
		name:    "jwks_url",
		yaml:    issuerYAML(`jwks_url: %s, algorithms: [RS256]`),
		keyPath: "issuers[0].jwks_url",
		runtime: func(t *testing.T, v string) error {
			err := newSource(t, jwks.Config{JWKSURL: v, Algorithms: []string{"RS256"}})
			if (err == nil) != (jwks.CheckURL(v) == nil) {
				t.Errorf("jwks.CheckURL(%q) and jwks.New disagree", v)
			}
			return err
		},
	}
	discoveryRule = ruleKind{
		name: "discovery issuer",
		yaml: `issuers:
  - {name: corp, issuer: %s, discovery: true, audience: api, algorithms: [RS256]}
routes:
  - {name: r, path: /, upstream: "http://127.0.0.1:9000", auth: required}
`,
		keyPath: "issuers[0].issuer",
		runtime: func(t *testing.T, v string) error {
			return newSource(t, jwks.Config{Issuer: v, Discovery: true, Algorithms: []string{"RS256"}})
		},
	}
	cidrRule = ruleKind{
		name: "trusted proxy",
		yaml: `trusted_proxies: [%s]
routes:
  - {name: r, path: /, upstream: "http://127.0.0.1:9000", auth: none}
`,
		keyPath: "trusted_proxies[0]",
		runtime: func(t *testing.T, v string) error {
			_, err := clientip.ParsePrefix(v)
			if _, terr := clientip.ParseTrusted([]string{v}); (err == nil) != (terr == nil) {
				t.Errorf("clientip.ParsePrefix(%q) and clientip.ParseTrusted disagree", v)
			}
			return err
		},
	}
)

// issuerYAML is a config with one external issuer whose flow mapping ends
// with fields.
func issuerYAML(fields string) string {
	return `issuers:
  - {name: corp, issuer: "https://idp.example", audience: api, ` + fields + `}
routes:
  - {name: r, path: /, upstream: "http://127.0.0.1:9000", auth: required}
`
}

// errTransport fails every request: a Source built by the test never
// reaches the network.
type errTransport struct{}

func (errTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in tests")
}

// newSource runs cfg, completed with a name, issuer and a client that never
// connects, through jwks.New, and closes the Source it may get.
func newSource(t *testing.T, cfg jwks.Config) error {
	t.Helper()
	cfg.Name = "corp"
	if cfg.Issuer == "" {
		cfg.Issuer = "https://idp.example"
	}
	cfg.Client = &http.Client{Transport: errTransport{}}
	src, err := jwks.New(cfg)
	if src != nil {
		src.Close()
	}
	return err
}

// TestRulesAgree runs every value through the runtime package that owns
// its rule and through config.Parse, and requires both to accept it or both
// to refuse it, config at the value's key path.
func TestRulesAgree(t *testing.T) {
	type row struct {
		kind  ruleKind
		value string
		ok    bool
	}
	var rows []row
	add := func(k ruleKind, ok bool, values ...string) {
		for _, v := range values {
			rows = append(rows, row{k, v, ok})
		}
	}
	add(hostRule, true, "", "example.com", "[::1]", "::1", "10.0.0.1", "example.com.", "*.example.com",
		"*.example.com.", "EXAMPLE.com", "_dmarc.example.com", "xn--bcher-kva.example")
	add(hostRule, false, "a..b", "*", "*.", "ex*ample.com", "exa mple.com", "example.com:80",
		"fe80::1%eth0", "bücher.example", "*.*.example.com", "http://example.com")
	add(prefixRule, true, "/", "/a", "/a/", "/a/b", "/.well-known", "/a b", "/v1.0/x")
	add(prefixRule, false, "", "a", "/a/../b", "/a//b", "/a%2Fb", "/a?b", "/a#b", `/a\b`,
		"/a;b", "/a;", "/a/b;v=1", "/a.", "/a./b", "/...", "/a ", "/ a", "/a /b", "/a\u00a0", "/a\tb")
	add(algRule, true, "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
	add(algRule, false, "HS256", "HS384", "HS512", "none", "rs256", "")
	for _, k := range []ruleKind{urlRule, discoveryRule} {
		add(k, true, "https://idp.example/jwks", "http://127.0.0.1:9/jwks", "http://localhost/jwks",
			"http://[::1]/jwks", "HTTPS://idp.example/jwks")
		add(k, false, "http://idp.example/jwks", "https://user:pw@idp.example/", "ftp://x", "relative",
			"/jwks", "https:///jwks", "https://:443/jwks", "http://localhost.evil.example/")
	}
	add(cidrRule, true, "10.0.0.0/8", "10.0.0.1", "::1", "::ffff:10.0.0.1", "10.0.0.1/8", "2001:db8::/32", "::ffff:10.0.0.0/104")
	add(cidrRule, false, "10.0.0.0/33", "garbage", "", "10.0.0.1:80", "[::1]", "proxy.example.com", "::ffff:0.0.0.0/80")

	for _, r := range rows {
		t.Run(fmt.Sprintf("%s %q", r.kind.name, r.value), func(t *testing.T) {
			runErr := r.kind.runtime(t, r.value)
			quoted, _ := json.Marshal(r.value) // a JSON string is a YAML string
			src := fmt.Sprintf(r.kind.yaml, quoted)
			_, cfgErr := config.Parse("rules.yaml", []byte(src), func(string) (string, bool) { return "", false })

			if (runErr == nil) != r.ok {
				t.Errorf("runtime: %v; want accepted = %v", runErr, r.ok)
			}
			if (cfgErr == nil) != r.ok {
				t.Errorf("config.Parse: %v; want accepted = %v\n%s", cfgErr, r.ok, src)
			}
			if cfgErr == nil {
				return
			}
			var e *config.Error
			if !errors.As(cfgErr, &e) {
				t.Fatalf("config.Parse: %T %v, want *config.Error", cfgErr, cfgErr)
			}
			for _, p := range e.Problems {
				if p.Path != r.kind.keyPath || p.Line == 0 {
					t.Errorf("problem %q, want it at %s with a line", p, r.kind.keyPath)
				}
			}
		})
	}
}
