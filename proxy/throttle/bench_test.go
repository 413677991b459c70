package throttle

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user:%d", i)
	}
	return keys
}

// BenchmarkFailParallel measures Fail from many goroutines: on a working set
// of tracked keys, and on a spray of distinct keys far beyond MaxKeys, where
// every call inserts a key and evicts another.
func BenchmarkFailParallel(b *testing.B) {
	benchmarks := []struct {
		name    string
		keys    int
		maxKeys int
	}{
		{"tracked", 1 << 10, 0},
		{"spray", 1 << 18, 1000},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			l := New(Config{MaxKeys: bm.maxKeys}, time.Now)
			keys := benchKeys(bm.keys)
			for _, k := range keys[:min(len(keys), 1<<10)] {
				l.Fail(k)
			}
			var id atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := id.Add(1) * 7919
				for pb.Next() {
					l.Fail(keys[i%uint64(len(keys))])
					i++
				}
			})
		})
	}
}

// BenchmarkWaitParallel measures Wait from many goroutines on tracked keys
// and on keys never failed. Neither allocates.
func BenchmarkWaitParallel(b *testing.B) {
	benchmarks := []struct {
		name    string
		tracked bool
	}{
		{"tracked", true},
		{"unknown", false},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			l := New(Config{}, time.Now)
			keys := benchKeys(1 << 10)
			if bm.tracked {
				for _, k := range keys {
					l.Fail(k)
				}
			}
			var id atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := id.Add(1) * 7919
				for pb.Next() {
					l.Wait(keys[i%uint64(len(keys))])
					i++
				}
			})
		})
	}
}
