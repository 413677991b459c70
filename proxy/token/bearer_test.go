package token_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/token"
)

func TestFromHeader(t *testing.T) {
	const jwtLike = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"
	long := strings.Repeat("a", token.MaxTokenBytes)
	tests := []struct {
		name    string
		values  []string // Authorization header values; nil: no header
		want    string
		wantErr error
	}{
		{name: "no header", values: nil, wantErr: token.ErrMissing},
		{name: "empty list", values: []string{}, wantErr: token.ErrMissing},
		{name: "basic scheme", values: []string{"Basic dXNlcjpwYXNz"}, wantErr: token.ErrMissing},
		{name: "digest scheme", values: []string{`Digest username="x"`}, wantErr: token.ErrMissing},
		{name: "scheme without credentials", values: []string{"Negotiate"}, wantErr: token.ErrMissing},
		{name: "other scheme, several spaces", values: []string{"Basic   dXNlcjpwYXNz"}, wantErr: token.ErrMissing},

		{name: "bearer", values: []string{"Bearer " + jwtLike}, want: jwtLike},
		{name: "lower-case scheme", values: []string{"bearer " + jwtLike}, want: jwtLike},
		{name: "upper-case scheme", values: []string{"BEARER abc"}, want: "abc"},
		{name: "several spaces", values: []string{"Bearer    " + jwtLike}, want: jwtLike},
		{name: "all token68 characters", values: []string{"Bearer az-AZ.09_~+/"}, want: "az-AZ.09_~+/"},
		{name: "one padding character", values: []string{"Bearer abc="}, want: "abc="},
		{name: "two padding characters", values: []string{"Bearer ab=="}, want: "ab=="},
		{name: "exactly MaxTokenBytes", values: []string{"Bearer " + long}, want: long},

		{name: "empty header", values: []string{""}, wantErr: token.ErrMalformed},
		{name: "leading space", values: []string{" Bearer abc"}, wantErr: token.ErrMalformed},
		{name: "scheme only", values: []string{"Bearer"}, wantErr: token.ErrMalformed},
		{name: "scheme and space", values: []string{"Bearer "}, wantErr: token.ErrMalformed},
		{name: "scheme and spaces", values: []string{"Bearer    "}, wantErr: token.ErrMalformed},
		{name: "two tokens", values: []string{"Bearer a b"}, wantErr: token.ErrMalformed},
		{name: "trailing space", values: []string{"Bearer abc "}, wantErr: token.ErrMalformed},
		{name: "tab inside", values: []string{"Bearer a\tb"}, wantErr: token.ErrMalformed},
		{name: "comma", values: []string{"Bearer a,b"}, wantErr: token.ErrMalformed},
		{name: "quote", values: []string{`Bearer "abc"`}, wantErr: token.ErrMalformed},
		{name: "newline", values: []string{"Bearer abc\ndef"}, wantErr: token.ErrMalformed},
		{name: "NUL", values: []string{"Bearer abc\x00"}, wantErr: token.ErrMalformed},
		{name: "non-ASCII", values: []string{"Bearer abcé"}, wantErr: token.ErrMalformed},
		{name: "auth-param syntax", values: []string{"Bearer token=abc"}, wantErr: token.ErrMalformed},
		{name: "padding only", values: []string{"Bearer ="}, wantErr: token.ErrMalformed},
		{name: "padding first", values: []string{"Bearer =abc"}, wantErr: token.ErrMalformed},
		{name: "padding in the middle", values: []string{"Bearer ab=c"}, wantErr: token.ErrMalformed},
		{name: "character after padding", values: []string{"Bearer abc==d"}, wantErr: token.ErrMalformed},
		// Loose spellings of a bearer token are malformed, never "no token".
		{name: "scheme prefix only", values: []string{"Bearerx abc"}, wantErr: token.ErrMalformed},
		{name: "scheme glued to token", values: []string{"Bearer" + jwtLike}, wantErr: token.ErrMalformed},
		{name: "token without scheme", values: []string{jwtLike}, wantErr: token.ErrMalformed},
		{name: "scheme joined by tab", values: []string{"Bearer\tabc"}, wantErr: token.ErrMalformed},
		{name: "lower-case scheme joined by tab", values: []string{"bearer\tabc"}, wantErr: token.ErrMalformed},
		{name: "space and tab", values: []string{"Bearer \tabc"}, wantErr: token.ErrMalformed},
		{name: "scheme and tab", values: []string{"Bearer\t"}, wantErr: token.ErrMalformed},
		{name: "trailing tab", values: []string{"Bearer abc\t"}, wantErr: token.ErrMalformed},
		{name: "leading tab", values: []string{"\tBearer abc"}, wantErr: token.ErrMalformed},
		{name: "scheme joined by comma", values: []string{"Bearer,abc"}, wantErr: token.ErrMalformed},
		{name: "scheme joined by colon", values: []string{"Bearer:abc"}, wantErr: token.ErrMalformed},
		{name: "other scheme joined by tab", values: []string{"Basic\tdXNlcjpwYXNz"}, wantErr: token.ErrMalformed},
		{name: "other scheme, trailing space", values: []string{"Basic dXNlcjpwYXNz "}, wantErr: token.ErrMalformed},
		{name: "other scheme, leading space", values: []string{" Basic dXNlcjpwYXNz"}, wantErr: token.ErrMalformed},
		{name: "two headers", values: []string{"Bearer abc", "Bearer abc"}, wantErr: token.ErrMalformed},
		{name: "two headers other scheme", values: []string{"Basic x", "Bearer abc"}, wantErr: token.ErrMalformed},

		{name: "one byte over MaxTokenBytes", values: []string{"Bearer " + long + "a"}, wantErr: token.ErrInvalid},
		{name: "oversize with padding", values: []string{"Bearer " + long + "="}, wantErr: token.ErrInvalid},
		{name: "oversize before charset", values: []string{"Bearer " + long + " x"}, wantErr: token.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.values != nil {
				h["Authorization"] = tt.values
			}
			got, err := token.FromHeader(h)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("FromHeader() error = %v, want %v", err, tt.wantErr)
				}
				if s := sentinel(t, err); s != tt.wantErr {
					t.Fatalf("FromHeader() error wraps %v, want only %v", s, tt.wantErr)
				}
				if got != "" {
					t.Errorf("FromHeader() = %q with an error, want empty", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromHeader() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("FromHeader() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFromHeaderOnlyAuthorization: a token is never taken from anywhere but
// the Authorization header (RFC 6750 §2.1; security.md 14).
func TestFromHeaderOnlyAuthorization(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
	}{
		{"proxy-authorization", http.Header{"Proxy-Authorization": {"Bearer abc"}}},
		{"x-access-token", http.Header{"X-Access-Token": {"abc"}}},
		{"non-canonical key", http.Header{"authorization": {"Bearer abc"}}},
		{"cookie", http.Header{"Cookie": {"access_token=abc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := token.FromHeader(tt.h); !errors.Is(err, token.ErrMissing) {
				t.Fatalf("FromHeader() error = %v, want ErrMissing", err)
			}
		})
	}
}

// TestFromHeaderErrorHidesToken: the error detail is logged; it must never
// carry the credential.
func TestFromHeaderErrorHidesToken(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	for _, v := range []string{
		"Bearer " + secret + " extra",
		"Bearer " + secret + "\"",
		"Bearer " + secret + strings.Repeat("x", token.MaxTokenBytes),
		"Basic " + secret,
	} {
		_, err := token.FromHeader(http.Header{"Authorization": {v}})
		if err == nil {
			t.Fatalf("FromHeader(%.20q) succeeded", v)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains the token", err)
		}
	}
}
