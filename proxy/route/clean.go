// Package route compiles authgate's route rules into an immutable table and
// owns request path canonicalisation.
//
// Route rules are matched against the canonical form of the request path
// returned by CleanPath, and the same canonical path is what the proxy must
// forward upstream. Matching one spelling of a path and forwarding another is
// the classic proxy authorisation bypass, so callers should never match or
// forward anything other than CleanPath's result.
package route

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// maxPathLen is the longest request path, in bytes, that CleanPath accepts.
const maxPathLen = 8 << 10

// ErrBadPath is the sentinel wrapped by every error CleanPath returns. Test for
// it with errors.Is; the wrapping error's text gives the reason.
var ErrBadPath = errors.New("route: bad request path")

// CleanPath canonicalises a request path for matching and forwarding.
//
// The input is the already percent-decoded path (an http.Request's URL.Path),
// without query or fragment: the caller must not pass RawPath, RequestURI or
// anything containing a "?" meant as a query separator. Because the path is
// decoded, an encoded slash ("%2F") has already become a real "/" and is
// treated as a segment separator, which is what an upstream that decodes the
// path would see.
//
// CleanPath returns the rooted path (a leading "/" is added if missing) with
// runs of slashes collapsed to one and "." and ".." segments resolved; ".."
// never climbs above the root. A trailing slash is kept if the input had one
// and the result is not "/"; a trailing "." or ".." segment does not count as
// a trailing slash ("/a/b/.." is "/a"). A path that is already canonical is
// returned unchanged without allocating.
//
// CleanPath rejects, with an error wrapping ErrBadPath, an empty path, a path
// longer than 8 KiB, a path containing NUL or any other ASCII control
// character (including DEL), a path containing a backslash (some upstreams
// treat it as a separator), and a path with a dot segment carrying path
// parameters, such as "/..;/admin" or "/.;x/", which servlet containers
// resolve as ".." or ".".
func CleanPath(p string) (string, error) {
	if err := checkPath(p); err != nil {
		return "", err
	}
	if isCanonical(p) {
		return p, nil
	}
	return clean(p), nil
}

// checkPath reports why p may not be canonicalised at all, or nil.
func checkPath(p string) error {
	if p == "" {
		return fmt.Errorf("%w: empty path", ErrBadPath)
	}
	if len(p) > maxPathLen {
		return fmt.Errorf("%w: path is %d bytes, longer than %d", ErrBadPath, len(p), maxPathLen)
	}
	segStart := 0 // index of the first byte of the current segment
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '/':
			segStart = i + 1
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: control character %#02x at offset %d", ErrBadPath, c, i)
		case c == '\\':
			return fmt.Errorf("%w: backslash at offset %d", ErrBadPath, i)
		case c == ';':
			// Reject "/.;x" and "/..;x": Tomcat and other servlet
			// containers strip the parameters and then resolve the
			// dot segment, after this package has matched the path.
			if seg := p[segStart:i]; seg == "." || seg == ".." {
				return fmt.Errorf("%w: dot segment with path parameters at offset %d", ErrBadPath, segStart)
			}
		}
	}
	return nil
}

// isCanonical reports whether p is already in the form clean would produce:
// rooted, with no empty, "." or ".." segments other than a single trailing
// slash.
func isCanonical(p string) bool {
	if p[0] != '/' {
		return false
	}
	start := 1 // index of the first byte of the current segment
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		switch p[start:i] {
		case "":
			if i < len(p) { // "//"; a lone trailing slash is fine
				return false
			}
		case ".", "..":
			return false
		}
		start = i + 1
	}
	return true
}

// clean builds the canonical form of p, which checkPath has accepted.
func clean(p string) string {
	buf := make([]byte, 1, len(p)+1)
	buf[0] = '/'
	for i := 0; i < len(p); {
		for i < len(p) && p[i] == '/' {
			i++
		}
		j := i
		for j < len(p) && p[j] != '/' {
			j++
		}
		switch seg := p[i:j]; seg {
		case "", ".":
		case "..":
			// buf always ends in "/"; drop the last segment, if any.
			if len(buf) > 1 {
				buf = buf[:bytes.LastIndexByte(buf[:len(buf)-1], '/')+1]
			}
		default:
			buf = append(buf, seg...)
			buf = append(buf, '/')
		}
		i = j
	}
	if len(buf) > 1 && p[len(p)-1] != '/' {
		buf = buf[:len(buf)-1]
	}
	return string(buf)
}

// StripPrefix removes prefix from the canonical path p on a segment boundary,
// returning "/" when nothing is left: StripPrefix("/api/x", "/api") is "/x",
// StripPrefix("/api", "/api") and StripPrefix("/api/", "/api") are "/", and
// StripPrefix("/api/x/", "/api") is "/x/". A prefix with a trailing slash
// keeps it as the new root: StripPrefix("/api/x", "/api/") is "/x".
//
// prefix is a rule's Prefix, normally of the rule Match returned for p. If
// prefix does not match p on a segment boundary (or is "/"), p is returned
// unchanged. StripPrefix does not allocate.
func StripPrefix(p, prefix string) string {
	if prefix == "" || prefix == "/" || !prefixMatch(p, prefix) {
		return p
	}
	if prefix[len(prefix)-1] == '/' {
		return p[len(prefix)-1:]
	}
	if len(p) == len(prefix) {
		return "/"
	}
	return p[len(prefix):]
}

// HasPrefix reports whether prefix, a valid Rule.Prefix, matches the
// canonical path p on a segment boundary, as a rule with that Prefix does:
// "/api" matches "/api" and "/api/x" but not "/apix"; "/api/" matches
// "/api/" and "/api/x" but not "/api". Applied to two prefixes,
// HasPrefix(path, strip) tells whether every path matched by path is
// matched by strip, so that StripPrefix always strips.
func HasPrefix(p, prefix string) bool {
	return prefix != "" && prefixMatch(p, prefix)
}

// prefixMatch reports whether prefix matches p on a segment boundary. prefix
// is non-empty and canonical.
func prefixMatch(p, prefix string) bool {
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	return len(p) == len(prefix) || prefix[len(prefix)-1] == '/' || p[len(prefix)] == '/'
}
