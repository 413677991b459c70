package password

import (
	"testing"
	"time"
)

// The benchmarks run one hash at a time with DefaultParams. B/op is the
// memory one hash allocates, almost all of it argon2id's memory cost
// (19456 KiB = 19.9 MB); BenchmarkVerify and BenchmarkVerifyDummy should
// agree closely in both time and memory, which is what makes a login for an
// unknown account indistinguishable from a wrong password.

func benchHasher(b *testing.B) *Hasher {
	b.Helper()
	h, err := NewHasher(DefaultParams(), 1, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func BenchmarkHash(b *testing.B) {
	h := benchHasher(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(b.Context(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify verifies a wrong password against a hash made with the
// current parameters: the cost of a failed login for an existing account.
func BenchmarkVerify(b *testing.B) {
	h := benchHasher(b)
	encoded, err := h.Hash(b.Context(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if match, _, err := h.Verify(b.Context(), "correct horse battery stapler", encoded); err != nil || match {
			b.Fatal(match, err)
		}
	}
}

// BenchmarkVerifyDummy is the cost of a login for an account that does not
// exist.
func BenchmarkVerifyDummy(b *testing.B) {
	h := benchHasher(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := h.VerifyDummy(b.Context(), "correct horse battery stapler"); err != nil {
			b.Fatal(err)
		}
	}
}
