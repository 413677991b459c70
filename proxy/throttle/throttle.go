// Package throttle slows down password guessing. It counts failed login
// attempts per key and, after a few free failures, makes each further attempt
// wait exponentially longer, up to a cap. This is throttling, not lockout
// (NIST SP 800-63B-4 §3.2.2, OWASP Authentication Cheat Sheet): the wait never
// exceeds Config.Max, and a key's failures are forgotten after a quiet
// period, so knowing a victim's username lets an attacker delay the victim's
// logins but not shut the account for good.
//
// Keys are opaque strings chosen by the caller, typically one for the
// presented username ("user:alice") and one for the client address
// ("ip:203.0.113.7"). A caller consults Wait before checking credentials and,
// while it is positive, answers 429 Too Many Requests with Retry-After
// (rounded up to whole seconds) without checking them; it calls Fail after
// each failed check and Reset after a successful one. Throttling by the
// presented username whether or not such an account exists keeps the answer
// from revealing which accounts exist.
//
// A Limiter holds a bounded amount of memory however many distinct keys an
// attacker sprays: at most Config.MaxKeys keys are tracked, each costing at
// most about 200 bytes (keys longer than 64 bytes are tracked by their
// SHA-256 digest), so the default bound of 100,000 keys costs about 20 MB;
// and keys are forgotten once quiet for Config.Forget.
package throttle

import (
	"crypto/sha256"
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	defaultFree    = 5
	defaultBase    = time.Second
	defaultMax     = 15 * time.Minute
	defaultForget  = time.Hour
	defaultMaxKeys = 100_000
)

const (
	// maxShards is the number of shards (a power of two) of a Limiter whose
	// MaxKeys is large enough to give each at least minShardKeys keys.
	maxShards    = 32
	minShardKeys = 16

	// sweepBatch bounds how many forgotten keys one call removes, so that
	// no call holds a shard lock for long after an attack subsides.
	sweepBatch = 16

	// evictWindow is how many of a shard's least recently failed keys an
	// eviction chooses among.
	evictWindow = 4

	// A shard whose map has shrunk to a quarter of its peak, with the peak
	// at least shrinkMin, copies it to a smaller map: Go maps never give
	// back the space of deleted entries.
	shrinkMin = 64

	// maxKeyLen is the longest key stored as given; longer keys are stored
	// as their digest (see canonical).
	maxKeyLen = 64
)

// digestPrefix starts the stored form of a long key; with the 32-byte digest
// it makes a string of maxKeyLen+1 bytes, a length no key stored as given
// has, so the two forms never collide.
var digestPrefix = "\x00throttle-sha256" + strings.Repeat("\x00", maxKeyLen+1-sha256.Size-len("\x00throttle-sha256"))

// Config configures a Limiter. New applies the default of any zero field.
type Config struct {
	// Free is the number of failures allowed before any delay
	// (default 5). A negative Free allows none.
	Free int

	// Base is the delay imposed by the first failure beyond Free
	// (default 1s). Each further failure doubles the delay.
	Base time.Duration

	// Max caps the delay (default 15m).
	Max time.Duration

	// Forget is how long a key must go without a failure before its
	// failures are forgotten (default 1h). A Forget shorter than Max cuts
	// the longest waits short.
	Forget time.Duration

	// MaxKeys bounds the number of keys tracked (default 100,000). When a
	// new key would exceed it, a key that has not failed for a long time
	// is evicted, never the new one; see Limiter.
	MaxKeys int
}

