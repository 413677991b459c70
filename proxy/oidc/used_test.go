package oidc

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestMarkUsedBound(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	h, err := New(Config{Prefix: "/auth", Key: bytes.Repeat([]byte{7}, 32), Finisher: &finisher{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.maxUsed = 3
	st := func(name string, ttl time.Duration) *state {
		return &state{State: name, Expires: clk.Now().Add(ttl).Unix()}
	}
	for _, step := range []struct {
		name    string
		advance time.Duration
		state   *state
		want    error
		size    int
	}{
		{name: "first", state: st("a", StateTTL), size: 1},
		{name: "replay", state: st("a", StateTTL), want: errBadState, size: 1},
		{name: "second, expiring sooner", state: st("b", time.Minute), size: 2},
		{name: "third fills the record", state: st("c", StateTTL), size: 3},
		{name: "full, none expired: refused", state: st("d", StateTTL), want: errBusy, size: 3},
		{name: "replay when full is still a replay", state: st("a", StateTTL), want: errBadState, size: 3},
		{name: "full, the expired one dropped", advance: 2 * time.Minute, state: st("d", StateTTL), size: 3},
		{name: "full again", state: st("e", StateTTL), want: errBusy, size: 3},
		{name: "all expired", advance: StateTTL + time.Minute, state: st("e", StateTTL), size: 1},
	} {
		clk.add(step.advance)
		if err := h.markUsed(step.state); !errors.Is(err, step.want) {
			t.Errorf("%s: err = %v, want %v", step.name, err, step.want)
		}
		if len(h.used) != step.size {
			t.Errorf("%s: %d states remembered, want %d", step.name, len(h.used), step.size)
		}
	}
}

// TestCallbackWhenFull: a callback that cannot be recorded is refused
// with a page saying so, counted and logged.
func TestCallbackWhenFull(t *testing.T) {
	rg := newRig(t, nil)
	var logs bytes.Buffer
	rg.h.cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	rg.h.maxUsed = 1
	first := rg.begin(t, alice(), "/")
	second := rg.begin(t, alice(), "/")
	if resp := get(t, first.callback.String(), first.cookie); resp.StatusCode != http.StatusOK {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	resp := get(t, second.callback.String(), second.cookie)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "Too many sign-ins are under way") {
		t.Errorf("second callback: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if n := rg.metrics.m["mock/"+resultBusy]; n != 1 {
		t.Errorf("metrics %v, want mock/%s once", rg.metrics.m, resultBusy)
	}
	if !strings.Contains(logs.String(), "too many sign-ins under way") || !strings.Contains(logs.String(), "limit="+strconv.Itoa(1)) {
		t.Errorf("log: %s", logs.String())
	}
}

// BenchmarkMarkUsedFull records states in a record of DefaultMaxUsed that is
// full of unexpired ones: the cost of a callback under a flood.
func BenchmarkMarkUsedFull(b *testing.B) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	h, err := New(Config{Prefix: "/auth", Key: bytes.Repeat([]byte{7}, 32), Finisher: &finisher{}, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	exp := clk.Now().Add(1000 * time.Hour).Unix() // none expires during the run
	for i := range DefaultMaxUsed {
		h.used[strconv.Itoa(i)] = exp
	}
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			clk.add(time.Second) // a sweep a second, as a flood would see
		}
		if err := h.markUsed(&state{State: "s" + strconv.Itoa(i), Expires: exp}); !errors.Is(err, errBusy) {
			b.Fatal(err)
		}
	}
}
