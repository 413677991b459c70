package password

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPolicyCheck(t *testing.T) {
	tests := []struct {
		name     string
		min      int
		password string
		want     error
		wantMsg  string
	}{
		{"default min, 8 ascii", 0, "abcdefgh", nil, ""},
		{"default min, 7 ascii", 0, "abcdefg", ErrTooShort, "password must be at least 8 characters"},
		{"empty", 0, "", ErrTooShort, "password must be at least 8 characters"},
		// 7 code points in 14 bytes: counted as 7.
		{"7 code points, 14 bytes", 8, "ééééééé", ErrTooShort, "password must be at least 8 characters"},
		{"8 code points, 16 bytes", 8, "éééééééé", nil, ""},
		// é written as e + combining acute is 14 code points as typed, but
		// NFKC composes it back to 7.
		{"decomposed counted after NFKC", 8, strings.Repeat("e\u0301", 7), ErrTooShort, "password must be at least 8 characters"},
		// The ligature ﬁ becomes "fi": 4 code points typed, 8 after NFKC.
		{"ligature counted after NFKC", 8, "ﬁﬁﬁﬁ", nil, ""},
		{"emoji", 8, strings.Repeat("🔑", 8), nil, ""},
		{"no composition rules", 8, "aaaaaaaa", nil, ""},
		{"spaces count", 8, "a b c d ", nil, ""},
		{"min 1", 1, "x", nil, ""},
		{"min 12", 12, "elevenchars", ErrTooShort, "password must be at least 12 characters"},
		{"min 64, 64 code points", 64, strings.Repeat("z", 64), nil, ""},
		{"min 64, 63 code points", 64, strings.Repeat("z", 63), ErrTooShort, "password must be at least 64 characters"},
		{"min 100 capped, 64 accepted", 100, strings.Repeat("ж", 64), nil, ""},
		{"negative min is default", -3, "abcdefg", ErrTooShort, "password must be at least 8 characters"},
		{"1024 bytes", 8, strings.Repeat("a", 1024), nil, ""},
		{"1025 bytes", 8, strings.Repeat("a", 1025), ErrTooLong, ErrTooLong.Error()},
		{"1026 bytes in 2-byte runes", 8, strings.Repeat("é", 513), ErrTooLong, ErrTooLong.Error()},
		{"256 four-byte code points", 8, strings.Repeat("🔑", 256), nil, ""},
		{"huge", 8, strings.Repeat("a", 1<<20), ErrTooLong, ErrTooLong.Error()},
		// 800 bytes typed, but NFKC expands U+FDFA to 18 code points.
		{"NFKC expansion past cap", 8, strings.Repeat("\ufdfa", 100), ErrTooLong, ErrTooLong.Error()},
		// Decomposed Hangul is 9 bytes a syllable, composed 3: 1350 bytes
		// typed, 450 hashed. Accepted, as the composed form would be.
		{"decomposed form over 1024 bytes", 8, strings.Repeat("\u1112\u1161\u11ab", 150), nil, ""},
		{"NUL", 8, "password\x00", ErrInvalid, ErrInvalid.Error()},
		{"only NUL", 8, "\x00", ErrInvalid, ErrInvalid.Error()},
		{"invalid UTF-8", 8, "password\xff", ErrInvalid, ErrInvalid.Error()},
		{"lone surrogate", 8, "password\xed\xa0\x80", ErrInvalid, ErrInvalid.Error()},
		{"overlong encoding", 8, "password\xc0\xaf", ErrInvalid, ErrInvalid.Error()},
		{"tab", 8, "pass\tword", ErrInvalid, controlMsg},
		{"escape", 8, "password\x1b[0m", ErrInvalid, controlMsg},
		{"DEL", 8, "password\x7f", ErrInvalid, controlMsg},
		{"C1 control", 8, "password\u0085", ErrInvalid, controlMsg},
		{"replacement character", 8, "password\ufffd", ErrInvalid, controlMsg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Policy{MinLength: tt.min}.Check(tt.password)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Check(%.20q) = %v, want %v", tt.password, err, tt.want)
			}
			if err != nil && err.Error() != tt.wantMsg {
				t.Errorf("message %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

const controlMsg = "password must not contain control characters or U+FFFD (text that was not valid UTF-8)"

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"short is usable", "a", nil},
		{"control character is usable", "pass\tword", nil},
		{"NUL", "pass\x00word", ErrInvalid},
		{"invalid UTF-8", "pass\xffword", ErrInvalid},
		{"1025 bytes", strings.Repeat("a", 1025), ErrTooLong},
		{"NFKC expansion past cap", strings.Repeat("\ufdfa", 100), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Validate(tt.password); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Validate(%.20q) = %v, want %v", tt.password, err, tt.want)
			}
		})
	}
}

func TestPolicyFixture(t *testing.T) {
	// Guard the fixtures above against editors that normalise source.
	if s := "ééééééé"; utf8.RuneCountInString(s) != 7 || len(s) != 14 {
		t.Fatalf("fixture %q is %d code points in %d bytes", s, utf8.RuneCountInString(s), len(s))
	}
	if s := "ﬁ"; s != "\ufb01" {
		t.Fatalf("fixture %q is not U+FB01", s)
	}
}

func TestZeroPolicy(t *testing.T) {
	var p Policy
	if err := p.Check(strings.Repeat("a", 8)); err != nil {
		t.Errorf("zero Policy rejected 8 characters: %v", err)
	}
	if err := p.Check(strings.Repeat("a", 7)); !errors.Is(err, ErrTooShort) {
		t.Errorf("zero Policy accepted 7 characters: %v", err)
	}
}
