package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestWarningsTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		want    []string // key paths warned about
	}{
		{"none", nil, nil},
		{"loopback and a private range", []string{"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"}, nil},
		{"IPv4 /1 is not everything", []string{"0.0.0.0/1", "128.0.0.0/1"}, nil},
		{"every IPv4 address", []string{"10.0.0.0/8", "0.0.0.0/0"}, []string{"trusted_proxies[1]"}},
		{"every IPv6 address", []string{"::/0"}, []string{"trusted_proxies[0]"}},
		{"IPv4-mapped everything", []string{"::ffff:0:0/96"}, []string{"trusted_proxies[0]"}},
		{"non-zero bits masked away", []string{"10.1.2.3/0"}, []string{"trusted_proxies[0]"}},
		{"both families", []string{"0.0.0.0/0", "::/0"}, []string{"trusted_proxies[0]", "trusted_proxies[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.TrustedProxies = tt.proxies
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v (a warning must not be a problem)", err)
			}
			var got []string
			for _, w := range c.Warnings() {
				key, msg, _ := strings.Cut(w, ": ")
				if !strings.Contains(msg, "trusts every address") {
					t.Errorf("warning %q does not say why", w)
				}
				got = append(got, key)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Warnings keys = %v, want %v", got, tt.want)
			}
		})
	}
}
