package route

import "unicode/utf8"

// Case-insensitive matching, for rules whose upstream resolves paths without
// regard to case (IIS, ASP.NET, many Java and Node routers configured so).
//
// Folding is ASCII case folding plus the four non-ASCII letters whose simple
// case mappings are ASCII letters, which Java's equalsIgnoreCase and .NET's
// OrdinalIgnoreCase also equate with them: U+017F LATIN SMALL LETTER LONG S
// ("s"), U+212A KELVIN SIGN ("k"), U+0130 LATIN CAPITAL LETTER I WITH DOT
// ABOVE and U+0131 LATIN SMALL LETTER DOTLESS I ("i"). Without them
// "/ſecret" would pass a case-insensitive "/secret" rule by, while such an
// upstream serves it as "/secret". Every other byte is compared as is.

// foldAt returns the folded byte of s at i and how many bytes of s it
// stands for.
func foldAt(s string, i int) (byte, int) {
	c := s[i]
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A', 1
	case c < utf8.RuneSelf:
		return c, 1
	}
	switch r, size := utf8.DecodeRuneInString(s[i:]); r {
	case '\u017f': // ſ
		return 's', size
	case '\u212a': // Kelvin sign
		return 'k', size
	case '\u0130', '\u0131': // İ, ı
		return 'i', size
	}
	return c, 1
}

// foldPrefix reports whether prefix, a canonical rule prefix, matches the
// canonical path p on a segment boundary when both are folded, and how many
// bytes of p it matched.
func foldPrefix(p, prefix string) (int, bool) {
	i, j := 0, 0
	for j < len(prefix) {
		if i >= len(p) {
			return 0, false
		}
		pc, pn := foldAt(p, i)
		xc, xn := foldAt(prefix, j)
		if pc != xc {
			return 0, false
		}
		i, j = i+pn, j+xn
	}
	if i == len(p) || prefix[len(prefix)-1] == '/' || p[i] == '/' {
		return i, true
	}
	return 0, false
}

// needsFold reports whether folding changes s.
func needsFold(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// appendFold appends the folded form of s to b.
func appendFold(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c, n := foldAt(s, i)
		b = append(b, c)
		i += n
	}
	return b
}

// foldKey returns the folded form of s.
func foldKey(s string) string {
	if !needsFold(s) {
		return s
	}
	return string(appendFold(make([]byte, 0, len(s)), s))
}
