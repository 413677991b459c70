package password

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

// maxFuzzCost is the most memory × passes (in KiB) FuzzVerifyPHC hashes.
const maxFuzzCost = 1024

// FuzzVerifyPHC feeds Verify arbitrary stored hashes and passwords. It must
// never panic; a string it accepts must be the canonical encoding of what it
// parsed, within the bounds; anything else must be ErrMalformedHash; and no
// password matches unless it is one of the seeds' passwords, since the
// fuzzer cannot invert argon2id.
func FuzzVerifyPHC(f *testing.F) {
	h, err := NewHasher(DefaultParams(), 4, time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	known := map[string]bool{"password": true, "correct horse": true, "fuzz": true}
	cheap := Params{Memory: 64, Time: 1, Threads: 1}

	valid, err := h.Hash(f.Context(), "correct horse")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		valid,
		refArgon2id,
		relabelled,
		h.dummy,
		encodeRaw("fuzz", testSalt(16), cheap, 32),
		encodeRaw("fuzz", testSalt(8), Params{Memory: 8, Time: 1, Threads: 1}, 16),
		encodeRaw("fuzz", testSalt(16), Params{Memory: 128, Time: 1, Threads: 16}, 32),
		refArgon2i,
		"",
		"$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=19456,t=4294967295,p=255$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=2,p=1$c29t\nZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=2,p=1,keyid=AA$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ",
		"$argon2id$v=19$m=065536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$$$$$",
	} {
		for _, pw := range []string{"password", "ｐａｓｓｗｏｒｄ", "fuzz", "\xff"} {
			f.Add(s, pw)
		}
	}

	f.Fuzz(func(t *testing.T, encoded, password string) {
		parsed, perr := parsePHC(encoded)
		if perr == nil {
			p := parsed.params
			if s := parsed.String(); s != encoded {
				t.Fatalf("accepted %q, which re-encodes as %q", encoded, s)
			}
			if p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads ||
				p.Memory < 8*uint32(p.Threads) || len(parsed.salt) < minSaltLen || len(parsed.key) < minKeyLen {
				t.Fatalf("accepted %q with %+v, %d-byte salt, %d-byte key", encoded, p, len(parsed.salt), len(parsed.key))
			}
		}
		// Spend a real hash only on cheap parameters, so that the fuzzer
		// (and its minimiser) runs thousands of inputs a second. Costlier
		// hashes still go through Verify, with a cancelled context that
		// stops them just before hashing.
		ctx := t.Context()
		if perr == nil && uint64(parsed.params.Memory)*uint64(parsed.params.Time) > maxFuzzCost {
			c, cancel := context.WithCancel(ctx)
			cancel()
			ctx = c
		}
		match, rehash, err := h.Verify(ctx, password, encoded)
		switch {
		case errors.Is(err, ErrInvalid) || errors.Is(err, ErrTooLong):
			if _, nerr := normalize(password); nerr == nil {
				t.Fatalf("Verify rejected valid password %q: %v", password, err)
			}
		case perr != nil:
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify(%q) = %v, want ErrMalformedHash (%v)", encoded, err, perr)
			}
		case ctx.Err() != nil:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Verify(%q) = %v, want context.Canceled", encoded, err)
			}
		case err != nil:
			t.Fatalf("Verify(%q): %v", encoded, err)
		}
		if match && !known[norm.NFKC.String(password)] {
			t.Fatalf("password %q matched %q", password, encoded)
		}
		if rehash && !match {
			t.Fatalf("needsRehash without a match for %q", encoded)
		}
	})
}
