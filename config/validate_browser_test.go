package config

import (
	"strings"
	"testing"
)

func TestValidateBrowser(t *testing.T) {
	br := func(f func(c *Config)) func(c *Config) {
		return func(c *Config) {
			withAccounts(c)
			c.Browser = &Browser{}
			f(c)
		}
	}
	runValidateRows(t, []validateRow{
		{"browser with accounts", br(func(c *Config) {}), nil},
		{"browser route", br(func(c *Config) { c.Routes[0].Browser = true }), nil},
		{"allowed hosts and cookie domain", br(func(c *Config) {
			c.Browser.AllowedRedirectHosts = []string{"app.example.com", "*.apps.example.com"}
			c.Browser.CookieDomain = "example.com"
		}), nil},
		{"browser without accounts", func(c *Config) { c.Browser = &Browser{} }, one("browser", "needs accounts")},
		{"browser route without browser", func(c *Config) { c.Routes[0].Browser = true }, one("routes[0].browser", "needs the top-level browser key")},
		{"browser route with auth none", br(func(c *Config) { c.Routes[1].Browser = true }),
			one("routes[1].browser", "needs auth: required or optional")},
		{"empty allowed host", br(func(c *Config) { c.Browser.AllowedRedirectHosts = []string{""} }),
			one("browser.allowed_redirect_hosts[0]", "must not be empty")},
		{"allowed host with port", br(func(c *Config) { c.Browser.AllowedRedirectHosts = []string{"app.example.com:443"} }),
			one("browser.allowed_redirect_hosts[0]", "without a port")},
		{"allowed host with a path", br(func(c *Config) { c.Browser.AllowedRedirectHosts = []string{"app.example.com/x"} }),
			one("browser.allowed_redirect_hosts[0]", "")},
		{"cookie domain with leading dot", br(func(c *Config) { c.Browser.CookieDomain = ".example.com" }),
			one("browser.cookie_domain", "no leading dot")},
		{"cookie domain wildcard", br(func(c *Config) { c.Browser.CookieDomain = "*.example.com" }),
			one("browser.cookie_domain", "no wildcard")},
		{"cookie domain single label", br(func(c *Config) { c.Browser.CookieDomain = "localhost" }),
			one("browser.cookie_domain", "must be a domain name")},
		{"cookie domain IP", br(func(c *Config) { c.Browser.CookieDomain = "10.0.0.1" }),
			one("browser.cookie_domain", "not an IP address")},
	})
}

// TestParseBrowserLines: problems in the browser keys name their line.
func TestParseBrowserLines(t *testing.T) {
	src := strictBase + "store: sqlite:x.db\naccounts: {}\nbrowser:\n  cookie_domain: .example.com\n  allowed_redirect_hosts: [ok.example.com, \"a:1\"]\n"
	_, err := Parse("test.yaml", []byte(src), noEnv)
	if err == nil {
		t.Fatal("Parse accepted bad browser keys")
	}
	for _, want := range []string{"test.yaml:18: browser.cookie_domain:", "test.yaml:19: browser.allowed_redirect_hosts[1]:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := Parse("test.yaml", []byte(strictBase+"browser: {cookie_domainn: x}\n"), noEnv); err == nil ||
		!strings.Contains(err.Error(), `browser.cookie_domainn: unknown key "cookie_domainn" (did you mean "cookie_domain"?)`) {
		t.Errorf("unknown browser key: %v", err)
	}
}

// TestValidateProvidersOnly: accounts.passwords: false and a route's
// provider.
func TestValidateProvidersOnly(t *testing.T) {
	with := func(f func(c *Config)) func(c *Config) {
		return func(c *Config) {
			withAccounts(c)
			c.Browser = &Browser{}
			c.Providers = []Provider{keycloak()}
			c.Routes[0].Browser = true
			f(c)
		}
	}
	runValidateRows(t, []validateRow{
		{"providers only", with(func(c *Config) { c.Accounts.Passwords = false }), nil},
		{"route provider", with(func(c *Config) { c.Routes[0].Provider = "keycloak" }), nil},
		{"passwords off without providers", with(func(c *Config) {
			c.Accounts.Passwords = false
			c.Providers = nil
		}), one("accounts.passwords", "false needs at least one entry in providers: nobody could sign in")},
		{"passwords off with open signup", with(func(c *Config) {
			c.Accounts.Passwords = false
			c.Accounts.Signup = SignupOpen
		}), one("accounts.signup", "open signup needs passwords: true")},
		{"route provider unknown", with(func(c *Config) { c.Routes[0].Provider = "okta" }),
			one("routes[0].provider", `"okta" is not a configured provider`)},
		{"route provider without browser", with(func(c *Config) {
			c.Routes[0].Browser = false
			c.Routes[0].Provider = "keycloak"
		}), one("routes[0].provider", "needs browser: true")},
	})
}
