package config

import (
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/token"
)

// corp is a valid external issuer; rows change one thing about it.
func corp() Issuer {
	return Issuer{
		Name: "corp", Issuer: "https://idp.example.com/realms/main",
		JWKSURL: "https://idp.example.com/realms/main/certs", Audience: Strings{"my-api"},
		Algorithms: []string{"RS256"}, Leeway: DefaultLeeway, SubjectClaim: "sub",
		RolesClaim: "roles", RefreshInterval: DefaultRefreshInterval,
	}
}

func TestValidateIssuers(t *testing.T) {
	with := func(f func(is *Issuer)) func(c *Config) {
		return func(c *Config) {
			is := corp()
			f(&is)
			c.Issuers = append(c.Issuers, is)
		}
	}
	runValidateRows(t, []validateRow{
		{"valid", with(func(*Issuer) {}), nil},
		{"valid discovery", with(func(is *Issuer) { is.JWKSURL, is.Discovery = "", true }), nil},
		{"loopback http allowed", with(func(is *Issuer) { is.JWKSURL = "http://127.0.0.1:8080/jwks" }), nil},
		{"name missing", with(func(is *Issuer) { is.Name = "" }), one("issuers[0].name", "is required")},
		{"name reserved", with(func(is *Issuer) { is.Name = token.OwnIssuerName }), one("issuers[0].name", "reserved")},
		{"own iss", with(func(is *Issuer) { is.Issuer = "https://auth.example.com" }), one("issuers[0].issuer", "authgate's own")},
		{"no jwks_url nor discovery", with(func(is *Issuer) { is.JWKSURL = "" }), one("issuers[0].jwks_url", "is required")},
		{"both jwks_url and discovery", with(func(is *Issuer) { is.Discovery = true }), one("issuers[0].jwks_url", "not both")},
		{"plain http", with(func(is *Issuer) { is.JWKSURL = "http://idp.example.com/certs" }), one("issuers[0].jwks_url", "use https")},
		{"discovery needs https issuer", with(func(is *Issuer) { is.JWKSURL, is.Discovery, is.Issuer = "", true, "http://idp.example.com" }),
			one("issuers[0].issuer", "discovery: URL not allowed")},
		{"credentials in URL", with(func(is *Issuer) { is.JWKSURL = "https://u:p@idp.example.com/certs" }), one("issuers[0].jwks_url", "credentials")},
		{"no audience", with(func(is *Issuer) { is.Audience = nil }), one("issuers[0].audience", "is required")},
		{"no algorithms", with(func(is *Issuer) { is.Algorithms = nil }), one("issuers[0].algorithms", "is required")},
		{"HMAC refused", with(func(is *Issuer) { is.Algorithms = []string{"RS256", "HS256"} }), one("issuers[0].algorithms[1]", `"HS256" is not one of`)},
		{"none refused", with(func(is *Issuer) { is.Algorithms = []string{"none"} }), one("issuers[0].algorithms[0]", "is not one of")},
		{"leeway too long", with(func(is *Issuer) { is.Leeway = time.Hour }), one("issuers[0].leeway", "between 0s and 5m")},
		{"refresh too often", with(func(is *Issuer) { is.RefreshInterval = time.Second }), one("issuers[0].refresh_interval", "between 30s and 24h")},
		{"empty subject claim", with(func(is *Issuer) { is.SubjectClaim = "" }), one("issuers[0].subject_claim", "must name a claim")},
		{"empty scopes claim: scope or scp", with(func(is *Issuer) { is.ScopesClaim = "" }), nil},
		{"ftp jwks_url", with(func(is *Issuer) { is.JWKSURL = "ftp://idp.example.com/certs" }), one("issuers[0].jwks_url", "scheme must be https")},
		{"bad roles claim path", with(func(is *Issuer) { is.RolesClaim = "realm_access." }), one("issuers[0].roles_claim", "dotted path")},
		{"claim header reserved", with(func(is *Issuer) { is.ClaimHeaders = map[string]string{"Cookie": "x"} }), one("issuers[0].claim_headers.Cookie", "reserved")},
		{"claim header is an identity header", with(func(is *Issuer) { is.ClaimHeaders = map[string]string{"x_auth_subject": "oid"} }),
			one("issuers[0].claim_headers.x_auth_subject", "already an identity header")},
		{"two issuers, one iss", func(c *Config) {
			a, b := corp(), corp()
			b.Name = "corp2"
			c.Issuers = []Issuer{a, b}
		}, one("issuers[1].issuer", "also the issuer of issuers[0]")},
		{"route names an unknown issuer", func(c *Config) {
			c.Issuers = []Issuer{corp()}
			c.Routes[0].Issuers = []string{"corp", "nobody"}
		}, one("routes[0].issuers[1]", `"nobody" is not a configured issuer`)},
		{"route names authgate", func(c *Config) { c.Routes[0].Issuers = []string{token.OwnIssuerName} }, nil},
		{"verify-only: issuers without tokens", func(c *Config) {
			c.Tokens = nil
			c.Issuers = []Issuer{corp()}
		}, nil},
		{"authgate unknown without tokens", func(c *Config) {
			c.Tokens = nil
			c.Issuers = []Issuer{corp()}
			c.Routes[0].Issuers = []string{token.OwnIssuerName}
		}, one("routes[0].issuers[0]", "is not a configured issuer")},
	})
}

// TestAudienceOneOrList: audience may be written as a string or a list.
func TestAudienceOneOrList(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"audience: my-api", "[my-api]"},
		{"audience: [a, b]", "[a b]"},
		{"audience:\n      - a\n      - b", "[a b]"},
	} {
		src := `
issuers:
  - name: corp
    issuer: https://idp.example.com
    jwks_url: https://idp.example.com/certs
    algorithms: [RS256]
    ` + tt.yaml + `
routes:
  - {name: r, path: /, upstream: "http://127.0.0.1:9", auth: required}
`
		cfg, err := Parse("test.yaml", []byte(src), noEnv)
		if err != nil {
			t.Fatalf("%s: %v", tt.yaml, err)
		}
		if got := fmt.Sprint([]string(cfg.Issuers[0].Audience)); got != tt.want {
			t.Errorf("%s: audience = %s, want %s", tt.yaml, got, tt.want)
		}
	}
}
