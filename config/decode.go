package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// checker walks a parsed file against the Config structs before it is
// decoded, node by node, so that every problem is reported with the line and
// key path of the node it is about (in a one-line {a: 1, b: 2} mapping too),
// in words about the value the key expects. It repairs the tree as it goes:
// an unknown or repeated key is removed, a value of the wrong type becomes
// null (absent: the key's default applies), so the rest of the file still
// decodes and is validated.
type checker struct {
	ps problems
	// bad holds the paths whose values were of the wrong type: validation
	// problems at or below them follow from that and are not reported.
	bad []keyPath
	// done remembers anchored nodes already checked as a type, with the
	// problem found ("" for none), so a node reached through many aliases
	// is checked once.
	done map[doneKey]string
}

type doneKey struct {
	n *yaml.Node
	t reflect.Type
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	stringsType  = reflect.TypeFor[Strings]()

	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// problem records a problem about node n at path at.
func (c *checker) problem(n *yaml.Node, at keyPath, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n.Kind == yaml.ScalarNode && envRef.MatchString(n.Value) {
		// The value was meant to come from the environment.
		msg += " (${VAR} is expanded in string values only)"
	}
	c.ps = append(c.ps, Problem{Line: n.Line, Path: at.String(), Message: msg, keys: at})
}

// check reports whether n can be decoded into a value of type t, adding a
// problem when it cannot, and repairs what lies below n.
func (c *checker) check(n *yaml.Node, t reflect.Type, at keyPath) bool {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return true // the parser refuses unknown anchors
		}
		// An anchored value is checked once per type, however many
		// aliases name it; each alias of a bad one is reported too.
		k := doneKey{n.Alias, t}
		if msg, seen := c.done[k]; seen {
			if msg != "" {
				c.problem(n, at, "%s", msg)
			}
			return msg == ""
		}
		if c.done == nil {
			c.done = make(map[doneKey]string)
		}
		c.done[k] = "" // an alias cycle stops here
		before := len(c.ps)
		if c.check(n.Alias, t, at) {
			return true
		}
		c.done[k] = "is an alias of a bad value"
		if len(c.ps) > before {
			c.done[k] = c.ps[before].Message
		}
		return false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != stringsType && reflect.PointerTo(t).Implements(unmarshalerType) {
		return true // a type that decodes itself is judged by the decoder
	}
	switch {
	case t == stringsType:
		switch n.Kind {
		case yaml.ScalarNode:
			return true
		case yaml.SequenceNode:
			return c.items(n, t.Elem(), at)
		}
		c.problem(n, at, "expected a string or a list such as [a, b], got %s", describe(n))
		return false
	case t == durationType:
		if n.Kind == yaml.ScalarNode && trialDecode(n, t) {
			return true
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
			c.problem(n, at, "expected a duration such as 15m, got %s (add a unit: %ss)", n.Value, n.Value)
		} else {
			c.problem(n, at, "expected a duration such as 15m, got %s", describe(n))
		}
		return false
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			fs := fieldsOf(t)
			c.problem(n, at, "expected a mapping of keys such as %s: and %s:, got %s", fs.names[0], fs.names[1], describe(n))
			return false
		}
		c.mapping(n, at, fieldsOf(t).types, nil, map[string]int{})
		return true
	case reflect.Slice:
		switch n.Kind {
		case yaml.SequenceNode:
			return c.items(n, t.Elem(), at)
		case yaml.ScalarNode:
			c.problem(n, at, "expected a list such as [%s]", n.Value)
		default:
			c.problem(n, at, "expected a list such as [a, b], got %s", describe(n))
		}
		return false
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.problem(n, at, "expected a mapping such as {name: value}, got %s", describe(n))
			return false
		}
		c.mapping(n, at, nil, t.Elem(), map[string]int{})
		return true
	}
	if n.Kind == yaml.ScalarNode && trialDecode(n, t) {
		return true
	}
	switch t.Kind() {
	case reflect.Bool:
		c.problem(n, at, "expected true or false, got %s", describe(n))
	case reflect.Int, reflect.Int64:
		c.problem(n, at, "expected a whole number, got %s", describe(n))
	default:
		c.problem(n, at, "expected a string, got %s", describe(n))
	}
	return false
}

// items checks the items of the sequence n against elem; an item of the
// wrong type becomes elem's zero value (not null: the decoder drops null
// items), so the others keep their indexes.
func (c *checker) items(n *yaml.Node, elem reflect.Type, at keyPath) bool {
	for i, item := range n.Content {
		if !c.check(item, elem, at.with(i)) {
			c.bad = append(c.bad, at.with(i))
			n.Content[i] = zeroNode(item, elem)
		}
	}
	return true
}

