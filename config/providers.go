package config

import (
	"net/url"
	"slices"
	"strings"

	"github.com/authgate/authgate/proxy/jwks"
	"github.com/authgate/authgate/proxy/redirect"
)

// Provider is an external OpenID Connect provider people sign in through
// from the sign-in page (the authorization code flow with PKCE). After
// the provider vouches for someone, authgate starts its own session, as a
// password sign-in does.
type Provider struct {
	// Name identifies the provider in paths, links, logs and metrics.
	// Required, unique, lower-case letters, digits, "-" and "_".
	Name string `yaml:"name"`
	// DisplayName is the text of its button on the sign-in page ("Sign in
	// with ..."). Default: Name.
	DisplayName string `yaml:"display_name"`
	// Issuer is the provider's issuer URL: its configuration is read from
	// Issuer + "/.well-known/openid-configuration" and must name this
	// exact issuer. HTTPS, except for loopback addresses. Required.
	Issuer string `yaml:"issuer"`
	// ClientID is authgate's client at the provider. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret authenticates the client, best given as ${VAR};
	// ClientSecretFile reads it from a file (relative to the config file;
	// one trailing newline is ignored). Exactly one of ClientSecret,
	// ClientSecretFile and PrivateKeyFile is required.
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// PrivateKeyFile is a PEM private key (RSA of 2048 bits or more, EC
	// P-256/P-384/P-521 or Ed25519; relative to the config file) that
	// authenticates the client with private_key_jwt instead of a secret:
	// the code exchange carries a JWT signed with it (RS256, ES256/384/512
	// or EdDSA, after the key type) and no secret. Register its public key
	// at the provider.
	PrivateKeyFile string `yaml:"private_key_file"`
	// PrivateKeyID is the "kid" of the signed client assertions, when the
	// provider needs one to pick the key. Only with PrivateKeyFile.
	PrivateKeyID string `yaml:"private_key_id"`
	// RedirectURL is the exact redirect URI registered at the provider:
	// authgate's public origin + accounts.path_prefix + "/oidc/" + Name +
	// "/callback", e.g. https://auth.example.com/auth/oidc/keycloak/callback.
	// Required.
	RedirectURL string `yaml:"redirect_url"`
	// Scopes are requested from the provider. Default [openid, email,
	// profile]; "openid" is required.
	Scopes []string `yaml:"scopes"`
	// Algorithms is the allow-list of the ID token's "alg": asymmetric only
	// (RS*, PS*, ES*, EdDSA). Default [RS256], the algorithm every provider
	// supports.
	Algorithms []string `yaml:"algorithms"`
	// UsernameClaim, EmailClaim and RolesClaim name the ID token claims
	// (dotted paths reach nested ones) holding the username, the email and
	// the roles or groups. Defaults: preferred_username, email, groups.
	UsernameClaim string `yaml:"username_claim"`
	EmailClaim    string `yaml:"email_claim"`
	RolesClaim    string `yaml:"roles_claim"`
	// AllowedEmailDomains, when set, admit only people whose email is in
	// one of these domains (compared without regard to case, subdomains
	// not included). Default: any.
	AllowedEmailDomains []string `yaml:"allowed_email_domains"`
	// AllowedGroups, when set, admit only people with at least one of these
	// values in RolesClaim. Default: any.
	AllowedGroups []string `yaml:"allowed_groups"`
	// RequireEmailVerified refuses an ID token whose email_verified claim
	// is not true when it carries an email, and always when
	// AllowedEmailDomains is set. Default true.
	RequireEmailVerified bool `yaml:"require_email_verified"`
	// CreateUsers creates an account, linked to the provider's subject, on
	// someone's first sign-in. Default true; when false only accounts
	// already linked may sign in.
	CreateUsers bool `yaml:"create_users"`
	// SignOut is what signing out of authgate does for someone who signed
	// in through this provider: "provider" also ends the session at the
	// provider, by sending the browser to the end_session_endpoint its
	// discovery names (with id_token_hint), so that the next sign-in asks
	// again; "local" ends authgate's session only. A provider without an
	// end_session_endpoint signs out locally either way. Default
	// "provider".
	SignOut string `yaml:"sign_out"`
	// PostLogoutRedirectURL is where the provider sends the browser after
	// its sign-out (post_logout_redirect_uri), registered at the provider:
	// an absolute https URL on redirect_url's host or one of
	// browser.allowed_redirect_hosts. Default: none, the provider shows its
	// own page. Only with sign_out: provider.
	PostLogoutRedirectURL string `yaml:"post_logout_redirect_url"`
}

