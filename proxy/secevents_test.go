package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/sqlite"
)

// TestTokenOnlyFromAuthorization: a valid access token in the query string
// or a form body authenticates nothing (RFC 6750 §2.2 and §2.3 are not
// supported), and never reaches the upstream as an identity.
func TestTokenOnlyFromAuthorization(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	tok := mint(t, "alice", nil)
	r := httptest.NewRequest("GET", "/required/x?access_token="+url.QueryEscape(tok), nil)
	if w := serve(g, r); w.Code != http.StatusUnauthorized {
		t.Errorf("token in the query string: %d, want 401", w.Code)
	}
	r = httptest.NewRequest("POST", "/required/x", strings.NewReader("access_token="+url.QueryEscape(tok)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if w := serve(g, r); w.Code != http.StatusUnauthorized {
		t.Errorf("token in a form body: %d, want 401", w.Code)
	}
	if up.count() != 0 {
		t.Error("a request without an Authorization header reached the upstream of a required route")
	}
}

// TestRefreshTokensStoredOnlyAsHashes: after logins and a refresh, no
// refresh token appears anywhere in the database files, only its hash.
func TestRefreshTokensStoredOnlyAsHashes(t *testing.T) {
	dir := t.TempDir()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	g, err := build(t, parseConfig(t, accountsYAML, "http://127.0.0.1:9"), assemble.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	if code, _ := call(t, g, "POST", "/auth/signup", creds, ""); code != http.StatusCreated {
		t.Fatalf("signup: %d", code)
	}
	var tokens []string
	_, body := call(t, g, "POST", "/auth/login", creds, "")
	first, _ := body["refresh_token"].(string)
	_, body = call(t, g, "POST", "/auth/refresh", map[string]string{"refresh_token": first}, "")
	second, _ := body["refresh_token"].(string)
	tokens = append(tokens, first, second)
	var files []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(filepath.Join(dir, "authgate.db"+suffix))
		if err == nil {
			files = append(files, b...)
		}
	}
	if len(files) == 0 {
		t.Fatal("no database file to inspect")
	}
	for _, tok := range tokens {
		if tok == "" {
			t.Fatal("no refresh token issued")
		}
		if bytes.Contains(files, []byte(tok)) {
			t.Errorf("a refresh token is stored as issued")
		}
	}
}

// TestReuseIsLoggedAsSecurityEvent: presenting a rotated refresh token
// again is logged at WARN as a security event naming the family, never
// the token.
func TestReuseIsLoggedAsSecurityEvent(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var logs bytes.Buffer
	g, err := build(t, parseConfig(t, accountsYAML, "http://127.0.0.1:9"), assemble.Options{
		Store: store, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	call(t, g, "POST", "/auth/signup", creds, "")
	_, body := call(t, g, "POST", "/auth/login", creds, "")
	old, _ := body["refresh_token"].(string)
	call(t, g, "POST", "/auth/refresh", map[string]string{"refresh_token": old}, "")
	if code, _ := call(t, g, "POST", "/auth/refresh", map[string]string{"refresh_token": old}, ""); code != http.StatusUnauthorized {
		t.Fatalf("reuse: %d, want 401", code)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, "security event: refresh token reuse") {
			found = true
			if rec["level"] != "WARN" {
				t.Errorf("reuse logged at %v, want WARN", rec["level"])
			}
		}
	}
	if !found {
		t.Errorf("no security event logged for the reuse:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), old) {
		t.Error("the log holds the refresh token")
	}
}
