package proxy_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/oidc/oidctest"
	"github.com/authgate/authgate/proxy/sqlite"
)

// startKeyOP runs mockoidc behind a token endpoint that accepts only
// private_key_jwt client authentication with registered's key, then lets
// mockoidc (which knows client secrets only) finish the exchange.
func startKeyOP(t *testing.T, registered *ecdsa.PublicKey) *mockoidc.MockOIDC {
	t.Helper()
	var m *mockoidc.MockOIDC
	m = oidctest.Start(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.TokenEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			_ = r.ParseForm()
			f := r.PostForm
			_, err := jwt.Parse(f.Get("client_assertion"), func(*jwt.Token) (any, error) { return registered, nil },
				jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(m.ClientID), jwt.WithSubject(m.ClientID),
				jwt.WithAudience(m.TokenEndpoint()), jwt.WithExpirationRequired())
			if err != nil || f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
				f.Get("client_secret") != "" || r.Header.Get("Authorization") != "" {
				http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
				return
			}
			f.Del("client_assertion")
			f.Del("client_assertion_type")
			f.Set("client_secret", m.ClientSecret)
			body := f.Encode()
			r.Body, r.ContentLength, r.Form, r.PostForm = io.NopCloser(strings.NewReader(body)), int64(len(body)), nil, nil
			next.ServeHTTP(w, r)
		})
	})
	return m
}

func writeKey(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOIDCPrivateKeyJWTThroughGateway: with private_key_file the code
// exchange authenticates with a signed assertion and no secret; a key the
// provider does not know is refused.
func TestOIDCPrivateKeyJWTThroughGateway(t *testing.T) {
	registered, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  *ecdsa.PrivateKey
		want int
	}{
		{"registered key", registered, http.StatusSeeOther},
		{"another key", other, http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t)
			m := startKeyOP(t, &registered.PublicKey)
			yaml := strings.Replace(oidcYAML(m), "    client_secret: "+m.ClientSecret+"\n", "    private_key_file: "+writeKey(t, tc.key)+"\n", 1)
			g := newAccountsGateway(t, yaml, up.URL)
			user := &mockoidc.MockUser{Subject: "kc-alice", Email: "alice@example.com", EmailVerified: true,
				PreferredUsername: "alice", Groups: []string{"staff"}}
			if _, code, body := oidcSignIn(t, g, m, user); code != tc.want {
				t.Errorf("callback: %d %s, want %d", code, body, tc.want)
			}
		})
	}
}

// TestOIDCPrivateKeyFileRefused: a key file that cannot sign stops the
// configuration, naming its key.
func TestOIDCPrivateKeyFileRefused(t *testing.T) {
	m := startMockOP(t)
	dir := t.TempDir()
	for _, tc := range []struct{ name, content string }{
		{"missing", ""},
		{"not a key", "not a key"},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".pem")
			if tc.content != "" {
				if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			yaml := strings.Replace(oidcYAML(m), "    client_secret: "+m.ClientSecret+"\n", "    private_key_file: "+p+"\n", 1)
			store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			_, err = build(t, parseConfig(t, yaml, "http://127.0.0.1:1"), assemble.Options{Store: store})
			if err == nil || !strings.Contains(err.Error(), "providers[0].private_key_file") {
				t.Errorf("err = %v, want one naming providers[0].private_key_file", err)
			}
			if tc.content == "" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("err = %v, want it to wrap os.ErrNotExist", err)
			}
		})
	}
}
