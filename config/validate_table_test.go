package config

import "testing"

// TestParseRouteTable checks, with their exact messages, routes that can
// never be chosen, methods outside the IANA registry and upstream ports.
func TestParseRouteTable(t *testing.T) {
	const up = "upstream: 'http://127.0.0.1:9000', auth: none"
	routes := func(rs ...string) string {
		src := "routes:\n"
		for _, r := range rs {
			src += "  - {" + r + "}\n"
		}
		return src
	}
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"duplicate", routes("name: a, path: /a, "+up, "name: b, path: /a, "+up),
			[]string{`line 3: routes[1].path: same host and path as routes[0] ("a"), which comes first and takes every request: this route is never used`}},
		{"duplicate with methods taken", routes("name: a, path: /a, methods: [GET, POST], "+up, "name: b, path: /a, methods: [HEAD], "+up),
			[]string{`line 3: routes[1].path: same host and path as routes[0] ("a"), which comes first and takes every request: this route is never used`}},
		{"duplicate on a host", routes("name: a, host: App.example.com, path: /a, "+up, "name: b, host: app.example.com, path: /a, "+up),
			[]string{`line 3: routes[1].path: same host and path as routes[0] ("a"), which comes first and takes every request: this route is never used`}},
		{"overlapping methods", routes("name: a, path: /a, methods: [GET, POST], "+up, "name: b, path: /a, methods: [POST, PUT], "+up),
			[]string{`line 3: routes[1].methods: POST on the same host and path go to routes[0] ("a"), which comes first`}},
		{"shadowed by a prefix", routes("name: api, path: /api, "+up, "name: admin, path: /api/admin, "+up),
			[]string{`line 3: routes[1].path: "/api/admin" is unreachable: routes[0] ("api", path "/api") comes first and takes every request it would match`}},
		{"shadowed by a catch-all", routes("name: all, path: /, "+up, "name: b, path: /b, "+up, "name: c, path: /c, "+up),
			[]string{
				`line 3: routes[1].path: "/b" is unreachable: routes[0] ("all", path "/") comes first and takes every request it would match`,
				`line 4: routes[2].path: "/c" is unreachable: routes[0] ("all", path "/") comes first and takes every request it would match`,
			}},
		{"shadowed by a case-insensitive prefix", routes("name: api, path: /API, case_insensitive: true, "+up, "name: b, path: /api/b, "+up),
			[]string{`line 3: routes[1].path: "/api/b" is unreachable: routes[0] ("api", path "/API") comes first and takes every request it would match`}},
		{"shadowed by a wildcard host", routes("name: any, host: '*.example.com', path: /, "+up, "name: b, host: b.example.com, path: /b, "+up),
			[]string{`line 3: routes[1].path: "/b" is unreachable: routes[0] ("any", path "/") comes first and takes every request it would match`}},
		{"unknown method", routes("name: a, path: /a, methods: [GET, FETCH, PSOT], " + up),
			[]string{
				`line 2: routes[0].methods[1]: "FETCH" is not an HTTP method of the IANA registry`,
				`line 2: routes[0].methods[2]: "PSOT" is not an HTTP method (did you mean "POST"?)`,
			}},
		{"lower-case method", routes("name: a, path: /a, methods: [get], " + up),
			[]string{`line 2: routes[0].methods[0]: "get" is not an upper-case HTTP method`}},
		{"port out of range", routes("name: a, path: /a, upstream: 'http://127.0.0.1:90000', auth: none"),
			[]string{`line 2: routes[0].upstream: port 90000 is out of range (1-65535)`}},
		{"port zero", routes("name: a, path: /a, upstream: 'http://backend:0/x', auth: none"),
			[]string{`line 2: routes[0].upstream: port 0 is out of range (1-65535)`}},
		{"port not a number", routes("name: a, path: /a, upstream: 'http://backend:http', auth: none"),
			[]string{`line 2: routes[0].upstream: port "http" is not a number`}},
		{"listen port out of range", "listen: 127.0.0.1:65536\n" + routes("name: a, path: /a, "+up),
			[]string{`line 1: listen: "127.0.0.1:65536": port 65536 is out of range (0-65535)`}},
		{"admin_listen port not a number", "admin_listen: ':metrics'\n" + routes("name: a, path: /a, "+up),
			[]string{`line 1: admin_listen: ":metrics": port "metrics" is not a number`}},
		{"IPv6 port out of range", routes("name: a, path: /a, upstream: 'http://[::1]:65536', auth: none"),
			[]string{`line 2: routes[0].upstream: port 65536 is out of range (1-65535)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkExact(t, problemStrings(t, tt.src), tt.want)
		})
	}
}

// TestParseRouteTableValid lists tables that layer routes on purpose.
func TestParseRouteTableValid(t *testing.T) {
	for _, src := range []string{
		// Public reads, then everything else authenticated.
		"routes:\n  - {name: read, path: /a, methods: [GET], upstream: 'http://h', auth: none}\n  - {name: rest, path: /a, upstream: 'http://h', auth: none}\n",
		// The more specific route first.
		"routes:\n  - {name: admin, path: /api/admin, upstream: 'http://h', auth: none}\n  - {name: api, path: /api, upstream: 'http://h', auth: none}\n",
		// The same path on other hosts; a trailing slash leaves the path itself.
		"routes:\n  - {name: a, host: a.example.com, path: /, upstream: 'http://h', auth: none}\n  - {name: b, host: b.example.com, path: /, upstream: 'http://h', auth: none}\n" +
			"  - {name: c, path: /c/, upstream: 'http://h', auth: none}\n  - {name: d, path: /c, upstream: 'http://h:8080', auth: none}\n",
		// Registered methods beyond the common ones; IPv6 upstream without a port.
		"routes:\n  - {name: dav, path: /dav, methods: [PROPFIND, MKCOL, QUERY], upstream: 'http://[::1]', auth: none}\n",
	} {
		if _, err := Parse("test.yaml", []byte(src), noEnv); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
}
