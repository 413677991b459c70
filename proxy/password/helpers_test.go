package password

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// newTestHasher returns a Hasher with DefaultParams and room for every test
// to hash without waiting.
func newTestHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(DefaultParams(), 4, time.Minute)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

// encodeRaw hashes password directly with argon2.IDKey, bypassing Hasher,
// and returns the PHC string: the way tests make hashes with parameters
// NewHasher refuses.
func encodeRaw(password string, salt []byte, p Params, keyLen uint32) string {
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return phc{params: p, salt: salt, key: key}.String()
}

// testSalt returns n distinct non-zero bytes.
func testSalt(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

// failDerive makes h fail the test if it ever starts hashing.
func failDerive(t *testing.T, h *Hasher) {
	h.derive = func(_, _ []byte, _, _ uint32, _ uint8, _ uint32) []byte {
		t.Error("derive called")
		return nil
	}
}

// gate replaces a Hasher's derive with one that records how many calls run
// at once and, while closed, holds every call until it is opened.
type gate struct {
	running atomic.Int32
	peak    atomic.Int32
	calls   atomic.Int32
	entered chan struct{} // receives once per call, as it starts
	open    chan struct{}
	once    sync.Once
	next    func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// install puts a closed gate in front of h's derive.
func install(h *Hasher) *gate {
	g := &gate{
		entered: make(chan struct{}, 1024),
		open:    make(chan struct{}),
		next:    h.derive,
	}
	h.derive = g.derive
	return g
}

// release opens the gate for every held and future call.
func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) derive(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	g.calls.Add(1)
	g.entered <- struct{}{}
	<-g.open
	return g.next(password, salt, time, memory, threads, keyLen)
}

// waitEntered waits until n calls have entered g's derive.
func (g *gate) waitEntered(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-g.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("fewer than %d hashes started", n)
		}
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
