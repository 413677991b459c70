package throttle

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a fake clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func (c *clock) Now() time.Time          { return t0.Add(time.Duration(c.ns.Load())) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newLimiter(cfg Config) (*Limiter, *clock) {
	c := new(clock)
	return New(cfg, c.Now), c
}

// failures reports the failures counted for key, 0 if it is not tracked.
func (l *Limiter) failures(key string) int {
	key = canonical(key)
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.keys[key]; e != nil {
		return e.failures
	}
	return 0
}

// tracked reports whether key is tracked.
func (l *Limiter) tracked(key string) bool {
	key = canonical(key)
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok
}

// step is one operation of a scripted test; want is checked against the
// result of fail and wait.
type step struct {
	op   string // "fail", "wait", "advance", "reset"
	key  string
	d    time.Duration // for advance
	want time.Duration
}

func fail(key string, want time.Duration) step { return step{op: "fail", key: key, want: want} }
func wait(key string, want time.Duration) step { return step{op: "wait", key: key, want: want} }
func reset(key string) step                    { return step{op: "reset", key: key} }
func advance(d time.Duration) step             { return step{op: "advance", d: d} }

// fails returns n failures of key that each expect want.
func fails(n int, key string, want time.Duration) []step {
	s := make([]step, n)
	for i := range s {
		s[i] = fail(key, want)
	}
	return s
}

func script(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch p := p.(type) {
		case step:
			out = append(out, p)
		case []step:
			out = append(out, p...)
		}
	}
	return out
}

var (
	long1 = strings.Repeat("x", 100) + "1"
	long2 = strings.Repeat("x", 100) + "2"
)

func TestBackoff(t *testing.T) {
	small := Config{Free: 3, Base: time.Second, Max: 10 * time.Second, Forget: 10 * time.Minute}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"unknown key may try", small, script(wait("a", 0))},
		{"free failures impose no wait", small, script(fails(3, "a", 0), wait("a", 0))},
		{"first failure beyond Free waits Base", small, script(
			fails(3, "a", 0), fail("a", time.Second), wait("a", time.Second))},
		{"each further failure doubles", small, script(
			fails(3, "a", 0), fail("a", 1*time.Second), fail("a", 2*time.Second),
			fail("a", 4*time.Second), fail("a", 8*time.Second), wait("a", 8*time.Second))},
		{"capped at Max", small, script(
			fails(3, "a", 0), fail("a", 1*time.Second), fail("a", 2*time.Second),
			fail("a", 4*time.Second), fail("a", 8*time.Second), fails(50, "a", 10*time.Second),
			wait("a", 10*time.Second))},
		{"wait shrinks with the clock to zero", small, script(
			fails(3, "a", 0), fail("a", 1*time.Second), fail("a", 2*time.Second), fail("a", 4*time.Second),
			advance(time.Second), wait("a", 3*time.Second),
			advance(2500*time.Millisecond), wait("a", 500*time.Millisecond),
			advance(500*time.Millisecond), wait("a", 0),
			advance(time.Hour-4*time.Second), wait("a", 0))},
		{"back-off counts on after the wait", small, script(
			fails(3, "a", 0), fail("a", time.Second), advance(time.Second), wait("a", 0),
			fail("a", 2*time.Second))},
		{"failures within Forget accumulate", small, script(
			fails(3, "a", 0), advance(10*time.Minute-1), fail("a", time.Second))},
		{"Forget window starts afresh", small, script(
			fails(3, "a", 0), fail("a", time.Second), fail("a", 2*time.Second),
			advance(10*time.Minute), fails(3, "a", 0), fail("a", time.Second))},
		{"forgotten on Wait", small, script(
			fails(3, "a", 0), fail("a", time.Second), advance(10*time.Minute),
			wait("a", 0), fails(3, "a", 0), fail("a", time.Second))},
		{"Reset forgets", small, script(
			fails(3, "a", 0), fail("a", time.Second), fail("a", 2*time.Second),
			reset("a"), wait("a", 0), fails(3, "a", 0), fail("a", time.Second))},
		{"Reset of unknown key", small, script(reset("a"), wait("a", 0))},
		{"keys are independent", small, script(
			fails(3, "a", 0), fail("a", time.Second), fail("a", 2*time.Second),
			wait("b", 0), fails(3, "b", 0), fail("b", time.Second), wait("a", 2*time.Second),
			reset("b"), wait("a", 2*time.Second))},
		{"long keys are independent", small, script(
			fails(3, long1, 0), fail(long1, time.Second), wait(long2, 0), fail(long2, 0),
			wait(long1, time.Second))},
		{"defaults", Config{}, script(
			fails(5, "a", 0), fail("a", time.Second), fail("a", 2*time.Second),
			advance(59*time.Minute), fail("a", 4*time.Second), fail("a", 8*time.Second))},
		{"default cap", Config{}, script(
			fails(5, "a", 0),
			fail("a", 1*time.Second), fail("a", 2*time.Second), fail("a", 4*time.Second),
			fail("a", 8*time.Second), fail("a", 16*time.Second), fail("a", 32*time.Second),
			fail("a", 64*time.Second), fail("a", 128*time.Second), fail("a", 256*time.Second),
			fail("a", 512*time.Second), fail("a", 15*time.Minute), fail("a", 15*time.Minute))},
		{"negative Free allows none", Config{Free: -1}, script(fail("a", time.Second), fail("a", 2*time.Second))},
		{"clock going back never lengthens the wait", small, script(
			fails(3, "a", 0), fail("a", time.Second), advance(-time.Hour), wait("a", time.Second))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(tt.cfg)
			for i, s := range tt.steps {
				var got time.Duration
				switch s.op {
				case "fail":
					got = l.Fail(s.key)
				case "wait":
					got = l.Wait(s.key)
				case "reset":
					l.Reset(s.key)
					continue
				case "advance":
					c.Advance(s.d)
					continue
				}
				if got != s.want {
					t.Fatalf("step %d: %s(%.10q) = %v, want %v", i, s.op, s.key, got, s.want)
				}
			}
		})
	}
}

