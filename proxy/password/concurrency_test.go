package password

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// ops are the three Hasher methods that take a hashing slot.
var ops = []struct {
	name string
	call func(ctx context.Context, h *Hasher) error
}{
	{"Hash", func(ctx context.Context, h *Hasher) error {
		_, err := h.Hash(ctx, "correct horse")
		return err
	}},
	{"Verify", func(ctx context.Context, h *Hasher) error {
		_, _, err := h.Verify(ctx, "correct horse", h.dummy)
		return err
	}},
	{"VerifyDummy", func(ctx context.Context, h *Hasher) error {
		return h.VerifyDummy(ctx, "correct horse")
	}},
}

// fill starts n calls of op on h and waits until all n are hashing behind
// g. The returned channel yields their errors once g is released.
func fill(t *testing.T, h *Hasher, g *gate, n int) <-chan error {
	t.Helper()
	errs := make(chan error, n)
	for range n {
		go func() { errs <- ops[0].call(context.Background(), h) }()
	}
	g.waitEntered(t, n)
	return errs
}

func newGatedHasher(t *testing.T, maxConcurrent int, maxWait time.Duration) (*Hasher, *gate) {
	t.Helper()
	h, err := NewHasher(DefaultParams(), maxConcurrent, maxWait)
	if err != nil {
		t.Fatal(err)
	}
	g := install(h)
	t.Cleanup(g.release)
	return h, g
}

func TestConcurrencyBound(t *testing.T) {
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			const maxConcurrent, overflow = 2, 40
			h, g := newGatedHasher(t, maxConcurrent, 20*time.Millisecond)
			held := fill(t, h, g, maxConcurrent)

			// Every further call finds both slots taken until maxWait
			// passes, or finds the queue full and fails at once.
			start := time.Now()
			errs := make(chan error, overflow)
			var wg sync.WaitGroup
			for range overflow {
				wg.Go(func() { errs <- op.call(context.Background(), h) })
			}
			wg.Wait()
			close(errs)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("overflow took %v to fail", d)
			}
			for err := range errs {
				if !errors.Is(err, ErrBusy) {
					t.Errorf("overflow call: %v, want ErrBusy", err)
				}
			}
			if n := g.calls.Load(); n != maxConcurrent {
				t.Errorf("%d hashes started, want %d", n, maxConcurrent)
			}

			g.release()
			for range maxConcurrent {
				if err := <-held; err != nil {
					t.Errorf("held call: %v", err)
				}
			}
			if p := g.peak.Load(); p != maxConcurrent {
				t.Errorf("peak %d hashes at once, want %d", p, maxConcurrent)
			}
			if w := h.waiting.Load(); w != 0 {
				t.Errorf("%d callers still counted as waiting", w)
			}
			// The slots are free again.
			if err := op.call(t.Context(), h); err != nil {
				t.Errorf("after release: %v", err)
			}
		})
	}
}

func TestQueueFullFailsFast(t *testing.T) {
	const maxConcurrent = 2
	h, g := newGatedHasher(t, maxConcurrent, time.Hour)
	held := fill(t, h, g, maxConcurrent)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	queued := make(chan error, h.maxWaiting)
	for range h.maxWaiting {
		go func() { queued <- ops[1].call(ctx, h) }()
	}
	waitFor(t, "a full queue", func() bool { return h.waiting.Load() == h.maxWaiting })

	// With maxWait an hour, only the full queue can make this return.
	done := make(chan error, 1)
	go func() { done <- ops[0].call(t.Context(), h) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrBusy) {
			t.Errorf("with the queue full: %v, want ErrBusy", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call with the queue full did not fail fast")
	}

	cancel()
	for range h.maxWaiting {
		if err := <-queued; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v, want context.Canceled", err)
		}
	}
	g.release()
	for range maxConcurrent {
		if err := <-held; err != nil {
			t.Errorf("held call: %v", err)
		}
	}
	if n := g.calls.Load(); n != maxConcurrent {
		t.Errorf("%d hashes ran, want %d", n, maxConcurrent)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			h, g := newGatedHasher(t, 1, time.Hour)
			fill(t, h, g, 1)

			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- op.call(ctx, h) }()
			waitFor(t, "a waiter", func() bool { return h.waiting.Load() == 1 })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled while waiting: %v, want context.Canceled", err)
			}

			ctx, cancel = context.WithTimeout(t.Context(), 10*time.Millisecond)
			defer cancel()
			if err := op.call(ctx, h); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("deadline while waiting: %v, want context.DeadlineExceeded", err)
			}

			// A context already done fails before looking for a slot.
			g.release()
			ctx, cancel = context.WithCancel(t.Context())
			cancel()
			if err := op.call(ctx, h); !errors.Is(err, context.Canceled) {
				t.Errorf("already cancelled: %v, want context.Canceled", err)
			}
			if n := g.calls.Load(); n != 1 {
				t.Errorf("%d hashes ran, want 1", n)
			}
		})
	}
}

func TestWaiterGetsSlot(t *testing.T) {
	h, g := newGatedHasher(t, 1, time.Minute)
	held := fill(t, h, g, 1)
	done := make(chan error, 1)
	go func() { done <- ops[1].call(t.Context(), h) }()
	waitFor(t, "a waiter", func() bool { return h.waiting.Load() == 1 })
	g.release()
	if err := <-held; err != nil {
		t.Errorf("held call: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("waiter: %v", err)
	}
	if p := g.peak.Load(); p != 1 {
		t.Errorf("peak %d hashes at once, want 1", p)
	}
}

func TestNoWait(t *testing.T) {
	h, g := newGatedHasher(t, 1, 0)
	fill(t, h, g, 1)
	if err := ops[0].call(t.Context(), h); !errors.Is(err, ErrBusy) {
		t.Errorf("maxWait 0, no free slot: %v, want ErrBusy", err)
	}
	if w := h.waiting.Load(); w != 0 {
		t.Errorf("%d callers counted as waiting", w)
	}
}

// TestConcurrencyRealHashes runs real argon2id hashes, more than the
// Hasher allows at once, and checks that the limit held.
func TestConcurrencyRealHashes(t *testing.T) {
	const maxConcurrent, calls = 2, 6
	h, g := newGatedHasher(t, maxConcurrent, time.Minute)
	g.release()
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			encoded, err := h.Hash(t.Context(), "correct horse")
			if err != nil {
				t.Errorf("Hash: %v", err)
				return
			}
			if match, _, err := h.Verify(t.Context(), "correct horse", encoded); err != nil || !match {
				t.Errorf("Verify = %v, %v", match, err)
			}
		})
	}
	wg.Wait()
	if p := g.peak.Load(); p < 1 || p > maxConcurrent {
		t.Errorf("peak %d hashes at once, want 1 to %d", p, maxConcurrent)
	}
	if n := g.calls.Load(); n != 2*calls {
		t.Errorf("%d hashes, want %d", n, 2*calls)
	}
}
