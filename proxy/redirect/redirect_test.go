package redirect

import (
	"strings"
	"testing"
)

func TestSafe(t *testing.T) {
	allowed := []string{"app.example.com", "*.apps.example.com"}
	const host = "auth.example.com"
	for _, c := range []struct {
		rd   string
		want bool
	}{
		// Same-origin paths.
		{"/", true},
		{"/todos", true},
		{"/todos?x=1&y=%2F#frag", true},
		{"/a/b%20c", true},
		{"/.//evil", true}, // a path on this origin, however odd
		// Absolute URLs to this host and to allowed hosts.
		{"https://auth.example.com/x", true},
		{"https://AUTH.example.com:8443/x", true},
		{"http://auth.example.com", true},
		{"https://app.example.com/dash?tab=1", true},
		{"https://a.apps.example.com/", true},
		{"https://b.a.apps.example.com/", true},

		// Empty, relative without a leading slash, other schemes.
		{"", false},
		{"todos", false},
		{"?x=1", false},
		{"#top", false},
		{"javascript:alert(1)", false},
		{"JAVASCRIPT:alert(1)", false},
		{"data:text/html,<script>", false},
		{"ftp://auth.example.com/", false},
		// Scheme-relative and backslash tricks.
		{"//evil.com", false},
		{"//evil.com/path", false},
		{"///evil.com", false},
		{"/\\evil.com", false},
		{"\\\\evil.com", false},
		{"\\/evil.com", false},
		{"/\\/evil.com", false},
		{"https:\\\\evil.com", false},
		// Scheme without slashes.
		{"https:evil.com", false},
		{"http:evil.com", false},
		{"https:/evil.com", false},
		{"https:///evil.com", false},
		// User information.
		{"https://auth.example.com@evil.com/", false},
		{"https://evil.com@auth.example.com/", false},
		{"https://user:pw@auth.example.com/", false},
		{"https://auth.example.com%40evil.com/", false},
		{"https://auth.example.com%2540evil.com/", false},
		// Other hosts, and look-alikes of allowed ones.
		{"https://evil.com/", false},
		{"https://auth.example.com.evil.com/", false},
		{"https://evilapp.example.com/", false},
		{"https://apps.example.com/", false},
		{"https://xapps.example.com/", false},
		{"https://auth.example.com./", false},
		// Percent-encoded slashes and backslashes.
		{"/%2Fevil.com", false},
		{"/%2fevil.com", false},
		{"%2F%2Fevil.com", false},
		{"/%5Cevil.com", false},
		{"/%5cevil.com", false},
		{"/%252Fevil.com", false},
		{"/%25252Fevil.com", false},
		{"/%2", false}, // malformed escape
		// Whitespace and control characters, raw and encoded.
		{"/\t/evil.com", false},
		{"/\r\n/evil.com", false},
		{"/\n/evil.com", false},
		{" /x", false},
		{"/x ", false},
		{"/%09/evil.com", false},
		{"/%0d%0aSet-Cookie:x=1", false},
		{"/%00", false},
		{"https://auth.example.com/\x7f", false},
		{"/caf\xc3\xa9", false}, // raw non-ASCII: browsers percent-encode it, servers differ
		{"/" + strings.Repeat("a", MaxLength), false},
	} {
		if got := Safe(c.rd, host, allowed); got != c.want {
			t.Errorf("Safe(%q) = %v, want %v", c.rd, got, c.want)
		}
	}
}

func TestSafeOwnHost(t *testing.T) {
	for _, c := range []struct {
		rd, host string
		want     bool
	}{
		{"http://127.0.0.1:8000/x", "127.0.0.1:8000", true},
		{"http://127.0.0.1:9999/x", "127.0.0.1:8000", true}, // hosts compare without ports
		{"http://[::1]:8000/x", "[::1]:8000", true},
		{"http://[::1]:8000/x", "127.0.0.1:8000", false},
		{"https://app.example.com/", "APP.EXAMPLE.COM", true},
		{"https://app.example.com/", "", false},
	} {
		if got := Safe(c.rd, c.host, nil); got != c.want {
			t.Errorf("Safe(%q) for host %q = %v, want %v", c.rd, c.host, got, c.want)
		}
	}
}

// FuzzSafe checks that whatever Safe accepts is, read the way a browser
// reads a Location header, on the request's host or an allowed one.
func FuzzSafe(f *testing.F) {
	for _, s := range []string{"/", "/x?y=1", "//evil", "/\\evil", "https:evil", "https://a@b/",
		"https://app.example.com/", "/%2F%2Fevil", "/%5Cevil", "/\t/evil", "https://auth.example.com%40evil/",
		"HTTPS://AUTH.EXAMPLE.COM/", "https://x.apps.example.com:1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rd string) {
		if !Safe(rd, "auth.example.com", []string{"app.example.com", "*.apps.example.com"}) {
			return
		}
		if !clean(rd) {
			t.Fatalf("accepted %q with a control character, space or backslash", rd)
		}
		if rd[0] == '/' {
			if strings.HasPrefix(rd, "//") {
				t.Fatalf("accepted scheme-relative %q", rd)
			}
			return
		}
		lower := strings.ToLower(rd)
		rest, ok := strings.CutPrefix(lower, "https://")
		if !ok {
			rest, ok = strings.CutPrefix(lower, "http://")
		}
		if !ok {
			t.Fatalf("accepted %q: neither a path nor http(s)://", rd)
		}
		authority := rest
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			authority = rest[:end]
		}
		if strings.Contains(authority, "@") {
			t.Fatalf("accepted %q with user information", rd)
		}
		h := authority
		if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
			h = h[:i]
		}
		if h != "auth.example.com" && h != "app.example.com" && !strings.HasSuffix(h, ".apps.example.com") {
			t.Fatalf("accepted %q: host %q is not allowed", rd, h)
		}
	})
}
