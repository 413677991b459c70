package throttle

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestShardBudgets(t *testing.T) {
	tests := []struct {
		name       string
		maxKeys    int
		wantShards int
	}{
		{"one key", 1, 1},
		{"below two shards' worth", 31, 1},
		{"two shards", 32, 2},
		{"uneven", 1001, 32},
		{"small", 1000, 32},
		{"default", 0, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLimiter(Config{MaxKeys: tt.maxKeys})
			if len(l.shards) != tt.wantShards {
				t.Errorf("%d shards, want %d", len(l.shards), tt.wantShards)
			}
			want := tt.maxKeys
			if want == 0 {
				want = defaultMaxKeys
			}
			sum := 0
			for i := range l.shards {
				b := l.shards[i].budget
				if b < 1 {
					t.Errorf("shard %d has budget %d", i, b)
				}
				sum += b
			}
			if sum != want {
				t.Errorf("budgets sum to %d, want MaxKeys %d", sum, want)
			}
		})
	}
}

// TestMemoryBound sprays ten times MaxKeys distinct keys: Len never exceeds
// MaxKeys (the shards' budgets sum to it exactly, so there is no slack), the
// newest key is always tracked, and the most recent keys survive while the
// oldest are evicted.
func TestMemoryBound(t *testing.T) {
	tests := []struct {
		name    string
		maxKeys int
		fails   int // failures per sprayed key
	}{
		{"one key", 1, 1},
		{"one shard", 20, 1},
		{"small", 1000, 1},
		{"uneven", 1001, 3},
		{"repeated failures", 1000, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(Config{MaxKeys: tt.maxKeys})
			n := 10 * tt.maxKeys
			key := func(i int) string { return fmt.Sprintf("user:%d", i) }
			for i := range n {
				for range tt.fails {
					l.Fail(key(i))
				}
				c.Advance(time.Millisecond)
				if got := l.Len(); got > tt.maxKeys {
					t.Fatalf("after %d keys Len = %d > MaxKeys %d", i+1, got, tt.maxKeys)
				}
				if got := l.failures(key(i)); got != tt.fails {
					t.Fatalf("newest key %d has %d failures, want %d", i, got, tt.fails)
				}
			}
			// A quarter of MaxKeys spread over the shards stays far below
			// any shard's budget; the chance that hashing puts more
			// than a shard's budget of them in one shard is negligible.
			for i := n - tt.maxKeys/4; i < n; i++ {
				if !l.tracked(key(i)) {
					t.Errorf("recent key %d was evicted", i)
				}
			}
			for i := range tt.maxKeys {
				if l.tracked(key(i)) {
					t.Errorf("old key %d survived %d newer keys", i, n-tt.maxKeys)
				}
			}
		})
	}
}

// TestEvictionSparesBackoff checks that a spray of single-failure keys does
// not flush a key deep in back-off (which would restart its back-off), while
// the newest key is never the one evicted.
func TestEvictionSparesBackoff(t *testing.T) {
	tests := []struct {
		name    string
		maxKeys int
	}{
		{"one shard", 20},
		{"small", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(Config{MaxKeys: tt.maxKeys})
			for range 20 {
				l.Fail("user:victim")
			}
			want := l.Wait("user:victim")
			for i := range 10 * tt.maxKeys {
				l.Fail(fmt.Sprintf("spray:%d", i))
			}
			c.Advance(time.Minute)
			if got := l.failures("user:victim"); got != 20 {
				t.Errorf("victim has %d failures after the spray, want 20", got)
			}
			if got := l.Wait("user:victim"); got != want-time.Minute {
				t.Errorf("victim waits %v, want %v", got, want-time.Minute)
			}
		})
	}
	t.Run("newest wins over deep back-off", func(t *testing.T) {
		l, _ := newLimiter(Config{MaxKeys: 1})
		for range 20 {
			l.Fail("user:victim")
		}
		l.Fail("user:new")
		if !l.tracked("user:new") || l.tracked("user:victim") || l.Len() != 1 {
			t.Errorf("new tracked %v, victim tracked %v, Len %d", l.tracked("user:new"), l.tracked("user:victim"), l.Len())
		}
	})
}

// keyInShard returns a key that l hashes to shard i.
func keyInShard(l *Limiter, i int) string {
	for n := 0; ; n++ {
		k := fmt.Sprintf("probe:%d", n)
		if l.shard(k) == &l.shards[i] {
			return k
		}
	}
}

// TestSweep checks that forgotten keys are swept by later calls to their
// shard, whatever the call, and that maps emptied by an attack are rebuilt.
func TestSweep(t *testing.T) {
	ops := []struct {
		name string
		call func(l *Limiter, key string)
	}{
		{"Wait", func(l *Limiter, key string) { l.Wait(key) }},
		{"Reset", func(l *Limiter, key string) { l.Reset(key) }},
		{"Fail", func(l *Limiter, key string) { l.Fail(key) }},
	}
	const maxKeys, forget = 4096, time.Hour
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			l, c := newLimiter(Config{MaxKeys: maxKeys, Forget: forget})
			for i := range maxKeys * 2 {
				l.Fail(fmt.Sprintf("spray:%d", i))
			}
			full := l.Len()
			probes := make([]string, len(l.shards))
			for i := range probes {
				probes[i] = keyInShard(l, i)
			}
			calls := func() {
				for range maxKeys/len(l.shards)/sweepBatch + 1 {
					for _, k := range probes {
						op.call(l, k)
					}
				}
			}

			c.Advance(forget - 1)
			calls()
			if got := l.Len(); got != full {
				t.Fatalf("before Forget: Len = %d, want %d", got, full)
			}

			c.Advance(forget)
			calls()
			want := 0
			if op.name == "Fail" {
				want = len(probes) // the probes themselves, failed since
			}
			if got := l.Len(); got != want {
				t.Fatalf("after Forget: Len = %d, want %d", got, want)
			}
			for i := range l.shards {
				if s := &l.shards[i]; s.peak >= shrinkMin {
					t.Errorf("shard %d map not rebuilt: peak %d, len %d", i, s.peak, len(s.keys))
				}
			}
		})
	}
}

func TestLongKeysBoundedMemory(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{"short", 10},
		{"limit", maxKeyLen},
		{"long", maxKeyLen + 1},
		{"megabyte", 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLimiter(Config{Free: 1})
			// The key is a slice of a larger buffer: the Limiter must not
			// retain the buffer.
			buf := strings.Repeat("u", tt.size+1000)
			key := buf[:tt.size]
			l.Fail(key)
			if got := l.Fail(key); got != time.Second {
				t.Fatalf("second Fail = %v, want 1s", got)
			}
			for i := range l.shards {
				for k, e := range l.shards[i].keys {
					if len(k) > maxKeyLen+1 || len(e.key) > maxKeyLen+1 {
						t.Errorf("stored key of %d bytes", len(k))
					}
					if unsafe.StringData(e.key) == unsafe.StringData(key) {
						t.Errorf("key not cloned")
					}
				}
			}
		})
	}
}
