package route

import (
	"slices"
	"strings"
)

// Shadows reports whether earlier, listed before later in a table, matches
// every request later matches, so that Match never returns later: its
// host covers later's, its methods include later's (any method includes
// all; GET includes HEAD), and its prefix matches every path later's
// matches (but for case when either rule is CaseInsensitive: a path a
// case-insensitive later rule takes is given to an earlier rule matching
// it but for case). Invalid rules shadow nothing.
func Shadows(earlier, later Rule) bool {
	e, l, ok := compilePair(earlier, later)
	if !ok || !e.host.covers(l.host) {
		return false
	}
	if e.methods != nil && (l.methods == nil || !subset(l.methods, e.methods)) {
		return false
	}
	if prefixMatch(l.prefix, e.prefix) {
		return true
	}
	if e.fold || l.fold {
		_, ok := foldPrefix(l.prefix, e.prefix)
		return ok
	}
	return false
}

// SharedMethods returns, upper-case, the methods of later that earlier
// takes when both have the same host and prefix: nil when they differ in
// either, when later names no methods (a catch-all after more specific
// rules is how a table is layered), or when they share none. A rule
// listing GET takes HEAD too.
func SharedMethods(earlier, later Rule) []string {
	e, l, ok := compilePair(earlier, later)
	if !ok || e.host != l.host || e.prefix != l.prefix || l.methods == nil {
		return nil
	}
	var out []string
	for _, m := range l.methods {
		if e.methods == nil || slices.Contains(e.methods, m) {
			out = append(out, strings.ToUpper(m))
		}
	}
	return out
}

func compilePair(a, b Rule) (rule, rule, bool) {
	ca, err := compileRule(a)
	if err != nil {
		return rule{}, rule{}, false
	}
	cb, err := compileRule(b)
	if err != nil {
		return rule{}, rule{}, false
	}
	return ca, cb, true
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// covers reports whether every request host matching o matches hp too.
func (hp hostPattern) covers(o hostPattern) bool {
	switch {
	case hp.kind == hostAny:
		return true
	case hp == o:
		return true
	case hp.kind == hostSuffix && o.kind == hostExact:
		return hp.match(o.name)
	case hp.kind == hostSuffix && o.kind == hostSuffix:
		return strings.HasSuffix(o.name, hp.name)
	}
	return false
}

// SameHost reports whether two valid Rule.Host patterns match the same
// hosts: "App.example.com." is "app.example.com", "::1" is "[::1]".
func SameHost(a, b string) bool {
	ha, err := compileHost(a)
	if err != nil {
		return false
	}
	hb, err := compileHost(b)
	return err == nil && ha == hb
}
