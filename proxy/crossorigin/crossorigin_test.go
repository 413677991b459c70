package crossorigin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func mustNew(t *testing.T, o Options) *Policy {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestNewRefuses(t *testing.T) {
	valid := func() Options {
		return Options{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET"},
			AllowedHeaders: []string{"Authorization"}, MaxAge: time.Minute}
	}
	tests := []struct {
		name   string
		mutate func(o *Options)
		want   string // "" for no error
	}{
		{"valid", func(*Options) {}, ""},
		{"no origins", func(o *Options) { o.AllowedOrigins = nil }, "at least one origin"},
		{"bad origin", func(o *Options) { o.AllowedOrigins = []string{"https://a.example/"} }, "without a path"},
		{"any origin with credentials", func(o *Options) { o.AllowedOrigins, o.AllowCredentials = []string{"*"}, true }, "cannot be combined"},
		{"any origin among others", func(o *Options) { o.AllowedOrigins = []string{"*", "https://a.example"} }, "must be the only one"},
		{"no methods", func(o *Options) { o.AllowedMethods = nil }, "at least one method"},
		{"bad method", func(o *Options) { o.AllowedMethods = []string{"get"} }, "upper-case"},
		{"no headers", func(o *Options) { o.AllowedHeaders = nil }, "at least one header"},
		{"any header", func(o *Options) { o.AllowedHeaders = []string{"*"} }, ""},
		{"bad exposed header", func(o *Options) { o.ExposedHeaders = []string{"a b"} }, "not a header name"},
		{"max age too long", func(o *Options) { o.MaxAge = 25 * time.Hour }, "max_age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid()
			tt.mutate(&o)
			p, err := New(o)
			if tt.want == "" {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v; want a policy", p, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	p := mustNew(t, Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.org"},
		AllowedMethods:   []string{"GET", "PUT"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           2 * time.Minute,
	})
	tests := []struct {
		name, origin, method, headers string
		allowed                       bool
	}{
		{"allowed", "https://app.example.com", "PUT", "authorization,content-type", true},
		{"no headers announced", "https://app.example.com", "GET", "", true},
		{"origin case", "https://APP.example.com", "GET", "", true},
		{"subdomain", "https://x.y.example.org", "PUT", "", true},
		{"the wildcard's domain itself", "https://example.org", "PUT", "", false},
		{"other origin", "https://evil.example", "PUT", "", false},
		{"method", "https://app.example.com", "DELETE", "", false},
		{"header", "https://app.example.com", "PUT", "x-other", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Origin": {tt.origin}, "Access-Control-Request-Method": {tt.method}}
			if tt.headers != "" {
				h.Set("Access-Control-Request-Headers", tt.headers)
			}
			if !IsPreflight(http.MethodOptions, h) {
				t.Fatal("IsPreflight = false")
			}
			w := httptest.NewRecorder()
			p.Preflight(w, h)
			got := w.Result().Header
			if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Flushed {
				t.Errorf("Preflight wrote an answer (status %d, body %q); it only sets headers", w.Code, w.Body)
			}
			if v := got.Get("Vary"); !strings.Contains(v, "Origin") || !strings.Contains(v, "Access-Control-Request-Method") {
				t.Errorf("Vary = %q", v)
			}
			if !tt.allowed {
				for k := range got {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("%s = %q on a refused preflight", k, got[k])
					}
				}
				return
			}
			want := map[string]string{
				"Access-Control-Allow-Origin":      tt.origin,
				"Access-Control-Allow-Methods":     tt.method,
				"Access-Control-Allow-Headers":     tt.headers,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Max-Age":           "120",
			}
			for k, v := range want {
				if got.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
			if e := got.Get("Access-Control-Expose-Headers"); e != "" {
				t.Errorf("Access-Control-Expose-Headers = %q on a preflight", e)
			}
		})
	}
}

func TestActual(t *testing.T) {
	p := mustNew(t, Options{
		AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET", "POST"},
		AllowedHeaders: []string{"Authorization"}, ExposedHeaders: []string{"www-authenticate", "X-Request-Id"},
		AllowCredentials: true,
	})
	tests := []struct {
		name, method, origin string
		allowed              bool
	}{
		{"allowed", "GET", "https://app.example.com", true},
		{"another allowed method", "POST", "https://app.example.com", true},
		{"method not allowed", "DELETE", "https://app.example.com", false},
		{"origin not allowed", "GET", "https://evil.example", false},
		{"no origin", "GET", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			p.Actual(w, tt.method, h)
			got := w.Header()
			if got.Get("Vary") != "Origin" {
				t.Errorf("Vary = %q, want Origin on every answer", got.Get("Vary"))
			}
			want := map[string]string{}
			if tt.allowed {
				want = map[string]string{
					"Access-Control-Allow-Origin":      tt.origin,
					"Access-Control-Allow-Credentials": "true",
					"Access-Control-Expose-Headers":    "Www-Authenticate, X-Request-Id",
				}
			}
			for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
				"Access-Control-Allow-Methods", "Access-Control-Max-Age"} {
				if got.Get(k) != want[k] {
					t.Errorf("%s = %q, want %q", k, got.Get(k), want[k])
				}
			}
		})
	}

	// A preflight is not an actual request: Actual leaves its answer alone.
	w := httptest.NewRecorder()
	p.Actual(w, http.MethodOptions, http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}})
	if len(w.Header()) != 0 {
		t.Errorf("Actual set %v on a preflight", w.Header())
	}
}

