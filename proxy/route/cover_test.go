package route

import (
	"slices"
	"testing"
)

func TestShadows(t *testing.T) {
	tests := []struct {
		name           string
		earlier, later Rule
		want           bool
	}{
		{"same prefix", Rule{Prefix: "/a"}, Rule{Prefix: "/a"}, true},
		{"shorter prefix", Rule{Prefix: "/a"}, Rule{Prefix: "/a/b"}, true},
		{"catch-all", Rule{Prefix: "/"}, Rule{Prefix: "/a"}, true},
		{"longer prefix", Rule{Prefix: "/a/b"}, Rule{Prefix: "/a"}, false},
		{"not on a segment boundary", Rule{Prefix: "/a"}, Rule{Prefix: "/ab"}, false},
		{"trailing slash leaves /a itself", Rule{Prefix: "/a/"}, Rule{Prefix: "/a"}, false},
		{"no trailing slash covers it", Rule{Prefix: "/a"}, Rule{Prefix: "/a/"}, true},
		{"other host", Rule{Host: "a.example.com", Prefix: "/"}, Rule{Host: "b.example.com", Prefix: "/a"}, false},
		{"any host covers one", Rule{Prefix: "/"}, Rule{Host: "b.example.com", Prefix: "/a"}, true},
		{"one host does not cover any", Rule{Host: "b.example.com", Prefix: "/"}, Rule{Prefix: "/a"}, false},
		{"host case and dot", Rule{Host: "B.example.com.", Prefix: "/"}, Rule{Host: "b.example.com", Prefix: "/a"}, true},
		{"wildcard covers subdomain", Rule{Host: "*.example.com", Prefix: "/"}, Rule{Host: "b.example.com", Prefix: "/a"}, true},
		{"wildcard not the apex", Rule{Host: "*.example.com", Prefix: "/"}, Rule{Host: "example.com", Prefix: "/a"}, false},
		{"wildcard covers deeper wildcard", Rule{Host: "*.example.com", Prefix: "/"}, Rule{Host: "*.b.example.com", Prefix: "/a"}, true},
		{"IP literal forms", Rule{Host: "::1", Prefix: "/"}, Rule{Host: "[::1]", Prefix: "/a"}, true},
		{"methods subset", Rule{Prefix: "/a", Methods: []string{"GET", "POST"}}, Rule{Prefix: "/a", Methods: []string{"POST"}}, true},
		{"GET takes HEAD", Rule{Prefix: "/a", Methods: []string{"GET"}}, Rule{Prefix: "/a", Methods: []string{"HEAD"}}, true},
		{"methods not all", Rule{Prefix: "/a", Methods: []string{"GET"}}, Rule{Prefix: "/a", Methods: []string{"GET", "POST"}}, false},
		{"some methods do not cover any", Rule{Prefix: "/a", Methods: []string{"GET"}}, Rule{Prefix: "/a"}, false},
		{"case-insensitive earlier", Rule{Prefix: "/API", CaseInsensitive: true}, Rule{Prefix: "/api/x"}, true},
		{"case-insensitive later", Rule{Prefix: "/API"}, Rule{Prefix: "/api/x", CaseInsensitive: true}, true},
		{"case-sensitive both", Rule{Prefix: "/API"}, Rule{Prefix: "/api/x"}, false},
		{"invalid", Rule{Prefix: "a"}, Rule{Prefix: "/a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Shadows(tt.earlier, tt.later); got != tt.want {
				t.Errorf("Shadows = %v, want %v", got, tt.want)
			}
			if !tt.want {
				return
			}
			// What Shadows claims, Match does: a request the later rule
			// would take goes to the earlier one.
			tab, err := NewTable([]Rule{tt.earlier, tt.later})
			if err != nil {
				t.Fatal(err)
			}
			host := tt.later.Host
			switch {
			case host == "":
				host = "any.example.com"
			case host[0] == '*':
				host = "x" + host[1:]
			}
			method := "DELETE"
			if len(tt.later.Methods) > 0 {
				method = tt.later.Methods[0]
			}
			if got := tab.Match(host, method, tt.later.Prefix); got != 0 {
				t.Errorf("Match(%q, %q, %q) = %d, want 0", host, method, tt.later.Prefix, got)
			}
		})
	}
}

func TestSharedMethods(t *testing.T) {
	tests := []struct {
		name           string
		earlier, later Rule
		want           []string
	}{
		{"overlap", Rule{Prefix: "/a", Methods: []string{"GET", "POST"}}, Rule{Prefix: "/a", Methods: []string{"POST", "PUT"}}, []string{"POST"}},
		{"GET brings HEAD", Rule{Prefix: "/a", Methods: []string{"GET"}}, Rule{Prefix: "/a", Methods: []string{"HEAD", "PUT"}}, []string{"HEAD"}},
		{"any method earlier", Rule{Prefix: "/a"}, Rule{Prefix: "/a", Methods: []string{"PUT"}}, []string{"PUT"}},
		{"catch-all later", Rule{Prefix: "/a", Methods: []string{"GET"}}, Rule{Prefix: "/a"}, nil},
		{"disjoint", Rule{Prefix: "/a", Methods: []string{"GET"}}, Rule{Prefix: "/a", Methods: []string{"POST"}}, nil},
		{"other path", Rule{Prefix: "/a", Methods: []string{"GET"}}, Rule{Prefix: "/b", Methods: []string{"GET"}}, nil},
		{"other host", Rule{Host: "a.example", Prefix: "/a"}, Rule{Prefix: "/a", Methods: []string{"GET"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SharedMethods(tt.earlier, tt.later); !slices.Equal(got, tt.want) {
				t.Errorf("SharedMethods = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSameHost(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"", "", true}, {"App.Example.com.", "app.example.com", true}, {"::1", "[::1]", true},
		{"*.example.com", "example.com", false}, {"a.example.com", "", false}, {"a:1", "a:1", false},
	} {
		if got := SameHost(tt.a, tt.b); got != tt.want {
			t.Errorf("SameHost(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
