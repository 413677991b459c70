package route

import (
	"errors"
	"net/netip"
	"path"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{
		"", "/", "//", ".", "..", "/.", "/..", "/../..", "a/../../b", "/./.",
		"/a/b/../../../c/", "////..//..//x", "/echo;x/admin", "/echo./admin", "/echo /admin",
		"/ echo", "/a/...", "/a/. /", "/a\u00a0b", "/a\u0085", "/a b/c", "/a//b/./c/..//d/", "/todos/", "/todos//",
		"\\", "/a\\b", "/a\x00", "/a\x7f", "/a\r\n", "/..;/admin", "/.;/", "/a..;b/",
		"/%2e%2e/", "/%2F", "/日本/../語", "/\xff\xfe/..", strings.Repeat("/..", 3000),
		"/" + strings.Repeat("a", maxPathLen-1), "/" + strings.Repeat("a", maxPathLen),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := CleanPath(p)
		if wantErr := refBadPath(p); wantErr != (err != nil) {
			t.Fatalf("CleanPath(%q) = %q, %v; want error: %v", p, got, err, wantErr)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPath) || got != "" {
				t.Fatalf("CleanPath(%q) = %q, %v; want \"\" and an ErrBadPath error", p, got, err)
			}
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("CleanPath(%q) = %q: not rooted", p, got)
		}
		if strings.Contains(got, "//") {
			t.Fatalf("CleanPath(%q) = %q: contains //", p, got)
		}
		if strings.Contains(got, ";") {
			t.Fatalf("CleanPath(%q) = %q: contains path parameters", p, got)
		}
		for seg := range strings.SplitSeq(got[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("CleanPath(%q) = %q: contains a %q segment", p, got, seg)
			}
			if strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") || strings.HasPrefix(seg, " ") {
				t.Fatalf("CleanPath(%q) = %q: segment %q would be trimmed by some upstreams", p, got, seg)
			}
		}
		if again, err := CleanPath(got); err != nil || again != got {
			t.Fatalf("CleanPath(CleanPath(%q)) = %q, %v; want %q", p, again, err, got)
		}
		if len(got) > len(p)+1 {
			t.Fatalf("CleanPath(%q) = %q: longer than input plus root", p, got)
		}
		// Differential check against path.Clean, as net/http does it:
		// rooted, with the input's trailing slash put back. path.Clean
		// never leaves ".." above the root of a rooted path.
		want := path.Clean("/" + p)
		if strings.HasSuffix(p, "/") && want != "/" {
			want += "/"
		}
		if got != want {
			t.Fatalf("CleanPath(%q) = %q; path.Clean gives %q", p, got, want)
		}
	})
}

// refBadPath is the reference for which inputs CleanPath rejects.
func refBadPath(p string) bool {
	if p == "" || len(p) > maxPathLen || strings.Contains(p, "\\") {
		return true
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return true
	}
	if strings.Contains(p, ";") {
		return true // path parameters
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r != ' ' && (unicode.IsSpace(r) || unicode.IsControl(r)) }) {
		return true
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			continue
		}
		if strings.HasPrefix(seg, " ") || strings.HasSuffix(seg, " ") || strings.HasSuffix(seg, ".") {
			return true
		}
	}
	return false
}

// Pools the fuzzer picks rules from, by index, so that every generated table
// is valid and rules overlap enough to exercise ordering.
var (
	fuzzHosts = []string{
		"", "api.example.com", "*.example.com", "example.com", "*.b.example.com",
		"API.Example.COM.", "::1", "[2001:db8::1]", "127.0.0.1",
	}
	fuzzMethods = [][]string{
		nil, {"GET"}, {"POST"}, {"GET", "POST"}, {"DELETE"}, {"HEAD"}, {"PUT", "PATCH"},
	}
	fuzzPrefixes = []string{
		"/", "/todos", "/todos/", "/todos/1", "/todosx", "/api", "/api/v1", "/api/v1/",
		"/a", "/a/b/c", "/café", "/x y", "/.well-known", "/Todos", "/API/v1", "/secret",
	}
)

