package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invopop/jsonschema"
)

// update rewrites the generated files instead of checking them:
// go test ./config -run TestGeneratedFiles -update
var update = flag.Bool("update", false, "rewrite config.schema.json and README.md from the config structs")

// Generated files, relative to this package.
const (
	schemaFile    = "config.schema.json"
	referenceFile = "README.md"
)

// durationPattern is what time.ParseDuration accepts with a unit, as the
// decoder does ("15" is refused: it has no unit).
const durationPattern = `^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`

// enums are the keys that take one of a few values, by definition and key.
var enums = map[string]map[string][]any{
	"Route":    {"auth": {AuthRequired, AuthOptional, AuthNone}, "upstream_protocol": {"auto", "http1", "http2"}},
	"Accounts": {"signup": {SignupOpen, SignupClosed}},
	"TLS":      {"min_version": {"1.2", "1.3"}},
	"Provider": {"sign_out": {SignOutProvider, SignOutLocal}},
}

// required are the keys Validate always requires where their mapping is
// present (others are required only with or without other keys).
var required = map[string][]string{
	"Route":  {"name", "path", "upstream", "auth"},
	"Issuer": {"name", "issuer", "audience", "algorithms"},
	"Tokens": {"issuer", "audience"},
	"CORS":   {"allowed_origins"},
}

// configSchema reflects the JSON Schema of the configuration file from the
// Config structs: their yaml keys, their doc comments as descriptions, and
// the defaults setDefaults applies.
func configSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		Anonymous:                  true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case durationType:
				return &jsonschema.Schema{Type: "string", Pattern: durationPattern}
			case stringsType:
				return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
					{Type: "string"}, {Type: "array", Items: &jsonschema.Schema{Type: "string"}},
				}}
			}
			return nil
		},
	}
	if err := r.AddGoComments("github.com/authgate/authgate/config", ".", jsonschema.WithFullComment()); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&Config{})
	s.Title = "authgate configuration"
	s.Description = "The configuration file of authgate, an authentication reverse proxy. Generated from the Go structs of package config: do not edit."
	defaults := defaultsByType()
	types := structTypes(reflect.TypeFor[Config](), map[string]reflect.Type{})
	for name, def := range s.Definitions {
		for p := def.Properties.Oldest(); p != nil; p = p.Next() {
			if v, ok := defaults[name][p.Key]; ok {
				p.Value.Default = v
			}
			p.Value.Enum = enums[name][p.Key]
			p.Value.Description = fieldNamesToKeys(oneLineParagraphs(p.Value.Description), types[name])
		}
		def.Required = required[name]
		def.Description = fieldNamesToKeys(oneLineParagraphs(def.Description), types[name])
	}
	return s
}

// structTypes collects the struct types reachable from t, by name.
func structTypes(t reflect.Type, out map[string]reflect.Type) map[string]reflect.Type {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return structTypes(t.Elem(), out)
	case reflect.Struct:
		if _, done := out[t.Name()]; done || t.PkgPath() != stringsType.PkgPath() {
			return out
		}
		out[t.Name()] = t
		for i := 0; i < t.NumField(); i++ {
			structTypes(t.Field(i).Type, out)
		}
	}
	return out
}

