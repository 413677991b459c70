package tokencache

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/identity"
)

// stubVerifier accepts the tokens it knows, each as its own subject.
type stubVerifier struct {
	exp   time.Time
	known map[string]bool
	calls map[string]int
}

func (v *stubVerifier) Verify(raw string) (*identity.Identity, error) {
	v.calls[raw]++
	if !v.known[raw] {
		return nil, errors.New("forged")
	}
	return &identity.Identity{Subject: raw, ExpiresAt: v.exp, Claims: map[string]any{"sub": raw}}, nil
}

// TestFingerprintCollision: when every token has the same fingerprint, a
// token may be admitted early, but no token is ever served for another:
// entries are found by the whole digest.
func TestFingerprintCollision(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	v := &stubVerifier{exp: now.Add(time.Hour), known: map[string]bool{"a": true, "b": true}, calls: map[string]int{}}
	// One shard: both tokens share its doorkeeper.
	c := New(v, Options{MaxEntries: 100, Now: func() time.Time { return now }})
	c.fingerprint = func(*[sha256.Size]byte) uint64 { return 42 }

	steps := []struct {
		raw         string
		wantErr     bool
		wantVerify  bool // reached the wrapped Verifier
		wantEntries int
	}{
		{raw: "a", wantVerify: true},                 // remembered, not stored
		{raw: "b", wantVerify: true, wantEntries: 1}, // admitted early: a's fingerprint
		{raw: "b", wantEntries: 1},                   // b from the cache
		{raw: "a", wantVerify: true, wantEntries: 2}, // not b's entry: verified in full
		{raw: "forged", wantErr: true, wantVerify: true, wantEntries: 2},
		{raw: "forged", wantErr: true, wantVerify: true, wantEntries: 2},
		{raw: "a", wantEntries: 2},
	}
	for i, s := range steps {
		before := v.calls[s.raw]
		id, err := c.Verify(s.raw)
		if (err != nil) != s.wantErr {
			t.Fatalf("step %d (%s): error %v, want error %v", i, s.raw, err, s.wantErr)
		}
		if err == nil && id.Subject != s.raw {
			t.Fatalf("step %d: %q served as %q", i, s.raw, id.Subject)
		}
		if verified := v.calls[s.raw] != before; verified != s.wantVerify {
			t.Errorf("step %d (%s): verified %v, want %v", i, s.raw, verified, s.wantVerify)
		}
		if n, _ := c.Len(); n != s.wantEntries {
			t.Errorf("step %d (%s): %d entries, want %d", i, s.raw, n, s.wantEntries)
		}
	}
}

func TestDoorkeeperSlots(t *testing.T) {
	tests := []struct{ entries, want int }{
		{0, minDoorkeeperSlots}, {1, minDoorkeeperSlots}, {16, 16}, {17, 16}, {1365, 1024}, {2048, 2048}, {10000, 8192},
	}
	for _, tt := range tests {
		if got := doorkeeperSlots(tt.entries); got != tt.want {
			t.Errorf("doorkeeperSlots(%d) = %d, want %d", tt.entries, got, tt.want)
		}
	}
}
