// Package tokencache keeps the results of successful token verifications,
// so a client that sends the same bearer token on every request pays for
// one signature check instead of one per request.
//
// What is kept, and for how long:
//
//   - Entries are keyed by the SHA-256 digest of the exact token string;
//     the token itself is never stored. A token that differs in any byte
//     has another digest and is verified in full.
//   - Only successful verifications are stored. An error (a bad signature,
//     a key not yet known, an expired token) is never cached, so the next
//     request with that token is verified again.
//   - An entry is served until the earlier of the token's exp and TTL after
//     it was stored. On every hit exp and nbf are checked again against the
//     clock, without leeway: an entry the clock has passed is dropped and
//     the token verified again (where the issuer's leeway still applies).
//   - Revocation and route policy are not part of Verify, and so are not
//     cached: the caller checks them on every request.
//
// A Cache belongs to one configuration snapshot: a reload (keys or issuer
// settings changed) builds a new Verifier and a new, empty Cache. Within a
// snapshot, the keys of external issuers change as their JWKS is fetched
// again: Options.Generation lets the cache drop every entry verified
// before such a change.
//
// A token enters the cache the second time it is verified within a short
// while (see Options.AdmitFirst): a client that reuses its token is served
// from the cache from its third request on, while tokens seen only once
// (a client that sends a new token on every request, or more distinct
// tokens than the cache holds) never displace cached ones, nor churn the
// cache and the garbage collector.
//
// The cache is bounded in entries and in bytes; when either bound is
// reached the least recently used entries are evicted. It is split into
// shards, each with its own lock and its share of both bounds, so the sum
// never exceeds them and concurrent requests rarely wait for each other.
package tokencache

import (
	"crypto/sha256"
	"encoding/json"
	"math"
	"sync"
	"time"

	"github.com/authgate/authgate/proxy/identity"
)

// Defaults used when an Options field is zero.
const (
	DefaultMaxEntries       = 10000
	DefaultMaxBytes   int64 = 2 << 20
	DefaultTTL              = 30 * time.Second
)

// EntryOverhead is charged to every entry on top of its claims (see
// EntrySize): the digest, the entry, its map slot and the Identity.
const EntryOverhead = 384

// Estimates of the heap taken by decoded JSON values (Go 1.24+ maps:
// slots of key and value in groups of eight, at most 7/8 full).
const (
	mapHeader  = 64
	mapSlot    = 48 // string key header + interface value + control byte, rounded up for load
	sliceHead  = 24
	boxedValue = 16 // the interface's heap box (string header or float64)
)

// EntrySize is what an entry for id is charged against MaxBytes: an
// estimate, from above, of the heap it holds (EntryOverhead, the claims as
// decoded from JSON, roles and scopes). A token with many claims or long
// group lists costs more than its length suggests: each item of a list is a
// Go value of its own.
func EntrySize(id *identity.Identity) int64 {
	n := int64(EntryOverhead) + stringsSize(id.Roles) + stringsSize(id.Scopes) +
		int64(len(id.Issuer)+len(id.Subject)+len(id.TokenID))
	return n + valueSize(id.Claims)
}

func stringsSize(ss []string) int64 {
	if ss == nil {
		return 0
	}
	n := int64(sliceHead + 16*cap(ss))
	for _, s := range ss {
		n += roundUp(len(s))
	}
	return n
}

// valueSize estimates the heap held by v, a value decoded from JSON.
func valueSize(v any) int64 {
	switch v := v.(type) {
	case map[string]any:
		n := int64(mapHeader)
		for k, x := range v {
			n += mapSlot + roundUp(len(k)) + valueSize(x)
		}
		return n
	case []any:
		n := int64(sliceHead + 16*cap(v))
		for _, x := range v {
			n += valueSize(x)
		}
		return n
	case string:
		return boxedValue + roundUp(len(v))
	case json.Number:
		return boxedValue + roundUp(len(v))
	case nil, bool:
		return 0 // no box: the runtime shares these values
	default:
		return boxedValue
	}
}

