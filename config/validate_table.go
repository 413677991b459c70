package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/authgate/authgate/proxy/route"
)

// httpMethods are the methods of the IANA HTTP Method Registry
// (https://www.iana.org/assignments/http-methods), "*" and PRI (reserved,
// never a request's method) left out.
var httpMethods = map[string]bool{
	"ACL": true, "BASELINE-CONTROL": true, "BIND": true, "CHECKIN": true, "CHECKOUT": true,
	"CONNECT": true, "COPY": true, "DELETE": true, "GET": true, "HEAD": true, "LABEL": true,
	"LINK": true, "LOCK": true, "MERGE": true, "MKACTIVITY": true, "MKCALENDAR": true,
	"MKCOL": true, "MKREDIRECTREF": true, "MKWORKSPACE": true, "MOVE": true, "OPTIONS": true,
	"ORDERPATCH": true, "PATCH": true, "POST": true, "PROPFIND": true, "PROPPATCH": true,
	"PUT": true, "QUERY": true, "REBIND": true, "REPORT": true, "SEARCH": true, "TRACE": true,
	"UNBIND": true, "UNCHECKOUT": true, "UNLINK": true, "UNLOCK": true, "UPDATE": true,
	"UPDATEREDIRECTREF": true, "VERSION-CONTROL": true,
}

// checkMethod adds a problem at at when m is not an upper-case method of
// the IANA registry.
func checkMethod(ps *problems, at keyPath, m string) {
	switch {
	case !headerName.MatchString(m) || m != strings.ToUpper(m):
		ps.add(at, "%q is not an upper-case HTTP method", m)
	case !httpMethods[m]:
		best, bestD := "", 3
		for k := range httpMethods {
			if d := editDistance(m, k); d < bestD || d == bestD && k < best {
				best, bestD = k, d
			}
		}
		if best != "" && bestD*3 <= len(m) {
			ps.add(at, "%q is not an HTTP method (did you mean %q?)", m, best)
		} else {
			ps.add(at, "%q is not an HTTP method of the IANA registry", m)
		}
	}
}

// rule returns the route table's view of a route.
func (r *Route) rule() route.Rule {
	return route.Rule{Host: r.Host, Methods: r.Methods, Prefix: r.Path, CaseInsensitive: r.CaseInsensitive}
}

// checkRouteTable reports routes that can never be chosen, as the route
// table matches (the first route in file order that matches wins): a
// route whose host, path and methods an earlier route covers, and methods
// a route lists that an earlier route with the same host and path takes.
// Invalid routes are judged by their own problems only.
func checkRouteTable(ps *problems, routes []Route) {
	for j := range routes {
		later := routes[j].rule()
		for i := range j {
			earlier := routes[i].rule()
			name := routes[i].Name
			if route.Shadows(earlier, later) {
				if earlier.Prefix == later.Prefix && route.SameHost(earlier.Host, later.Host) {
					ps.add(keyPath{"routes", j, "path"}, "same host and path as routes[%d] (%q), which comes first and takes every request: this route is never used", i, name)
				} else {
					ps.add(keyPath{"routes", j, "path"}, "%q is unreachable: routes[%d] (%q, path %q) comes first and takes every request it would match", later.Prefix, i, name, earlier.Prefix)
				}
				break
			}
			if ms := route.SharedMethods(earlier, later); ms != nil {
				ps.add(keyPath{"routes", j, "methods"}, "%s on the same host and path go to routes[%d] (%q), which comes first", strings.Join(ms, ", "), i, name)
				break
			}
		}
	}
}

// checkPort reports what is wrong with the port of a URL's host part, or
// "" when it has none or a valid one.
func checkPort(hostport string) string {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.HasSuffix(hostport[:i], ":") || strings.Contains(hostport[i:], "]") {
		return "" // no port; an IPv6 literal's colons are bracketed
	}
	port := hostport[i+1:]
	if port == "" {
		return ""
	}
	n, err := strconv.Atoi(port)
	switch {
	case err != nil || strings.ContainsAny(port, "+-"):
		return fmt.Sprintf("port %q is not a number", port)
	case n < 1 || n > 65535:
		return fmt.Sprintf("port %s is out of range (1-65535)", port)
	}
	return ""
}

// upstreamHost returns the host[:port] part of a URL as written, or "".
func upstreamHost(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}
