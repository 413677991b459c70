package accounts_test

import (
	"strings"
	"testing"

	"github.com/authgate/authgate/proxy/accounts"
)

func TestFoldKey(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"ASCII case", "Alice", "alice", true},
		{"Kelvin sign", "\u212Aate@example.com", "kate@example.com", true},
		{"Kelvin sign upper", "\u212AATE", "kate", true},
		{"fullwidth letters", "\uff4b\uff41\uff54\uff45@example.com", "kate@example.com", true},
		{"sharp s", "stra\u00dfe@example.com", "STRASSE@example.com", true},
		{"final sigma", "\u03bf\u03c2", "\u039f\u03a3", true},
		{"composed and decomposed", "caf\u00e9", "cafe\u0301", true},
		{"ligature", "\ufb01n", "FIN", true},
		{"different names", "alice", "alicf", false},
		{"accent matters", "cafe", "caf\u00e9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := accounts.FoldKey(tt.a), accounts.FoldKey(tt.b)
			if (ka == kb) != tt.same {
				t.Errorf("FoldKey(%q) = %q, FoldKey(%q) = %q, same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
		})
	}
	// For ASCII the fold is the lower case earlier versions stored, so
	// existing keys of ASCII names still match.
	ascii := "The Quick Brown Fox @ Example.COM 0123456789 ._+-"
	if got, want := accounts.FoldKey(ascii), strings.ToLower(ascii); got != want {
		t.Errorf("FoldKey(%q) = %q, want %q", ascii, got, want)
	}
}
