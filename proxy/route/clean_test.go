package route

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	long := "/" + strings.Repeat("a", maxPathLen)
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "root", in: "/", want: "/"},
		{name: "already canonical", in: "/todos/1", want: "/todos/1"},
		{name: "leading double slash", in: "//todos", want: "/todos"},
		{name: "inner double slash", in: "/todos//1", want: "/todos/1"},
		{name: "only slashes", in: "///", want: "/"},
		{name: "dot segment", in: "/todos/./1", want: "/todos/1"},
		{name: "dot dot segment", in: "/a/../todos", want: "/todos"},
		{name: "dot dot above root", in: "/../../todos", want: "/todos"},
		{name: "dot dot to root", in: "/a/..", want: "/"},
		{name: "dot dot to root with slash", in: "/a/../", want: "/"},
		{name: "trailing dot dot", in: "/a/b/..", want: "/a"},
		{name: "trailing dot", in: "/a/.", want: "/a"},
		{name: "trailing dot slash", in: "/a/./", want: "/a/"},
		{name: "trailing slash kept", in: "/todos/", want: "/todos/"},
		{name: "trailing double slash", in: "/todos//", want: "/todos/"},
		{name: "unrooted", in: "todos", want: "/todos"},
		{name: "unrooted dot dot", in: "../todos", want: "/todos"},
		{name: "lone dot", in: ".", want: "/"},
		{name: "lone dot dot", in: "..", want: "/"},
		{name: "decoded slash is separator", in: "/a/..//admin", want: "/admin"},
		{name: "dots in names kept", in: "/.well-known/...x/a..b/.x", want: "/.well-known/...x/a..b/.x"},
		{name: "inner dots kept", in: "/a/.x/b.c/x..y", want: "/a/.x/b.c/x..y"},
		{name: "inner space kept", in: "/my docs/a b", want: "/my docs/a b"},
		{name: "dot segments before a name", in: "/./../a", want: "/a"},
		{name: "unicode segments kept", in: "/café/日本語/../ü", want: "/café/ü"},
		{name: "percent kept literally", in: "/a/%2e%2e/b", want: "/a/%2e%2e/b"},
		{name: "max length", in: long[:maxPathLen], want: long[:maxPathLen]},

		{name: "empty", in: "", wantErr: true},
		{name: "backslash", in: "/a\\b", wantErr: true},
		{name: "backslash dot dot", in: "/a/..\\admin", wantErr: true},
		{name: "nul", in: "/a\x00", wantErr: true},
		{name: "newline", in: "/a\nb", wantErr: true},
		{name: "tab", in: "/a\tb", wantErr: true},
		{name: "carriage return", in: "/a\r", wantErr: true},
		{name: "del", in: "/a\x7f", wantErr: true},
		{name: "too long", in: long, wantErr: true},
		{name: "dot dot with parameters", in: "/public/..;/admin", wantErr: true},
		{name: "dot dot with named parameter", in: "/public/..;x=1/admin", wantErr: true},
		{name: "dot with parameters", in: "/.;/admin", wantErr: true},
		{name: "unrooted dot dot with parameters", in: "..;/admin", wantErr: true},
		{name: "triple dot", in: "/a/.../b", wantErr: true},
		{name: "dot then space", in: "/a/. /b", wantErr: true},
		{name: "dot dot then space", in: "/a/.. /b", wantErr: true},
		{name: "no-break space", in: "/a\u00a0/b", wantErr: true},
		{name: "next line", in: "/a\u0085b", wantErr: true},
		{name: "ideographic space", in: "/a/\u3000", wantErr: true},
		{name: "line separator", in: "/\u2028a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanPath(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadPath) {
					t.Fatalf("CleanPath(%q) = %q, %v; want error wrapping ErrBadPath", tt.in, got, err)
				}
				if got != "" {
					t.Errorf("CleanPath(%q) returned %q with its error; want \"\"", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("CleanPath(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CleanPath(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCleanPathUpstreamSpellings: every spelling that Tomcat, Spring, IIS and
// similar upstreams resolve to another path than the one written is refused,
// in every segment position. The input is the decoded path, as net/http
// gives it; the percent-encoded forms decode to the same bytes (see the
// gateway tests for the wire forms).
func TestCleanPathUpstreamSpellings(t *testing.T) {
	spellings := []struct{ name, seg string }{
		{"path parameter", "echo;x"},
		{"empty path parameter", "echo;"},
		{"parameter only", ";x"},
		{"parameter with value", "echo;jsessionid=1"},
		{"trailing dot", "echo."},
		{"trailing dots", "echo.."},
		{"trailing space", "echo "},
		{"trailing spaces", "echo  "},
		{"leading space", " echo"},
		{"space only", " "},
		{"trailing dot and space", "echo. "},
		{"trailing space and dot", "echo ."},
		{"trailing tab", "echo\t"},
		{"trailing vertical tab", "echo\v"},
		{"trailing form feed", "echo\f"},
		{"trailing no-break space", "echo\u00a0"},
		{"trailing en space", "echo\u2002"},
		{"trailing C1 control", "echo\u0080"},
	}
	positions := []struct{ name, format string }{
		{"first", "/%s/b/c"},
		{"middle", "/a/%s/c"},
		{"last", "/a/b/%s"},
		{"last with slash", "/a/b/%s/"},
		{"only", "/%s"},
		{"unrooted", "%s/b"},
	}
	for _, sp := range spellings {
		for _, pos := range positions {
			p := fmt.Sprintf(pos.format, sp.seg)
			t.Run(sp.name+"/"+pos.name, func(t *testing.T) {
				got, err := CleanPath(p)
				if !errors.Is(err, ErrBadPath) || got != "" {
					t.Fatalf("CleanPath(%q) = %q, %v; want \"\" and an ErrBadPath error", p, got, err)
				}
			})
		}
	}
}

func TestCleanPathErrorText(t *testing.T) {
	_, err := CleanPath("/a\\b")
	if err == nil || !strings.Contains(err.Error(), "backslash") {
		t.Errorf("CleanPath(%q) error = %v; want it to give the reason", "/a\\b", err)
	}
}

func TestCleanPathCanonicalDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := CleanPath("/api/v1/todos/123/"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("CleanPath of a canonical path allocated %v times; want 0", allocs)
	}
}

func TestStripPrefix(t *testing.T) {
	tests := []struct {
		name   string
		p      string
		prefix string
		want   string
	}{
		{name: "child", p: "/api/x", prefix: "/api", want: "/x"},
		{name: "exact", p: "/api", prefix: "/api", want: "/"},
		{name: "exact with trailing slash", p: "/api/", prefix: "/api", want: "/"},
		{name: "deep child keeps trailing slash", p: "/api/x/y/", prefix: "/api", want: "/x/y/"},
		{name: "multi segment prefix", p: "/api/v1/todos", prefix: "/api/v1", want: "/todos"},
		{name: "prefix with trailing slash", p: "/api/x", prefix: "/api/", want: "/x"},
		{name: "prefix with trailing slash exact", p: "/api/", prefix: "/api/", want: "/"},
		{name: "root prefix", p: "/api/x", prefix: "/", want: "/api/x"},
		{name: "root path root prefix", p: "/", prefix: "/", want: "/"},
		{name: "not on segment boundary", p: "/apix/y", prefix: "/api", want: "/apix/y"},
		{name: "not a prefix", p: "/other", prefix: "/api", want: "/other"},
		{name: "prefix longer than path", p: "/api", prefix: "/api/v1", want: "/api"},
		{name: "empty prefix", p: "/api", prefix: "", want: "/api"},
		{name: "case variant", p: "/API/x", prefix: "/api", want: "/x"},
		{name: "case variant exact", p: "/Api", prefix: "/api", want: "/"},
		{name: "case variant with trailing slash", p: "/API/x", prefix: "/api/", want: "/x"},
		{name: "folded long s", p: "/\u017Fvc/x", prefix: "/svc", want: "/x"},
		{name: "case variant not on segment boundary", p: "/APIx", prefix: "/api", want: "/APIx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripPrefix(tt.p, tt.prefix); got != tt.want {
				t.Errorf("StripPrefix(%q, %q) = %q; want %q", tt.p, tt.prefix, got, tt.want)
			}
		})
	}
}

func BenchmarkCleanPath(b *testing.B) {
	for _, bc := range []struct{ name, p string }{
		{"canonical", "/api/v1/todos/123"},
		{"dirty", "//api/./v1/../v1/todos//123/"},
	} {
		p := bc.p
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CleanPath(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