// roundUp is n rounded up to the allocator's smallest size class step.
func roundUp(n int) int64 { return int64((n + 15) &^ 15) }

// Results reported to Options.Record.
const (
	Hit      = "hit"
	Miss     = "miss"
	Eviction = "eviction"
	// NotAdmitted: a verified token was not stored, as its first
	// verification the doorkeeper remembers (see Options.AdmitFirst).
	NotAdmitted = "not_admitted"
)

// maxShards is the number of shards of a cache large enough to split.
const maxShards = 16

// Verifier verifies a bearer token; *token.Verifier implements it.
type Verifier interface {
	Verify(raw string) (*identity.Identity, error)
}

// Options bound a Cache. Zero fields take the defaults.
type Options struct {
	// MaxEntries bounds the number of entries.
	MaxEntries int
	// MaxBytes bounds the bytes charged to entries: each costs
	// EntrySize, an estimate from above of the heap it holds.
	MaxBytes int64
	// TTL is the longest an entry is served.
	TTL time.Duration
	// Now is the clock; time.Now when nil. Use the Verifier's clock.
	Now func() time.Time
	// Record, when set, is called with Hit, Miss, NotAdmitted or Eviction
	// (one call per evicted entry).
	Record func(result string)
	// Generation, when set, returns a count that grows whenever the keys
	// the Verifier uses change (a JWKS refresh, a key source handed over).
	// An entry stored under another count is not served, so a key that
	// disappears stops vouching for cached tokens at once.
	Generation func() uint64
	// AdmitFirst stores a token on its first successful verification.
	// When false (the default), a token is stored only when verified again
	// while a doorkeeper of recently verified tokens' fingerprints, sized
	// to what the cache holds, still remembers the first verification.
	AdmitFirst bool
}

// Cache is a Verifier that remembers successful verifications of another.
// It is safe for concurrent use.
type Cache struct {
	v      Verifier
	ttl    time.Duration
	now    func() time.Time
	record func(string)
	gen    func() uint64
	// admitFirst: Options.AdmitFirst; the shards have no doorkeeper.
	admitFirst bool
	// fingerprint is the package's fingerprint; tests replace it.
	fingerprint func(*[sha256.Size]byte) uint64
	shards      []shard
}

type shard struct {
	mu         sync.Mutex
	m          map[[sha256.Size]byte]*entry
	head       entry // sentinel of the LRU ring: head.next is the most recent
	bytes      int64
	maxEntries int
	maxBytes   int64
	door       doorkeeper // unused when Cache.admitFirst
}

type entry struct {
	key        [sha256.Size]byte
	id         *identity.Identity
	notBefore  time.Time // zero when the token has no nbf
	until      time.Time // the earlier of exp and stored + TTL
	size       int64
	gen        uint64 // Options.Generation when verified
	prev, next *entry
}