// goName matches a Go identifier in a doc comment.
var goName = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*\b`)

// fieldNamesToKeys rewrites the Go names of t's fields in a doc comment to
// their yaml keys: a paragraph's leading name ("Listen is ...") and
// CamelCase names anywhere ("SigningKey"), but not words such as "TLS".
func fieldNamesToKeys(doc string, t reflect.Type) string {
	if t == nil {
		return doc
	}
	keys := map[string]string{}
	for i := 0; i < t.NumField(); i++ {
		if key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); key != "" && key != "-" {
			keys[t.Field(i).Name] = key
		}
	}
	var b strings.Builder
	last := 0
	for _, m := range goName.FindAllStringIndex(doc, -1) {
		name := doc[m[0]:m[1]]
		key, ok := keys[name]
		leading := m[0] == 0 || strings.HasSuffix(doc[:m[0]], "\n\n")
		camel := strings.ToUpper(name) != name && len(goName.FindAllString(strings.Join(strings.SplitAfter(name, ""), " "), -1)) >= 2
		if !ok || !leading && !camel {
			continue
		}
		b.WriteString(doc[last:m[0]])
		b.WriteString(key)
		last = m[1]
	}
	b.WriteString(doc[last:])
	return b.String()
}

// oneLineParagraphs joins the lines of each paragraph of a doc comment.
func oneLineParagraphs(s string) string {
	paras := strings.Split(strings.TrimSpace(s), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

// defaultsByType returns, by struct type name and yaml key, the defaults
// setDefaults gives keys a file leaves out, as a file would write them.
// Zero defaults (false, 0, none) are left to the descriptions.
func defaultsByType() map[string]map[string]any {
	c := &Config{
		TLS: &TLS{}, Tokens: &Tokens{}, Postgres: &Postgres{}, Browser: &Browser{},
		Accounts: &Accounts{CORS: &CORS{}},
		Issuers:  []Issuer{{}},
		Routes:   []Route{{CORS: &CORS{}}},
	}
	c.setDefaults(func(keyPath) bool { return false })
	out := map[string]map[string]any{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Struct {
				for i := 0; i < v.Len(); i++ {
					walk(v.Index(i))
				}
			}
		case reflect.Struct:
			t := v.Type()
			for i := 0; i < t.NumField(); i++ {
				key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
				if key == "" || key == "-" {
					continue
				}
				f := v.Field(i)
				walk(f)
				if f.IsZero() || f.Kind() == reflect.Struct || f.Kind() == reflect.Pointer ||
					f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
					continue
				}
				if out[t.Name()] == nil {
					out[t.Name()] = map[string]any{}
				}
				val := f.Interface()
				if d, ok := val.(time.Duration); ok {
					val = formatDuration(d)
				}
				out[t.Name()][key] = val
			}
		}
	}
	walk(reflect.ValueOf(c))
	return out
}

// formatDuration writes d as a config file would: 15m, not 15m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// schemaJSON returns the schema as written to schemaFile.
func schemaJSON(t *testing.T, s *jsonschema.Schema) []byte {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// reference returns the configuration reference written to referenceFile:
// every key with its type, default and description, from the schema.
func reference(s *jsonschema.Schema) []byte {
	var b bytes.Buffer
	b.WriteString("<!-- Generated from the structs of package config by\n" +
		"     go test ./config -run TestGeneratedFiles -update\n" +
		"     Do not edit: edit the doc comments in config.go instead. -->\n\n")
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("authgate reads one YAML file (`authgate serve -config FILE`; `authgate check -config FILE` " +
		"reports every problem in it). `${VAR}` in a string value is replaced by the environment variable VAR. " +
		"A key left out takes its default. [`config.schema.json`](config.schema.json) is the JSON Schema of the file, " +
		"for editors: start a config with a line naming it, relative to the YAML file, as " +
		"[`config.example.yaml`](../config.example.yaml) does:\n\n" +
		"```yaml\n# yaml-language-server: $schema=config/config.schema.json\n```\n\n" +
		"Durations are written with a unit: `30s`, `15m`, `720h`. `[]` after a key marks a list of mappings.\n\n")
	root := s.Definitions["Config"]
	b.WriteString("| Key | Type | Default | Description |\n|---|---|---|---|\n")
	var rows func(def *jsonschema.Schema, prefix string, seen []string)
	rows = func(def *jsonschema.Schema, prefix string, seen []string) {
		for p := def.Properties.Oldest(); p != nil; p = p.Next() {
			path := prefix + p.Key
			v := p.Value
			typ, ref := typeName(s, v)
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", path, typ, defaultText(v), cell(v.Description))
			if ref != "" && !slices.Contains(seen, ref) {
				sub := path
				if v.Type == "array" {
					sub += "[]"
				}
				rows(s.Definitions[ref], sub+".", append(seen, ref))
			}
		}
	}
	rows(root, "", []string{"Config"})
	return b.Bytes()
}

// typeName describes a property's type for the reference, and names the
// definition it refers to (directly or as list items), if any.
func typeName(s *jsonschema.Schema, v *jsonschema.Schema) (string, string) {
	refOf := func(x *jsonschema.Schema) string {
		if x == nil {
			return ""
		}
		return strings.TrimPrefix(x.Ref, "#/$defs/")
	}
	switch {
	case v.Ref != "":
		return "mapping", refOf(v)
	case v.Type == "array" && refOf(v.Items) != "":
		return "list of mappings", refOf(v.Items)
	case v.Type == "array":
		return "list of " + v.Items.Type + "s", ""
	case v.Type == "object":
		return "mapping of strings", ""
	case len(v.OneOf) > 0:
		return "string or list of strings", ""
	case v.Pattern == durationPattern:
		return "duration", ""
	case len(v.Enum) > 0:
		var es []string
		for _, e := range v.Enum {
			es = append(es, fmt.Sprintf("`%v`", e))
		}
		return strings.Join(es, ", "), ""
	}
	return v.Type, ""
}

// defaultText writes a default for the reference.
func defaultText(v *jsonschema.Schema) string {
	if v.Default == nil {
		return ""
	}
	switch d := v.Default.(type) {
	case map[string]string:
		var kv []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range d {
				if !yield(k) {
					return
				}
			}
		}) {
			kv = append(kv, k+": "+d[k])
		}
		return "`{" + strings.Join(kv, ", ") + "}`"
	case []string:
		return "`[" + strings.Join(d, ", ") + "]`"
	}
	return fmt.Sprintf("`%v`", v.Default)
}

// cell makes text fit a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n\n", "<br><br>")
}

// TestGeneratedFiles checks that config.schema.json and README.md are what
// the config structs generate; with -update it writes them.
func TestGeneratedFiles(t *testing.T) {
	s := configSchema(t)
	for _, f := range []struct {
		name string
		want []byte
	}{
		{schemaFile, schemaJSON(t, s)},
		{referenceFile, reference(s)},
	} {
		if *update {
			if err := os.WriteFile(f.name, f.want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(f.name)
		if err != nil {
			t.Fatalf("%v (generate it: go test ./config -run TestGeneratedFiles -update)", err)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("config/%s is out of date with the config structs: go test ./config -run TestGeneratedFiles -update", f.name)
		}
	}
}
