package assemble_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/postgres/pgtest"
)

// TestSharedLoginThrottle: on a postgres store, two replicas (Resources
// and snapshots of their own on one database) throttle logins together:
// failures through either count for both.
func TestSharedLoginThrottle(t *testing.T) {
	db := pgtest.Database(t)
	dir := t.TempDir()
	key, err := keys.Generate(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.WriteFile(filepath.Join(dir, "k.pem"), key); err != nil {
		t.Fatal(err)
	}
	cfg := parse(t, `tokens: {issuer: https://authgate.test, audience: api, signing_key: `+filepath.Join(dir, "k.pem")+`}
store: "`+db+`"
accounts: {signup: open}
routes:
  - {name: api, path: /api, upstream: "http://127.0.0.1:9", auth: required}
`)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := func() time.Time { return now }
	var replicas [2]*accounts.Service
	for i := range replicas {
		res, err := assemble.Open(context.Background(), cfg, assemble.Options{Mode: assemble.Admin, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Close() })
		snap, err := assemble.Build(cfg, res)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(snap.Release)
		if replicas[i] = snap.Gateway.Accounts(); replicas[i] == nil {
			t.Fatal("no account endpoints")
		}
	}
	if _, err := replicas[0].NewUser(context.Background(), "alice", "", "correct horse", nil); err != nil {
		t.Fatal(err)
	}
	login := func(i int, pw string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/auth/login",
			strings.NewReader(`{"username":"alice","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		replicas[i].ServeHTTP(rec, req)
		return rec
	}
	if rec := login(1, "correct horse"); rec.Code != http.StatusOK {
		t.Fatalf("first login through replica 1: %d %s", rec.Code, rec.Body)
	}
	// Six failures are free for the pair of account and address; they are
	// split between the replicas.
	for i := range 6 {
		if rec := login(i%2, "wrong"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d through replica %d: %d %s", i+1, i%2, rec.Code, rec.Body)
		}
	}
	for i := range replicas {
		rec := login(i, "correct horse")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Errorf("login through replica %d after 6 failures: %d %s, want 429 with Retry-After", i, rec.Code, rec.Body)
		}
	}
}