// Provider defaults.
var (
	// DefaultProviderScopes are requested when a provider names none.
	DefaultProviderScopes = []string{"openid", "email", "profile"}
	// DefaultProviderAlgorithms are the ID token algorithms accepted when
	// a provider names none.
	DefaultProviderAlgorithms = []string{"RS256"}
)

// Provider claim defaults.
const (
	DefaultProviderUsernameClaim = "preferred_username"
	DefaultProviderEmailClaim    = "email"
	DefaultProviderRolesClaim    = "groups"
	// DefaultProviderSignOut ends the provider's session too: a person who
	// signs out expects the next sign-in to ask who they are, on a shared
	// computer above all.
	DefaultProviderSignOut = SignOutProvider
)

// Values of a provider's sign_out.
const (
	// SignOutProvider ends the session at the provider too.
	SignOutProvider = "provider"
	// SignOutLocal ends authgate's session only.
	SignOutLocal = "local"
)

// OIDCCallbackPath is the path, below accounts.path_prefix, of the
// callback of provider name.
func OIDCCallbackPath(name string) string { return "/oidc/" + name + "/callback" }

// setProviderDefaults applies the defaults of providers.
func (c *Config) setProviderDefaults(set func(keyPath) bool) {
	for i := range c.Providers {
		p, at := &c.Providers[i], keyPath{"providers", i}
		def(set, at.with("display_name"), &p.DisplayName, p.Name)
		def(set, at.with("scopes"), &p.Scopes, slices.Clone(DefaultProviderScopes))
		def(set, at.with("algorithms"), &p.Algorithms, slices.Clone(DefaultProviderAlgorithms))
		def(set, at.with("username_claim"), &p.UsernameClaim, DefaultProviderUsernameClaim)
		def(set, at.with("email_claim"), &p.EmailClaim, DefaultProviderEmailClaim)
		def(set, at.with("roles_claim"), &p.RolesClaim, DefaultProviderRolesClaim)
		def(set, at.with("require_email_verified"), &p.RequireEmailVerified, true)
		def(set, at.with("create_users"), &p.CreateUsers, true)
		def(set, at.with("sign_out"), &p.SignOut, DefaultProviderSignOut)
	}
}

// validateProviders checks providers and browser.default_provider.
func (c *Config) validateProviders(ps *problems) {
	names := map[string]int{}
	for i := range c.Providers {
		p, at := &c.Providers[i], keyPath{"providers", i}
		p.validate(ps, at, c)
		if j, dup := names[p.Name]; dup && p.Name != "" {
			ps.add(at.with("name"), "%q is already the name of providers[%d]", p.Name, j)
		} else {
			names[p.Name] = i
		}
	}
	if len(c.Providers) > 0 && c.Browser == nil {
		ps.add(keyPath{"providers"}, "providers need the top-level browser key (the sign-in page)")
	}
	if c.Browser != nil && c.Browser.DefaultProvider != "" {
		if _, ok := names[c.Browser.DefaultProvider]; !ok {
			ps.add(keyPath{"browser", "default_provider"}, "%q is not a configured provider", c.Browser.DefaultProvider)
		}
	}
}

