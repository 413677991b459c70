// Package redirect decides whether a redirect target a client supplied
// (the rd of a sign-in link) may be followed: the one rule that keeps the
// sign-in, renewal and sign-out pages from being open redirects.
//
// A target is acceptable when it is an absolute path on the same origin
// ("/app?x=1"), or an absolute http(s) URL whose host is the request's own
// or one of an allow-list. Everything a browser might read differently
// from a URL parser is refused rather than normalised: backslashes,
// whitespace and control characters (raw or percent-encoded), a
// scheme-relative "//host", "https:host" without "//", user information,
// and percent-encoded slashes or backslashes that could turn a path into
// an authority once decoded.
package redirect

import (
	"net"
	"net/url"
	"strings"
)

// MaxLength bounds an acceptable target, in bytes.
const MaxLength = 2048

// maxDecode bounds how many layers of percent-encoding are unwrapped
// looking for a hidden slash or backslash.
const maxDecode = 3

// Safe reports whether rd may be followed by a client of host (the
// request's Host, with or without port). allowed lists the other hosts
// an absolute target may name: "app.example.com" names one host, any
// port; "*.example.com" names its subdomains (not example.com itself).
// Hosts compare without regard to case.
func Safe(rd, host string, allowed []string) bool {
	if rd == "" || len(rd) > MaxLength || !clean(rd) {
		return false
	}
	// Unwrap percent-encoding: a decoded form that starts a second
	// authority or holds a backslash or control character is refused, so
	// a server or browser that decodes once more cannot be led away.
	dec := rd
	for range maxDecode {
		next, err := url.PathUnescape(dec)
		if err != nil {
			return false
		}
		if next == dec {
			break
		}
		if !cleanDecoded(next) || startsAuthority(next) {
			return false
		}
		dec = next
	}
	if rd[0] == '/' {
		// An absolute path: same origin, unless "//" or "/\" make it a
		// scheme-relative URL (the backslash is refused by clean).
		return !startsAuthority(rd)
	}
	return absoluteAllowed(rd, host, allowed)
}

// clean reports whether s is free of what browsers strip or reinterpret:
// control characters (tab, CR and LF included), spaces, backslashes, and
// anything outside printable ASCII.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// cleanDecoded is clean for a percent-decoded form, where spaces and
// UTF-8 are fine (the browser sends them encoded, as they were written).
func cleanDecoded(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// startsAuthority reports whether a path-looking s would be read as the
// start of another host: "//evil", or an encoded slash right after the
// first one.
func startsAuthority(s string) bool {
	return strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\")
}

// absoluteAllowed accepts "http://host/..." or "https://host/..." for
// host or an allowed host, with no user information.
func absoluteAllowed(rd, host string, allowed []string) bool {
	lower := strings.ToLower(rd)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		return false // "https:evil", "javascript:", "data:", relative paths
	}
	u, err := url.Parse(rd)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return false
	}
	// The authority as written: "@" anywhere in it is user information,
	// whatever the parser made of it.
	rest := rd[len(u.Scheme)+3:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if strings.ContainsAny(rest, "@%") {
		return false
	}
	name := strings.ToLower(u.Hostname())
	if name == "" || strings.HasSuffix(name, ".") {
		return false
	}
	if name == hostname(host) {
		return true
	}
	for _, a := range allowed {
		a = strings.ToLower(a)
		if suffix, ok := strings.CutPrefix(a, "*."); ok {
			if strings.HasSuffix(name, "."+suffix) {
				return true
			}
			continue
		}
		if name == a {
			return true
		}
	}
	return false
}

// hostname returns the host of a Host header without its port, lower case.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}
