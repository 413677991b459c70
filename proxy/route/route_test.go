package route

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func mustTable(tb testing.TB, rules []Rule) *Table {
	tb.Helper()
	t, err := NewTable(rules)
	if err != nil {
		tb.Fatalf("NewTable: %v", err)
	}
	return t
}

func TestMatch(t *testing.T) {
	type req struct{ host, method, path string }
	tests := []struct {
		name  string
		rules []Rule
		req   req
		want  int
	}{
		// Segment boundaries.
		{name: "prefix exact", rules: []Rule{{Prefix: "/todos"}}, req: req{"h", "GET", "/todos"}, want: 0},
		{name: "prefix trailing slash", rules: []Rule{{Prefix: "/todos"}}, req: req{"h", "GET", "/todos/"}, want: 0},
		{name: "prefix child", rules: []Rule{{Prefix: "/todos"}}, req: req{"h", "GET", "/todos/1"}, want: 0},
		{name: "prefix not segment boundary", rules: []Rule{{Prefix: "/todos"}}, req: req{"h", "GET", "/todosx"}, want: -1},
		{name: "prefix longer than path", rules: []Rule{{Prefix: "/todos/1"}}, req: req{"h", "GET", "/todos"}, want: -1},
		{name: "multi segment prefix", rules: []Rule{{Prefix: "/api/v1"}}, req: req{"h", "GET", "/api/v1/x"}, want: 0},
		{name: "multi segment prefix mismatch", rules: []Rule{{Prefix: "/api/v1"}}, req: req{"h", "GET", "/api/v10"}, want: -1},
		{name: "slash prefix needs slash", rules: []Rule{{Prefix: "/todos/"}}, req: req{"h", "GET", "/todos"}, want: -1},
		{name: "slash prefix child", rules: []Rule{{Prefix: "/todos/"}}, req: req{"h", "GET", "/todos/1"}, want: 0},
		{name: "root matches root", rules: []Rule{{Prefix: "/"}}, req: req{"h", "GET", "/"}, want: 0},
		{name: "root matches all", rules: []Rule{{Prefix: "/"}}, req: req{"h", "GET", "/any/thing"}, want: 0},
		{name: "unrooted path", rules: []Rule{{Prefix: "/"}}, req: req{"h", "GET", "todos"}, want: -1},
		{name: "empty path", rules: []Rule{{Prefix: "/"}}, req: req{"h", "GET", ""}, want: -1},

		// First match wins, in file order.
		{name: "first of two", rules: []Rule{{Prefix: "/todos"}, {Prefix: "/todos/1"}}, req: req{"h", "GET", "/todos/1"}, want: 0},
		{name: "specific first", rules: []Rule{{Prefix: "/todos/1"}, {Prefix: "/todos"}}, req: req{"h", "GET", "/todos/1"}, want: 0},
		{name: "specific first falls through", rules: []Rule{{Prefix: "/todos/1"}, {Prefix: "/todos"}}, req: req{"h", "GET", "/todos/2"}, want: 1},
		{name: "catch-all before specific", rules: []Rule{{Prefix: "/"}, {Prefix: "/todos"}}, req: req{"h", "GET", "/todos"}, want: 0},
		{name: "catch-all after specific", rules: []Rule{{Prefix: "/todos"}, {Prefix: "/"}}, req: req{"h", "GET", "/todos"}, want: 0},
		{name: "catch-all after specific other path", rules: []Rule{{Prefix: "/todos"}, {Prefix: "/"}}, req: req{"h", "GET", "/users"}, want: 1},
		{name: "catch-all between", rules: []Rule{{Prefix: "/todos", Methods: []string{"POST"}}, {Prefix: "/"}, {Prefix: "/todos"}}, req: req{"h", "GET", "/todos"}, want: 1},
		{name: "catch-all with host skipped", rules: []Rule{{Prefix: "/", Host: "a.example"}, {Prefix: "/todos"}}, req: req{"b.example", "GET", "/todos"}, want: 1},

		// Methods.
		{name: "method allowed", rules: []Rule{{Prefix: "/", Methods: []string{"GET", "POST"}}}, req: req{"h", "POST", "/"}, want: 0},
		{name: "method not allowed", rules: []Rule{{Prefix: "/", Methods: []string{"GET", "POST"}}}, req: req{"h", "DELETE", "/"}, want: -1},
		{name: "method falls through", rules: []Rule{{Prefix: "/", Methods: []string{"POST"}}, {Prefix: "/"}}, req: req{"h", "GET", "/"}, want: 1},
		{name: "method lower-case request", rules: []Rule{{Prefix: "/", Methods: []string{"POST"}}, {Prefix: "/"}}, req: req{"h", "post", "/"}, want: 0},
		{name: "get implies head", rules: []Rule{{Prefix: "/", Methods: []string{"GET"}}}, req: req{"h", "HEAD", "/"}, want: 0},
		{name: "head does not imply get", rules: []Rule{{Prefix: "/", Methods: []string{"HEAD"}}}, req: req{"h", "GET", "/"}, want: -1},
		{name: "extension method", rules: []Rule{{Prefix: "/", Methods: []string{"PROPFIND"}}}, req: req{"h", "PROPFIND", "/"}, want: 0},
		{name: "method no unicode folding", rules: []Rule{{Prefix: "/", Methods: []string{"LOCK"}}}, req: req{"h", "LOC\u212a", "/"}, want: -1},
		{name: "empty method list is any", rules: []Rule{{Prefix: "/", Methods: []string{}}}, req: req{"h", "WHATEVER", "/"}, want: 0},

		// Exact hosts.
		{name: "host exact", rules: []Rule{{Prefix: "/", Host: "api.example.com"}}, req: req{"api.example.com", "GET", "/"}, want: 0},
		{name: "host with port", rules: []Rule{{Prefix: "/", Host: "api.example.com"}}, req: req{"api.example.com:8443", "GET", "/"}, want: 0},
		{name: "host upper-case request", rules: []Rule{{Prefix: "/", Host: "api.example.com"}}, req: req{"API.Example.COM:80", "GET", "/"}, want: 0},
		{name: "host upper-case rule", rules: []Rule{{Prefix: "/", Host: "API.example.com"}}, req: req{"api.example.com", "GET", "/"}, want: 0},
		{name: "host trailing dot request", rules: []Rule{{Prefix: "/", Host: "api.example.com"}}, req: req{"api.example.com.:80", "GET", "/"}, want: 0},
		{name: "host other", rules: []Rule{{Prefix: "/", Host: "api.example.com"}}, req: req{"www.example.com", "GET", "/"}, want: -1},
		{name: "host suffix is not exact", rules: []Rule{{Prefix: "/", Host: "example.com"}}, req: req{"evilexample.com", "GET", "/"}, want: -1},
		{name: "host empty request", rules: []Rule{{Prefix: "/", Host: "api.example.com"}}, req: req{"", "GET", "/"}, want: -1},
		{name: "any host empty request", rules: []Rule{{Prefix: "/"}}, req: req{"", "GET", "/"}, want: 0},
		{name: "ipv6 with port", rules: []Rule{{Prefix: "/", Host: "::1"}}, req: req{"[::1]:8000", "GET", "/"}, want: 0},
		{name: "ipv6 bracketed rule", rules: []Rule{{Prefix: "/", Host: "[::1]"}}, req: req{"[::1]", "GET", "/"}, want: 0},
		{name: "ipv6 other spelling", rules: []Rule{{Prefix: "/", Host: "2001:db8::1"}}, req: req{"[2001:DB8:0::1]:443", "GET", "/"}, want: 0},
		{name: "ipv6 other address", rules: []Rule{{Prefix: "/", Host: "::1"}}, req: req{"[::2]:8000", "GET", "/"}, want: -1},
		{name: "ipv6 malformed brackets", rules: []Rule{{Prefix: "/", Host: "::1"}}, req: req{"[::1]x", "GET", "/"}, want: -1},
		{name: "ipv4 with port", rules: []Rule{{Prefix: "/", Host: "127.0.0.1"}}, req: req{"127.0.0.1:8080", "GET", "/"}, want: 0},

		// Wildcard hosts.
		{name: "wildcard one label", rules: []Rule{{Prefix: "/", Host: "*.example.com"}}, req: req{"a.example.com", "GET", "/"}, want: 0},
		{name: "wildcard two labels", rules: []Rule{{Prefix: "/", Host: "*.example.com"}}, req: req{"a.b.example.com:8080", "GET", "/"}, want: 0},
		{name: "wildcard upper-case", rules: []Rule{{Prefix: "/", Host: "*.Example.com"}}, req: req{"A.EXAMPLE.COM", "GET", "/"}, want: 0},
		{name: "wildcard not apex", rules: []Rule{{Prefix: "/", Host: "*.example.com"}}, req: req{"example.com", "GET", "/"}, want: -1},
		{name: "wildcard not apex with port", rules: []Rule{{Prefix: "/", Host: "*.example.com"}}, req: req{"example.com:443", "GET", "/"}, want: -1},
		{name: "wildcard label boundary", rules: []Rule{{Prefix: "/", Host: "*.example.com"}}, req: req{"aexample.com", "GET", "/"}, want: -1},
		{name: "wildcard empty label", rules: []Rule{{Prefix: "/", Host: "*.example.com"}}, req: req{".example.com", "GET", "/"}, want: -1},

		// No match and empty tables.
		{name: "no rule for path", rules: []Rule{{Prefix: "/todos"}, {Prefix: "/users"}}, req: req{"h", "GET", "/other"}, want: -1},
		{name: "empty table", rules: nil, req: req{"h", "GET", "/"}, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustTable(t, tt.rules)
			if got := tab.Match(tt.req.host, tt.req.method, tt.req.path); got != tt.want {
				t.Errorf("Match(%q, %q, %q) = %d; want %d", tt.req.host, tt.req.method, tt.req.path, got, tt.want)
			}
		})
	}
}

