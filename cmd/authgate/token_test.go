package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

// TestTokenVerifiesIndependently verifies a token printed by "token" with
// golang-jwt directly, not with authgate's verifier.
func TestTokenVerifiesIndependently(t *testing.T) {
	tests := []struct {
		name string
		alg  string
	}{
		{name: "EdDSA", alg: keys.EdDSA},
		{name: "ES256", alg: keys.ES256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			keyPath := filepath.Join(dir, "k.pem")
			genKey(t, keyPath, tt.alg)
			cfg := writeFile(t, dir, "authgate.yaml", testConfig{}.yaml())

			stdout, stderr, err := runCmd(t, "token", "-config", cfg, "-sub", "alice",
				"-claim", "preferred_username=alice", "-claim", "roles=admin", "-claim", "roles=user",
				"-claim", "n=42", "-ttl", "5m")
			if err != nil {
				t.Fatalf("token: %v\nstderr: %s", err, stderr)
			}
			lines := nonEmptyLines(stdout)
			if len(lines) != 1 || !strings.HasSuffix(stdout, "\n") {
				t.Fatalf("stdout = %q, want exactly one line", stdout)
			}
			raw := lines[0]
			parts := strings.Split(raw, ".")
			if len(parts) != 3 {
				t.Fatalf("token %q does not have three parts", raw)
			}

			key, err := keys.LoadFile(keyPath)
			if err != nil {
				t.Fatal(err)
			}

			// The header, decoded by hand.
			hdrJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
			if err != nil {
				t.Fatalf("header: %v", err)
			}
			var hdr map[string]any
			if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
				t.Fatalf("header: %v", err)
			}
			wantHdr := map[string]any{"alg": tt.alg, "typ": "at+jwt", "kid": key.ID}
			if !reflect.DeepEqual(hdr, wantHdr) {
				t.Errorf("header = %v, want %v", hdr, wantHdr)
			}

			// The signature and registered claims, checked by golang-jwt.
			claims := jwt.MapClaims{}
			parser := jwt.NewParser(
				jwt.WithValidMethods([]string{tt.alg}),
				jwt.WithIssuer(testIssuer),
				jwt.WithAudience(testAudience),
				jwt.WithExpirationRequired(),
				jwt.WithIssuedAt(),
			)
			tok, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
				return key.VerificationKey(), nil
			})
			if err != nil || !tok.Valid {
				t.Fatalf("golang-jwt rejected the token: %v", err)
			}

			// The payload, decoded by hand so numbers stay JSON numbers.
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]json.RawMessage
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			for claim, want := range map[string]string{
				"sub":                `"alice"`,
				"iss":                `"` + testIssuer + `"`,
				"aud":                `"` + testAudience + `"`,
				"preferred_username": `"alice"`,
				"roles":              `["admin","user"]`,
				"n":                  `42`,
			} {
				if got := string(c[claim]); got != want {
					t.Errorf("claim %s = %s, want %s", claim, got, want)
				}
			}
			var iat, exp int64
			if err := json.Unmarshal(c["iat"], &iat); err != nil {
				t.Errorf("iat %s: %v", c["iat"], err)
			}
			if err := json.Unmarshal(c["exp"], &exp); err != nil {
				t.Errorf("exp %s: %v", c["exp"], err)
			}
			if exp-iat != 300 {
				t.Errorf("exp-iat = %d, want 300", exp-iat)
			}
			if now := time.Now().Unix(); iat > now || iat < now-60 {
				t.Errorf("iat = %d, now is %d", iat, now)
			}
			var jti string
			if err := json.Unmarshal(c["jti"], &jti); err != nil || jti == "" {
				t.Errorf("jti = %s, want a non-empty string", c["jti"])
			}
		})
	}
}

func TestTokenDefaultTTL(t *testing.T) {
	dir := t.TempDir()
	cfg := writeValidConfig(t, dir, testConfig{}) // access_ttl: 10m
	stdout, _, err := runCmd(t, "token", "-config", cfg, "-sub", "bob")
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(stdout), claims); err != nil {
		t.Fatal(err)
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if iat == nil || exp == nil || exp.Sub(iat.Time) != 10*time.Minute {
		t.Errorf("iat = %v, exp = %v, want 10m apart (tokens.access_ttl)", iat, exp)
	}
	if _, ok := claims["roles"]; ok {
		t.Error("token without -claim has a roles claim")
	}
}

func TestTokenFails(t *testing.T) {
	tests := []struct {
		name      string
		args      []string // after "token -config CFG"
		wantUsage bool
		wantIs    error
		wantMsg   string
	}{
		{name: "missing -sub", args: nil, wantUsage: true, wantMsg: "-sub is required"},
		{name: "ttl over 24h", args: []string{"-sub", "alice", "-ttl", "25h"}, wantUsage: true, wantMsg: "-ttl"},
		{name: "negative ttl", args: []string{"-sub", "alice", "-ttl", "-1m"}, wantUsage: true, wantMsg: "-ttl"},
		{name: "claim without value", args: []string{"-sub", "alice", "-claim", "novalue"}, wantUsage: true, wantMsg: "novalue"},
		{name: "claim without key", args: []string{"-sub", "alice", "-claim", "=x"}, wantUsage: true, wantMsg: "key=value"},
		{name: "reserved claim sub", args: []string{"-sub", "alice", "-claim", "sub=x"}, wantIs: token.ErrReservedClaim, wantMsg: "sub"},
		{name: "reserved claim exp", args: []string{"-sub", "alice", "-claim", "exp=1"}, wantIs: token.ErrReservedClaim, wantMsg: "exp"},
	}
	dir := t.TempDir()
	cfg := writeValidConfig(t, dir, testConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"token", "-config", cfg}, tt.args...)
			stdout, _, err := runCmd(t, args...)
			if err == nil {
				t.Fatalf("token succeeded: %q", stdout)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want no token", stdout)
			}
			if got := errors.Is(err, errUsage); got != tt.wantUsage {
				t.Errorf("errors.Is(err, errUsage) = %v, want %v (err: %v)", got, tt.wantUsage, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}

	t.Run("missing -config", func(t *testing.T) {
		_, _, err := runCmd(t, "token", "-sub", "alice")
		if !errors.Is(err, errUsage) {
			t.Errorf("err = %v, want a usage error", err)
		}
	})
	t.Run("missing signing key", func(t *testing.T) {
		cfg := writeFile(t, t.TempDir(), "authgate.yaml", testConfig{signingKey: "missing.pem"}.yaml())
		_, _, err := runCmd(t, "token", "-config", cfg, "-sub", "alice")
		if err == nil || !strings.Contains(err.Error(), "tokens.signing_key") {
			t.Errorf("err = %v, want it to name tokens.signing_key", err)
		}
	})
}