// withDefaults returns cfg with the default of every zero field, and now
// or time.Now.
func (cfg Config) withDefaults(now func() time.Time) (Config, func() time.Time) {
	switch {
	case cfg.Free == 0:
		cfg.Free = defaultFree
	case cfg.Free < 0:
		cfg.Free = 0
	}
	if cfg.Base <= 0 {
		cfg.Base = defaultBase
	}
	if cfg.Max <= 0 {
		cfg.Max = defaultMax
	}
	if cfg.Forget <= 0 {
		cfg.Forget = defaultForget
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = defaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	return cfg, now
}

// Limiter throttles failed attempts per key. Its methods are safe for
// concurrent use.
//
// Keys are spread over up to 32 shards by a hash with a seed of the
// Limiter's own, so an attacker cannot aim keys at one shard. Each shard has
// its own lock, map and share of MaxKeys (the shares sum to MaxKeys exactly,
// so Len never exceeds it), and keeps its keys in a list ordered by the time
// of their last failure (approximately: the time is read before the lock is
// taken). When a new key arrives at a full shard, the shard evicts one of
// its few (at most four) least recently failed keys, the one with the
// fewest failures, the least recent among equals. Eviction is thus an
// approximate LRU that drops the single-failure keys of a username spray
// before a key deep in back-off, whose eviction would restart its back-off;
// the new key is never evicted. Because each shard has a fixed share, a
// shard may evict while the Limiter as a whole holds somewhat fewer than
// MaxKeys keys.
//
// Every call also sweeps a few forgotten keys (no failure for Forget) from
// the old end of its shard's list, and a shard whose map has shrunk well
// below its peak rebuilds it, so memory is given back once an attack
// subsides and calls continue. A Limiter has no goroutine of its own, so a
// shard's forgotten keys stay until some call lands on that shard.
type Limiter struct {
	free   int
	base   time.Duration
	max    time.Duration
	forget time.Duration
	now    func() time.Time
	epoch  time.Time // failure times are kept as offsets from epoch
	seed   maphash.Seed
	mask   uint64
	shards []shard
}

// entry is one tracked key, linked into its shard's list.
type entry struct {
	key        string
	prev, next *entry
	last       time.Duration // time of the last failure, since Limiter.epoch
	failures   int
}

type shard struct {
	mu     sync.Mutex
	keys   map[string]*entry
	lru    entry // sentinel: lru.next is the most recent failure, lru.prev the least
	budget int   // this shard's share of MaxKeys
	window int   // how many old keys an eviction chooses among
	peak   int   // most keys held since keys was made
	_      [64]byte
}

// New returns a Limiter configured by cfg that reads the time from now, or
// from time.Now if now is nil.
func New(cfg Config, now func() time.Time) *Limiter {
	cfg, now = cfg.withDefaults(now)
	n := maxShards
	for n > 1 && cfg.MaxKeys/n < minShardKeys {
		n /= 2
	}
	l := &Limiter{
		free:   cfg.Free,
		base:   cfg.Base,
		max:    cfg.Max,
		forget: cfg.Forget,
		now:    now,
		epoch:  now(),
		seed:   maphash.MakeSeed(),
		mask:   uint64(n - 1),
		shards: make([]shard, n),
	}
	for i := range l.shards {
		s := &l.shards[i]
		s.keys = make(map[string]*entry)
		s.lru.next, s.lru.prev = &s.lru, &s.lru
		s.budget = cfg.MaxKeys / n
		if i < cfg.MaxKeys%n {
			s.budget++
		}
		s.window = max(1, min(evictWindow, s.budget/8))
	}
	return l
}

// Wait returns how long key must still wait before its next attempt; 0 means
// it may try now. The wait is measured from the key's last failure.
func (l *Limiter) Wait(key string) time.Duration {
	key = canonical(key)
	now := l.stamp()
	s := l.shard(key)
	s.mu.Lock()
	var wait time.Duration
	if e := s.keys[key]; e != nil {
		elapsed := max(now-e.last, 0)
		if elapsed >= l.forget {
			s.remove(e)
		} else {
			wait = max(l.delay(e.failures)-elapsed, 0)
		}
	}
	s.sweep(now, l.forget)
	s.mu.Unlock()
	return wait
}

// Fail records a failed attempt for key and returns the wait it now imposes:
// 0 while the key is within its Free failures, then Base, doubling with each
// failure up to Max. A key whose last failure is older than Forget starts
// afresh. Fail counts every call, so callers should not call it for attempts
// they refused because Wait was positive.
func (l *Limiter) Fail(key string) time.Duration {
	key = canonical(key)
	now := l.stamp()
	s := l.shard(key)
	s.mu.Lock()
	s.sweep(now, l.forget)
	e := s.keys[key]
	if e == nil {
		for len(s.keys) >= s.budget {
			s.evict()
		}
		e = &entry{key: strings.Clone(key)}
		s.keys[e.key] = e
		s.peak = max(s.peak, len(s.keys))
	} else {
		if now-e.last >= l.forget {
			e.failures = 0
		}
		s.unlink(e)
	}
	e.failures++
	e.last = now
	s.pushFront(e)
	wait := l.delay(e.failures)
	s.mu.Unlock()
	return wait
}

// Reset forgets key. A successful login resets the account's key; whether
// it also resets the client address's key is the caller's choice.
func (l *Limiter) Reset(key string) {
	key = canonical(key)
	now := l.stamp()
	s := l.shard(key)
	s.mu.Lock()
	if e := s.keys[key]; e != nil {
		s.remove(e)
	}
	s.sweep(now, l.forget)
	s.mu.Unlock()
}

// Len reports the number of keys tracked, including forgotten keys not yet
// swept. It never exceeds Config.MaxKeys.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.keys)
		s.mu.Unlock()
	}
	return n
}

