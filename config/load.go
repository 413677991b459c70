package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds the size of a configuration file.
const MaxFileSize = 1 << 20

// Load reads, decodes, expands, defaults and validates the configuration
// file at path. ${VAR} references are expanded from the process environment.
// Relative paths inside the file are resolved against the file's directory.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	baseDir, _ := filepath.Abs(filepath.Dir(path))
	return parse(path, data, os.LookupEnv, baseDir)
}

// Parse is Load without opening the config file: name is used in error
// messages and lookupEnv resolves ${VAR} references (os.LookupEnv in
// production). Files named by *_file keys are still read, relative to the
// working directory. Any problem is reported as an *Error wrapping
// ErrInvalid.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	return parse(name, data, lookupEnv, "")
}

// parse is Parse with relative paths resolved against baseDir.
func parse(name string, data []byte, lookupEnv func(string) (string, bool), baseDir string) (*Config, error) {
	fail := func(ps ...Problem) error { return &Error{File: name, Problems: ps} }
	if len(data) > MaxFileSize {
		return nil, fail(Problem{Message: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)})
	}

	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, fail(yamlProblems(err, nil)...)
	}
	if len(root.Content) == 0 || document(&root).ShortTag() == "!!null" {
		return nil, fail(Problem{Message: "file is empty"})
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fail(yamlProblems(err, nil)...)
		}
		return nil, fail(Problem{Message: "file holds more than one YAML document"})
	}

	// The checker reports unknown keys, repeated keys and values of the
	// wrong type, and repairs the tree so that the rest of the file
	// decodes: every problem in the file is reported at once.
	var chk checker
	if top := document(&root); top.Kind != yaml.MappingNode {
		chk.check(top, reflect.TypeFor[Config](), nil)
		return nil, fail(chk.ps...)
	}
	chk.check(root.Content[0], reflect.TypeFor[Config](), nil)
	cfg := &Config{baseDir: baseDir}
	if err := root.Decode(cfg); err != nil {
		// What the checker let through, the decoder still refuses.
		return nil, fail(append(chk.ps, yamlProblems(err, &root)...)...)
	}
	decodeProblems := chk.ps

	var ps problems
	expandEnv(reflect.ValueOf(cfg).Elem(), nil, lookupEnv, &ps)
	if len(ps) == 0 {
		cfg.setDefaults(present(&root))
		cfg.readSecretFiles(&ps)
		if err := cfg.Validate(); err != nil {
			var verr *Error
			if !errors.As(err, &verr) {
				return nil, err
			}
			for _, p := range verr.Problems {
				// What follows from a value of the wrong type is
				// not a problem of its own.
				if !follows(p, chk.bad) {
					ps = append(ps, p)
				}
			}
		}
	}
	for i := range ps {
		ps[i].Line = lineOf(&root, ps[i].keys)
	}
	if all := append(decodeProblems, ps...); len(all) > 0 {
		// In the order of the file, as a reader goes through it; problems
		// of keys the file lacks (no line) last.
		slices.SortStableFunc(all, func(a, b Problem) int { return cmp.Compare(fileOrder(a), fileOrder(b)) })
		return nil, fail(all...)
	}
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlParserProblems are the messages of libyaml's parser (as opposed to its
// scanner). yaml.v3 reports their line 0-based, and leaves the line out when
// it is the first, so yamlProblems adds one.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlProblems turns a yaml.v3 error into problems with lines and, where the
// line holds a key, that key's path.
func yamlProblems(err error, root *yaml.Node) []Problem {
	var msgs []string
	var terr *yaml.TypeError
	if errors.As(err, &terr) {
		msgs = terr.Errors
	} else {
		msgs = []string{err.Error()}
	}
	ps := make([]Problem, 0, len(msgs))
	var keys map[int]*keyNode
	for _, m := range msgs {
		p := Problem{Message: strings.TrimPrefix(m, "yaml: ")}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Message = sm[2]
		}
		if yamlParserProblems[p.Message] {
			p.Line++
		}
		if p.Line > 0 && root != nil {
			if keys == nil {
				keys = make(map[int]*keyNode)
				indexKeys(root, nil, keys)
			}
			if k := keys[p.Line]; k != nil {
				p.Path = k.path().String()
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// fileOrder is where p comes in the file: its line, or after every line.
func fileOrder(p Problem) int {
	if p.Line == 0 {
		return math.MaxInt
	}
	return p.Line
}

// document returns the top mapping of a parsed file.
func document(root *yaml.Node) *yaml.Node {
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		return root.Content[0]
	}
	return root
}

// lineOf finds the line of the deepest node on path that exists in the
// file: the key's line for a map entry, the item's line for a sequence.
func lineOf(root *yaml.Node, path keyPath) int {
	n := document(root)
	line := 0
	for _, seg := range path {
		next, keyLine := child(n, seg)
		if next == nil {
			break
		}
		line, n = keyLine, next
	}
	return line
}

// present returns a function reporting whether the file gives the key at a
// path a value: the key is there, directly or through an alias or a merge
// key ("<<"), and its value is not null.
func present(root *yaml.Node) func(keyPath) bool {
	return func(path keyPath) bool {
		n := document(root)
		for _, seg := range path {
			if n = value(n, seg); n == nil {
				return false
			}
		}
		return n.ShortTag() != "!!null"
	}
}

// value returns the value of seg in n, as the decoder sees it: aliases
// followed, and a mapping's own keys before those merged into it.
func value(n *yaml.Node, seg any) *yaml.Node {
	n = unalias(n)
	if n == nil {
		return nil
	}
	switch s := seg.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var merged []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case k.ShortTag() == "!!merge":
				if v = unalias(v); v != nil && v.Kind == yaml.SequenceNode {
					merged = append(merged, v.Content...)
				} else {
					merged = append(merged, v)
				}
			case k.Value == s:
				return unalias(v)
			}
		}
		for _, m := range merged {
			if v := value(m, s); v != nil {
				return v
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && s >= 0 && s < len(n.Content) {
			return unalias(n.Content[s])
		}
	}
	return nil
}

// unalias follows n while it is an alias.
func unalias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func child(n *yaml.Node, seg any) (next *yaml.Node, line int) {
	switch s := seg.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil, 0
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == s {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && s >= 0 && s < len(n.Content) {
			return n.Content[s], n.Content[s].Line
		}
	}
	return nil, 0
}

// keyNode is one segment of a key path, linked to its parent.
type keyNode struct {
	parent *keyNode
	seg    any
}

func (k *keyNode) path() keyPath {
	n := 0
	for p := k; p != nil; p = p.parent {
		n++
	}
	out := make(keyPath, n)
	for p := k; p != nil; p = p.parent {
		n--
		out[n] = p.seg
	}
	return out
}

// indexKeys records in keys, for each line holding a map key, the first
// such key in file order. It runs once per error, in time linear in the
// size of the file however many problems there are or however deep the
// nesting.
func indexKeys(n *yaml.Node, at *keyNode, keys map[int]*keyNode) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexKeys(c, at, keys)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := &keyNode{at, n.Content[i].Value}
			if _, ok := keys[n.Content[i].Line]; !ok {
				keys[n.Content[i].Line] = k
			}
			indexKeys(n.Content[i+1], k, keys)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			indexKeys(c, &keyNode{at, i}, keys)
		}
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every string reachable from v (struct
// fields with a yaml tag, slices, map values). Only string values expand, so
// the YAML structure can never be changed by an environment variable. An
// unset variable is a problem; an empty one expands to "".
func expandEnv(v reflect.Value, at keyPath, lookup func(string) (string, bool), ps *problems) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			expandEnv(v.Elem(), at, lookup, ps)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			expandEnv(v.Field(i), at.with(tag), lookup, ps)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			expandEnv(v.Index(i), at.with(i), lookup, ps)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return
		}
		// In key order, so that problems are reported in a stable order.
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			if out, ok := expandString(v.MapIndex(k).String(), at.with(k.String()), lookup, ps); ok {
				v.SetMapIndex(k, reflect.ValueOf(out).Convert(v.Type().Elem()))
			}
		}
	case reflect.String:
		if out, ok := expandString(v.String(), at, lookup, ps); ok {
			v.SetString(out)
		}
	}
}

func expandString(s string, at keyPath, lookup func(string) (string, bool), ps *problems) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, false
	}
	out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		val, ok := lookup(name)
		if !ok {
			ps.add(at, "environment variable %s is not set", name)
		}
		return val
	})
	return out, true
}
