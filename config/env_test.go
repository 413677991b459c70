package config

import (
	"strings"
	"testing"
)

// envBase has one ${VAR} in each kind of string value; its lines are relied
// on below.
const envBase = `listen: 127.0.0.1:8000
trusted_proxies: [10.0.0.0/8, "${PROXY}"]
tokens:
  issuer: ${ISSUER}
  audience: api
  signing_key: k.pem
identity_headers:
  X-Auth-Subject: ${CLAIM}
routes:
  - name: todos
    path: /todos
    upstream: http://${UPSTREAM_HOST}:9000
    auth: required
    claims:
      tenant: ${TENANT}
`

var envBaseVars = map[string]string{
	"PROXY":         "192.168.0.1",
	"ISSUER":        "https://auth.example.com",
	"CLAIM":         "sub",
	"UPSTREAM_HOST": "127.0.0.1",
	"TENANT":        "acme",
}

// envWith returns envBaseVars changed by kv (name, value, ...); a value of
// "<unset>" removes the name.
func envWith(kv ...string) func(string) (string, bool) {
	m := make(map[string]string, len(envBaseVars))
	for k, v := range envBaseVars {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return envFrom(m)
}

func TestParseEnvExpands(t *testing.T) {
	tests := []struct {
		name  string
		env   func(string) (string, bool)
		check func(*Config) (got, want string)
	}{
		{"tokens.issuer", envWith(), func(c *Config) (string, string) {
			return c.Tokens.Issuer, "https://auth.example.com"
		}},
		{"text around the reference", envWith(), func(c *Config) (string, string) {
			return c.Routes[0].Upstream, "http://127.0.0.1:9000"
		}},
		{"list item", envWith(), func(c *Config) (string, string) {
			return c.TrustedProxies[1], "192.168.0.1"
		}},
		{"claims value", envWith(), func(c *Config) (string, string) {
			return c.Routes[0].Claims["tenant"], "acme"
		}},
		{"identity_headers value", envWith(), func(c *Config) (string, string) {
			return c.IdentityHeaders["X-Auth-Subject"], "sub"
		}},
		{"empty variable expands to nothing", envWith("UPSTREAM_HOST", "", "TENANT", ""), func(c *Config) (string, string) {
			// The upstream then has no host, which Validate would reject;
			// the empty claim value is allowed.
			return c.Routes[0].Claims["tenant"], ""
		}},
		{"YAML in a value stays one string", envWith("TENANT", "a: b\n- c\n  {d: [e]}"), func(c *Config) (string, string) {
			return c.Routes[0].Claims["tenant"], "a: b\n- c\n  {d: [e]}"
		}},
		{"comment in a value stays", envWith("ISSUER", "https://a.example.com #comment"), func(c *Config) (string, string) {
			return c.Tokens.Issuer, "https://a.example.com #comment"
		}},
		{"quotes and newlines do not end the value", envWith("TENANT", "x\"\nrealm: evil\n'"), func(c *Config) (string, string) {
			return c.Routes[0].Claims["tenant"] + "|" + c.Realm, "x\"\nrealm: evil\n'|authgate"
		}},
		{"an expanded ${VAR} is not expanded again", envWith("TENANT", "${ISSUER}"), func(c *Config) (string, string) {
			return c.Routes[0].Claims["tenant"], "${ISSUER}"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := envBase
			if strings.HasPrefix(tt.name, "empty") {
				src = strings.Replace(src, "http://${UPSTREAM_HOST}:9000", "http://h${UPSTREAM_HOST}:9000", 1)
			}
			cfg, err := Parse("test.yaml", []byte(src), tt.env)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got, want := tt.check(cfg); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if len(cfg.Routes) != 1 || len(cfg.TrustedProxies) != 2 || len(cfg.IdentityHeaders) != 1 || len(cfg.Routes[0].Claims) != 1 {
				t.Errorf("an environment value changed the structure: %+v", cfg)
			}
		})
	}
}

func TestParseEnvLiteral(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"$VAR without braces", "$TENANT", "$TENANT"},
		{"lone dollar", "a$b$", "a$b$"},
		{"unclosed reference", "${TENANT", "${TENANT"},
		{"empty name", "${}", "${}"},
		{"name starting with a digit", "${1X}", "${1X}"},
		{"name with a dash", "${A-B}", "${A-B}"},
		{"several references", "${TENANT}-${TENANT}/${CLAIM}", "acme-acme/sub"},
		{"reference inside text", "pre${TENANT}post", "preacmepost"},
		{"dollar before a reference", "$${TENANT}", "$acme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(envBase, "tenant: ${TENANT}", "tenant: '"+tt.value+"'", 1)
			cfg, err := Parse("test.yaml", []byte(src), envWith())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := cfg.Routes[0].Claims["tenant"]; got != tt.want {
				t.Errorf("claims.tenant = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseEnvProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  func(string) (string, bool)
		want []wantProblem
	}{
		{"unset in tokens.issuer", envBase, envWith("ISSUER", "<unset>"),
			[]wantProblem{{4, "tokens.issuer", "environment variable ISSUER is not set"}}},
		{"unset in upstream", envBase, envWith("UPSTREAM_HOST", "<unset>"),
			[]wantProblem{{12, "routes[0].upstream", "environment variable UPSTREAM_HOST is not set"}}},
		{"unset in a list item", envBase, envWith("PROXY", "<unset>"),
			[]wantProblem{{2, "trusted_proxies[1]", "environment variable PROXY is not set"}}},
		{"unset in claims", envBase, envWith("TENANT", "<unset>"),
			[]wantProblem{{15, "routes[0].claims.tenant", "environment variable TENANT is not set"}}},
		{"unset in identity_headers", envBase, envWith("CLAIM", "<unset>"),
			[]wantProblem{{8, "identity_headers.X-Auth-Subject", "environment variable CLAIM is not set"}}},
		{"every unset variable at once", envBase, noEnv, []wantProblem{
			{2, "trusted_proxies[1]", "PROXY is not set"},
			{4, "tokens.issuer", "ISSUER is not set"},
			{8, "identity_headers.X-Auth-Subject", "CLAIM is not set"},
			{12, "routes[0].upstream", "UPSTREAM_HOST is not set"},
			{15, "routes[0].claims.tenant", "TENANT is not set"},
		}},
		{"unset among set", strings.Replace(envBase, "${TENANT}", "${TENANT}${NOPE}", 1), envWith(),
			[]wantProblem{{15, "routes[0].claims.tenant", "NOPE is not set"}}},
		{"expanded value still validated", envBase, envWith("UPSTREAM_HOST", ""),
			[]wantProblem{{12, "routes[0].upstream", "must name a host"}}},
		{"expanded value with a control character", envBase, envWith("ISSUER", "https://a.example.com\nx"),
			[]wantProblem{{4, "tokens.issuer", "must not contain control characters"}}},
		{"only strings expand", strings.Replace(envBase, "auth: required", "auth: required\n    timeout: ${T}", 1), envWith("T", "5s"),
			[]wantProblem{{14, "routes[0].timeout", `expected a duration such as 15m, got "${T}" (${VAR} is expanded in string values only)`}}},
		{"keys do not expand", strings.Replace(envBase, "X-Auth-Subject:", "${H}:", 1), envWith("H", "X-Auth-Subject"),
			[]wantProblem{{8, "identity_headers.${H}", "is not a valid header name"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseInvalid(t, tt.src, tt.env)
			checkProblems(t, e.Problems, tt.want)
		})
	}
}

// TestParseEnvSecretNotEchoed: a secret from the environment never appears
// in a problem.
func TestParseEnvSecretNotEchoed(t *testing.T) {
	const secret = "s3cr3t-value"
	src := strings.Replace(envBase, "  signing_key: k.pem\n", "  hmac_secret: ${SECRET}\n", 1)
	e := parseInvalid(t, src, envWith("SECRET", secret))
	checkProblems(t, e.Problems, []wantProblem{{6, "tokens.hmac_secret", "at least 32 bytes"}})
	if strings.Contains(e.Error(), secret) {
		t.Errorf("the error shows the secret: %v", e)
	}
}