func TestMatchNilTable(t *testing.T) {
	var tab *Table
	if got := tab.Match("h", "GET", "/"); got != -1 {
		t.Errorf("nil Table Match = %d; want -1", got)
	}
}

func TestNewTableErrors(t *testing.T) {
	ok := Rule{Prefix: "/"}
	tests := []struct {
		name string
		bad  Rule
		want string // substring of the error besides "rule 1"
	}{
		{name: "empty prefix", bad: Rule{Prefix: ""}, want: "empty prefix"},
		{name: "unrooted prefix", bad: Rule{Prefix: "todos"}, want: "start with"},
		{name: "query in prefix", bad: Rule{Prefix: "/todos?x=1"}, want: `"?"`},
		{name: "fragment in prefix", bad: Rule{Prefix: "/todos#x"}, want: `"#"`},
		{name: "encoded prefix", bad: Rule{Prefix: "/a%2Fb"}, want: "decoded"},
		{name: "double slash prefix", bad: Rule{Prefix: "//todos"}, want: "not canonical"},
		{name: "dot dot prefix", bad: Rule{Prefix: "/a/../todos"}, want: "not canonical"},
		{name: "dot prefix", bad: Rule{Prefix: "/todos/."}, want: "not canonical"},
		{name: "backslash prefix", bad: Rule{Prefix: "/a\\b"}, want: "backslash"},
		{name: "control char prefix", bad: Rule{Prefix: "/a\x00"}, want: "control"},
		{name: "host with port", bad: Rule{Prefix: "/", Host: "example.com:80"}, want: "port"},
		{name: "host inner wildcard", bad: Rule{Prefix: "/", Host: "a.*.example.com"}, want: "wildcard"},
		{name: "host bare wildcard", bad: Rule{Prefix: "/", Host: "*"}, want: "wildcard"},
		{name: "host wildcard no domain", bad: Rule{Prefix: "/", Host: "*."}, want: "wildcard"},
		{name: "host wildcard empty label", bad: Rule{Prefix: "/", Host: "*..com"}, want: "empty label"},
		{name: "host empty label", bad: Rule{Prefix: "/", Host: "a..example.com"}, want: "empty label"},
		{name: "host space", bad: Rule{Prefix: "/", Host: "a b"}, want: "invalid character"},
		{name: "host unicode", bad: Rule{Prefix: "/", Host: "café.example"}, want: "xn--"},
		{name: "host long label", bad: Rule{Prefix: "/", Host: strings.Repeat("a", 64) + ".com"}, want: "63"},
		{name: "host ipv6 zone", bad: Rule{Prefix: "/", Host: "fe80::1%eth0"}, want: "zone"},
		{name: "host url", bad: Rule{Prefix: "/", Host: "https://example.com"}, want: "port"},
		{name: "method lower-case", bad: Rule{Prefix: "/", Methods: []string{"get"}}, want: "upper-case"},
		{name: "method empty", bad: Rule{Prefix: "/", Methods: []string{""}}, want: "empty method"},
		{name: "method space", bad: Rule{Prefix: "/", Methods: []string{"GET POST"}}, want: "invalid character"},
		{name: "method separator", bad: Rule{Prefix: "/", Methods: []string{"GET,POST"}}, want: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := NewTable([]Rule{ok, tt.bad, ok})
			if err == nil {
				t.Fatalf("NewTable(%+v) succeeded; want error", tt.bad)
			}
			if tab != nil {
				t.Errorf("NewTable returned a table with its error")
			}
			if msg := err.Error(); !strings.Contains(msg, "rule 1:") || !strings.Contains(msg, tt.want) {
				t.Errorf("NewTable error = %q; want it to name rule 1 and contain %q", msg, tt.want)
			}
		})
	}
}

