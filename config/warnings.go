package config

import (
	"fmt"

	"github.com/authgate/authgate/proxy/clientip"
)

// Warnings returns what a valid config allows but probably should not, one
// "key.path: message" line each: 'authgate check' prints them and serve
// logs them at startup and on reload, but neither refuses the config.
// Like Validate, Warnings has no side effects.
//
// Today there is one: a trusted_proxies entry that covers every address
// (0.0.0.0/0, ::/0, or ::ffff:0:0/96, which is 0.0.0.0/0 unmapped). Every
// client is then a trusted proxy, so any client can set X-Forwarded-For and
// the other forwarding headers, and choose the address it is logged,
// throttled and judged by.
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
	return out
}
