package jwks

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestDiscovery(t *testing.T) {
	k := keys(t)
	tok := sign(t, jwt.SigningMethodES256, k.ecA, "a")
	jwksSrv := newJWKSServer(t, pubJWK(t, k.ecA, "a"))

	tests := []struct {
		name     string
		trailing bool   // configure the issuer with a trailing slash
		issuer   string // the document's issuer; "" for the server's own
		jwksURI  string // "" for jwksSrv
		wantErr  string // "" when keys must arrive
	}{
		{name: "good"},
		{name: "issuer with trailing slash", trailing: true},
		{name: "issuer mismatch", issuer: "https://evil.example", wantErr: `names issuer "https://evil.example"`},
		{name: "jwks_uri over http to a remote host", jwksURI: "http://idp.example/jwks", wantErr: "http is allowed only for loopback hosts"},
		{name: "jwks_uri with another scheme", jwksURI: "file:///etc/passwd", wantErr: "scheme must be https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var paths []string
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.URL.Path)
				mu.Unlock()
				issuer := tt.issuer
				if issuer == "" {
					issuer = srv.URL
					if tt.trailing {
						issuer += "/"
					}
				}
				uri := tt.jwksURI
				if uri == "" {
					uri = jwksSrv.url()
				}
				if r.URL.Path != discoveryPath {
					http.NotFound(w, r)
					return
				}
				json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": uri})
			}))
			defer srv.Close()
			cfg := testConfig("", "ES256")
			cfg.Issuer, cfg.Discovery = srv.URL, true
			if tt.trailing {
				cfg.Issuer += "/"
			}
			src := newSource(t, cfg)
			if tt.wantErr == "" {
				eventually(t, "keys arrive", func() bool { return src.Status().HasKeys })
				if err := verify(src, tok); err != nil {
					t.Error(err)
				}
			} else {
				eventually(t, "the failure is reported", func() bool { return src.Status().LastError != "" })
				if st := src.Status(); st.HasKeys || !strings.Contains(st.LastError, tt.wantErr) {
					t.Errorf("Status = %+v, want no keys and an error containing %q", st, tt.wantErr)
				}
				if err := verify(src, tok); !errors.Is(err, ErrNoKeys) {
					t.Errorf("verify: %v, want ErrNoKeys", err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range paths {
				if p != discoveryPath {
					t.Errorf("requested %q, want only %q", p, discoveryPath)
				}
			}
		})
	}
}

func TestDiscoveryURL(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://idp.example":                "https://idp.example/.well-known/openid-configuration",
		"https://idp.example/":               "https://idp.example/.well-known/openid-configuration",
		"https://idp.example/realms/corp":    "https://idp.example/realms/corp/.well-known/openid-configuration",
		"https://login.example/tenant/v2.0/": "https://login.example/tenant/v2.0/.well-known/openid-configuration",
	} {
		if got := discoveryURL(issuer); got != want {
			t.Errorf("discoveryURL(%q) = %q, want %q", issuer, got, want)
		}
	}
}