func TestMatchCaseInsensitive(t *testing.T) {
	type req struct{ method, path string }
	admin := Rule{Prefix: "/echo/admin"}
	adminCI := Rule{Prefix: "/echo/admin", CaseInsensitive: true}
	public := Rule{Prefix: "/"}
	publicCI := Rule{Prefix: "/", CaseInsensitive: true}
	tests := []struct {
		name  string
		rules []Rule
		req   req
		want  int
	}{
		{name: "case-sensitive by default", rules: []Rule{{Prefix: "/echo"}}, req: req{"GET", "/ECHO"}, want: -1},
		{name: "case-insensitive prefix", rules: []Rule{{Prefix: "/echo", CaseInsensitive: true}}, req: req{"GET", "/ECHO/x"}, want: 0},
		{name: "case-insensitive upper-case prefix", rules: []Rule{{Prefix: "/Echo/X", CaseInsensitive: true}}, req: req{"GET", "/eCHO/x/y"}, want: 0},
		{name: "case-insensitive segment boundary", rules: []Rule{{Prefix: "/echo", CaseInsensitive: true}}, req: req{"GET", "/ECHOx"}, want: -1},
		{name: "case-insensitive exact", rules: []Rule{{Prefix: "/echo", CaseInsensitive: true}}, req: req{"GET", "/echo"}, want: 0},
		{name: "long s folds to s", rules: []Rule{{Prefix: "/secret", CaseInsensitive: true}}, req: req{"GET", "/\u017Fecret"}, want: 0},
		{name: "kelvin sign folds to k", rules: []Rule{{Prefix: "/key", CaseInsensitive: true}}, req: req{"GET", "/\u212Aey"}, want: 0},
		{name: "dotless i folds to i", rules: []Rule{{Prefix: "/admin", CaseInsensitive: true}}, req: req{"GET", "/adm\u0131n"}, want: 0},
		{name: "dotted capital I folds to i", rules: []Rule{{Prefix: "/admin", CaseInsensitive: true}}, req: req{"GET", "/ADM\u0130N"}, want: 0},
		{name: "other letters do not fold", rules: []Rule{{Prefix: "/cafe", CaseInsensitive: true}}, req: req{"GET", "/caf\u00e9"}, want: -1},
		{name: "non-ascii prefix exact", rules: []Rule{{Prefix: "/café", CaseInsensitive: true}}, req: req{"GET", "/CAFé/x"}, want: 0},

		// A protected route marked case-insensitive wins its case variants
		// from a catch-all after it.
		{name: "protected case-insensitive, variant", rules: []Rule{adminCI, public}, req: req{"GET", "/ECHO/admin"}, want: 0},
		{name: "protected case-insensitive, exact", rules: []Rule{adminCI, public}, req: req{"GET", "/echo/admin/x"}, want: 0},
		{name: "protected case-insensitive, other path", rules: []Rule{adminCI, public}, req: req{"GET", "/ECHO/other"}, want: 1},
		// A case-insensitive catch-all cannot serve a case variant of an
		// earlier case-sensitive route.
		{name: "catch-all case-insensitive, variant", rules: []Rule{admin, publicCI}, req: req{"GET", "/Echo/ADMIN"}, want: 0},
		{name: "catch-all case-insensitive, long s", rules: []Rule{{Prefix: "/secret"}, publicCI}, req: req{"GET", "/\u017Fecret"}, want: 0},
		{name: "catch-all case-insensitive, other path", rules: []Rule{admin, publicCI}, req: req{"GET", "/ECHO/other"}, want: 1},
		{name: "catch-all case-sensitive, variant", rules: []Rule{admin, public}, req: req{"GET", "/ECHO/admin"}, want: 1},
		{name: "earlier variant needs its method", rules: []Rule{{Prefix: "/echo/admin", Methods: []string{"POST"}}, publicCI}, req: req{"GET", "/ECHO/admin"}, want: 1},
		{name: "earlier variant with its method", rules: []Rule{{Prefix: "/echo/admin", Methods: []string{"POST"}}, publicCI}, req: req{"POST", "/ECHO/admin"}, want: 0},
		{name: "later rules keep file order", rules: []Rule{publicCI, admin}, req: req{"GET", "/ECHO/admin"}, want: 0},
		{name: "case-insensitive prefix route", rules: []Rule{admin, {Prefix: "/echo", CaseInsensitive: true}}, req: req{"GET", "/ECHO/Admin/x"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustTable(t, tt.rules)
			if got := tab.Match("h", tt.req.method, tt.req.path); got != tt.want {
				t.Errorf("Match(%q) = %d; want %d", tt.req.path, got, tt.want)
			}
		})
	}
}

