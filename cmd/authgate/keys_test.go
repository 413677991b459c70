package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/keys"
)

func TestKeysGenerate(t *testing.T) {
	tests := []struct {
		name    string
		flags   []string // after "keys generate -out FILE"
		wantAlg string
	}{
		{name: "default is EdDSA", wantAlg: keys.EdDSA},
		{name: "EdDSA", flags: []string{"-alg", "EdDSA"}, wantAlg: keys.EdDSA},
		{name: "ES256", flags: []string{"-alg", "ES256"}, wantAlg: keys.ES256},
		{name: "RS256", flags: []string{"-alg", "RS256"}, wantAlg: keys.RS256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.pem")
			args := append([]string{"keys", "generate", "-out", path}, tt.flags...)
			stdout, stderr, err := runCmd(t, args...)
			if err != nil {
				t.Fatalf("run: %v\nstderr: %s", err, stderr)
			}

			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("key file: %v", err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("mode = %v, want 0600", perm)
			}
			k, err := keys.LoadFile(path)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if k.Algorithm != tt.wantAlg {
				t.Errorf("key algorithm = %s, want %s", k.Algorithm, tt.wantAlg)
			}
			want := "wrote " + tt.wantAlg + " key " + k.ID + " to " + path + "\n"
			if stdout != want {
				t.Errorf("stdout = %q, want %q", stdout, want)
			}

			// A second run must refuse to overwrite and leave the key alone.
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			stdout, _, err = runCmd(t, args...)
			if err == nil {
				t.Fatal("second run over an existing key succeeded")
			}
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("second run: err = %v, want fs.ErrExist", err)
			}
			if errors.Is(err, errUsage) {
				t.Errorf("second run: err = %v is a usage error", err)
			}
			if stdout != "" {
				t.Errorf("second run: stdout = %q, want empty", stdout)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("second run changed the existing key file")
			}
		})
	}
}

func TestKeysGenerateFails(t *testing.T) {
	tests := []struct {
		name      string
		args      []string // "OUT" is replaced by a path in a fresh TempDir
		wantUsage bool
		wantIs    error  // when non-nil, errors.Is(err, wantIs) must hold
		wantMsg   string // substring of the error
	}{
		{name: "HS256", args: []string{"-out", "OUT", "-alg", "HS256"}, wantUsage: true, wantMsg: "HS256"},
		{name: "bogus alg", args: []string{"-out", "OUT", "-alg", "bogus"}, wantIs: keys.ErrUnsupported, wantMsg: `"bogus"`},
		{name: "missing -out", args: []string{"-alg", "EdDSA"}, wantUsage: true, wantMsg: "-out is required"},
		{name: "empty -out", args: []string{"-out", ""}, wantUsage: true, wantMsg: "-out is required"},
		{name: "positional argument", args: []string{"-out", "OUT", "extra"}, wantUsage: true, wantMsg: "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "k.pem")
			args := []string{"keys", "generate"}
			for _, a := range tt.args {
				if a == "OUT" {
					a = out
				}
				args = append(args, a)
			}
			stdout, _, err := runCmd(t, args...)
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			if got := errors.Is(err, errUsage); got != tt.wantUsage {
				t.Errorf("errors.Is(err, errUsage) = %v, want %v (err: %v)", got, tt.wantUsage, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want empty", stdout)
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failed run left a file at %s (stat: %v)", out, err)
			}
		})
	}
}

func TestKeysGenerateDoubleDashFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "k.pem")
	stdout, stderr, err := runCmd(t, "keys", "generate", "--out", path, "--alg", "ES256")
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	k, err := keys.LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if k.Algorithm != keys.ES256 {
		t.Errorf("algorithm = %s, want ES256", k.Algorithm)
	}
	if !strings.Contains(stdout, k.ID) {
		t.Errorf("stdout = %q, want it to name kid %s", stdout, k.ID)
	}
	// Missing parent directories are created private.
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("created directory mode = %v, want 0700", perm)
	}
}