func TestDelay(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		failures int
		want     time.Duration
	}{
		{"within Free", Config{Free: 2}, 2, 0},
		{"just beyond Free", Config{Free: 2, Base: 3 * time.Millisecond}, 3, 3 * time.Millisecond},
		{"Base above Max", Config{Base: time.Hour, Max: time.Minute}, 6, time.Minute},
		{"huge count", Config{Max: 1 << 62}, 1 << 40, 1 << 62},
		{"shift would overflow", Config{Base: time.Hour, Max: 1<<63 - 1}, 5 + 1 + 22, 1<<63 - 1},
		{"shift just fits", Config{Base: 1, Max: 1<<63 - 1}, 5 + 1 + 62, 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLimiter(tt.cfg)
			if got := l.delay(tt.failures); got != tt.want {
				t.Errorf("delay(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		wantLen int
	}{
		{"short key kept", "user:alice", len("user:alice")},
		{"longest kept", strings.Repeat("k", maxKeyLen), maxKeyLen},
		{"one past is digested", strings.Repeat("k", maxKeyLen+1), maxKeyLen + 1},
		{"huge is digested", strings.Repeat("k", 1<<20), maxKeyLen + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := canonical(tt.key)
			if len(got) != tt.wantLen {
				t.Errorf("len(canonical) = %d, want %d", len(got), tt.wantLen)
			}
			if len(tt.key) <= maxKeyLen && got != tt.key {
				t.Errorf("canonical changed a short key")
			}
		})
	}
}

func TestWaitDoesNotAllocate(t *testing.T) {
	l, _ := newLimiter(Config{})
	l.Fail("user:alice")
	for _, key := range []string{"user:alice", "user:bob"} {
		if n := testing.AllocsPerRun(100, func() { l.Wait(key) }); n != 0 {
			t.Errorf("Wait(%q) allocates %v times", key, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { l.Fail("user:alice") }); n != 0 {
		t.Errorf("Fail on a tracked key allocates %v times", n)
	}
}
