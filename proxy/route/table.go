package route

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Rule is one route's match criteria, as written in the config.
type Rule struct {
	// Host is "" for any host, "api.example.com" for exactly that host, or
	// "*.example.com" for any subdomain of example.com at any depth, but
	// not example.com itself. It is compared case-insensitively (ASCII
	// only; write internationalised names in "xn--" form), ignoring the
	// request's port and a trailing dot on either side. An IP literal
	// ("10.0.0.1", "::1" or "[::1]") matches the request host as an
	// address. A Host may not carry a port.
	Host string

	// Methods is nil or empty for any method; otherwise the upper-case
	// method names the rule applies to. Request methods are compared
	// case-insensitively (ASCII), so a lower-case "post" cannot slip past
	// a POST rule to a later, laxer one. A rule listing GET also matches
	// HEAD, as net/http.ServeMux does, since upstreams answer HEAD with
	// their GET handlers.
	Methods []string

	// Prefix is a path prefix matched on segment boundaries: "/todos"
	// matches "/todos", "/todos/" and "/todos/1", but not "/todosx". "/"
	// matches every path. A prefix with a trailing slash, "/todos/",
	// matches "/todos/" and "/todos/1" but not "/todos". Prefix is compared
	// byte for byte with the decoded, canonical path (see CleanPath), so
	// it must itself be canonical and written decoded.
	Prefix string

	// CaseInsensitive says that the rule's upstream resolves paths without
	// regard to case. The rule's Prefix then matches a path whatever the
	// case of its ASCII letters ("/Echo" matches "/ECHO/x"; see fold.go for
	// the four non-ASCII letters that fold to ASCII ones). And since such
	// an upstream would serve "/ECHO/admin" as "/echo/admin", a path this
	// rule would match is first tried, the same way, against the rules
	// before it: an earlier rule whose Prefix matches it but for case is
	// matched instead. A case-sensitive "/echo/admin" rule is so never
	// bypassed through a case-insensitive catch-all listed after it.
	// Default false: prefixes are compared byte for byte.
	CaseInsensitive bool
}

// Table is a compiled, immutable list of rules. It is safe for concurrent
// use by multiple goroutines without locking. A nil *Table matches nothing.
type Table struct {
	rules []rule

	// index maps the first segment of a rule's prefix ("todos" for
	// "/todos/1") to the indices, ascending, of the rules with that first
	// segment merged with the catch-all rules (Prefix "/"). Paths whose
	// first segment no rule names use catchAll alone.
	index    map[string][]int
	catchAll []int

	// fold is set when a rule is CaseInsensitive; index is then keyed by
	// the folded first segment (see fold.go).
	fold bool
}

// rule is a compiled Rule.
type rule struct {
	prefix  string
	host    hostPattern
	methods []string // lower-case; nil means any method
	fold    bool     // Rule.CaseInsensitive
}

// NewTable compiles rules into a Table; index i of a Match result is
// rules[i]. The Table shares no memory with rules.
//
// NewTable returns an error naming the offending rule's index if a Prefix
// is empty, does not start with "/", contains "?", "#" or "%", or is not
// already canonical as CleanPath defines it; if a Host is not a valid host
// name, "*."-wildcard or IP literal; or if a method is not an upper-case
// HTTP token.
func NewTable(rules []Rule) (*Table, error) {
	t := &Table{
		rules: make([]rule, len(rules)),
		index: make(map[string][]int),
	}
	bySegment := make(map[string][]int)
	for _, r := range rules {
		t.fold = t.fold || r.CaseInsensitive
	}
	for i, r := range rules {
		cr, err := compileRule(r)
		if err != nil {
			return nil, fmt.Errorf("route: rule %d: %w", i, err)
		}
		t.rules[i] = cr
		if cr.prefix == "/" {
			t.catchAll = append(t.catchAll, i)
		} else {
			seg := firstSegment(cr.prefix)
			if t.fold {
				seg = foldKey(seg)
			}
			bySegment[seg] = append(bySegment[seg], i)
		}
	}
	for seg, idx := range bySegment {
		merged := append(slices.Clone(idx), t.catchAll...)
		slices.Sort(merged)
		t.index[seg] = slices.Clip(merged)
	}
	return t, nil
}

// compileRule validates r and compiles it.
func compileRule(r Rule) (rule, error) {
	if err := CheckPrefix(r.Prefix); err != nil {
		return rule{}, err
	}
	host, err := compileHost(r.Host)
	if err != nil {
		return rule{}, err
	}
	methods, err := compileMethods(r.Methods)
	if err != nil {
		return rule{}, err
	}
	return rule{prefix: r.Prefix, host: host, methods: methods, fold: r.CaseInsensitive}, nil
}