func TestIsPreflight(t *testing.T) {
	for _, tt := range []struct {
		name   string
		method string
		h      http.Header
		want   bool
	}{
		{"preflight", "OPTIONS", http.Header{"Origin": {"https://a.example"}, "Access-Control-Request-Method": {"PUT"}}, true},
		{"no Origin", "OPTIONS", http.Header{"Access-Control-Request-Method": {"PUT"}}, false},
		{"no requested method", "OPTIONS", http.Header{"Origin": {"https://a.example"}}, false},
		{"not OPTIONS", "GET", http.Header{"Origin": {"https://a.example"}, "Access-Control-Request-Method": {"PUT"}}, false},
	} {
		if got := IsPreflight(tt.method, tt.h); got != tt.want {
			t.Errorf("%s: IsPreflight = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStripResponse(t *testing.T) {
	h := http.Header{
		"Access-Control-Allow-Origin":      {"*"},
		"Access-Control-Allow-Credentials": {"true"},
		"access-control-expose-headers":    {"X-Secret"}, // as a handler may set it, not canonical
		"Access-Control-Max-Age":           {"86400"},
		"Vary":                             {"Accept-Encoding"},
		"Access-Control":                   {"kept: not an Access-Control-* header"},
		"Content-Type":                     {"application/json"},
	}
	StripResponse(h)
	if len(h) != 3 || h.Get("Vary") == "" || h.Get("Content-Type") == "" || h.Get("Access-Control") == "" {
		t.Errorf("after StripResponse: %v", h)
	}
}

// FuzzCheckOrigin: an origin CheckOrigin accepts is one a policy built
// with it allows when a browser sends it (exactly, or for a wildcard, with
// a label in the wildcard's place), and is never a value with a path,
// query, fragment or user info.
func FuzzCheckOrigin(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "http://localhost:5173", "http://[::1]:8080", "https://*.example.com",
		"https://*.example.com:8443", "capacitor://localhost", "*", "null", "", "https://a.example/",
		"https://a.example:443", "https://*.com", "http://::1", "https://a..b", "https://a.example?x",
		"HTTPS://A.EXAMPLE", "https://u@a.example", "https://a.example#f", "https://xn--bcher-kva.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckOrigin(s) != nil || s == "*" {
			return
		}
		_, rest, _ := strings.Cut(s, "://")
		if strings.ContainsAny(rest, "/?#@ ") {
			t.Fatalf("CheckOrigin accepted %q, which has more than scheme://host[:port]", s)
		}
		p, err := New(Options{AllowedOrigins: []string{s}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"Accept"}})
		if err != nil {
			t.Fatalf("CheckOrigin accepted %q but New refuses it: %v", s, err)
		}
		sent := strings.Replace(s, "*", "sub", 1)
		w := httptest.NewRecorder()
		p.Actual(w, "GET", http.Header{"Origin": {sent}})
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != sent {
			t.Fatalf("policy of %q: Origin %q gets Access-Control-Allow-Origin %q", s, sent, got)
		}
	})
}
