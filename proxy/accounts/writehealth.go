package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Readiness of a store's writes.
const (
	// WriteFailureWindow is how long a failed write keeps a store not
	// writable when nothing succeeds after it.
	WriteFailureWindow = 30 * time.Second
	// WriteProbeInterval is the least time between two write probes.
	WriteProbeInterval = 5 * time.Second
)

// ErrNotWritable is what WriteMonitor.Check returns while the store's
// writes fail.
var ErrNotWritable = errors.New("not writable")

// WriteMonitor remembers the outcome of a store's latest write, so that a
// readiness check can tell whether the store can write (a read-only file or
// database, a full disk, a lock never released) without writing on every
// check. Its zero value knows of no failure. It is safe for concurrent use.
type WriteMonitor struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu      sync.Mutex
	failed  time.Time // when the latest write failed; zero after a success
	cause   error
	probed  time.Time // when the latest probe started
	probing bool
}

// Record records the outcome of a write run under ctx: nil clears a
// failure, and an error that is ErrUnavailable while ctx is still live
// (the store failed, not the caller who gave up) is one. Other errors (a
// taken username, a missing row) say nothing about the store.
func (m *WriteMonitor) Record(ctx context.Context, err error) {
	if err != nil && (!errors.Is(err, ErrUnavailable) || ctx.Err() != nil) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		m.failed, m.cause = time.Time{}, nil
		return
	}
	if m.failed.IsZero() {
		// The failed write is as good as a probe: the next one is due
		// WriteProbeInterval later.
		m.probed = m.now()
	}
	m.failed, m.cause = m.now(), err
}

// Check returns an error wrapping ErrNotWritable while the latest write
// failed less than WriteFailureWindow ago, otherwise nil. While it fails it
// starts probe in the background, at most once every WriteProbeInterval and
// never twice at once; probe must be a real write that records its outcome
// in m, so that the store is ready again as soon as it can write, without
// waiting for traffic (which a not-ready replica does not get). Check itself
// never writes and never waits for the store.
func (m *WriteMonitor) Check(probe func(context.Context) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.failed.IsZero() || now.Sub(m.failed) >= WriteFailureWindow {
		return nil
	}
	if !m.probing && now.Sub(m.probed) >= WriteProbeInterval {
		m.probing, m.probed = true, now
		go func() {
			_ = probe(context.Background())
			m.mu.Lock()
			m.probing = false
			m.mu.Unlock()
		}()
	}
	return fmt.Errorf("%w: %w", ErrNotWritable, m.cause)
}

func (m *WriteMonitor) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}
