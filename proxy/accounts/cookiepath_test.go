package accounts_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/accounts"
)

func TestCookieAttributes(t *testing.T) {
	e := newEnv(t, func(c *accounts.Config) { c.Cookie = true })
	e.signup("alice", "correct horse")
	login := e.login("alice", "correct horse")
	if login.code != 200 {
		t.Fatal(login.raw)
	}
	access := login.str("access_token")
	logout := e.do("POST", "/auth/logout", nil, bearer(access))
	if logout.code != 200 {
		t.Fatalf("logout: %d %s", logout.code, logout.raw)
	}
	tests := []struct {
		name     string
		header   http.Header
		cookie   string
		httpOnly bool
		cleared  bool
	}{
		{"login sets refresh", login.header, "__Secure-authgate-refresh", true, false},
		{"login sets csrf", login.header, "__Secure-authgate-csrf", false, false},
		{"logout clears refresh", logout.header, "__Secure-authgate-refresh", true, true},
		{"logout clears csrf", logout.header, "__Secure-authgate-csrf", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var line string
			for _, l := range tt.header.Values("Set-Cookie") {
				if strings.HasPrefix(l, tt.cookie+"=") {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no Set-Cookie for %s in %q", tt.cookie, tt.header.Values("Set-Cookie"))
			}
			want := []string{"Path=/auth/refresh", "Secure", "SameSite=Strict"}
			if tt.httpOnly {
				want = append(want, "HttpOnly")
			}
			if tt.cleared {
				want = append(want, "Max-Age=0")
			}
			attrs := strings.Split(line, "; ")[1:]
			for _, w := range want {
				if !contains(attrs, w) {
					t.Errorf("Set-Cookie %q lacks %s", line, w)
				}
			}
			if !tt.httpOnly && contains(attrs, "HttpOnly") {
				t.Errorf("Set-Cookie %q is HttpOnly: the page must read the CSRF token", line)
			}
			if strings.Contains(line, "Domain=") || contains(attrs, "Path=/auth") || contains(attrs, "Path=/") {
				t.Errorf("Set-Cookie %q is wider than the refresh endpoint", line)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestCookieReachesOnlyRefresh follows the cookies as a browser keeps them:
// they go to the refresh endpoint and no other path, and logout by access
// token ends the session and removes them.
func TestCookieReachesOnlyRefresh(t *testing.T) {
	e := newEnv(t, func(c *accounts.Config) { c.Cookie = true })
	e.signup("alice", "correct horse")
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	at := func(path string) *url.URL { return &url.URL{Scheme: "https", Host: "authgate.example", Path: path} }
	send := func(path string, hdr map[string]string) resp {
		t.Helper()
		if hdr == nil {
			hdr = map[string]string{}
		}
		var parts []string
		for _, c := range jar.Cookies(at(path)) {
			parts = append(parts, c.Name+"="+c.Value)
		}
		if len(parts) > 0 {
			hdr["Cookie"] = strings.Join(parts, "; ")
		}
		r := e.do("POST", path, nil, hdr)
		jar.SetCookies(at(path), (&http.Response{Header: r.header}).Cookies())
		return r
	}
	r := e.do("POST", "/auth/login", map[string]string{"username": "alice", "password": "correct horse"}, nil)
	if r.code != 200 {
		t.Fatal(r.raw)
	}
	jar.SetCookies(at("/auth/login"), (&http.Response{Header: r.header}).Cookies())
	csrf := r.str("csrf_token")

	for _, tt := range []struct {
		path string
		want int
	}{{"/auth/refresh", 2}, {"/auth/logout", 0}, {"/auth/me", 0}, {"/auth", 0}, {"/", 0}, {"/api/todos", 0}} {
		if got := len(jar.Cookies(at(tt.path))); got != tt.want {
			t.Errorf("browser sends %d cookies to %s, want %d", got, tt.path, tt.want)
		}
	}
	r = send("/auth/refresh", map[string]string{accounts.CSRFHeader: csrf})
	if r.code != 200 {
		t.Fatalf("refresh by cookie: %d %s", r.code, r.raw)
	}
	csrf = r.str("csrf_token")
	r = send("/auth/logout", bearer(r.str("access_token")))
	if r.code != 200 {
		t.Fatalf("logout by access token: %d %s", r.code, r.raw)
	}
	if n := len(jar.Cookies(at("/auth/refresh"))); n != 0 {
		t.Errorf("logout left %d cookies", n)
	}
	if r := send("/auth/refresh", map[string]string{accounts.CSRFHeader: csrf}); r.code == 200 {
		t.Errorf("refresh after logout: %d %s", r.code, r.raw)
	}
}
