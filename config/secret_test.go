package config

import (
	"strings"
	"testing"
)

// testHMACSecret is 'openssl rand -base64 48' output.
const testHMACSecret = "q3VbJ0m8yqk1sN2Zr4mXc7Hj9LpT6eWdQfGa0uYiKoBvR5tEnC8xS1hD2lP3wM4z"

func TestHMACSecretStrength(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		want   string // "" when accepted
	}{
		{"openssl rand -base64 48", testHMACSecret, ""},
		{"openssl rand -base64 32", "3q2+7wAbCdEfGhIjKlMnOpQrStUvWxYz0123456789k=", ""},
		{"openssl rand -hex 32", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ""},
		{"hex with few digits used", "0a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1f", ""},
		{"too short", "short-secret", "at least 32 bytes"},
		{"31 random bytes", testHMACSecret[:31], "at least 32 bytes"},
		{"one character repeated", strings.Repeat("k", 32), "short pattern repeated"},
		{"short pattern repeated", strings.Repeat("abc", 11), "short pattern repeated"},
		{"word repeated", strings.Repeat("password", 4), "short pattern repeated"},
		{"word repeated, cut short", strings.Repeat("correcthorse", 3)[:33], "short pattern repeated"},
		{"half repeated", strings.Repeat("0123456789abcdefghij", 2), "short pattern repeated"},
		{"password padded", "password1234password5678password", "too few different characters"},
		{"alphabet repeated, cut short", "abcdefghijklmnoabcdefghijklmnoab", "short pattern repeated"},
		{"32 bytes, 15 different, not periodic", "aabbccddeeffgghhiijjkkllmmnnooaa", "too few different characters"},
		{"hex of 16 bytes", "5d41402abc4b2a76b9719d911017c592", "too few different characters"},
		{"67 bytes, 11 different", strings.Repeat("0123456789a", 5) + "a9876543210a", "too few different characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Tokens.SigningKey = ""
			c.Tokens.HMACSecret = tt.secret
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "tokens.hmac_secret") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want tokens.hmac_secret %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) || strings.Contains(err.Error(), tt.secret[:8]) {
				t.Errorf("the error shows the secret: %v", err)
			}
			if !strings.Contains(err.Error(), "openssl rand -base64 48") {
				t.Errorf("the error does not say how to make a secret: %v", err)
			}
		})
	}
}