// mapping checks the keys and values of the mapping n: against the fields
// of a struct when fields is set, or as a map with values of type elem.
// seen holds the keys already given, with their lines, across merged
// mappings ("<<").
func (c *checker) mapping(n *yaml.Node, at keyPath, fields map[string]reflect.Type, elem reflect.Type, seen map[string]int) {
	out := n.Content[:0]
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			out = append(out, k, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.problem(k, at, "a key must be a name, not %s", describe(k))
			continue
		}
		name := k.Value
		if line, dup := seen[name]; dup {
			c.problem(k, at.with(name), "key %q is already set at line %d", name, line)
			continue
		}
		seen[name] = k.Line
		t := elem
		if fields != nil {
			var known bool
			if t, known = fields[name]; !known {
				if near := nearest(name, fields); near != "" {
					c.problem(k, at.with(name), "unknown key %q (did you mean %q?)", name, near)
				} else {
					c.problem(k, at.with(name), "unknown key %q", name)
				}
				continue
			}
		}
		before := len(c.ps)
		if !c.check(v, t, at.with(name)) {
			c.bad = append(c.bad, at.with(name))
			if len(c.ps) > before {
				// On the key's line, as lineOf reports other problems.
				c.ps[before].Line = k.Line
			}
			v = nullNode(v)
		}
		out = append(out, k, v)
	}
	n.Content = out
	// Keys merged in are checked where they are written; the mapping's own
	// keys override them, as they do when decoding.
	for _, m := range merges {
		m = unalias(m)
		if m == nil {
			continue
		}
		switch m.Kind {
		case yaml.MappingNode:
			c.mergeFrom(m, at, fields, elem)
		case yaml.SequenceNode:
			for _, item := range m.Content {
				if item = unalias(item); item != nil && item.Kind == yaml.MappingNode {
					c.mergeFrom(item, at, fields, elem)
				}
			}
		}
	}
}

// mergeFrom checks a mapping merged into another (with "<<") once.
func (c *checker) mergeFrom(m *yaml.Node, at keyPath, fields map[string]reflect.Type, elem reflect.Type) {
	k := doneKey{m, elem}
	if fields != nil {
		k.t = reflect.TypeOf(fields)
	}
	if _, seen := c.done[k]; seen {
		return
	}
	if c.done == nil {
		c.done = make(map[doneKey]string)
	}
	c.done[k] = ""
	// A merged key may repeat one of the mapping's own: that is what
	// merging is for.
	c.mapping(m, at, fields, elem, map[string]int{})
}

// trialDecode reports whether yaml.v3 decodes the scalar n into a t.
func trialDecode(n *yaml.Node, t reflect.Type) bool {
	return n.Decode(reflect.New(t).Interface()) == nil
}

// nullNode returns a null scalar at n's position.
func nullNode(n *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: n.Line, Column: n.Column}
}

// zeroNode returns a node, at n's position, that decodes to the zero value
// of t.
func zeroNode(n *yaml.Node, t reflect.Type) *yaml.Node {
	z := &yaml.Node{Kind: yaml.ScalarNode, Line: n.Line, Column: n.Column}
	switch {
	case t == durationType:
		z.Tag, z.Value = "!!str", "0s"
	case t.Kind() == reflect.Struct:
		z.Kind, z.Tag = yaml.MappingNode, "!!map"
	case t.Kind() == reflect.String:
		z.Tag = "!!str"
	case t.Kind() == reflect.Bool:
		z.Tag, z.Value = "!!bool", "false"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		z.Tag, z.Value = "!!int", "0"
	default:
		return nullNode(n)
	}
	return z
}

// describe names what a node holds, for messages: a scalar's value quoted
// (cut short), or the kind of collection.
func describe(n *yaml.Node) string {
	n = unalias(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	if n.ShortTag() != "!!str" {
		return v // a number or a boolean, as written
	}
	return strconv.Quote(v)
}

// structFields are the YAML keys of a struct, in declaration order, and
// the type of each.
type structFields struct {
	names []string
	types map[string]reflect.Type
}

var fieldCache sync.Map // reflect.Type -> structFields

// fieldsOf returns the YAML keys of the struct type t.
func fieldsOf(t reflect.Type) structFields {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(structFields)
	}
	fs := structFields{types: make(map[string]reflect.Type)}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fs.names = append(fs.names, name)
		fs.types[name] = f.Type
	}
	for len(fs.names) < 2 {
		fs.names = append(fs.names, "...")
	}
	fieldCache.Store(t, fs)
	return fs
}

// nearest returns the known key closest to name, if it is close enough to
// be a typo of it: at most two edits (a transposition is one; case is
// ignored), and fewer than a third of name's length.
func nearest(name string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	lower := strings.ToLower(name)
	for k := range fields {
		d := editDistance(lower, k)
		if d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" || bestD*3 > len(name) && bestD > 0 {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// follows reports whether a validation problem only follows from a value
// dropped for its type: it is at or below a dropped value, or it names a
// dropped top-level key ("needs tokens" when tokens was not a mapping).
func follows(p Problem, bad []keyPath) bool {
	for _, b := range bad {
		if len(b) <= len(p.keys) && reflect.DeepEqual(p.keys[:len(b)], b) {
			return true
		}
		if key, ok := b[0].(string); ok && len(b) == 1 && namesKey(p.Message, key) {
			return true
		}
	}
	return false
}

// namesKey reports whether msg names key as a word ("tokens",
// "tokens.signing_key"), not as part of one ("access_tokens").
func namesKey(msg, key string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], key)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(key)
		if (start == 0 || !isKeyByte(msg[start-1])) && (end == len(msg) || !isKeyByte(msg[end])) {
			return true
		}
		i = end
	}
}

func isKeyByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
