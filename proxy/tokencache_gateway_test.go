package proxy_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/metrics"
	"github.com/authgate/authgate/proxy/sqlite"
)

// tokenCacheYAML serves accounts, a route for any user and one for admins.
const tokenCacheYAML = tokensYAML + `
store: sqlite:unused.db
accounts: {signup: open}
token_cache: {ttl: 5m}
routes:
  - {name: todos, path: /todos, upstream: "${UPSTREAM}", auth: required}
  - {name: admin, path: /admin, upstream: "${UPSTREAM}", auth: required, roles: [admin]}
`

// cacheCount reads authgate_token_cache_total{result} from m.
func cacheCount(t *testing.T, m *metrics.Metrics, result string) int {
	t.Helper()
	w := serve(m.Handler(), httptest.NewRequest("GET", "/metrics", nil))
	re := regexp.MustCompile(`(?m)^authgate_token_cache_total\{result="` + result + `"\} (\d+)$`)
	sm := re.FindStringSubmatch(w.Body.String())
	if sm == nil {
		return 0
	}
	n, _ := strconv.Atoi(sm[1])
	return n
}

// TestGatewayCachedTokenStillChecked: a token served from the verified-token
// cache is still refused on a route requiring a role it lacks, and still
// refused once its session is logged out.
func TestGatewayCachedTokenStillChecked(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	up := newUpstream(t)
	m := metrics.New("test", "test")
	g, err := build(t, parseConfig(t, tokenCacheYAML, up.URL), assemble.Options{Store: store, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]string{"username": "alice", "password": "correct horse"}
	call(t, g, "POST", "/auth/signup", creds, "")
	code, body := call(t, g, "POST", "/auth/login", creds, "")
	access, _ := body["access_token"].(string)
	if code != 200 || access == "" {
		t.Fatalf("login: %d %v", code, body)
	}

	// The first request's verification is remembered, the second's
	// stores the token, the third is served from the cache.
	for i := range 3 {
		if code, _ := call(t, g, "GET", "/todos", nil, access); code != 200 {
			t.Fatalf("todos %d: %d, want 200", i, code)
		}
	}
	if hits := cacheCount(t, m, "hit"); hits < 1 {
		t.Fatalf("third request was not a cache hit (hits %d)", hits)
	}

	steps := []struct {
		name   string
		before func()
		path   string
		want   int
	}{
		{"route policy on a cached token", nil, "/admin", 403},
		{"cached token still allowed", nil, "/todos", 200},
		{"revoked cached token", func() {
			if code, body := call(t, g, "POST", "/auth/logout", nil, access); code != 200 {
				t.Fatalf("logout: %d %v", code, body)
			}
		}, "/todos", 401},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		hits, reached := cacheCount(t, m, "hit"), up.count()
		code, _ := call(t, g, "GET", s.path, nil, access)
		if code != s.want {
			t.Errorf("%s: %d, want %d", s.name, code, s.want)
		}
		if cacheCount(t, m, "hit") != hits+1 {
			t.Errorf("%s: not served from the cache", s.name)
		}
		if code != 200 && up.count() != reached {
			t.Errorf("%s: a refused request reached the upstream", s.name)
		}
	}
}
