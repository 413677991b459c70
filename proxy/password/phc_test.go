package password

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// b64n returns the base64 of n bytes, for salts and keys of a given length.
func b64n(n int) string { return b64.EncodeToString([]byte(strings.Repeat("k", n))) }

var (
	salt16 = b64n(16)
	key32  = b64n(32)
)

// withParams returns a PHC string with the given parameter field.
func withParams(params string) string {
	return "$argon2id$v=19$" + params + "$" + salt16 + "$" + key32
}

func TestParsePHCMalformed(t *testing.T) {
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"dollar only", "$"},
		{"no leading dollar", "argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"upper case", "$ARGON2ID$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"reference argon2i", refArgon2i},
		{"no version", "$argon2id$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"version leading zero", "$argon2id$v=019$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"version empty", "$argon2id$v=$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"version junk", "$argon2id$v=19x$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"no key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16},
		{"empty key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$"},
		{"empty salt", "$argon2id$v=19$m=19456,t=2,p=1$$" + key32},
		{"extra field", withParams("m=19456,t=2,p=1") + "$" + key32},
		{"trailing dollar", withParams("m=19456,t=2,p=1") + "$"},
		{"trailing newline", withParams("m=19456,t=2,p=1") + "\n"},
		{"params swapped", withParams("t=2,m=19456,p=1")},
		{"param missing", withParams("m=19456,t=2")},
		{"keyid param", withParams("m=19456,t=2,p=1,keyid=Zm9v")},
		{"space in params", withParams("m=19456, t=2,p=1")},
		{"empty params", withParams("")},
		{"m=4294967295", withParams("m=4294967295,t=2,p=1")},
		{"m overflows uint32", withParams("m=4294967296,t=2,p=1")},
		{"m 20 digits", withParams("m=99999999999999999999,t=2,p=1")},
		{"m above bound", withParams(fmt.Sprintf("m=%d,t=2,p=1", maxMemory+1))},
		{"m below 8 KiB per lane", withParams("m=7,t=1,p=1")},
		{"m below 8 KiB per lane, 16 lanes", withParams("m=127,t=1,p=16")},
		{"m zero", withParams("m=0,t=2,p=1")},
		{"t=4294967295", withParams("m=19456,t=4294967295,p=1")},
		{"t above bound", withParams(fmt.Sprintf("m=19456,t=%d,p=1", maxTime+1))},
		{"t zero", withParams("m=19456,t=0,p=1")},
		{"p zero", withParams("m=19456,t=2,p=0")},
		{"p=255", withParams("m=19456,t=2,p=255")},
		{"p above bound", withParams(fmt.Sprintf("m=19456,t=2,p=%d", maxThreads+1))},
		{"p wraps uint8", withParams("m=19456,t=2,p=257")},
		{"leading zero", withParams("m=019456,t=2,p=1")},
		{"negative", withParams("m=-1,t=2,p=1")},
		{"plus sign", withParams("m=+19456,t=2,p=1")},
		{"hex", withParams("m=0x4c00,t=2,p=1")},
		{"underscore", withParams("m=19_456,t=2,p=1")},
		{"unicode digit", withParams("m=１9456,t=2,p=1")},
		{"salt bad character", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh!HQ$" + key32},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$" + key32},
		{"salt with newline", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh\nbHQ$" + key32},
		{"salt with CR", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh\rbHQ$" + key32},
		{"salt URL alphabet", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.ReplaceAll(b64n(15)+"-_", "=", "") + "$" + key32},
		{"salt non-canonical", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHR$" + key32},
		{"salt impossible length", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "AAA$" + key32},
		{"salt 7 bytes", "$argon2id$v=19$m=19456,t=2,p=1$" + b64n(7) + "$" + key32},
		{"salt 65 bytes", "$argon2id$v=19$m=19456,t=2,p=1$" + b64n(65) + "$" + key32},
		{"key 15 bytes", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + b64n(15)},
		{"key 65 bytes", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + b64n(65)},
		{"key bad character", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32[:20] + "*" + key32[21:]},
		{"key with space", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32[:20] + " " + key32[21:]},
		{"too long", withParams("m=19456,t=2,p=1") + strings.Repeat("A", maxEncodedLen)},
	}
	h := newTestHasher(t)
	failDerive(t, h) // rejected before any hashing starts
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := parsePHC(tt.encoded); !errors.Is(err, ErrMalformedHash) {
				t.Errorf("parsePHC(%q) = %+v, %v; want ErrMalformedHash", tt.encoded, got, err)
			}
			match, rehash, err := h.Verify(t.Context(), "password", tt.encoded)
			if !errors.Is(err, ErrMalformedHash) || match || rehash {
				t.Errorf("Verify = %v, %v, %v; want false, false, ErrMalformedHash", match, rehash, err)
			}
		})
	}
}

func TestParsePHCBounds(t *testing.T) {
	tests := []struct {
		name    string
		encoded string
		want    Params
	}{
		{"smallest", "$argon2id$v=19$m=8,t=1,p=1$" + b64n(8) + "$" + b64n(16), Params{8, 1, 1}},
		{"default", withParams("m=19456,t=2,p=1"), DefaultParams()},
		{"reference", refArgon2id, Params{65536, 2, 1}},
		{"largest memory", withParams(fmt.Sprintf("m=%d,t=2,p=1", maxMemory)), Params{maxMemory, 2, 1}},
		{"most passes", withParams(fmt.Sprintf("m=19456,t=%d,p=1", maxTime)), Params{19456, maxTime, 1}},
		{"most lanes", withParams(fmt.Sprintf("m=128,t=1,p=%d", maxThreads)), Params{128, 1, maxThreads}},
		{"longest salt and key", "$argon2id$v=19$m=19456,t=2,p=1$" + b64n(64) + "$" + b64n(64), DefaultParams()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePHC(tt.encoded)
			if err != nil {
				t.Fatalf("parsePHC(%q): %v", tt.encoded, err)
			}
			if got.params != tt.want {
				t.Errorf("params %+v, want %+v", got.params, tt.want)
			}
			if s := got.String(); s != tt.encoded {
				t.Errorf("re-encoded as %q, want %q", s, tt.encoded)
			}
		})
	}
	if n := len(withParams(fmt.Sprintf("m=%d,t=%d,p=%d", maxMemory, maxTime, maxThreads))) - len(salt16) - len(key32) + 2*len(b64n(maxSaltLen)); n > maxEncodedLen {
		t.Errorf("longest acceptable string is %d bytes, above maxEncodedLen %d", n, maxEncodedLen)
	}
}