func TestMatchCaseInsensitiveDoesNotAllocate(t *testing.T) {
	rules := append(benchRules(), Rule{Prefix: "/Files", CaseInsensitive: true})
	tab := mustTable(t, rules)
	for _, p := range []string{"/FILES/a", "/svc3/x", "/SVC3/x", "/unknown"} {
		allocs := testing.AllocsPerRun(100, func() {
			if tab.Match("example.org", "GET", p) < 0 {
				t.Fatalf("Match(%q) = -1", p)
			}
		})
		if allocs != 0 {
			t.Errorf("Match(%q) allocated %v times; want 0", p, allocs)
		}
	}
}

func TestNewTableValid(t *testing.T) {
	rules := []Rule{
		{Prefix: "/"},
		{Prefix: "/todos/"},
		{Prefix: "/café/ü"},
		{Prefix: "/a b/v1.0/.x"},
		{Prefix: "/x", Host: "EXAMPLE.com."},
		{Prefix: "/x", Host: "*.internal"},
		{Prefix: "/x", Host: "_svc.local"},
		{Prefix: "/x", Host: "[2001:db8::1]"},
		{Prefix: "/x", Host: "10.0.0.1"},
		{Prefix: "/x", Methods: []string{"GET", "GET", "M-SEARCH", "PROPFIND"}},
	}
	if _, err := NewTable(rules); err != nil {
		t.Fatalf("NewTable: %v", err)
	}
}

