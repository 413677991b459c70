package main

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestCommandHelp: every command's -h prints, on standard output and with
// exit status 0, its own usage line, only its own flags, and an example.
func TestCommandHelp(t *testing.T) {
	tests := []struct {
		args    []string
		flags   []string // every flag it must list
		without []string // flags of other commands it must not list
	}{
		{[]string{"serve"}, []string{"-config", "-log-level", "-log-format", "-log-flush"}, []string{"-username", "-out"}},
		{[]string{"check"}, []string{"-config"}, []string{"-log-level", "-username"}},
		{[]string{"healthcheck"}, []string{"-config", "-url", "-timeout"}, []string{"-username"}},
		{[]string{"token"}, []string{"-config", "-sub", "-claim", "-ttl"}, []string{"-username"}},
		{[]string{"keys", "generate"}, []string{"-out", "-alg"}, []string{"-config"}},
		{[]string{"users", "add"}, []string{"-config", "-username", "-email", "-roles"}, []string{"-sub"}},
		{[]string{"users", "list"}, []string{"-config"}, []string{"-username", "-roles", "-email"}},
		{[]string{"users", "disable"}, []string{"-config", "-username"}, []string{"-roles", "-email"}},
		{[]string{"users", "enable"}, []string{"-config", "-username"}, []string{"-roles", "-email"}},
		{[]string{"users", "set-roles"}, []string{"-config", "-username", "-roles"}, []string{"-email"}},
		{[]string{"users", "set-password"}, []string{"-config", "-username"}, []string{"-roles", "-email"}},
		{[]string{"store", "migrate"}, []string{"-config"}, []string{"-from", "-to"}},
		{[]string{"store", "copy"}, []string{"-from", "-to", "-to-password-file", "-config"}, []string{"-username"}},
	}
	for _, tt := range tests {
		name := strings.Join(tt.args, " ")
		t.Run(name, func(t *testing.T) {
			stdout, stderr, err := runCmd(t, append(tt.args, "-h")...)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err = %v, want flag.ErrHelp (exit status 0)", err)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want empty", stderr)
			}
			if !strings.HasPrefix(stdout, "usage: authgate "+name+" ") {
				t.Errorf("help does not start with its usage line:\n%s", stdout)
			}
			if !strings.Contains(stdout, "\nexample:\n  authgate ") && !strings.Contains(stdout, "| authgate "+name) {
				t.Errorf("help has no example:\n%s", stdout)
			}
			for _, f := range tt.flags {
				if !strings.Contains(stdout, "\n  "+f+" ") && !strings.Contains(stdout, "\n  "+f+"\n") {
					t.Errorf("help does not list %s:\n%s", f, stdout)
				}
			}
			for _, f := range tt.without {
				if strings.Contains(stdout, "\n  "+f+" ") || strings.Contains(stdout, "\n  "+f+"\n") {
					t.Errorf("help lists %s, a flag of another command:\n%s", f, stdout)
				}
			}
		})
	}
}

// TestGroupHelp: 'authgate GROUP -h' lists the group's commands with exit
// status 0; a group without a command, or with an unknown one, is a usage
// error naming it.
func TestGroupHelp(t *testing.T) {
	groups := map[string][]string{
		"users": {"add -config FILE -username U", "list -config FILE", "disable", "enable", "set-roles", "set-password"},
		"keys":  {"generate -out FILE"},
		"store": {"migrate -config FILE", "copy -from sqlite:PATH"},
	}
	for group, subs := range groups {
		for _, h := range []string{"-h", "--help", "help"} {
			stdout, _, err := runCmd(t, group, h)
			if err != nil {
				t.Errorf("%s %s: %v, want nil", group, h, err)
			}
			if !strings.HasPrefix(stdout, "usage: authgate "+group+" <command> [flags]\n\ncommands:\n") {
				t.Errorf("%s %s: stdout =\n%s", group, h, stdout)
			}
			for _, sub := range subs {
				if !strings.Contains(stdout, "\n  "+sub) {
					t.Errorf("%s %s does not list %q:\n%s", group, h, sub, stdout)
				}
			}
		}
		_, stderr, err := runCmd(t, group)
		if !errors.Is(err, errUsage) || err.Error() != "usage: "+group+": no command" || !strings.Contains(stderr, "commands:") {
			t.Errorf("%s: err = %v, stderr = %q; want a usage error and the list", group, err, stderr)
		}
		_, stderr, err = runCmd(t, group, "frobnicate")
		if !errors.Is(err, errUsage) || err.Error() != "usage: "+group+`: unknown command "frobnicate"` || !strings.Contains(stderr, "commands:") {
			t.Errorf("%s frobnicate: err = %v, stderr = %q; want a usage error naming it", group, err, stderr)
		}
	}
}

// TestTopHelpListsEveryLeaf: 'authgate -h' lists every command that runs.
func TestTopHelpListsEveryLeaf(t *testing.T) {
	stdout, _, err := runCmd(t, "-h")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(c *command)
	walk = func(c *command) {
		for _, sub := range c.subs {
			if sub.run != nil && !strings.Contains(stdout, "\n  "+sub.name) {
				t.Errorf("authgate -h does not list %q:\n%s", sub.name, stdout)
			}
			walk(sub)
		}
	}
	walk(commands())
}

// TestConfigFromEnvironment: $AUTHGATE_CONFIG is the default of -config,
// and -config still wins.
func TestConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	cfg := writeValidConfig(t, dir, testConfig{})
	t.Setenv(configEnv, cfg)
	stdout, _, err := runCmd(t, "check")
	if err != nil || !strings.Contains(stdout, cfg+": ok") {
		t.Fatalf("check with $%s: err = %v, stdout = %q", configEnv, err, stdout)
	}
	other := writeFile(t, dir, "other.yaml", "listen: [\n")
	if _, _, err := runCmd(t, "check", "-config", other); err == nil {
		t.Errorf("check -config %s: nil error; -config must win over $%s", other, configEnv)
	}
	t.Setenv(configEnv, "")
	if _, _, err := runCmd(t, "check"); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-config is required (or set AUTHGATE_CONFIG)") {
		t.Errorf("check without -config: %v", err)
	}
}
