package main

import (
	"errors"
	"strings"
	"testing"
)

func TestRunDispatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantUsage  bool   // error wrapping errUsage; otherwise no error
		wantStdout string // substring of stdout ("" means stdout must be empty)
		wantStderr string // substring of stderr
	}{
		{name: "no args", args: nil, wantUsage: true, wantStderr: "usage: authgate"},
		{name: "unknown command", args: []string{"frobnicate"}, wantUsage: true, wantStderr: "usage: authgate"},
		{name: "help", args: []string{"help"}, wantStdout: "usage: authgate <command>"},
		{name: "--help", args: []string{"--help"}, wantStdout: "usage: authgate <command>"},
		{name: "keys without generate", args: []string{"keys"}, wantUsage: true},
		{name: "keys unknown subcommand", args: []string{"keys", "rotate"}, wantUsage: true},
		{name: "unknown flag", args: []string{"check", "-nope"}, wantUsage: true, wantStderr: "flag provided but not defined"},
		{name: "positional argument", args: []string{"check", "-config", "x.yaml", "extra"}, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runCmd(t, tt.args...)
			if tt.wantUsage {
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if tt.wantStdout == "" && stdout != "" {
				t.Errorf("stdout = %q, want empty", stdout)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	stdout, _, err := runCmd(t, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"serve -config", "check -config", "keys generate -out", "token -config"} {
		if !strings.Contains(stdout, cmd) {
			t.Errorf("usage does not mention %q:\n%s", cmd, stdout)
		}
	}
}