func TestNewTableCopiesRules(t *testing.T) {
	rules := []Rule{{Prefix: "/a", Methods: []string{"GET"}}}
	tab := mustTable(t, rules)
	rules[0].Prefix = "/b"
	rules[0].Methods[0] = "POST"
	if got := tab.Match("h", "GET", "/a"); got != 0 {
		t.Errorf("after mutating rules, Match = %d; want 0", got)
	}
}

// benchRules returns about 50 rules shaped like a real config: host-specific
// API routes, method-restricted routes and catch-alls.
func benchRules() []Rule {
	var rules []Rule
	for i := range 12 {
		seg := fmt.Sprintf("/svc%d", i)
		rules = append(rules,
			Rule{Host: "api.example.com", Prefix: seg + "/admin", Methods: []string{"POST", "DELETE"}},
			Rule{Host: "*.example.com", Prefix: seg + "/v1"},
			Rule{Prefix: seg, Methods: []string{"GET"}},
			Rule{Prefix: seg},
		)
	}
	return append(rules, Rule{Host: "static.example.com", Prefix: "/"}, Rule{Prefix: "/"})
}

func TestMatchDoesNotAllocate(t *testing.T) {
	tab := mustTable(t, benchRules())
	reqs := [][3]string{
		{"API.example.com:8443", "DELETE", "/svc7/admin/users/42"},
		{"a.b.example.com", "GET", "/svc3/v1/items"},
		{"[::1]:8000", "head", "/svc11"},
		{"example.org", "GET", "/unknown/path"},
		{"example.org", "GET", "/"},
	}
	for _, r := range reqs {
		allocs := testing.AllocsPerRun(100, func() {
			if tab.Match(r[0], r[1], r[2]) < 0 {
				t.Fatalf("Match(%q) = -1", r)
			}
		})
		if allocs != 0 {
			t.Errorf("Match(%q) allocated %v times; want 0", r, allocs)
		}
	}
}

