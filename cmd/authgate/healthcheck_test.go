package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthcheck asks a real 'authgate serve' through its config, its URL
// and $AUTHGATE_CONFIG, and reports why when it is not ready.
func TestHealthcheck(t *testing.T) {
	dir := t.TempDir()
	admin := freeAddr(t)
	cfg := writeValidConfig(t, dir, testConfig{listen: freeAddr(t), adminListen: admin})
	_, done, stderr := startServe(t, cfg)
	waitHealthy(t, testClient(t), admin, done, stderr)

	t.Run("config", func(t *testing.T) {
		stdout, _, err := runCmd(t, "healthcheck", "-config", cfg)
		if err != nil || stdout != "ready: http://"+admin+"/readyz\n" {
			t.Fatalf("healthcheck -config: err = %v, stdout = %q", err, stdout)
		}
	})
	t.Run("url", func(t *testing.T) {
		if _, _, err := runCmd(t, "healthcheck", "-url", "http://"+admin+"/readyz"); err != nil {
			t.Fatalf("healthcheck -url: %v", err)
		}
	})
	t.Run("AUTHGATE_CONFIG", func(t *testing.T) {
		t.Setenv(configEnv, cfg)
		if _, _, err := runCmd(t, "healthcheck"); err != nil {
			t.Fatalf("healthcheck with $%s: %v", configEnv, err)
		}
	})
	t.Run("wildcard admin_listen is asked on loopback", func(t *testing.T) {
		_, port, _ := strings.Cut(admin, ":")
		wild := writeFile(t, t.TempDir(), "wild.yaml", testConfig{adminListen: "0.0.0.0:" + port, signingKey: filepath.Join(dir, "k.pem")}.yaml())
		if _, _, err := runCmd(t, "healthcheck", "-config", wild); err != nil {
			t.Fatalf("healthcheck: %v", err)
		}
	})
}

func TestHealthcheckFails(t *testing.T) {
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"ready":false,"checks":{"store":"unreachable"}}` + "\n"))
	}))
	t.Cleanup(notReady.Close)
	closed := "http://" + freeAddr(t) + "/readyz"
	tests := []struct {
		name      string
		args      []string
		wantUsage bool
		wantErr   string
	}{
		{"not ready", []string{"-url", notReady.URL + "/readyz"}, false,
			"healthcheck: " + notReady.URL + `/readyz: 503 Service Unavailable: {"ready":false,"checks":{"store":"unreachable"}}`},
		{"nothing listening", []string{"-url", closed}, false, "connection refused"},
		{"bad config", []string{"-config", filepath.Join(t.TempDir(), "missing.yaml")}, false, "healthcheck: config: open "},
		{"bad timeout", []string{"-timeout", "0s"}, true, "-timeout 0s"},
		{"argument", []string{"now"}, true, `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCmd(t, append([]string{"healthcheck"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if errors.Is(err, errUsage) != tt.wantUsage {
				t.Errorf("errors.Is(err, errUsage) = %v, want %v", !tt.wantUsage, tt.wantUsage)
			}
		})
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:9191":   "127.0.0.1:9191",
		"[::]:9191":      "[::1]:9191",
		":9191":          "127.0.0.1:9191",
		"10.0.0.5:9191":  "10.0.0.5:9191",
		"localhost:9191": "localhost:9191",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
