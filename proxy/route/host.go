package route

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// hostKind says how a compiled host pattern is compared.
type hostKind uint8

const (
	hostAny    hostKind = iota // Rule.Host == ""
	hostExact                  // name is the lower-case host name
	hostSuffix                 // name is the lower-case ".example.com" of "*.example.com"
	hostIP                     // addr is the IP literal
)

// hostPattern is a compiled Rule.Host.
type hostPattern struct {
	kind hostKind
	name string
	addr netip.Addr
}

// CheckHost reports why pattern is not a valid Rule.Host, or nil: "" (any
// host), a host name ("api.example.com", compared case-insensitively, a
// trailing dot ignored), a "*."-wildcard ("*.example.com") or an IP literal
// ("10.0.0.1", "::1" or "[::1]"). It is the check NewTable applies, exported
// so that configuration can be validated before any table is built.
func CheckHost(pattern string) error {
	_, err := compileHost(pattern)
	return err
}

// compileHost validates and compiles a Rule.Host. Names must be ASCII (write
// internationalised names in their "xn--" form); IPv6 literals may be written
// with or without brackets; ports are not allowed.
func compileHost(s string) (hostPattern, error) {
	if s == "" {
		return hostPattern{kind: hostAny}, nil
	}
	lit := s
	if strings.HasPrefix(lit, "[") && strings.HasSuffix(lit, "]") {
		lit = lit[1 : len(lit)-1]
	}
	if a, err := netip.ParseAddr(lit); err == nil {
		if a.Zone() != "" {
			return hostPattern{}, fmt.Errorf("host %q: IPv6 zones are not supported", s)
		}
		return hostPattern{kind: hostIP, addr: a}, nil
	}
	if strings.ContainsAny(s, ":[]") {
		return hostPattern{}, fmt.Errorf("host %q: not a host name or IP literal (ports are not allowed)", s)
	}
	name := strings.ToLower(strings.TrimSuffix(s, "."))
	kind := hostExact
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		kind, name = hostSuffix, "."+rest
		if err := checkHostName(rest); err != nil {
			return hostPattern{}, fmt.Errorf("host %q: %w", s, err)
		}
	} else if err := checkHostName(name); err != nil {
		return hostPattern{}, fmt.Errorf("host %q: %w", s, err)
	}
	return hostPattern{kind: kind, name: name}, nil
}

// checkHostName reports whether name is a plausible lower-case DNS name:
// dot-separated labels of 1 to 63 letters, digits, '-' or '_', at most 253
// bytes in all. A "*" anywhere is an error: only a leading "*." is a wildcard.
func checkHostName(name string) error {
	if name == "" {
		return errors.New("empty host name")
	}
	if len(name) > 253 {
		return errors.New("host name longer than 253 bytes")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if len(label) > 63 {
			return fmt.Errorf("label %q longer than 63 bytes", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c == '*' {
				return errors.New(`wildcard "*" is only allowed as the whole first label, as in "*.example.com"`)
			}
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("invalid character %q (internationalised names must be written in xn-- form)", c)
			}
		}
	}
	return nil
}

// match reports whether the request host name h, as returned by hostname,
// matches the pattern.
func (hp *hostPattern) match(h string) bool {
	switch hp.kind {
	case hostAny:
		return true
	case hostExact:
		return equalFoldLower(h, hp.name)
	case hostSuffix:
		return len(h) > len(hp.name) && equalFoldLower(h[len(h)-len(hp.name):], hp.name)
	case hostIP:
		a, err := netip.ParseAddr(h)
		return err == nil && a == hp.addr
	}
	return false
}

// hostname returns the host part of a request's Host (http.Request.Host),
// without port, IPv6 brackets or a trailing dot; it does not allocate. A host
// starting with "[" is an IPv6 literal ended by the first "]", which must be
// last or followed by ":port"; otherwise the host is malformed and hostname
// returns "", which only matches rules for any host. An unbracketed host with exactly one ":" has
// the port stripped; one with more colons is taken as a bare IPv6 literal.
func hostname(host string) string {
	if strings.HasPrefix(host, "[") {
		if j := strings.IndexByte(host, ']'); j > 0 && (j == len(host)-1 || host[j+1] == ':') {
			return host[1:j]
		}
		return ""
	}
	if i := strings.IndexByte(host, ':'); i >= 0 && strings.IndexByte(host[i+1:], ':') < 0 {
		host = host[:i]
	}
	return strings.TrimSuffix(host, ".")
}

// equalFoldLower reports whether s equals lower, which is lower-case, under
// ASCII case folding. Unlike strings.EqualFold it does no Unicode folding, so
// the Kelvin sign does not match "k".
func equalFoldLower(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