// CheckPrefix reports why p is not a valid Rule.Prefix, or nil: it must
// start with "/", contain no "?", "#" or "%", and be canonical as CleanPath
// defines it. A trailing slash is allowed and meaningful (see Rule.Prefix).
// It is the check NewTable applies.
func CheckPrefix(p string) error {
	switch {
	case p == "":
		return errors.New(`empty prefix (use "/" to match every path)`)
	case p[0] != '/':
		return fmt.Errorf(`prefix %q must start with "/"`, p)
	case strings.ContainsAny(p, "?#"):
		return fmt.Errorf(`prefix %q contains "?" or "#": prefixes match the path only`, p)
	case strings.Contains(p, "%"):
		return fmt.Errorf(`prefix %q contains "%%": prefixes match the decoded path, so write them decoded`, p)
	}
	c, err := CleanPath(p)
	if err != nil {
		return fmt.Errorf("prefix %q: %w", p, err)
	}
	if c != p {
		return fmt.Errorf("prefix %q is not canonical (write it as %q)", p, c)
	}
	return nil
}

// compileMethods validates a Rule.Methods list and returns it lower-cased and
// deduplicated, with HEAD added if GET is present; nil means any method.
func compileMethods(ms []string) ([]string, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(ms)+1)
	for _, m := range ms {
		if m == "" {
			return nil, errors.New("empty method name")
		}
		for i := 0; i < len(m); i++ {
			if c := m[i]; 'a' <= c && c <= 'z' {
				return nil, fmt.Errorf("method %q must be upper-case", m)
			} else if !isTokenChar(c) {
				return nil, fmt.Errorf("method %q: invalid character %q", m, c)
			}
		}
		if lm := strings.ToLower(m); !slices.Contains(out, lm) {
			out = append(out, lm)
		}
	}
	if slices.Contains(out, "get") && !slices.Contains(out, "head") {
		out = append(out, "head")
	}
	return slices.Clip(out), nil
}

// isTokenChar reports whether c may appear in an HTTP token (RFC 9110, 5.6.2).
func isTokenChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// firstSegment returns the first segment of the rooted path p, without
// slashes: "todos" for "/todos", "/todos/" and "/todos/1"; "" for "/".
func firstSegment(p string) string {
	s := p[1:]
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Match returns the index of the first rule, in the order given to NewTable,
// that matches host, method and path, or -1 if none does. A rule's Prefix
// matches byte for byte, or, for a CaseInsensitive rule, but for case; and
// when the rule found is CaseInsensitive, the first earlier rule whose
// Prefix matches path but for case is returned instead (see
// Rule.CaseInsensitive).
//
// host is the request's Host (http.Request.Host), port and all; method is
// the request method; path must be the result of CleanPath. A path not
// starting with "/" matches nothing. Match only examines the rules whose
// prefix could match path's first segment, and does not allocate for a
// first segment of up to 128 bytes.
func (t *Table) Match(host, method, path string) int {
	if t == nil || path == "" || path[0] != '/' {
		return -1
	}
	cands := t.candidates(firstSegment(path))
	if len(cands) == 0 {
		return -1
	}
	h := hostname(host)
	found := -1
	for _, i := range cands {
		r := &t.rules[i]
		if r.matchMethod(method) && r.host.match(h) && r.matchPrefix(path) {
			found = i
			break
		}
	}
	if found < 0 || !t.rules[found].fold {
		return found
	}
	// The upstream of the rule found resolves path as any case variant of
	// it: an earlier rule naming a variant is what the request means.
	for _, i := range cands {
		if i >= found {
			break
		}
		r := &t.rules[i]
		if _, ok := foldPrefix(path, r.prefix); ok && r.matchMethod(method) && r.host.match(h) {
			return i
		}
	}
	return found
}

// candidates returns the indices, ascending, of the rules whose prefix
// could match a path whose first segment is seg.
func (t *Table) candidates(seg string) []int {
	if t.fold && needsFold(seg) {
		var buf [128]byte
		if len(seg) <= len(buf) {
			if cands, ok := t.index[string(appendFold(buf[:0], seg))]; ok {
				return cands
			}
			return t.catchAll
		}
		seg = foldKey(seg)
	}
	if cands, ok := t.index[seg]; ok {
		return cands
	}
	return t.catchAll
}

// matchPrefix reports whether the rule's prefix matches the canonical path
// p: byte for byte, or but for case if the rule is case-insensitive.
func (r *rule) matchPrefix(p string) bool {
	if prefixMatch(p, r.prefix) {
		return true
	}
	if !r.fold {
		return false
	}
	_, ok := foldPrefix(p, r.prefix)
	return ok
}

// matchMethod reports whether the request method m matches the rule.
func (r *rule) matchMethod(m string) bool {
	if r.methods == nil {
		return true
	}
	for _, rm := range r.methods {
		if equalFoldLower(m, rm) {
			return true
		}
	}
	return false
}