func FuzzMatch(f *testing.F) {
	f.Add([]byte{0, 0, 0}, "h", "GET", "/")
	f.Add([]byte{1, 3, 1, 0, 0, 0}, "api.example.com:8443", "GET", "/todos/1")
	f.Add([]byte{0, 0, 0, 1, 3, 1}, "api.example.com", "POST", "/todos")
	f.Add([]byte{2, 1, 2, 4, 0, 3, 0, 2, 1}, "a.b.example.com", "head", "/todos/")
	f.Add([]byte{6, 0, 0, 7, 0, 5}, "[::1]:8000", "GET", "/api/v1/")
	f.Add([]byte{7, 0, 7, 8, 0, 9}, "[2001:DB8::1]", "DELETE", "/api/v10")
	f.Add([]byte{3, 2, 4, 5, 6, 10}, "EXAMPLE.COM.:80", "put", "/todosx/y")
	f.Add([]byte{9, 0, 11, 0, 1, 12}, "[::1]x", "GET", "/x y/z")
	f.Add([]byte{0, 0, 128, 1, 3, 1}, "h", "GET", "/TODOS/1")
	f.Add([]byte{0, 1, 1, 0, 0, 128}, "h", "GET", "/Todos")
	f.Add([]byte{0, 0, 15, 0, 0, 128}, "h", "GET", "/\u017fecret/x")
	f.Add([]byte{}, "", "", "")
	f.Fuzz(func(t *testing.T, spec []byte, host, method, p string) {
		var rules []Rule
		for i := 0; i+2 < len(spec) && len(rules) < 64; i += 3 {
			rules = append(rules, Rule{
				Host:            fuzzHosts[int(spec[i])%len(fuzzHosts)],
				Methods:         fuzzMethods[int(spec[i+1])%len(fuzzMethods)],
				Prefix:          fuzzPrefixes[int(spec[i+2]&0x7f)%len(fuzzPrefixes)],
				CaseInsensitive: spec[i+2]&0x80 != 0,
			})
		}
		tab, err := NewTable(rules)
		if err != nil {
			t.Fatalf("NewTable(%+v): %v", rules, err)
		}
		paths := []string{p}
		if c, err := CleanPath(p); err == nil && c != p {
			paths = append(paths, c)
		}
		for _, p := range paths {
			got := tab.Match(host, method, p)
			want := refMatch(rules, host, method, p)
			if got != want {
				t.Fatalf("Match(%q, %q, %q) = %d; linear scan gives %d\nrules: %+v", host, method, p, got, want, rules)
			}
			// The rule matched, even but for case, is one whose prefix
			// the forwarder can strip.
			if got >= 0 && rules[got].Prefix != "/" && len(StripPrefix(p, rules[got].Prefix)) >= len(p) {
				t.Fatalf("Match(%q) = rule %d (%q), which StripPrefix does not strip", p, got, rules[got].Prefix)
			}
		}
	})
}

// refMatch is the obvious linear scan Match must agree with: the first rule
// whose prefix matches (but for case, if it is case-insensitive) and, if that
// rule is case-insensitive, the first rule whose prefix matches but for case.
func refMatch(rules []Rule, host, method, p string) int {
	first := -1
	for i, r := range rules {
		if (refPrefix(r.Prefix, p) || r.CaseInsensitive && refPrefix(refFold(r.Prefix), refFold(p))) &&
			refMethod(r.Methods, method) && refHost(r.Host, host) {
			first = i
			break
		}
	}
	if first < 0 || !rules[first].CaseInsensitive {
		return first
	}
	for i, r := range rules[:first] {
		if refPrefix(refFold(r.Prefix), refFold(p)) && refMethod(r.Methods, method) && refHost(r.Host, host) {
			return i
		}
	}
	return first
}

// refFold folds s as Java's equalsIgnoreCase compares ASCII letters and the
// four non-ASCII letters that fold to ASCII ones; other bytes, invalid UTF-8
// included, stay as they are.
func refFold(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == 0x17f:
			b.WriteByte('s')
		case r == 0x212a:
			b.WriteByte('k')
		case r == 0x130 || r == 0x131:
			b.WriteByte('i')
		default:
			b.WriteString(asciiCase(s[:n], 'A', 'a'))
		}
		s = s[n:]
	}
	return b.String()
}

func refPrefix(prefix, p string) bool {
	switch {
	case prefix == "/":
		return strings.HasPrefix(p, "/")
	case strings.HasSuffix(prefix, "/"):
		return strings.HasPrefix(p, prefix)
	default:
		return p == prefix || strings.HasPrefix(p, prefix+"/")
	}
}

func refMethod(methods []string, m string) bool {
	if len(methods) == 0 {
		return true
	}
	m = asciiCase(m, 'a', 'A')
	for _, rm := range methods {
		if rm == m || rm == "GET" && m == "HEAD" {
			return true
		}
	}
	return false
}

func refHost(pattern, host string) bool {
	if pattern == "" {
		return true
	}
	h := host
	if rest, ok := strings.CutPrefix(host, "["); ok {
		inside, after, found := strings.Cut(rest, "]")
		if !found || after != "" && !strings.HasPrefix(after, ":") {
			return false // malformed IPv6 literal
		}
		h = inside
	} else {
		if strings.Count(h, ":") == 1 {
			h, _, _ = strings.Cut(h, ":")
		}
		h = strings.TrimSuffix(h, ".")
	}
	lit := strings.TrimSuffix(strings.TrimPrefix(pattern, "["), "]")
	if want, err := netip.ParseAddr(lit); err == nil {
		got, err := netip.ParseAddr(h)
		return err == nil && got == want
	}
	pat := asciiCase(strings.TrimSuffix(pattern, "."), 'A', 'a')
	h = asciiCase(h, 'A', 'a')
	if suffix, ok := strings.CutPrefix(pat, "*"); ok {
		return len(h) > len(suffix) && strings.HasSuffix(h, suffix)
	}
	return h == pat
}

// asciiCase maps the ASCII letters from..from+25 of s to to..to+25, leaving
// every other byte, including non-ASCII, alone.
func asciiCase(s string, from, to byte) string {
	b := []byte(s)
	for i, c := range b {
		if from <= c && c < from+26 {
			b[i] = c - from + to
		}
	}
	return string(b)
}
