package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compiledSchema compiles config.schema.json as written.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaFile, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlInstance reads YAML as the JSON value a schema validator checks.
func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestSchemaAcceptsConfigs validates every configuration file of the
// repository that Parse accepts against the schema, and checks that
// config.example.yaml names the schema for editors.
func TestSchemaAcceptsConfigs(t *testing.T) {
	s := compiledSchema(t)
	files := []string{"../config.example.yaml"}
	for _, pattern := range []string{"testdata/*.yaml", "../deploy/*/*.yaml", "../deploy/*/*/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		env := func(string) (string, bool) { return "x", true }
		if _, err := Parse(f, data, env); err != nil {
			continue // not an authgate config (compose, nginx, a Helm chart), or one that is invalid on purpose
		}
		checked++
		t.Logf("%s matches the schema", f)
		if err := s.Validate(yamlInstance(t, data)); err != nil {
			t.Errorf("%s does not match %s: %v", f, schemaFile, err)
		}
	}
	if checked < 5 {
		t.Errorf("checked %d configuration files against the schema, want the example and those under deploy/", checked)
	}
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(example), "\n"); first != "# yaml-language-server: $schema=config/config.schema.json" {
		t.Errorf("config.example.yaml starts with %q, want the yaml-language-server schema line", first)
	}
}

// TestSchemaRefuses checks that the schema refuses what the decoder does,
// so an editor flags it as it is typed.
func TestSchemaRefuses(t *testing.T) {
	s := compiledSchema(t)
	base := "routes: [{name: a, path: /a, upstream: 'http://h', auth: none}]\n"
	for _, tt := range []struct{ name, src string }{
		{"unknown key", base + "colour: blue\n"},
		{"unknown key in a route", "routes: [{name: a, path: /a, upstream: 'http://h', auth: none, upstrem: x}]\n"},
		{"duration without a unit", base + "token_cache: {ttl: 30}\n"},
		{"duration not a duration", base + "server: {idle_timeout: forever}\n"},
		{"list given a string", "routes: [{name: a, path: /a, upstream: 'http://h', auth: none, methods: GET}]\n"},
		{"auth not one of the modes", "routes: [{name: a, path: /a, upstream: 'http://h', auth: maybe}]\n"},
		{"route without upstream", "routes: [{name: a, path: /a, auth: none}]\n"},
		{"whole number given a word", base + "server: {max_header_bytes: lots}\n"},
		{"bool given a word", "routes: [{name: a, path: /a, upstream: 'http://h', auth: none, preserve_host: maybe}]\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Validate(yamlInstance(t, []byte(tt.src))); err == nil {
				t.Errorf("schema accepts %q", tt.src)
			}
			if _, err := Parse("test.yaml", []byte(tt.src), noEnv); err == nil {
				t.Errorf("Parse accepts %q", tt.src)
			}
		})
	}
	for _, src := range []string{base, base + "token_cache: {ttl: 1m30s}\n", "routes: [{name: a, path: /a, upstream: 'http://h', auth: none, methods: [GET]}]\n"} {
		if err := s.Validate(yamlInstance(t, []byte(src))); err != nil {
			t.Errorf("schema refuses %q: %v", src, err)
		}
	}
}
