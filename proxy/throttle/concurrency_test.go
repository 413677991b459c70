package throttle

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentFailuresCounted runs many goroutines failing, waiting on and
// resetting overlapping keys while the clock moves; run it with -race. Every
// Fail on a counted key must be recorded exactly once.
func TestConcurrentFailuresCounted(t *testing.T) {
	tests := []struct {
		name       string
		goroutines int
		iterations int
		keys       int // counted keys shared by all goroutines
	}{
		{"one hot key", 32, 300, 1},
		{"overlapping keys", 64, 300, 16},
		{"many keys", 16, 500, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(Config{Free: 3, Max: time.Minute, Forget: time.Hour, MaxKeys: 1 << 16})
			keys := make([]string, tt.keys)
			for i := range keys {
				keys[i] = fmt.Sprintf("user:%d", i)
			}
			counts := make([]atomic.Int64, tt.keys)
			var wg sync.WaitGroup
			for g := range tt.goroutines {
				wg.Go(func() {
					for i := range tt.iterations {
						k := (g + i) % tt.keys
						if w := l.Fail(keys[k]); w < 0 || w > time.Minute {
							t.Errorf("Fail = %v", w)
						}
						counts[k].Add(1)
						if w := l.Wait(keys[(k+1)%tt.keys]); w < 0 || w > time.Minute {
							t.Errorf("Wait = %v", w)
						}
						// Uncounted keys, reset by other goroutines.
						other := fmt.Sprintf("ip:%d", i%8)
						l.Fail(other)
						if g%4 == 0 {
							l.Reset(other)
							c.Advance(time.Millisecond) // 1 hour is never reached
						}
						if i%50 == 0 {
							_ = l.Len()
						}
					}
				})
			}
			wg.Wait()
			for k, key := range keys {
				if got, want := l.failures(key), int(counts[k].Load()); got != want {
					t.Errorf("%s: %d failures recorded, %d Fail calls", key, got, want)
				}
			}
		})
	}
}

// TestConcurrentSprayBounded sprays distinct keys from many goroutines while
// others fail and wait on a few: Len stays within MaxKeys throughout.
func TestConcurrentSprayBounded(t *testing.T) {
	tests := []struct {
		name    string
		maxKeys int
	}{
		{"one shard", 20},
		{"small", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(Config{MaxKeys: tt.maxKeys, Forget: time.Second})
			var next atomic.Int64
			var wg sync.WaitGroup
			stop := make(chan struct{})
			var over atomic.Int64
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if n := l.Len(); n > tt.maxKeys {
						over.Store(int64(n))
					}
				}
			})
			var sprayers sync.WaitGroup
			for g := range 16 {
				sprayers.Go(func() {
					for range tt.maxKeys {
						l.Fail(fmt.Sprintf("spray:%d", next.Add(1)))
						l.Wait(fmt.Sprintf("user:%d", g%4))
						l.Fail(fmt.Sprintf("user:%d", g%4))
						c.Advance(time.Millisecond)
					}
				})
			}
			sprayers.Wait()
			close(stop)
			wg.Wait()
			if n := over.Load(); n != 0 {
				t.Errorf("Len reached %d > MaxKeys %d", n, tt.maxKeys)
			}
			if n := l.Len(); n > tt.maxKeys {
				t.Errorf("Len = %d > MaxKeys %d", n, tt.maxKeys)
			}
		})
	}
}
