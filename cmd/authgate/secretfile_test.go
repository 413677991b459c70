package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHMACSecretFileRotation: a running server reads tokens.hmac_secret_file
// again when the file alone changes, as a rotated Kubernetes or Docker
// secret does: tokens of the new secret pass, those of the old one no
// longer do.
func TestHMACSecretFileRotation(t *testing.T) {
	dir := t.TempDir()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(up.Close)
	listen, admin := freeAddr(t), freeAddr(t)
	secret := filepath.Join(dir, "hmac")
	writeSecret := func(s string) {
		t.Helper()
		// Replaced, not rewritten in place, as kubelet swaps a symlink.
		tmp := secret + ".new"
		if err := os.WriteFile(tmp, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, secret); err != nil {
			t.Fatal(err)
		}
	}
	writeSecret("Jt4Pq9Xw2Lm7Vb3Nc8Rz1Kd6Hf0Gs5Ya")
	cfg := writeFile(t, dir, "authgate.yaml", fmt.Sprintf(`listen: %s
admin_listen: %s
tokens: {issuer: %s, audience: %s, hmac_secret_file: hmac}
routes:
  - {name: p, path: /p, upstream: %q, auth: required}
`, listen, admin, testIssuer, testAudience, up.URL))
	_, done, stderr := startServe(t, cfg)
	waitHealthy(t, testClient(t), admin, done, stderr)
	url := "http://" + listen + "/p"

	token := func() string {
		t.Helper()
		out, errOut, err := runCmd(t, "token", "-config", cfg, "-sub", "alice")
		if err != nil {
			t.Fatalf("token: %v\n%s", err, errOut)
		}
		return strings.TrimSpace(out)
	}
	old := token()
	if code := status(url, old); code != 200 {
		t.Fatalf("token of the first secret: %d, want 200", code)
	}
	writeSecret("Wq8Zx3Cv6Bn1Ml4Kj7Hg2Fd5Sa9Pm0Ou")
	fresh := token()
	waitFor(t, "the new secret's token to pass", func() bool { return status(url, fresh) == 200 })
	if code := status(url, old); code != 401 {
		t.Errorf("token of the old secret after the rotation: %d, want 401", code)
	}
	if s := stderr.String(); strings.Contains(s, "Wq8Zx3Cv6Bn1Ml4Kj7Hg2Fd5Sa9Pm0Ou") || strings.Contains(s, "Jt4Pq9Xw2Lm7Vb3Nc8Rz1Kd6Hf0Gs5Ya") {
		t.Errorf("a secret reached the log:\n%s", s)
	}
}
