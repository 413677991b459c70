package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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
	cfg, err := Parse(path, data, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(filepath.Dir(path)); err == nil {
		cfg.baseDir = abs
	}
	return cfg, nil
}

// Parse is Load without the file system: name is used in error messages and
// lookupEnv resolves ${VAR} references (os.LookupEnv in production). Any
// problem is reported as an *Error wrapping ErrInvalid.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	fail := func(ps ...Problem) error { return &Error{File: name, Problems: ps} }
	if len(data) > MaxFileSize {
		return nil, fail(Problem{Message: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)})
	}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fail(yamlProblems(err, nil)...)
	}
	if len(root.Content) == 0 {
		return nil, fail(Problem{Message: "file is empty"})
	}

	cfg := new(Config)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var decodeProblems []Problem
	if err := dec.Decode(cfg); err != nil {
		// An unknown key or a wrong type still lets yaml.v3 decode the
		// rest, so the rest is validated too and every problem reported at
		// once; anything else (syntax) stops here.
		var terr *yaml.TypeError
		if !errors.As(err, &terr) {
			return nil, fail(yamlProblems(err, &root)...)
		}
		decodeProblems = yamlProblems(err, &root)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fail(Problem{Message: "file holds more than one YAML document"})
	}

	var ps problems
	expandEnv(reflect.ValueOf(cfg).Elem(), nil, lookupEnv, &ps)
	if len(ps) == 0 {
		cfg.setDefaults()
		if err := cfg.Validate(); err != nil {
			var verr *Error
			if !errors.As(err, &verr) {
				return nil, err
			}
			ps = verr.Problems
		}
	}
	for i := range ps {
		ps[i].Line = lineOf(&root, ps[i].keys)
	}
	if all := mergeProblems(decodeProblems, ps); len(all) > 0 {
		return nil, fail(all...)
	}
	return cfg, nil
}

// mergeProblems lists decoding problems first, then validation problems,
// leaving out a validation problem on a line that already has a decoding
// one (a value that failed to decode also looks missing to Validate).
func mergeProblems(decoding, validation []Problem) []Problem {
	out := append([]Problem(nil), decoding...)
	bad := make(map[int]bool, len(decoding))
	for _, p := range decoding {
		bad[p.Line] = true
	}
	for _, p := range validation {
		if p.Line == 0 || !bad[p.Line] {
			out = append(out, p)
		}
	}
	return out
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

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
	for _, m := range msgs {
		p := Problem{Message: strings.TrimPrefix(m, "yaml: ")}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Message = sm[2]
			if root != nil {
				if at, ok := pathAtLine(root, p.Line, nil); ok {
					p.Path = at.String()
				}
			}
		}
		ps = append(ps, p)
	}
	return ps
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

// pathAtLine returns the path of the map key on the given line, if any.
func pathAtLine(n *yaml.Node, line int, at keyPath) (keyPath, bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := pathAtLine(c, line, at); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line {
				return at.with(k.Value), true
			}
			if p, ok := pathAtLine(v, line, at.with(k.Value)); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := pathAtLine(c, line, at.with(i)); ok {
				return p, true
			}
		}
	}
	return nil, false
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
		iter := v.MapRange()
		for iter.Next() {
			s := iter.Value().String()
			if out, ok := expandString(s, at.with(iter.Key().String()), lookup, ps); ok {
				v.SetMapIndex(iter.Key(), reflect.ValueOf(out).Convert(v.Type().Elem()))
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