func TestMatchConcurrent(t *testing.T) {
	tab := mustTable(t, benchRules())
	want := tab.Match("api.example.com", "POST", "/svc5/admin")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if got := tab.Match("api.example.com", "POST", "/svc5/admin"); got != want {
					t.Errorf("concurrent Match = %d; want %d", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkMatch(b *testing.B) {
	tab := mustTable(b, benchRules())
	reqs := [][3]string{
		{"api.example.com:8443", "DELETE", "/svc7/admin/users/42"},
		{"a.b.example.com", "GET", "/svc3/v1/items"},
		{"www.example.com", "PUT", "/svc11/things/9"},
		{"example.org", "GET", "/unknown/path"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := reqs[i%len(reqs)]
		if tab.Match(r[0], r[1], r[2]) < 0 {
			b.Fatal("no match")
		}
	}
}

// BenchmarkMatch100 matches against a table of 100 routes, the last ones
// the catch-alls, with requests that hit early, late and no specific route.
func BenchmarkMatch100(b *testing.B) {
	var rules []Rule
	for i := range 49 {
		seg := fmt.Sprintf("/svc%d", i)
		rules = append(rules,
			Rule{Host: "api.example.com", Prefix: seg + "/admin", Methods: []string{"POST", "DELETE"}},
			Rule{Prefix: seg},
		)
	}
	rules = append(rules, Rule{Host: "static.example.com", Prefix: "/"}, Rule{Prefix: "/"})
	tab := mustTable(b, rules)
	reqs := [][3]string{
		{"api.example.com:8443", "DELETE", "/svc0/admin/users/42"},
		{"api.example.com", "GET", "/svc48/items/7"},
		{"www.example.com", "PUT", "/svc25/things/9"},
		{"example.org", "GET", "/unknown/path"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := reqs[i%len(reqs)]
		if tab.Match(r[0], r[1], r[2]) < 0 {
			b.Fatal("no match")
		}
	}
}
