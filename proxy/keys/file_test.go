package keys

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name string
		alg  string
		path func(dir string) string
	}{
		{name: "EdDSA in existing dir", alg: EdDSA, path: func(dir string) string { return filepath.Join(dir, "key.pem") }},
		{name: "ES256 in new dirs", alg: ES256, path: func(dir string) string { return filepath.Join(dir, "a", "b", "key.pem") }},
		{name: "RS256", alg: RS256, path: func(dir string) string { return filepath.Join(dir, "rsa", "key.pem") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.path(dir)
			k := testKey(t, tt.alg)
			if err := WriteFile(path, k); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("file mode = %o, want 600", perm)
			}
			if parent := filepath.Dir(path); parent != dir {
				di, err := os.Stat(parent)
				if err != nil {
					t.Fatal(err)
				}
				if perm := di.Mode().Perm(); perm&0o077 != 0 {
					t.Errorf("created directory mode = %o, want no group or other access", perm)
				}
			}

			loaded, err := LoadFile(path)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if loaded.ID != k.ID || loaded.Algorithm != k.Algorithm {
				t.Errorf("LoadFile = %s/%s, want %s/%s", loaded.ID, loaded.Algorithm, k.ID, k.Algorithm)
			}

			before, _ := os.ReadFile(path)
			err = WriteFile(path, otherKey(t, EdDSA))
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("second WriteFile error = %v, want %v", err, fs.ErrExist)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("second WriteFile changed the file")
			}
		})
	}
}

func TestWriteFileHMAC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmac.pem")
	if err := WriteFile(path, testKey(t, HS256)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("WriteFile(HMAC) error = %v, want %v", err, ErrUnsupported)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile(HMAC) left a file behind: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr error
	}{
		{name: "missing", path: filepath.Join(dir, "missing.pem"), wantErr: fs.ErrNotExist},
		{name: "garbage", path: garbage, wantErr: ErrNoKey},
		{name: "directory", path: dir, wantErr: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := LoadFile(tt.path)
			if err == nil || k != nil {
				t.Fatalf("LoadFile(%q) = %v, %v, want an error", tt.path, k, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("LoadFile error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("LoadFile error %q does not name the path", err)
			}
		})
	}
}
