package password

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

func TestHashVerify(t *testing.T) {
	h := newTestHasher(t)
	tests := []struct {
		name     string
		password string
		wrong    string
	}{
		{"ascii", "correct horse battery staple", "correct horse battery stapler"},
		{"one character off", "hunter2hunter2", "hunter2hunter3"},
		{"cyrillic", "пароль-пароль", "пароль-паролЬ"},
		{"emoji", strings.Repeat("🔑", 64), strings.Repeat("🔑", 63)},
		{"spaces kept", "  leading and trailing  ", "leading and trailing"},
		{"max bytes", strings.Repeat("a", MaxBytes), strings.Repeat("a", MaxBytes-1) + "b"},
		{"empty", "", " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded, err := h.Hash(t.Context(), tt.password)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			match, rehash, err := h.Verify(t.Context(), tt.password, encoded)
			if err != nil || !match || rehash {
				t.Errorf("Verify(right) = %v, %v, %v; want true, false, nil", match, rehash, err)
			}
			match, rehash, err = h.Verify(t.Context(), tt.wrong, encoded)
			if err != nil || match || rehash {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", match, rehash, err)
			}
		})
	}
}

var phcShape = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashFormat(t *testing.T) {
	h := newTestHasher(t)
	a, err := h.Hash(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{a, b} {
		if !phcShape.MatchString(s) {
			t.Errorf("%q does not have the shape %v", s, phcShape)
		}
		got, err := parsePHC(s)
		if err != nil {
			t.Fatalf("parsePHC(%q): %v", s, err)
		}
		if got.params != DefaultParams() || len(got.salt) != 16 || len(got.key) != 32 {
			t.Errorf("parsed %+v, %d-byte salt, %d-byte key", got.params, len(got.salt), len(got.key))
		}
		if got.String() != s {
			t.Errorf("re-encoded as %q", got.String())
		}
	}
	if a == b {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

// Reference vectors. The argon2id one is from the reference
// implementation's test suite (phc-winner-argon2 src/test.c, version 0x13:
// password "password", salt "somesalt", m=65536, t=2, p=1, 32-byte key).
// The argon2i one is the example in the reference README
// (echo -n password | argon2 somesalt -t 2 -m 16 -p 4 -l 24).
const (
	refArgon2id = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	refArgon2i  = "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
	// relabelled is refArgon2i's key under argon2id parameters, a string
	// sometimes quoted as an argon2id example. It is well formed but is
	// not the argon2id hash of "password".
	relabelled = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
)

func TestReferenceVectors(t *testing.T) {
	h := newTestHasher(t)
	tests := []struct {
		name       string
		password   string
		encoded    string
		wantMatch  bool
		wantRehash bool
		wantErr    error
	}{
		// Stronger memory than DefaultParams, but the 8-byte salt is
		// shorter than the 16 bytes Hash uses, so it is rehashed.
		{"reference argon2id", "password", refArgon2id, true, true, nil},
		{"reference argon2id, wrong password", "Password", refArgon2id, false, false, nil},
		{"argon2i refused", "password", refArgon2i, false, false, ErrMalformedHash},
		{"argon2i key relabelled as argon2id", "password", relabelled, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			match, rehash, err := h.Verify(t.Context(), tt.password, tt.encoded)
			if !errors.Is(err, tt.wantErr) || match != tt.wantMatch || rehash != tt.wantRehash {
				t.Errorf("Verify = %v, %v, %v; want %v, %v, %v",
					match, rehash, err, tt.wantMatch, tt.wantRehash, tt.wantErr)
			}
		})
	}

	// The README's key really is argon2i with 4 lanes, so the relabelled
	// string fails above because it is mislabelled, not because of a bug.
	key := argon2.Key([]byte("password"), []byte("somesalt"), 2, 65536, 4, 24)
	if got := base64.RawStdEncoding.EncodeToString(key); !strings.HasSuffix(refArgon2i, "$"+got) {
		t.Errorf("argon2i reference key %s not reproduced", got)
	}
}

func TestNeedsRehash(t *testing.T) {
	def := DefaultParams()
	stronger := Params{Memory: 65536, Time: 3, Threads: 1}
	tests := []struct {
		name    string
		current Params
		stored  Params
		saltLen int
		keyLen  uint32
		want    bool
	}{
		{"current", def, def, 16, 32, false},
		{"m=4096", def, Params{Memory: 4096, Time: 2, Threads: 1}, 16, 32, true},
		{"t=1", def, Params{Memory: 19456, Time: 1, Threads: 1}, 16, 32, true},
		{"more memory kept", def, Params{Memory: 65536, Time: 2, Threads: 1}, 16, 32, false},
		{"more passes kept", def, Params{Memory: 19456, Time: 3, Threads: 1}, 16, 32, false},
		{"lanes do not count", def, Params{Memory: 19456, Time: 2, Threads: 2}, 16, 32, false},
		{"8-byte salt", def, def, 8, 32, true},
		{"16-byte key", def, def, 16, 16, true},
		{"longer salt and key kept", def, def, 32, 64, false},
		{"current raised", stronger, def, 16, 32, true},
		{"current raised, memory only", stronger, Params{Memory: 65536, Time: 2, Threads: 1}, 16, 32, true},
		{"at raised", stronger, stronger, 16, 32, false},
	}
	hashers := make(map[Params]*Hasher)
	for _, p := range []Params{def, stronger} {
		h, err := NewHasher(p, 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		hashers[p] = h
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hashers[tt.current]
			const pw = "correct horse"
			encoded := encodeRaw(pw, testSalt(tt.saltLen), tt.stored, tt.keyLen)
			match, rehash, err := h.Verify(t.Context(), pw, encoded)
			if err != nil || !match || rehash != tt.want {
				t.Errorf("Verify(%s) = %v, %v, %v; want true, %v, nil", encoded, match, rehash, err, tt.want)
			}
			// A wrong password never asks for a rehash.
			if match, rehash, _ := h.Verify(t.Context(), pw+"!", encoded); match || rehash {
				t.Errorf("Verify(wrong) = %v, %v; want false, false", match, rehash)
			}
		})
	}
}

func TestNewHasherRejects(t *testing.T) {
	def := DefaultParams()
	tests := []struct {
		name          string
		params        Params
		maxConcurrent int
		maxWait       time.Duration
	}{
		{"zero params", Params{}, 1, time.Second},
		{"memory below OWASP", Params{Memory: 19455, Time: 2, Threads: 1}, 1, time.Second},
		{"one pass", Params{Memory: 19456, Time: 1, Threads: 1}, 1, time.Second},
		{"OWASP m=47104,t=1 equivalent", Params{Memory: 47104, Time: 1, Threads: 1}, 1, time.Second},
		{"no lanes", Params{Memory: 19456, Time: 2, Threads: 0}, 1, time.Second},
		{"memory above bound", Params{Memory: maxMemory + 1, Time: 2, Threads: 1}, 1, time.Second},
		{"absurd memory", Params{Memory: 1<<32 - 1, Time: 2, Threads: 1}, 1, time.Second},
		{"passes above bound", Params{Memory: 19456, Time: maxTime + 1, Threads: 1}, 1, time.Second},
		{"lanes above bound", Params{Memory: 19456, Time: 2, Threads: maxThreads + 1}, 1, time.Second},
		{"no slots", def, 0, time.Second},
		{"negative wait", def, 1, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h, err := NewHasher(tt.params, tt.maxConcurrent, tt.maxWait); err == nil {
				t.Errorf("NewHasher(%+v, %d, %v) = %v, nil; want an error", tt.params, tt.maxConcurrent, tt.maxWait, h)
			}
		})
	}
	if _, err := NewHasher(def, 1, 0); err != nil {
		t.Errorf("NewHasher(default, 1, 0): %v", err)
	}
}

