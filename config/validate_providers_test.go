package config

import "testing"

// keycloak is a valid provider; rows change one thing about it.
func keycloak() Provider {
	p := Provider{
		Name: "keycloak", Issuer: "https://idp.example.com/realms/main", ClientID: "authgate",
		ClientSecret: "s3cret", RedirectURL: "https://auth.example.com/auth/oidc/keycloak/callback",
	}
	c := &Config{Providers: []Provider{p}}
	c.setProviderDefaults(noKeys)
	return c.Providers[0]
}

func TestProviderDefaults(t *testing.T) {
	p := keycloak()
	if p.DisplayName != "keycloak" || p.UsernameClaim != "preferred_username" || p.EmailClaim != "email" ||
		p.RolesClaim != "groups" || !p.RequireEmailVerified || !p.CreateUsers || p.SignOut != "provider" {
		t.Errorf("defaults = %+v", p)
	}
	if len(p.Scopes) != 3 || p.Scopes[0] != "openid" || len(p.Algorithms) != 1 || p.Algorithms[0] != "RS256" {
		t.Errorf("scopes %v, algorithms %v", p.Scopes, p.Algorithms)
	}
}

func TestParseProviders(t *testing.T) {
	src := strictBase + "store: sqlite:x.db\naccounts: {}\nbrowser: {}\n" + `
providers:
  - name: dex
    issuer: http://127.0.0.1:5556/dex
    client_id: authgate
    client_secret_file: dex.secret
    redirect_url: https://auth.example.com/auth/oidc/dex/callback
    require_email_verified: false
    allowed_groups: [staff]
`
	c, err := Parse("authgate.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Providers[0]
	if p.RequireEmailVerified || !p.CreateUsers || p.DisplayName != "dex" || p.AllowedGroups[0] != "staff" {
		t.Errorf("provider = %+v", p)
	}
}

func TestValidateProviders(t *testing.T) {
	with := func(f func(p *Provider)) func(c *Config) {
		return func(c *Config) {
			withAccounts(c)
			c.Browser = &Browser{}
			p := keycloak()
			f(&p)
			c.Providers = append(c.Providers, p)
		}
	}
	runValidateRows(t, []validateRow{
		{"valid", with(func(*Provider) {}), nil},
		{"valid secret file", with(func(p *Provider) { p.ClientSecret, p.ClientSecretFile = "", "kc.secret" }), nil},
		{"loopback http issuer", with(func(p *Provider) { p.Issuer = "http://127.0.0.1:5556/dex" }), nil},
		{"without browser", func(c *Config) {
			withAccounts(c)
			c.Providers = []Provider{keycloak()}
		}, one("providers", "providers need the top-level browser key (the sign-in page)")},
		{"name missing", with(func(p *Provider) { p.Name = "" }), []wantProblem{
			{0, "providers[0].name", "is required"},
			{0, "providers[0].redirect_url", `path "/auth/oidc/keycloak/callback" must be "/auth/oidc//callback"`},
		}},
		{"name upper case", with(func(p *Provider) { p.Name = "KC" }), []wantProblem{
			{0, "providers[0].name", `"KC" must be lower-case letters, digits, '-' or '_' (at most 63)`},
			{0, "providers[0].redirect_url", `path "/auth/oidc/keycloak/callback" must be "/auth/oidc/KC/callback"`},
		}},
		{"two providers, one name", func(c *Config) {
			with(func(*Provider) {})(c)
			c.Providers = append(c.Providers, keycloak())
		}, one("providers[1].name", `"keycloak" is already the name of providers[0]`)},
		{"issuer missing", with(func(p *Provider) { p.Issuer = "" }), one("providers[0].issuer", "is required: the provider's issuer URL")},
		{"issuer plain http", with(func(p *Provider) { p.Issuer = "http://idp.example.com" }), one("providers[0].issuer", "use https")},
		{"client id missing", with(func(p *Provider) { p.ClientID = "" }), one("providers[0].client_id", "is required")},
		{"no secret", with(func(p *Provider) { p.ClientSecret = "" }),
			one("providers[0].client_secret", "is required (or set client_secret_file or private_key_file)")},
		{"private key instead of a secret", with(func(p *Provider) { p.ClientSecret, p.PrivateKeyFile = "", "kc.pem" }), nil},
		{"private key with kid", with(func(p *Provider) { p.ClientSecret, p.PrivateKeyFile, p.PrivateKeyID = "", "kc.pem", "k1" }), nil},
		{"private key and secret", with(func(p *Provider) { p.PrivateKeyFile = "kc.pem" }),
			one("providers[0].private_key_file", "set either private_key_file or a client secret, not both")},
		{"private key and secret file", with(func(p *Provider) { p.ClientSecret, p.ClientSecretFile, p.PrivateKeyFile = "", "kc.secret", "kc.pem" }),
			one("providers[0].private_key_file", "set either private_key_file or a client secret, not both")},
		{"key id without key", with(func(p *Provider) { p.PrivateKeyID = "k1" }),
			one("providers[0].private_key_id", "is only used with private_key_file")},
		{"key id with control character", with(func(p *Provider) { p.ClientSecret, p.PrivateKeyFile, p.PrivateKeyID = "", "kc.pem", "k\n1" }),
			one("providers[0].private_key_id", "must not contain control characters")},
		{"sign out local", with(func(p *Provider) { p.SignOut = "local" }), nil},
		{"sign out unknown", with(func(p *Provider) { p.SignOut = "global" }), one("providers[0].sign_out", `"global" must be provider or local`)},
		{"post logout on redirect host", with(func(p *Provider) { p.PostLogoutRedirectURL = "https://auth.example.com/auth/signin" }), nil},
		{"post logout on an allowed host", func(c *Config) {
			with(func(p *Provider) { p.PostLogoutRedirectURL = "https://app.example.com/bye" })(c)
			c.Browser.AllowedRedirectHosts = []string{"app.example.com"}
		}, nil},
		{"post logout on another host", with(func(p *Provider) { p.PostLogoutRedirectURL = "https://evil.example/bye" }),
			one("providers[0].post_logout_redirect_url", `"https://evil.example/bye" must be on redirect_url's host or one of browser.allowed_redirect_hosts`)},
		{"post logout relative", with(func(p *Provider) { p.PostLogoutRedirectURL = "/auth/signin" }),
			one("providers[0].post_logout_redirect_url", `"/auth/signin" must be an absolute URL without credentials or fragment`)},
		{"post logout with credentials", with(func(p *Provider) { p.PostLogoutRedirectURL = "https://u:p@auth.example.com/" }),
			one("providers[0].post_logout_redirect_url", "must be an absolute URL without credentials or fragment")},
		{"post logout plain http", with(func(p *Provider) { p.PostLogoutRedirectURL = "http://auth.example.com/" }),
			one("providers[0].post_logout_redirect_url", "use https")},
		{"post logout javascript", with(func(p *Provider) { p.PostLogoutRedirectURL = "javascript://auth.example.com/%0aalert(1)" }),
			one("providers[0].post_logout_redirect_url", "scheme must be https")},
		{"post logout with local sign-out", with(func(p *Provider) {
			p.SignOut, p.PostLogoutRedirectURL = "local", "https://auth.example.com/auth/signin"
		}), one("providers[0].post_logout_redirect_url", "is only used with sign_out: provider")},
		{"both secrets", with(func(p *Provider) { p.ClientSecretFile = "kc.secret" }),
			one("providers[0].client_secret_file", "set either client_secret or client_secret_file, not both")},
		{"redirect missing", with(func(p *Provider) { p.RedirectURL = "" }),
			one("providers[0].redirect_url", "is required: the callback URL registered at the provider")},
		{"redirect relative", with(func(p *Provider) { p.RedirectURL = "/auth/oidc/keycloak/callback" }),
			one("providers[0].redirect_url", `"/auth/oidc/keycloak/callback" must be an absolute URL without credentials, query or fragment`)},
		{"redirect with query", with(func(p *Provider) { p.RedirectURL += "?x=1" }),
			one("providers[0].redirect_url", "must be an absolute URL without credentials, query or fragment")},
		{"redirect plain http", with(func(p *Provider) { p.RedirectURL = "http://auth.example.com/auth/oidc/keycloak/callback" }),
			one("providers[0].redirect_url", "use https")},
		{"redirect other path", with(func(p *Provider) { p.RedirectURL = "https://auth.example.com/callback" }),
			one("providers[0].redirect_url", `path "/callback" must be "/auth/oidc/keycloak/callback"`)},
		{"no openid scope", with(func(p *Provider) { p.Scopes = []string{"email"} }), one("providers[0].scopes", "must include openid")},
		{"bad scope", with(func(p *Provider) { p.Scopes = []string{"openid", "a b"} }), one("providers[0].scopes[1]", `"a b" is not a scope`)},
		{"no algorithms", with(func(p *Provider) { p.Algorithms = nil }), one("providers[0].algorithms", "must not be empty")},
		{"alg none", with(func(p *Provider) { p.Algorithms = []string{"none"} }), one("providers[0].algorithms[0]", `"none" is not one of`)},
		{"HMAC refused", with(func(p *Provider) { p.Algorithms = []string{"HS256"} }), one("providers[0].algorithms[0]", `"HS256" is not one of`)},
		{"empty roles claim", with(func(p *Provider) { p.RolesClaim = "" }), one("providers[0].roles_claim", "must name a claim")},
		{"bad email claim", with(func(p *Provider) { p.EmailClaim = "a." }), one("providers[0].email_claim", "is not a claim name or dotted path")},
		{"domain with @", with(func(p *Provider) { p.AllowedEmailDomains = []string{"@example.com"} }),
			one("providers[0].allowed_email_domains[0]", `"@example.com" must be a lower-case domain such as example.com`)},
		{"domain upper case", with(func(p *Provider) { p.AllowedEmailDomains = []string{"Example.com"} }),
			one("providers[0].allowed_email_domains[0]", `"Example.com" must be a lower-case domain such as example.com`)},
		{"empty group", with(func(p *Provider) { p.AllowedGroups = []string{""} }), one("providers[0].allowed_groups[0]", "must not be empty")},
		{"default provider", with(func(*Provider) {}), nil},
		{"unknown default provider", func(c *Config) {
			with(func(*Provider) {})(c)
			c.Browser.DefaultProvider = "google"
		}, one("browser.default_provider", `"google" is not a configured provider`)},
	})
}
