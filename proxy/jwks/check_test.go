package jwks

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckAlgorithm(t *testing.T) {
	tests := []struct {
		alg     string
		wantErr error
	}{
		{"RS256", nil}, {"RS384", nil}, {"RS512", nil},
		{"PS256", nil}, {"PS384", nil}, {"PS512", nil},
		{"ES256", nil}, {"ES384", nil}, {"ES512", nil},
		{"EdDSA", nil},
		{"HS256", ErrAlgorithm},
		{"none", ErrAlgorithm},
		{"rs256", ErrAlgorithm},
		{"", ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			err := CheckAlgorithm(tt.alg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckAlgorithm(%q) = %v, want %v", tt.alg, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), `"`+tt.alg+`"`) {
				t.Errorf("CheckAlgorithm(%q) = %v, want it to name the algorithm", tt.alg, err)
			}
			// New applies the same rule.
			_, cfgErr := Config{Name: "idp", JWKSURL: "https://idp.example/jwks", Algorithms: []string{tt.alg}}.withDefaults()
			if !errors.Is(cfgErr, tt.wantErr) {
				t.Errorf("Config with %q: %v, want %v", tt.alg, cfgErr, tt.wantErr)
			}
		})
	}
}

func TestAlgorithmsIsACopy(t *testing.T) {
	a := Algorithms()
	if !slices.Equal(a, asymmetricAlgs) {
		t.Fatalf("Algorithms() = %v", a)
	}
	a[0] = "HS256"
	if CheckAlgorithm("HS256") == nil {
		t.Error("changing the result of Algorithms changed what is allowed")
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		raw     string
		wantErr string // "" when valid
	}{
		{"https://idp.example/jwks", ""},
		{"https://idp.example:8443/jwks", ""},
		{"http://127.0.0.1:9/jwks", ""},
		{"http://127.1.2.3/jwks", ""},
		{"http://localhost/jwks", ""},
		{"http://LOCALHOST/jwks", ""},
		{"http://[::1]/jwks", ""},
		{"http://[::ffff:127.0.0.1]/jwks", ""},
		{"http://idp.example/jwks", "loopback"},
		{"http://10.0.0.1/jwks", "loopback"},
		{"http://localhost.evil.example/jwks", "loopback"},
		{"https://user:pw@idp.example/", "credentials"},
		{"ftp://x", "scheme"},
		{"relative", "scheme"},
		{"/jwks", "scheme"},
		{"", "scheme"},
		{"https:///jwks", "no host"},
		{"https://:443/jwks", "no host"},
		{"https://idp.example/%zz", "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			err := CheckURL(tt.raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("CheckURL(%q) = %v, want nil", tt.raw, err)
				}
				return
			}
			if !errors.Is(err, ErrURL) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckURL(%q) = %v, want ErrURL containing %q", tt.raw, err, tt.wantErr)
			}
		})
	}
}

func TestCheckURLHidesPassword(t *testing.T) {
	for _, raw := range []string{
		"https://user:s3cret@idp.example/jwks",
		"https://user:s3cret@idp.example/%zz",
		"http://user:s3cret@idp.example/jwks",
	} {
		err := CheckURL(raw)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("CheckURL(%q) = %v, want an error without the password", raw, err)
		}
	}
}
