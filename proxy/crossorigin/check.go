package crossorigin

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/route"
)

// policyError is a problem with a policy. Its text names the value at
// fault, for configuration errors; errors.Is finds ErrInvalid.
type policyError struct{ msg string }

func (e *policyError) Error() string { return e.msg }
func (e *policyError) Unwrap() error { return ErrInvalid }

func invalid(format string, args ...any) error {
	return &policyError{msg: fmt.Sprintf(format, args...)}
}

// CheckOrigin reports why s is not an allowed origin, or nil. An origin is
// written as browsers send it in the Origin header: "scheme://host" or
// "scheme://host:port", without a path (not even "/"), query, fragment or
// user info, and without the scheme's default port (browsers leave out
// ":443" of https and ":80" of http, so such an entry would never match).
// The host is a name or a bracketed IPv6 literal. "scheme://*.domain"
// allows the subdomains of domain at any depth, not domain itself; domain
// must have at least two labels ("*.com" would let in most of the web).
// "*" allows every origin. "null", the origin of sandboxed frames and
// file: pages, is refused: allowing it would let any of them in.
func CheckOrigin(s string) error {
	switch s {
	case "*":
		return nil
	case "":
		return invalid("origin must not be empty")
	case "null":
		return invalid(`origin "null" is what sandboxed frames and file: pages send; allowing it lets any of them in`)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) {
		return invalid("origin %q is not scheme://host[:port]", s)
	}
	if rest == "" || strings.ContainsAny(rest, "/?#@\\ \t") || hasControl(rest) {
		return invalid("origin %q must be scheme://host[:port], without a path, query, fragment or user info", s)
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && i > strings.LastIndexByte(rest, ']') {
		host, port = rest[:i], rest[i+1:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return invalid("origin %q has an invalid port", s)
		}
		if d := defaultPort(scheme); d == port {
			return invalid("origin %q names the default port, which browsers leave out: write %s://%s", s, scheme, host)
		}
	}
	bracketed := strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")
	switch {
	case host == "":
		return invalid("origin %q has no host", s)
	case strings.HasSuffix(host, "."):
		return invalid("origin %q: the host must not end with a dot", s)
	case strings.Contains(host, ":") && !bracketed:
		return invalid("origin %q: an IPv6 host is written in brackets, as in http://[::1]:8080", s)
	}
	if bracketed {
		if a, err := netip.ParseAddr(host[1 : len(host)-1]); err != nil || !a.Is6() || a.Zone() != "" {
			return invalid("origin %q: %s is not an IPv6 address", s, host)
		}
		return nil
	}
	if strings.Contains(host, "*") {
		if !strings.HasPrefix(host, "*.") || strings.Count(host, ".") < 2 {
			return invalid(`origin %q: a wildcard is only allowed as the whole first label of a domain of two labels or more, as in https://*.example.com`, s)
		}
	}
	if err := route.CheckHost(host); err != nil {
		return invalid("origin %q: %v", s, err)
	}
	return nil
}

// CheckOrigins reports what is wrong with a list of valid origins as a
// whole, or nil: "*" must stand alone, and cannot be combined with
// credentials (browsers refuse "Access-Control-Allow-Origin: *" on a
// request with credentials, and echoing any origin instead would give
// every site the user's session).
func CheckOrigins(origins []string, credentials bool) error {
	for _, o := range origins {
		if o != "*" {
			continue
		}
		if len(origins) > 1 {
			return invalid(`origin "*" allows every origin and must be the only one`)
		}
		if credentials {
			return invalid(`origin "*" cannot be combined with allow_credentials: name the origins`)
		}
	}
	return nil
}

// CheckMethod reports why m is not a method a policy may allow, or nil:
// an upper-case HTTP token ("*" is not: name the methods).
func CheckMethod(m string) error {
	if m == "*" {
		return invalid(`method "*" is not supported: name the methods`)
	}
	if !isToken(m) || m != strings.ToUpper(m) {
		return invalid("method %q is not an upper-case HTTP method", m)
	}
	return nil
}

// CheckHeader reports why h is not a header name, or nil ("*" is not:
// name the headers; Options.AllowedHeaders accepts it on its own).
func CheckHeader(h string) error {
	if h == "*" {
		return invalid(`header "*" is not supported here: name the headers`)
	}
	if !isToken(h) {
		return invalid("%q is not a header name", h)
	}
	return nil
}

// CheckMaxAge reports why d is not a preflight cache lifetime, or nil:
// whole seconds between 0 and MaxMaxAge.
func CheckMaxAge(d time.Duration) error {
	if d < 0 || d > MaxMaxAge || d%time.Second != 0 {
		return invalid("max_age must be whole seconds between 0s and %s", MaxMaxAge)
	}
	return nil
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// validScheme reports whether s is a URI scheme (RFC 3986 §3.1).
func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
