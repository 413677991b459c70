package headers

import (
	"net/http"
	"testing"
)

func TestStripRemovesEveryAlias(t *testing.T) {
	set := NewSet("X-Auth-Subject", "X-Auth-Roles")
	tests := []struct {
		name   string
		header string
		strip  bool
	}{
		{"canonical", "X-Auth-Subject", true},
		{"lower case kept as written", "x-auth-subject", true},
		{"underscores", "X_Auth_Subject", true},
		{"dots", "X.Auth.Subject", true},
		{"mixed", "x_AUTH-subJECT", true},
		{"other identity header", "X-Auth-Roles", true},
		{"unrelated", "X-Auth-Subjects", false},
		{"prefix only", "X-Auth", false},
		{"content type", "Content-Type", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			// Set the map directly: Header.Set would canonicalise the name,
			// and the point is to see names exactly as a client sent them.
			h[tt.header] = []string{"forged"}
			set.Strip(h)
			_, present := h[tt.header]
			if present == tt.strip {
				t.Errorf("header %q present after Strip = %v, want %v", tt.header, present, !tt.strip)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"X-Auth-Subject", "xauthsubject"},
		{"x_auth_subject", "xauthsubject"},
		{"X.AUTH.SUBJECT", "xauthsubject"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidValue(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"alice", true},
		{"admin,user", true},
		{"with\ttab", true},
		{"naïve unicode", true},
		{"a\r\nX-Injected: 1", false},
		{"a\nb", false},
		{"nul\x00", false},
		{"del\x7f", false},
	}
	for _, tt := range tests {
		if got := ValidValue(tt.v); got != tt.want {
			t.Errorf("ValidValue(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestStripDoesNotAllocate(t *testing.T) {
	set := NewSet("X-Auth-Subject", "X-Auth-Username", "X-Auth-Email", "X-Auth-Roles")
	h := http.Header{
		"Accept":          {"*/*"},
		"User-Agent":      {"test"},
		"Content-Type":    {"application/json"},
		"X-Request-Id":    {"1"},
		"Accept-Encoding": {"gzip"},
	}
	allocs := testing.AllocsPerRun(100, func() { set.Strip(h) })
	if allocs != 0 {
		t.Errorf("Strip allocated %v times per run, want 0", allocs)
	}
}
