package respond_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/policy"
	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/token"
)

const realm = "authgate"

// detail is internal text wrapped into errors: a kid, a claim value, a
// token fragment. It must never reach the client.
const detail = "kid=Zm9vYmFy sub=alice tenant=s3cr3t eyJhbGciOiJub25lIn0"

func TestDeny(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		msg        string
		challenge  string
		wantReason respond.Reason
	}{
		{
			name: "missing", err: token.ErrMissing, status: http.StatusUnauthorized,
			msg: "authentication required", challenge: `Bearer realm="authgate"`, wantReason: "no_token",
		},
		{
			name: "malformed", err: token.ErrMalformed, status: http.StatusBadRequest, msg: "malformed Authorization header",
			challenge:  `Bearer realm="authgate", error="invalid_request", error_description="malformed Authorization header"`,
			wantReason: "malformed",
		},
		{
			name: "expired", err: token.ErrExpired, status: http.StatusUnauthorized, msg: "token expired",
			challenge:  `Bearer realm="authgate", error="invalid_token", error_description="token expired"`,
			wantReason: "expired",
		},
		{
			name: "invalid", err: token.ErrInvalid, status: http.StatusUnauthorized, msg: "invalid token",
			challenge:  `Bearer realm="authgate", error="invalid_token", error_description="invalid token"`,
			wantReason: "invalid",
		},
		{
			name: "forbidden", err: policy.ErrForbidden, status: http.StatusForbidden, msg: "insufficient permissions",
			challenge:  `Bearer realm="authgate", error="insufficient_scope", error_description="insufficient permissions"`,
			wantReason: "forbidden",
		},
		{
			name: "unknown error fails closed", err: errors.New("database is down"), status: http.StatusUnauthorized, msg: "invalid token",
			challenge:  `Bearer realm="authgate", error="invalid_token", error_description="invalid token"`,
			wantReason: "invalid",
		},
		{
			name: "nil error fails closed", err: nil, status: http.StatusUnauthorized, msg: "invalid token",
			challenge:  `Bearer realm="authgate", error="invalid_token", error_description="invalid token"`,
			wantReason: "invalid",
		},
	}
	for _, tt := range tests {
		wrappings := map[string]error{
			"bare":          tt.err,
			"wrapped":       fmt.Errorf("%w: %s", tt.err, detail),
			"double":        fmt.Errorf("gateway: %w", fmt.Errorf("%w: %s", tt.err, detail)),
			"joined detail": fmt.Errorf("%w: %w", tt.err, errors.New(detail)),
		}
		for wname, err := range wrappings {
			if tt.err == nil && wname != "bare" {
				continue
			}
			t.Run(tt.name+"/"+wname, func(t *testing.T) {
				rec := httptest.NewRecorder()
				d := respond.Deny(rec, realm, err)
				res := rec.Result()

				if res.StatusCode != tt.status || d.Status != tt.status {
					t.Errorf("status = %d (Denial %d), want %d", res.StatusCode, d.Status, tt.status)
				}
				if d.Reason != tt.wantReason || d.Message != tt.msg {
					t.Errorf("Denial = %+v, want reason %q, message %q", d, tt.wantReason, tt.msg)
				}
				if got := res.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != tt.challenge {
					t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
				}
				if got := res.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", got)
				}
				if got := res.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", got)
				}
				if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
				}

				body := rec.Body.String()
				want, _ := json.Marshal(map[string]string{"error": tt.msg})
				if body != string(want)+"\n" {
					t.Errorf("body = %q, want %q", body, want)
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil || len(m) != 1 || m["error"] != tt.msg {
					t.Errorf("body = %q (%v), want exactly {\"error\": %q}", body, err, tt.msg)
				}

				// Internal detail reaches neither body nor headers.
				for _, word := range strings.Fields(detail) {
					if strings.Contains(body, word) {
						t.Errorf("body %q leaks %q", body, word)
					}
					for name, vals := range res.Header {
						for _, v := range vals {
							if strings.Contains(v, word) {
								t.Errorf("header %s: %q leaks %q", name, v, word)
							}
						}
					}
				}
			})
		}
	}
}

// TestDenialForPrecedence: an error wrapping several sentinels is answered
// by the first row of the table; policy errors never hide a token error.
func TestDenialForPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		reason respond.Reason
	}{
		{"expired and forbidden", errors.Join(policy.ErrForbidden, token.ErrExpired), http.StatusUnauthorized, "expired"},
		{"invalid and forbidden", errors.Join(policy.ErrForbidden, token.ErrInvalid), http.StatusUnauthorized, "invalid"},
		{"malformed and invalid", errors.Join(token.ErrInvalid, token.ErrMalformed), http.StatusBadRequest, "malformed"},
		{"expired and invalid", errors.Join(token.ErrInvalid, token.ErrExpired), http.StatusUnauthorized, "expired"},
		{"text of a sentinel is not the sentinel", errors.New(policy.ErrForbidden.Error()), http.StatusUnauthorized, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := respond.DenialFor(tt.err)
			if d.Status != tt.status || d.Reason != tt.reason {
				t.Errorf("DenialFor() = %+v, want status %d reason %q", d, tt.status, tt.reason)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	tests := []struct {
		name                    string
		realm, code, desc, want string
	}{
		{"bare", "api", "", "ignored", `Bearer realm="api"`},
		{"with error", "api", "invalid_token", "token expired", `Bearer realm="api", error="invalid_token", error_description="token expired"`},
		{"empty realm", "", "", "", `Bearer realm=""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := respond.Challenge(tt.realm, tt.code, tt.desc); got != tt.want {
				t.Errorf("Challenge() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONAndError(t *testing.T) {
	tests := []struct {
		name   string
		write  func(http.ResponseWriter)
		status int
		body   string
	}{
		{"error", func(w http.ResponseWriter) { respond.Error(w, http.StatusTooManyRequests, "slow down") },
			http.StatusTooManyRequests, `{"error":"slow down"}` + "\n"},
		{"error escapes HTML", func(w http.ResponseWriter) { respond.Error(w, http.StatusBadRequest, "<script>") },
			http.StatusBadRequest, `{"error":"\u003cscript\u003e"}` + "\n"},
		{"json", func(w http.ResponseWriter) { respond.JSON(w, http.StatusOK, map[string]int{"n": 1}) },
			http.StatusOK, `{"n":1}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.write(rec)
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
			if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers = %v", rec.Header())
			}
		})
	}
}