// stamp returns the current time as an offset from l.epoch.
func (l *Limiter) stamp() time.Duration {
	return l.now().Sub(l.epoch)
}

func (l *Limiter) shard(key string) *shard {
	return &l.shards[maphash.String(l.seed, key)&l.mask]
}

// delay returns the wait imposed by the given number of failures.
func (l *Limiter) delay(failures int) time.Duration {
	return delay(failures, l.free, l.base, l.max)
}

// delay is the wait imposed by failures: base·2^(failures−free−1) capped at
// max, or 0 within free.
func delay(failures, free int, base, max time.Duration) time.Duration {
	n := failures - free - 1
	if n < 0 {
		return 0
	}
	if n > 63-bits.Len64(uint64(base)) { // base<<n would overflow
		return max
	}
	return min(base<<n, max)
}

// canonical returns the form in which key is stored: key itself, or for a
// key longer than maxKeyLen a fixed-size string made of its SHA-256 digest,
// so that an attacker choosing long usernames cannot make a tracked key cost
// more than a few dozen bytes.
func canonical(key string) string {
	if len(key) <= maxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return digestPrefix + string(sum[:])
}

// sweep removes up to sweepBatch keys whose last failure is at least forget
// before now from the old end of the list, then shrinks the map if it has
// emptied well below its peak.
func (s *shard) sweep(now, forget time.Duration) {
	for range sweepBatch {
		e := s.lru.prev
		if e == &s.lru || now-e.last < forget {
			break
		}
		s.remove(e)
	}
	if s.peak >= shrinkMin && len(s.keys) <= s.peak/4 {
		keys := make(map[string]*entry, len(s.keys))
		for e := s.lru.next; e != &s.lru; e = e.next {
			keys[e.key] = e
		}
		s.keys = keys
		s.peak = len(keys)
	}
}

// evict removes, of the s.window least recently failed keys, the one with
// the fewest failures, the least recent among equals.
func (s *shard) evict() {
	victim := s.lru.prev
	if victim == &s.lru {
		return
	}
	e := victim.prev
	for i := 1; i < s.window && e != &s.lru; i++ {
		if e.failures < victim.failures {
			victim = e
		}
		e = e.prev
	}
	s.remove(victim)
}

func (s *shard) remove(e *entry) {
	s.unlink(e)
	delete(s.keys, e.key)
}

func (s *shard) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (s *shard) pushFront(e *entry) {
	e.prev = &s.lru
	e.next = s.lru.next
	s.lru.next.prev = e
	s.lru.next = e
}
