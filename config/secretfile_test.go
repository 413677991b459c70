package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// oneRoute ends a test config with the route every config needs.
const oneRoute = "routes:\n  - name: app\n    path: /\n    upstream: http://127.0.0.1:9000\n    auth: none\n"

const strongSecret = "q3Vt8Zr1xK0mP6wYbN2sJ4cH9dL7fG5a"

// writeConfig writes src as config.yaml, and each file of files, into a
// new directory, and returns the config's path.
func writeConfig(t *testing.T, src string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(src+oneRoute), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSecretFiles(t *testing.T) {
	const tokens = "tokens:\n  issuer: https://auth.example.com\n  audience: api\n"
	tests := []struct {
		name  string
		src   string
		files map[string]string
		// want is the exact problem, with {dir} standing for the config
		// file's directory; "" when Load must succeed.
		wantLine int
		wantPath string
		wantMsg  string
		check    func(t *testing.T, cfg *Config)
	}{
		{
			name:  "hmac secret from file, trailing newline ignored",
			src:   tokens + "  hmac_secret_file: hmac\n",
			files: map[string]string{"hmac": strongSecret + "\n"},
			check: func(t *testing.T, cfg *Config) {
				if cfg.Tokens.HMACSecret != strongSecret {
					t.Errorf("HMACSecret = %q, want the file's content without its newline", cfg.Tokens.HMACSecret)
				}
			},
		},
		{
			name:     "hmac secret both set",
			src:      tokens + "  hmac_secret: " + strongSecret + "\n  hmac_secret_file: hmac\n",
			files:    map[string]string{"hmac": strongSecret},
			wantLine: 5, wantPath: "tokens.hmac_secret_file",
			wantMsg: "set either hmac_secret or hmac_secret_file, not both",
		},
		{
			name:     "hmac secret file missing",
			src:      tokens + "  hmac_secret_file: missing\n",
			wantLine: 4, wantPath: "tokens.hmac_secret_file",
			wantMsg: "cannot read {dir}/missing: no such file or directory",
		},
		{
			name:     "hmac secret file empty",
			src:      tokens + "  hmac_secret_file: hmac\n",
			files:    map[string]string{"hmac": "\n"},
			wantLine: 4, wantPath: "tokens.hmac_secret_file",
			wantMsg: "{dir}/hmac is empty",
		},
		{
			name:     "weak hmac secret from file",
			src:      tokens + "  hmac_secret_file: hmac\n",
			files:    map[string]string{"hmac": "password\n"},
			wantLine: 4, wantPath: "tokens.hmac_secret_file",
			wantMsg: "must be at least 32 bytes (256 bits) of random data (generate one with: openssl rand -base64 48)",
		},
		{
			name:     "hmac secret file and signing key",
			src:      tokens + "  signing_key: key.pem\n  hmac_secret_file: hmac\n",
			files:    map[string]string{"hmac": strongSecret},
			wantLine: 5, wantPath: "tokens.hmac_secret_file",
			wantMsg: "set either signing_key or hmac_secret_file, not both",
		},
		{
			name:  "store from file",
			src:   "store_file: store\n",
			files: map[string]string{"store": "postgres://authgate:pa%40ss@db:5432/authgate\n"},
			check: func(t *testing.T, cfg *Config) {
				if cfg.Store != "postgres://authgate:pa%40ss@db:5432/authgate" {
					t.Errorf("Store = %q", cfg.Store)
				}
			},
		},
		{
			name:     "store both set",
			src:      "store: sqlite:a.db\nstore_file: store\n",
			files:    map[string]string{"store": "sqlite:b.db"},
			wantLine: 2, wantPath: "store_file",
			wantMsg: "set either store or store_file, not both",
		},
		{
			name:     "store file missing",
			src:      "store_file: nope\n",
			wantLine: 1, wantPath: "store_file",
			wantMsg: "cannot read {dir}/nope: no such file or directory",
		},
		{
			name:     "store file empty",
			src:      "store_file: store\n",
			files:    map[string]string{"store": ""},
			wantLine: 1, wantPath: "store_file",
			wantMsg: "{dir}/store is empty",
		},
		{
			name:     "bad store from file is judged at store_file, never echoed",
			src:      "store_file: store\n",
			files:    map[string]string{"store": "mysql://root:hunter2@db/x"},
			wantLine: 1, wantPath: "store_file",
			wantMsg: "must be sqlite:PATH or a postgres:// URL",
		},
		{
			name:     "store file is a directory",
			src:      "store_file: .\n",
			wantLine: 1, wantPath: "store_file",
			wantMsg: "{dir} is not a regular file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.src, tt.files)
			dir, err := filepath.Abs(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				tt.check(t, cfg)
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			ps := validationErr(t, err)
			want := Problem{Line: tt.wantLine, Path: tt.wantPath, Message: strings.ReplaceAll(tt.wantMsg, "{dir}", dir)}
			if len(ps) != 1 || ps[0].Line != want.Line || ps[0].Path != want.Path || ps[0].Message != want.Message {
				t.Errorf("problems = %v\nwant exactly [%v]", ps, want)
			}
		})
	}
}

func TestSecretFilesListed(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{baseDir: dir, StoreFile: "/run/secrets/store", Tokens: &Tokens{HMACSecretFile: "hmac"}}
	got := cfg.SecretFiles()
	want := []string{filepath.Join(dir, "hmac"), "/run/secrets/store"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("SecretFiles() = %q, want %q", got, want)
	}
	cfg.Providers = []Provider{{ClientSecretFile: "kc.secret"}, {PrivateKeyFile: "/run/secrets/dex.pem"}}
	got = cfg.SecretFiles()
	want = append(want, filepath.Join(dir, "kc.secret"), "/run/secrets/dex.pem")
	if !slices.Equal(got, want) {
		t.Errorf("SecretFiles() with providers = %q, want %q", got, want)
	}
}

func TestLogKeys(t *testing.T) {
	tests := []struct {
		name, src  string
		wantLevel  string
		wantFormat string
		wantPath   string
		wantMsg    string
	}{
		{"defaults", "realm: x\n", "info", "json", "", ""},
		{"set", "log:\n  level: debug\n  format: text\n", "debug", "text", "", ""},
		{"bad level", "log:\n  level: loud\n", "", "", "log.level", `"loud" must be debug, info, warn or error`},
		{"bad format", "log:\n  format: xml\n", "", "", "log.format", `"xml" must be json or text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src + oneRoute
			cfg, err := Parse("test.yaml", []byte(src), noEnv)
			if tt.wantMsg != "" {
				e := parseInvalid(t, src, noEnv)
				if len(e.Problems) != 1 || e.Problems[0].Path != tt.wantPath || e.Problems[0].Message != tt.wantMsg {
					t.Errorf("problems = %v, want %s: %s", e.Problems, tt.wantPath, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Log.Level != tt.wantLevel || cfg.Log.Format != tt.wantFormat {
				t.Errorf("log = %+v, want level %s format %s", cfg.Log, tt.wantLevel, tt.wantFormat)
			}
		})
	}
}
