package tokencache_test

import (
	"fmt"
	"testing"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/tokencache"
)

// TestAdmission: a token enters the cache on its second verification while
// the doorkeeper remembers the first; tokens seen once never do, nor a
// token seen again only after the doorkeeper forgot it. With AdmitFirst,
// the first verification stores it.
func TestAdmission(t *testing.T) {
	tests := []struct {
		name string
		opts tokencache.Options
		// oneShot distinct tokens are verified once each, after the
		// reused token's first verification (before, when uses is 0).
		oneShot int
		// uses is how often the reused token is verified.
		uses int
		// wantVerified: how many of the reused token's verifications
		// reached the Verifier; wantEntries: entries at the end.
		wantVerified, wantEntries, wantNotAdmitted int
	}{
		{name: "one-shot tokens are not admitted", oneShot: 300, wantNotAdmitted: 300},
		{name: "one-shot tokens, sharded cache", opts: tokencache.Options{MaxEntries: 1 << 16, MaxBytes: 64 << 20},
			oneShot: 300, wantNotAdmitted: 300},
		{name: "reused token admitted on its second verification", uses: 4,
			wantVerified: 2, wantEntries: 1, wantNotAdmitted: 1},
		{name: "reused token forgotten after many others is admitted later", opts: tokencache.Options{MaxEntries: 16},
			oneShot: 500, uses: 4, wantVerified: 3, wantEntries: 1, wantNotAdmitted: 502},
		{name: "admit first", opts: tokencache.Options{AdmitFirst: true}, uses: 4, wantVerified: 1, wantEntries: 1},
		{name: "admit first, one-shot tokens fill the cache", opts: tokencache.Options{MaxEntries: 16, AdmitFirst: true},
			oneShot: 100, wantEntries: 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, keys.EdDSA, tt.opts)
			reused := f.sign(t, map[string]any{"jti": "reused"})
			verified := 0
			use := func() {
				if f.mustVerify(t, reused) {
					verified++
				}
			}
			for i := 0; i < tt.uses; i++ {
				use()
				if i > 0 || tt.oneShot == 0 {
					continue
				}
				for j := 0; j < tt.oneShot; j++ {
					if !f.mustVerify(t, f.sign(t, map[string]any{"jti": fmt.Sprint("one-shot-", j)})) {
						t.Fatalf("one-shot token %d was served from the cache", j)
					}
				}
			}
			if tt.uses == 0 {
				for j := 0; j < tt.oneShot; j++ {
					f.mustVerify(t, f.sign(t, map[string]any{"jti": fmt.Sprint("one-shot-", j)}))
				}
			}
			if verified != tt.wantVerified {
				t.Errorf("reused token verified %d times of %d, want %d", verified, tt.uses, tt.wantVerified)
			}
			if n, _ := f.cache.Len(); n != tt.wantEntries {
				t.Errorf("%d entries, want %d", n, tt.wantEntries)
			}
			if got := f.rec.get(tokencache.NotAdmitted); got != tt.wantNotAdmitted {
				t.Errorf("not admitted %d, want %d", got, tt.wantNotAdmitted)
			}
			if got, want := f.rec.get(tokencache.Hit), tt.uses-tt.wantVerified; got != want {
				t.Errorf("hits %d, want %d", got, want)
			}
		})
	}
}
