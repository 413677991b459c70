package config

import (
	"fmt"
	"strings"

	"github.com/authgate/authgate/proxy/clientip"
)

// Warnings returns what a valid config allows but probably should not, one
// "key.path: message" line each: 'authgate check' prints them and serve
// logs them at startup and on reload, but neither refuses the config.
// Like Validate, Warnings has no side effects.
//
// They are: a trusted_proxies entry that covers every address (0.0.0.0/0,
// ::/0, or ::ffff:0:0/96, which is 0.0.0.0/0 unmapped), which makes every
// client a trusted proxy, so any client can set X-Forwarded-For and the
// other forwarding headers, and choose the address it is logged, throttled
// and judged by; and a CORS origin that is a subdomain wildcard
// ("https://*.example.com") with allow_credentials.
func (c *Config) Warnings() []string {
	var out []string
	for i, s := range c.TrustedProxies {
		p, err := clientip.ParsePrefix(s)
		if err != nil || p.Bits() != 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s trusts every address: any client can forge X-Forwarded-For and "+
			"the other forwarding headers; list only your proxies' addresses", keyPath{"trusted_proxies", i}, s))
	}
	for i := range c.Routes {
		out = append(out, c.Routes[i].CORS.warnings(keyPath{"routes", i, "cors"})...)
	}
	if c.Accounts != nil {
		out = append(out, c.Accounts.CORS.warnings(keyPath{"accounts", "cors"})...)
	}
	return out
}

// warnings of a CORS block at at: a subdomain wildcard with credentials
// hands the user's cookies to a page on any subdomain, one taken over or
// serving others' content included.
func (c *CORS) warnings(at keyPath) []string {
	if c == nil || !c.AllowCredentials {
		return nil
	}
	var out []string
	for i, o := range c.AllowedOrigins {
		if strings.Contains(o, "*.") {
			out = append(out, fmt.Sprintf("%s: %s with allow_credentials lets a page on any subdomain send the "+
				"user's cookies and read the answers; name the origins if you can", at.with("allowed_origins", i), o))
		}
	}
	return out
}