// New returns a Cache in front of v.
func New(v Verifier, o Options) *Cache {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	n := maxShards
	// Small caches stay in one shard, so their bounds are not split into
	// shares too small to hold a token.
	if o.MaxEntries < 64*maxShards || o.MaxBytes < 64*maxShards*(EntryOverhead+1024) {
		n = 1
	}
	c := &Cache{v: v, ttl: o.TTL, now: o.Now, record: o.Record, gen: o.Generation,
		admitFirst: o.AdmitFirst, fingerprint: fingerprint, shards: make([]shard, n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.m = make(map[[sha256.Size]byte]*entry)
		s.head.prev, s.head.next = &s.head, &s.head
		s.maxEntries = o.MaxEntries / n
		s.maxBytes = o.MaxBytes / int64(n)
		if !o.AdmitFirst {
			s.door = newDoorkeeper(doorkeeperSlots(min(s.maxEntries, int(s.maxBytes/typicalEntryBytes))))
		}
	}
	return c
}

// Verify returns the identity raw proves: from the cache when a fresh entry
// for raw is there, else from the wrapped Verifier, storing a success.
func (c *Cache) Verify(raw string) (*identity.Identity, error) {
	key := hashToken(raw)
	s := &c.shards[int(key[0])%len(c.shards)]
	now := c.now()
	gen := c.generation()
	s.mu.Lock()
	if e := s.m[key]; e != nil {
		if now.Before(e.until) && !now.Before(e.notBefore) && e.gen == gen {
			s.toFront(e)
			id := e.id
			s.mu.Unlock()
			c.count(Hit)
			return id, nil
		}
		s.remove(e)
	}
	s.mu.Unlock()
	c.count(Miss)

	id, err := c.v.Verify(raw)
	if err != nil {
		return nil, err
	}
	// Keys that changed during the verification may be either the old or
	// the new ones: keep nothing.
	if c.generation() == gen {
		c.store(s, key, id, c.now(), gen)
	}
	return id, nil
}

// hashToken is sha256.Sum256 of raw, through a stack buffer for the usual
// token sizes: converting raw to a byte slice would allocate.
func hashToken(raw string) [sha256.Size]byte {
	var buf [2048]byte
	if len(raw) > len(buf) {
		return sha256.Sum256([]byte(raw))
	}
	n := copy(buf[:], raw)
	return sha256.Sum256(buf[:n])
}

func (c *Cache) generation() uint64 {
	if c.gen == nil {
		return 0
	}
	return c.gen()
}

// store keeps id unless it cannot be served at now (not yet valid, or no
// exp), is larger than the shard, or is not admitted by the doorkeeper.
func (c *Cache) store(s *shard, key [sha256.Size]byte, id *identity.Identity, now time.Time, gen uint64) {
	nbf, ok := notBefore(id)
	if !ok || now.Before(nbf) || id.ExpiresAt.IsZero() || !now.Before(id.ExpiresAt) {
		return
	}
	if !c.admitFirst {
		s.mu.Lock()
		admitted := s.door.admit(c.fingerprint(&key))
		s.mu.Unlock()
		if !admitted {
			c.count(NotAdmitted)
			return
		}
	}
	size := EntrySize(id)
	if size > s.maxBytes {
		return
	}
	until := now.Add(c.ttl)
	if id.ExpiresAt.Before(until) {
		until = id.ExpiresAt
	}
	e := &entry{key: key, id: id, notBefore: nbf, until: until, size: size, gen: gen}
	evicted := 0
	s.mu.Lock()
	if old := s.m[key]; old != nil {
		s.remove(old)
	}
	for len(s.m) >= s.maxEntries || s.bytes+size > s.maxBytes {
		s.remove(s.head.prev)
		evicted++
	}
	s.m[key] = e
	s.bytes += size
	e.prev, e.next = &s.head, s.head.next
	e.prev.next, e.next.prev = e, e
	s.mu.Unlock()
	for ; evicted > 0; evicted-- {
		c.count(Eviction)
	}
}

func (s *shard) toFront(e *entry) {
	if s.head.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &s.head, s.head.next
	e.prev.next, e.next.prev = e, e
}

func (s *shard) remove(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(s.m, e.key)
	s.bytes -= e.size
}

func (c *Cache) count(result string) {
	if c.record != nil {
		c.record(result)
	}
}

// Len returns the number of entries and the bytes charged to them.
func (c *Cache) Len() (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		entries += len(s.m)
		bytes += s.bytes
		s.mu.Unlock()
	}
	return entries, bytes
}

// notBefore reads the verified "nbf" claim: zero and true when absent,
// false when it is not a finite number (the token is then not cached).
func notBefore(id *identity.Identity) (time.Time, bool) {
	v, ok := id.Claims["nbf"]
	if !ok || v == nil {
		return time.Time{}, true
	}
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return time.Time{}, false
		}
	case float64:
		f = n
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<62/1e9 {
		return time.Time{}, false
	}
	if f == 0 {
		return time.Time{}, true // golang-jwt reads 0 as absent
	}
	sec, frac := math.Modf(f)
	// Round up: never serve before the instant the token names.
	return time.Unix(int64(sec), int64(math.Ceil(frac*1e9))), true
}