func TestNormalization(t *testing.T) {
	h := newTestHasher(t)
	tests := []struct {
		name       string
		set, typed string
	}{
		{"ligature", "ﬁnancial-ﬁle", "financial-file"},
		{"fullwidth", "ｐａｓｓｗｏｒｄ１２３", "password123"},
		{"decomposed accent", "cafe\u0301-cafe\u0301", "caf\u00e9-caf\u00e9"},
		{"composed accent", "caf\u00e9-caf\u00e9", "cafe\u0301-cafe\u0301"},
		{"hangul jamo", "\u1112\u1161\u11ab\u1100\u1173\u11af-pw", "한글-pw"},
		{"no-break space", "correct\u00a0horse", "correct horse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded, err := h.Hash(t.Context(), tt.set)
			if err != nil {
				t.Fatal(err)
			}
			if match, _, err := h.Verify(t.Context(), tt.typed, encoded); err != nil || !match {
				t.Errorf("Verify(%q) against Hash(%q) = %v, %v; want a match", tt.typed, tt.set, match, err)
			}
		})
	}
}

func TestInvalidPasswordNotHashed(t *testing.T) {
	h := newTestHasher(t)
	encoded := encodeRaw("password", testSalt(16), DefaultParams(), 32)
	failDerive(t, h)
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"NUL", "pass\x00word", ErrInvalid},
		{"invalid UTF-8", "pass\xffword", ErrInvalid},
		{"truncated UTF-8", "password\xe2\x82", ErrInvalid},
		{"1025 bytes", strings.Repeat("a", MaxBytes+1), ErrTooLong},
		{"expands past MaxBytes", strings.Repeat("\ufdfa", 100), ErrTooLong},
		{"huge", strings.Repeat("a", 1<<20), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.Hash(t.Context(), tt.password); !errors.Is(err, tt.want) {
				t.Errorf("Hash: %v, want %v", err, tt.want)
			}
			if _, _, err := h.Verify(t.Context(), tt.password, encoded); !errors.Is(err, tt.want) {
				t.Errorf("Verify: %v, want %v", err, tt.want)
			}
			if err := h.VerifyDummy(t.Context(), tt.password); !errors.Is(err, tt.want) {
				t.Errorf("VerifyDummy: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyDummy(t *testing.T) {
	h := newTestHasher(t)
	var got []Params
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		got = append(got, Params{Memory: memory, Time: time, Threads: threads})
		if len(salt) != saltLen || keyLen != 32 {
			t.Errorf("dummy hash has %d-byte salt, %d-byte key", len(salt), keyLen)
		}
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	for _, pw := range []string{"password", "", strings.Repeat("x", MaxBytes)} {
		if err := h.VerifyDummy(t.Context(), pw); err != nil {
			t.Errorf("VerifyDummy(%.10q): %v", pw, err)
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d hashes for 3 calls", len(got))
	}
	for _, p := range got {
		if p != DefaultParams() {
			t.Errorf("hashed with %+v, want the current %+v", p, DefaultParams())
		}
	}
	// The dummy hash itself is fixed and well formed.
	d, err := parsePHC(h.dummy)
	if err != nil || d.params != DefaultParams() || bytes.Equal(d.key, make([]byte, keyLen)) {
		t.Errorf("dummy %q: %v", h.dummy, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.VerifyDummy(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyDummy(cancelled) = %v, want context.Canceled", err)
	}
}
