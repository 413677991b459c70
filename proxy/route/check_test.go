package route

import (
	"strings"
	"testing"
)

func TestCheckHost(t *testing.T) {
	tests := []struct {
		pattern string
		wantErr string // "" when valid
	}{
		{"", ""},
		{"example.com", ""},
		{"EXAMPLE.com", ""},
		{"example.com.", ""},
		{"*.example.com", ""},
		{"*.example.com.", ""},
		{"_dmarc.example.com", ""},
		{"xn--bcher-kva.example", ""},
		{"10.0.0.1", ""},
		{"::1", ""},
		{"[::1]", ""},
		{"a..b", "empty label"},
		{"*", "wildcard"},
		{"*.", "wildcard"},
		{"ex*ample.com", "wildcard"},
		{"exa mple.com", "invalid character"},
		{"example.com:80", "ports are not allowed"},
		{"fe80::1%eth0", "zone"},
		{"bücher.example", "xn--"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			err := CheckHost(tt.pattern)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckHost(%q) = %v, want nil", tt.pattern, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckHost(%q) = %v, want an error containing %q", tt.pattern, err, tt.wantErr)
			}
			_, tabErr := NewTable([]Rule{{Prefix: "/", Host: tt.pattern}})
			if (err == nil) != (tabErr == nil) {
				t.Errorf("CheckHost(%q) = %v but NewTable: %v", tt.pattern, err, tabErr)
			}
		})
	}
}

func TestCheckPrefix(t *testing.T) {
	tests := []struct {
		prefix  string
		wantErr string // "" when valid
	}{
		{"/", ""},
		{"/a", ""},
		{"/a/", ""},
		{"/a/b", ""},
		{"", "empty prefix"},
		{"a", "start with"},
		{"/a/../b", "not canonical"},
		{"/a//b", "not canonical"},
		{"/a%2Fb", "decoded"},
		{"/a?b", `"?"`},
		{"/a;b", "path parameters"},
		{"/a;", "path parameters"},
		{"/a./b", `ending with "."`},
		{"/a ", "space"},
		{"/ a/b", "space"},
		{"/a\u3000", "white space"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			err := CheckPrefix(tt.prefix)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckPrefix(%q) = %v, want nil", tt.prefix, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckPrefix(%q) = %v, want an error containing %q", tt.prefix, err, tt.wantErr)
			}
		})
	}
}

func TestHasPrefix(t *testing.T) {
	tests := []struct {
		p, prefix string
		want      bool
	}{
		{"/api", "/api", true},
		{"/api/x", "/api", true},
		{"/api/", "/api", true},
		{"/apix", "/api", false},
		{"/api", "/api/", false},
		{"/api/", "/api/", true},
		{"/api/x", "/api/", true},
		{"/x", "/", true},
		{"/", "/", true},
		{"/", "/api", false},
		{"/api", "", false},
	}
	for _, tt := range tests {
		if got := HasPrefix(tt.p, tt.prefix); got != tt.want {
			t.Errorf("HasPrefix(%q, %q) = %v, want %v", tt.p, tt.prefix, got, tt.want)
		}
	}
}
