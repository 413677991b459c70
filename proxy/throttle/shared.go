package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Counter keeps failure counts where every process that shares it sees
// them: the store of several replicas. Keys reach it as SHA-256 digests, so
// it never holds a username or an address.
type Counter interface {
	// AddFailure records a failure of key at now and returns the failures
	// counted for it, this one included; a key whose last failure is
	// forget or more before now starts again from one.
	AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (int, error)
	// Failures returns key's failure count and the time of its last
	// failure; 0 and the zero time when it has none.
	Failures(ctx context.Context, key string) (int, time.Time, error)
	// ClearFailures forgets key.
	ClearFailures(ctx context.Context, key string) error
}

// Shared throttles like a Limiter, with the counts in a Counter, so that
// several replicas throttle together: adding replicas does not multiply an
// attacker's guesses. Config.MaxKeys does not apply: the Counter's store
// bounds nothing by itself, and its owner prunes keys quiet for Forget.
type Shared struct {
	cfg     Config
	counter Counter
	now     func() time.Time
}

// NewShared returns a Shared throttle on counter. Zero Config fields take
// New's defaults.
func NewShared(cfg Config, counter Counter, now func() time.Time) *Shared {
	cfg, now = cfg.withDefaults(now)
	return &Shared{cfg: cfg, counter: counter, now: now}
}

// Wait is Limiter.Wait on the shared counts.
func (s *Shared) Wait(ctx context.Context, key string) (time.Duration, error) {
	n, last, err := s.counter.Failures(ctx, digest(key))
	if err != nil || n == 0 {
		return 0, err
	}
	elapsed := max(s.now().Sub(last), 0)
	if elapsed >= s.cfg.Forget {
		return 0, nil
	}
	return max(delay(n, s.cfg.Free, s.cfg.Base, s.cfg.Max)-elapsed, 0), nil
}

// Fail is Limiter.Fail on the shared counts.
func (s *Shared) Fail(ctx context.Context, key string) (time.Duration, error) {
	n, err := s.counter.AddFailure(ctx, digest(key), s.now(), s.cfg.Forget)
	if err != nil {
		return 0, err
	}
	return delay(n, s.cfg.Free, s.cfg.Base, s.cfg.Max), nil
}

// Reset is Limiter.Reset on the shared counts.
func (s *Shared) Reset(ctx context.Context, key string) error {
	return s.counter.ClearFailures(ctx, digest(key))
}

// Forget is how long a key must stay quiet before its owner may prune it.
func (s *Shared) Forget() time.Duration { return s.cfg.Forget }

func digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// InProcess gives a Limiter the methods of Shared, for callers that take
// either: its counts stay in this process.
type InProcess struct {
	L *Limiter
}

// Wait is Limiter.Wait.
func (p InProcess) Wait(_ context.Context, key string) (time.Duration, error) {
	return p.L.Wait(key), nil
}

// Fail is Limiter.Fail.
func (p InProcess) Fail(_ context.Context, key string) (time.Duration, error) {
	return p.L.Fail(key), nil
}

// Reset is Limiter.Reset.
func (p InProcess) Reset(_ context.Context, key string) error {
	p.L.Reset(key)
	return nil
}
