package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeProxiesConfig writes a valid config trusting proxies, returning its
// path.
func writeProxiesConfig(t *testing.T, c testConfig, proxies string) string {
	t.Helper()
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	return writeFile(t, dir, "authgate.yaml", "trusted_proxies: "+proxies+"\n"+c.yaml())
}

func TestCheckWarnsTrustEveryone(t *testing.T) {
	tests := []struct {
		name    string
		proxies string
		warn    []string // keys warned about, in order
	}{
		{"loopback", "[127.0.0.1/32]", nil},
		{"every IPv4 address", "[0.0.0.0/0]", []string{"trusted_proxies[0]"}},
		{"every IPv6 address", "[10.0.0.0/8, '::/0']", []string{"trusted_proxies[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeProxiesConfig(t, testConfig{}, tt.proxies)
			stdout, stderr, err := runCmd(t, "check", "-config", path)
			if err != nil {
				t.Fatalf("check: %v (a warning must not fail it)\nstdout: %s\nstderr: %s", err, stdout, stderr)
			}
			lines := nonEmptyLines(stdout)
			if len(lines) != len(tt.warn)+1 || lines[len(lines)-1] != path+": ok (2 routes)" {
				t.Fatalf("stdout = %q, want %d WARNING lines and ok", stdout, len(tt.warn))
			}
			for i, key := range tt.warn {
				if want := "WARNING: " + path + ": " + key + ": "; !strings.HasPrefix(lines[i], want) ||
					!strings.Contains(lines[i], "trusts every address") {
					t.Errorf("line %d = %q, want %q... trusts every address", i, lines[i], want)
				}
			}
		})
	}
}

func TestCheckWarnsCORSSubdomainsWithCredentials(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	path := writeFile(t, dir, "authgate.yaml", testConfig{}.yaml()+`    cors:
      allowed_origins: [https://app.example.com, "https://*.example.com"]
      allow_credentials: true
`)
	stdout, stderr, err := runCmd(t, "check", "-config", path)
	if err != nil {
		t.Fatalf("check: %v (a warning must not fail it)\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	lines := nonEmptyLines(stdout)
	want := "WARNING: " + path + ": routes[1].cors.allowed_origins[1]: https://*.example.com with allow_credentials"
	if len(lines) != 2 || !strings.HasPrefix(lines[0], want) || lines[1] != path+": ok (2 routes)" {
		t.Errorf("stdout = %q, want %q... and ok", stdout, want)
	}
}

func TestServeWarnsTrustEveryone(t *testing.T) {
	listen, admin := freeAddr(t), freeAddr(t)
	path := writeProxiesConfig(t, testConfig{listen: listen, adminListen: admin}, "[0.0.0.0/0]")
	_, done, stderr := startServe(t, path)
	waitHealthy(t, testClient(t), admin, done, stderr)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), `"level":"WARN"`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var warn string
	for _, l := range nonEmptyLines(stderr.String()) {
		if strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, "config warning") {
			warn = l
		}
	}
	if !strings.Contains(warn, "trusted_proxies[0]: 0.0.0.0/0 trusts every address") {
		t.Errorf("no WARN line for trusted_proxies; log:\n%s", stderr)
	}
}