func (p *Provider) validate(ps *problems, at keyPath, c *Config) {
	switch {
	case p.Name == "":
		ps.add(at.with("name"), "is required")
	case !routeName.MatchString(p.Name):
		ps.add(at.with("name"), "%q must be lower-case letters, digits, '-' or '_' (at most 63)", p.Name)
	}
	if p.DisplayName == "" || hasControl(p.DisplayName) {
		ps.add(at.with("display_name"), "must not be empty")
	}
	switch {
	case p.Issuer == "":
		ps.add(at.with("issuer"), "is required: the provider's issuer URL")
	default:
		if err := jwks.CheckURL(p.Issuer); err != nil {
			ps.add(at.with("issuer"), "%v", err)
		}
	}
	if p.ClientID == "" || hasControl(p.ClientID) {
		ps.add(at.with("client_id"), "is required")
	}
	p.checkClientAuth(ps, at)
	p.checkRedirectURL(ps, at.with("redirect_url"), c)
	p.checkSignOut(ps, at, c)
	if !slices.Contains(p.Scopes, "openid") {
		ps.add(at.with("scopes"), "must include openid")
	}
	for i, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") || hasControl(s) {
			ps.add(at.with("scopes", i), "%q is not a scope", s)
		}
	}
	if len(p.Algorithms) == 0 {
		ps.add(at.with("algorithms"), "must not be empty")
	}
	for i, alg := range p.Algorithms {
		if err := jwks.CheckAlgorithm(alg); err != nil {
			ps.add(at.with("algorithms", i), "%v", err)
		}
	}
	for _, cl := range []struct{ key, v string }{
		{"username_claim", p.UsernameClaim}, {"email_claim", p.EmailClaim}, {"roles_claim", p.RolesClaim},
	} {
		switch {
		case cl.v == "":
			ps.add(at.with(cl.key), "must name a claim")
		case strings.HasPrefix(cl.v, ".") || strings.HasSuffix(cl.v, ".") || hasControl(cl.v):
			ps.add(at.with(cl.key), "is not a claim name or dotted path")
		}
	}
	for i, d := range p.AllowedEmailDomains {
		if d == "" || strings.ContainsAny(d, "@* /") || strings.HasPrefix(d, ".") || d != strings.ToLower(d) || hasControl(d) {
			ps.add(at.with("allowed_email_domains", i), "%q must be a lower-case domain such as example.com", d)
		}
	}
	for i, g := range p.AllowedGroups {
		if g == "" || hasControl(g) {
			ps.add(at.with("allowed_groups", i), "must not be empty")
		}
	}
}

// checkRedirectURL requires the exact callback URL of the provider.
func (p *Provider) checkRedirectURL(ps *problems, at keyPath, c *Config) {
	if p.RedirectURL == "" {
		ps.add(at, "is required: the callback URL registered at the provider")
		return
	}
	u, err := url.Parse(p.RedirectURL)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		ps.add(at, "%q must be an absolute URL without credentials, query or fragment", p.RedirectURL)
		return
	}
	if err := jwks.CheckURL(p.RedirectURL); err != nil {
		ps.add(at, "%v", err)
		return
	}
	prefix := DefaultAccountsPrefix
	if c.Accounts != nil {
		prefix = c.Accounts.PathPrefix
	}
	if want := prefix + OIDCCallbackPath(p.Name); u.Path != want {
		ps.add(at, "path %q must be %q", u.Path, want)
	}
}

// checkClientAuth requires exactly one way for the client to
// authenticate.
func (p *Provider) checkClientAuth(ps *problems, at keyPath) {
	n := 0
	for _, v := range []string{p.ClientSecret, p.ClientSecretFile, p.PrivateKeyFile} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		ps.add(at.with("client_secret"), "is required (or set client_secret_file or private_key_file)")
	case p.ClientSecret != "" && p.ClientSecretFile != "":
		ps.add(at.with("client_secret_file"), "set either client_secret or client_secret_file, not both")
	case n > 1:
		ps.add(at.with("private_key_file"), "set either private_key_file or a client secret, not both")
	}
	if p.PrivateKeyID != "" && p.PrivateKeyFile == "" {
		ps.add(at.with("private_key_id"), "is only used with private_key_file")
	}
	if hasControl(p.PrivateKeyID) {
		ps.add(at.with("private_key_id"), "must not contain control characters")
	}
}

// checkSignOut checks sign_out and post_logout_redirect_url: the latter
// is a redirect target like any other, on an allowed host.
func (p *Provider) checkSignOut(ps *problems, at keyPath, c *Config) {
	switch p.SignOut {
	case SignOutProvider, SignOutLocal:
	default:
		ps.add(at.with("sign_out"), "%q must be provider or local", p.SignOut)
	}
	if p.PostLogoutRedirectURL == "" {
		return
	}
	at = at.with("post_logout_redirect_url")
	if p.SignOut == SignOutLocal {
		ps.add(at, "is only used with sign_out: provider")
		return
	}
	u, err := url.Parse(p.PostLogoutRedirectURL)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		ps.add(at, "%q must be an absolute URL without credentials or fragment", p.PostLogoutRedirectURL)
		return
	}
	if err := jwks.CheckURL(p.PostLogoutRedirectURL); err != nil {
		ps.add(at, "%v", err)
		return
	}
	host := ""
	if r, err := url.Parse(p.RedirectURL); err == nil {
		host = r.Host
	}
	var allowed []string
	if c.Browser != nil {
		allowed = c.Browser.AllowedRedirectHosts
	}
	if !redirect.Safe(p.PostLogoutRedirectURL, host, allowed) {
		ps.add(at, "%q must be on redirect_url's host or one of browser.allowed_redirect_hosts", p.PostLogoutRedirectURL)
	}
}
