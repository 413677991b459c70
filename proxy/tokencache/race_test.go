//go:build race

package tokencache_test

// raceEnabled: the tests run under the race detector, which changes
// what allocations take on the heap.
const raceEnabled = true
