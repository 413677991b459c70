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
	"unicode"
	"unicode/utf8"
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
// longer than 8 KiB, a path containing NUL or any other control character
// (ASCII, DEL, or Unicode C1), a path containing a backslash (some upstreams
// treat it as a separator), and any spelling that a common upstream resolves
// to some other path than the one matched (security requirement 32):
//
//   - a ";" anywhere (written ";" or "%3B"): Tomcat, Jetty and Spring strip
//     path parameters ("/echo;x/admin" is "/echo/admin" to them, "/..;/" is
//     "/../"), so a path carrying them is refused rather than matched as
//     some other route;
//   - a segment other than "." and ".." that ends with "." or a space
//     ("/echo./admin", "/echo%20/admin", "/echo%2e/admin", "/..."), or
//     starts with a space: IIS and Windows file systems trim trailing dots
//     and spaces, and some routers trim the whole segment;
//   - any Unicode white space other than a space inside a segment (tab and
//     the other ASCII ones are control characters already; NBSP, U+2028,
//     U+3000 and friends are trimmed by some frameworks).
//
// "." and ".." segments themselves are resolved as described above.
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
			if err := checkSegment(p[segStart:i], segStart); err != nil {
				return err
			}
			segStart = i + 1
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: control character %#02x at offset %d", ErrBadPath, c, i)
		case c == '\\':
			return fmt.Errorf("%w: backslash at offset %d", ErrBadPath, i)
		case c == ';':
			// Tomcat and other servlet containers strip the parameters
			// and then resolve the rest ("/..;/", "/echo;x/admin"),
			// after this package has matched the path.
			if seg := p[segStart:i]; seg == "." || seg == ".." {
				return fmt.Errorf("%w: dot segment with path parameters at offset %d", ErrBadPath, segStart)
			}
			return fmt.Errorf("%w: path parameters (\";\") at offset %d", ErrBadPath, i)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(p[i:])
			if r != utf8.RuneError && (unicode.IsSpace(r) || unicode.IsControl(r)) {
				return fmt.Errorf("%w: white space or control character %U at offset %d", ErrBadPath, r, i)
			}
			i += size - 1
		}
	}
	return checkSegment(p[segStart:], segStart)
}

// checkSegment reports why seg, the segment of a path starting at offset
// off, is one that upstreams trim into another name, or nil: it may not end
// with "." (unless it is "." or "..") or a space, nor start with a space.
func checkSegment(seg string, off int) error {
	if seg == "" || seg == "." || seg == ".." {
		return nil
	}
	switch last := seg[len(seg)-1]; {
	case last == '.':
		return fmt.Errorf("%w: segment ending with \".\" at offset %d", ErrBadPath, off)
	case last == ' ' || seg[0] == ' ':
		return fmt.Errorf("%w: segment starting or ending with a space at offset %d", ErrBadPath, off)
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
// prefix is a rule's Prefix, normally of the rule Match returned for p,
// which may have matched p but for case (see Rule.CaseInsensitive): a prefix
// that matches p only when both are case-folded is stripped too, so
// StripPrefix("/API/x", "/api") is "/x". If prefix does not match p on a
// segment boundary even so (or is "/"), p is returned unchanged.
// StripPrefix does not allocate.
func StripPrefix(p, prefix string) string {
	if prefix == "" || prefix == "/" {
		return p
	}
	n, ok := len(prefix), prefixMatch(p, prefix)
	if !ok {
		if n, ok = foldPrefix(p, prefix); !ok {
			return p
		}
	}
	if prefix[len(prefix)-1] == '/' {
		return p[n-1:]
	}
	if len(p) == n {
		return "/"
	}
	return p[n:]
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
