package throttle

import (
	"context"
	"sync"
	"testing"
	"time"
)

// mapCounter is a Counter in a map, with the semantics the stores
// implement; the stores' own tests check them against a real database.
type mapCounter struct {
	mu sync.Mutex
	m  map[string]struct {
		n    int
		last time.Time
	}
}

func (c *mapCounter) AddFailure(_ context.Context, key string, now time.Time, forget time.Duration) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[key]
	if now.Sub(e.last) >= forget {
		e.n = 0
	}
	e.n++
	e.last = now
	c.m[key] = e
	return e.n, nil
}

func (c *mapCounter) Failures(_ context.Context, key string) (int, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[key]
	return e.n, e.last, nil
}

func (c *mapCounter) ClearFailures(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

// TestSharedMatchesLimiter: the shared throttle imposes exactly the waits
// of an in-process Limiter with the same Config, and never hands the
// counter a key in the clear.
func TestSharedMatchesLimiter(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := Config{Free: 2, Base: time.Second, Max: 8 * time.Second, Forget: time.Minute}
	counter := &mapCounter{m: map[string]struct {
		n    int
		last time.Time
	}{}}
	shared, local := NewShared(cfg, counter, clock), InProcess{New(cfg, clock)}
	ctx := context.Background()
	type step struct {
		advance time.Duration
		op      string // wait, fail, reset
	}
	steps := []step{
		{0, "fail"}, {0, "fail"}, {0, "wait"}, {0, "fail"}, {0, "wait"}, {500 * time.Millisecond, "wait"},
		{0, "fail"}, {0, "fail"}, {0, "fail"}, {0, "fail"}, {0, "wait"}, {3 * time.Second, "wait"},
		{time.Minute, "wait"}, {0, "fail"}, {0, "wait"}, {0, "fail"}, {0, "fail"}, {0, "reset"}, {0, "wait"}, {0, "fail"},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		var a, b time.Duration
		var err error
		switch s.op {
		case "wait":
			a, err = shared.Wait(ctx, "acct:alice")
			b, _ = local.Wait(ctx, "acct:alice")
		case "fail":
			a, err = shared.Fail(ctx, "acct:alice")
			b, _ = local.Fail(ctx, "acct:alice")
		case "reset":
			err = shared.Reset(ctx, "acct:alice")
			_ = local.Reset(ctx, "acct:alice")
		}
		if err != nil {
			t.Fatalf("step %d %s: %v", i, s.op, err)
		}
		if a != b {
			t.Errorf("step %d %s: shared %s, in-process %s", i, s.op, a, b)
		}
	}
	for key := range counter.m {
		if len(key) != 64 || key == "acct:alice" {
			t.Errorf("the counter holds key %q, want a SHA-256 digest", key)
		}
	}
}
