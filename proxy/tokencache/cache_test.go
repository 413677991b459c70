package tokencache_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
	"github.com/authgate/authgate/proxy/tokencache"
)

const (
	testIss = "https://auth.example.com"
	testAud = "https://api.example.com"
	leeway  = 30 * time.Second
)

var start = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(start.UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

var algs = []string{keys.EdDSA, keys.ES256, keys.RS256}

// loadKeys generates one key per algorithm once: RSA generation is slow.
var loadKeys = sync.OnceValues(func() (map[string]*keys.Key, error) {
	m := map[string]*keys.Key{}
	for _, alg := range algs {
		k, err := keys.Generate(alg)
		if err != nil {
			return nil, err
		}
		m[alg] = k
	}
	return m, nil
})

func testKey(tb testing.TB, alg string) *keys.Key {
	tb.Helper()
	m, err := loadKeys()
	if err != nil {
		tb.Fatal(err)
	}
	return m[alg]
}

// swappableKeys is a key source whose keys can arrive later, like a JWKS.
type swappableKeys struct{ ks atomic.Pointer[[]*keys.Key] }

func (s *swappableKeys) set(ks ...*keys.Key) { s.ks.Store(&ks) }

func (s *swappableKeys) keyfunc(t *jwt.Token) (any, error) {
	p := s.ks.Load()
	if p == nil || len(*p) == 0 {
		return nil, errors.New("no keys yet")
	}
	return token.StaticKeys(*p...)(t)
}

// countingVerifier counts the verifications that reach the real Verifier.
type countingVerifier struct {
	v     *token.Verifier
	calls atomic.Int64
}

func (c *countingVerifier) Verify(raw string) (*identity.Identity, error) {
	c.calls.Add(1)
	return c.v.Verify(raw)
}

type fixture struct {
	clk   *clock
	key   *keys.Key
	src   *swappableKeys
	inner *countingVerifier
	cache *tokencache.Cache
	rec   *recorder
}

type recorder struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *recorder) record(result string) {
	r.mu.Lock()
	r.n[result]++
	r.mu.Unlock()
}

func (r *recorder) get(result string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[result]
}

func newFixture(tb testing.TB, alg string, o tokencache.Options) *fixture {
	tb.Helper()
	f := &fixture{clk: newClock(), key: testKey(tb, alg), src: &swappableKeys{}, rec: &recorder{n: map[string]int{}}}
	f.src.set(f.key)
	v, err := token.NewVerifier([]token.Issuer{{
		Name: "authgate", Issuer: testIss, Audience: []string{testAud},
		Algorithms: token.Algorithms(f.key), Types: []string{token.TypeAccessToken},
		Leeway: leeway, Keys: f.src.keyfunc,
	}}, f.clk.now)
	if err != nil {
		tb.Fatal(err)
	}
	f.inner = &countingVerifier{v: v}
	o.Now = f.clk.now
	o.Record = f.rec.record
	f.cache = tokencache.New(f.inner, o)
	return f
}

// sign signs the default claims, changed by edits (nil removes a claim).
func (f *fixture) sign(tb testing.TB, edits map[string]any) string {
	tb.Helper()
	now := f.clk.now()
	c := jwt.MapClaims{"iss": testIss, "sub": "user-1", "aud": testAud, "iat": now.Unix(),
		"exp": now.Add(15 * time.Minute).Unix(), "jti": "jti-1", "roles": []string{"user"}}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	t := jwt.NewWithClaims(f.key.SigningMethod(), c)
	t.Header["typ"] = token.TypeAccessToken
	t.Header["kid"] = f.key.ID
	s, err := t.SignedString(f.key.SigningKey())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// mustVerify verifies raw through the cache and reports whether the
// wrapped Verifier was asked.
func (f *fixture) mustVerify(t *testing.T, raw string) (verified bool) {
	t.Helper()
	before := f.inner.calls.Load()
	id, err := f.cache.Verify(raw)
	if err != nil || id == nil || id.Subject != "user-1" {
		t.Fatalf("Verify = %v, %v; want user-1", id, err)
	}
	return f.inner.calls.Load() != before
}

// flip returns raw with the base64url character at i replaced by another.
func flip(raw string, i int) string {
	b := []byte(raw)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestTamperedNeverServed: once a token is cached, every token that differs
// from it in one byte of its header, payload or signature is refused, and
// each is verified in full rather than served from the cache.
func TestTamperedNeverServed(t *testing.T) {
	for _, alg := range algs {
		for _, admitFirst := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/admitFirst=%v", alg, admitFirst), func(t *testing.T) {
				testTamperedNeverServed(t, alg, admitFirst)
			})
		}
	}
}

func testTamperedNeverServed(t *testing.T, alg string, admitFirst bool) {
	f := newFixture(t, alg, tokencache.Options{AdmitFirst: admitFirst})
	raw := f.sign(t, nil)
	f.mustVerify(t, raw)
	if !admitFirst && !f.mustVerify(t, raw) {
		t.Fatal("second Verify of the same token was served before it was admitted")
	}
	if f.mustVerify(t, raw) {
		t.Fatal("Verify of an admitted token was not served from the cache")
	}
	first := strings.IndexByte(raw, '.')
	second := first + 1 + strings.IndexByte(raw[first+1:], '.')
	parts := []struct {
		name     string
		from, to int
	}{{"header", 0, first}, {"payload", first + 1, second}, {"signature", second + 1, len(raw)}}
	for _, p := range parts {
		n := p.to - p.from
		step := 1
		if n > 64 { // a sample of positions: both ends and every step-th
			step = n / 48
		}
		var positions []int
		for i := p.from; i < p.to; i += step {
			positions = append(positions, i)
		}
		positions = append(positions, p.to-1)
		for _, i := range positions {
			bad := flip(raw, i)
			before := f.inner.calls.Load()
			id, err := f.cache.Verify(bad)
			if f.inner.calls.Load() == before {
				t.Fatalf("%s byte %d: served from the cache", p.name, i-p.from)
			}
			// The last base64url character of a segment may carry
			// unused bits that strict decoding refuses anyway; any
			// success must be a different, genuinely valid token,
			// which a one-byte change cannot produce.
			if err == nil {
				t.Fatalf("%s byte %d: tampered token verified as %+v", p.name, i-p.from, id)
			}
		}
	}
	if f.mustVerify(t, raw) {
		t.Error("the genuine token lost its entry")
	}
}

func TestLifetime(t *testing.T) {
	tests := []struct {
		name string
		// claims edits of the token, relative to the clock at signing
		edits func(now time.Time) map[string]any
		ttl   time.Duration
		// after the first Verify, advance the clock by this much
		advance time.Duration
		// wantErr: the second Verify fails; wantInner: it reached the
		// wrapped Verifier (not served from the cache)
		wantErr, wantInner bool
	}{
		{name: "fresh hit", edits: func(time.Time) map[string]any { return nil }, advance: time.Second},
		{name: "ttl expired is verified again", edits: func(time.Time) map[string]any { return nil },
			ttl: 30 * time.Second, advance: 31 * time.Second, wantInner: true},
		{name: "exp passed since cached is refused",
			edits: func(now time.Time) map[string]any { return map[string]any{"exp": now.Add(10 * time.Second).Unix()} },
			ttl:   time.Minute, advance: 10*time.Second + leeway + time.Second, wantErr: true, wantInner: true},
		{name: "exp passed within leeway is verified again, not served",
			edits: func(now time.Time) map[string]any { return map[string]any{"exp": now.Add(10 * time.Second).Unix()} },
			ttl:   time.Minute, advance: 11 * time.Second, wantInner: true},
		{name: "nbf in the future is not served",
			edits: func(now time.Time) map[string]any {
				return map[string]any{"nbf": now.Add(20 * time.Second).Unix(), "iat": now.Unix()}
			},
			advance: time.Second, wantInner: true},
		{name: "nbf passed is served",
			edits:   func(now time.Time) map[string]any { return map[string]any{"nbf": now.Add(-time.Second).Unix()} },
			advance: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, keys.EdDSA, tokencache.Options{TTL: tt.ttl, AdmitFirst: true})
			raw := f.sign(t, tt.edits(f.clk.now()))
			if !f.mustVerify(t, raw) {
				t.Fatal("first Verify did not reach the Verifier")
			}
			f.clk.advance(tt.advance)
			before := f.inner.calls.Load()
			_, err := f.cache.Verify(raw)
			if (err != nil) != tt.wantErr {
				t.Errorf("second Verify error = %v, want error %v", err, tt.wantErr)
			}
			if inner := f.inner.calls.Load() != before; inner != tt.wantInner {
				t.Errorf("second Verify reached the Verifier: %v, want %v", inner, tt.wantInner)
			}
		})
	}
}

// TestNbfNeverServedEarly: a token accepted within the leeway before its
// nbf is not stored, and an entry is never served before nbf.
func TestNbfNeverServedEarly(t *testing.T) {
	f := newFixture(t, keys.EdDSA, tokencache.Options{AdmitFirst: true})
	raw := f.sign(t, map[string]any{"nbf": f.clk.now().Add(10 * time.Second).Unix()})
	for i := 0; i < 3; i++ {
		if !f.mustVerify(t, raw) {
			t.Fatalf("Verify %d before nbf was served from the cache", i)
		}
	}
	f.clk.advance(11 * time.Second)
	f.mustVerify(t, raw)
	if f.mustVerify(t, raw) {
		t.Error("after nbf the token was not cached")
	}
}

// TestErrorsNotCached: a token refused because its key has not arrived is
// verified again, and accepted, once the key is there.
func TestErrorsNotCached(t *testing.T) {
	f := newFixture(t, keys.ES256, tokencache.Options{AdmitFirst: true})
	raw := f.sign(t, nil)
	f.src.set()
	for i := 0; i < 2; i++ {
		if _, err := f.cache.Verify(raw); !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("Verify without keys = %v, want ErrInvalid", err)
		}
	}
	if n, _ := f.cache.Len(); n != 0 {
		t.Fatalf("%d entries after failures, want 0", n)
	}
	f.src.set(f.key)
	if !f.mustVerify(t, raw) {
		t.Fatal("Verify after the keys arrived did not reach the Verifier")
	}
	if f.mustVerify(t, raw) {
		t.Error("success was not cached")
	}
	if got := f.inner.calls.Load(); got != 3 {
		t.Errorf("Verifier called %d times, want 3", got)
	}
}

// TestBounds floods the cache with distinct tokens: neither bound is ever
// exceeded, and evictions are counted.
func TestBounds(t *testing.T) {
	tests := []struct {
		name       string
		maxEntries int
		maxBytes   int64
	}{
		{"entries bind", 10, 1 << 20},
		{"bytes bind", 1000, 4 * 1024},
		{"sharded", 2048, 16 << 20},
		{"one entry", 1, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, keys.EdDSA, tokencache.Options{MaxEntries: tt.maxEntries, MaxBytes: tt.maxBytes, AdmitFirst: true})
			const flood = 3000
			stored := 0
			for i := 0; i < flood; i++ {
				raw := f.sign(t, map[string]any{"jti": fmt.Sprintf("jti-%d", i)})
				f.mustVerify(t, raw)
				n, b := f.cache.Len()
				if n > tt.maxEntries || b > tt.maxBytes {
					t.Fatalf("after %d tokens: %d entries, %d bytes; bounds %d, %d", i+1, n, b, tt.maxEntries, tt.maxBytes)
				}
				stored = n
			}
			if stored == 0 {
				t.Fatal("nothing cached")
			}
			if ev := f.rec.get(tokencache.Eviction); ev < flood-tt.maxEntries || ev != flood-stored {
				t.Errorf("evictions = %d, want %d", ev, flood-stored)
			}
			if m := f.rec.get(tokencache.Miss); m != flood {
				t.Errorf("misses = %d, want %d", m, flood)
			}
		})
	}
}

// TestLRU: a recently used entry survives eviction.
func TestLRU(t *testing.T) {
	f := newFixture(t, keys.EdDSA, tokencache.Options{MaxEntries: 2, AdmitFirst: true})
	a, b, c := f.sign(t, map[string]any{"jti": "a"}), f.sign(t, map[string]any{"jti": "b"}), f.sign(t, map[string]any{"jti": "c"})
	f.mustVerify(t, a)
	f.mustVerify(t, b)
	f.mustVerify(t, a) // a is now the most recent
	f.mustVerify(t, c) // evicts b
	if f.mustVerify(t, a) {
		t.Error("a was evicted")
	}
	if !f.mustVerify(t, b) {
		t.Error("b was not evicted")
	}
	if h := f.rec.get(tokencache.Hit); h != 2 {
		t.Errorf("hits = %d, want 2", h)
	}
}

// TestConcurrent shares one cache between goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	f := newFixture(t, keys.EdDSA, tokencache.Options{MaxEntries: 16, AdmitFirst: true})
	toks := make([]string, 40)
	for i := range toks {
		toks[i] = f.sign(t, map[string]any{"jti": fmt.Sprintf("jti-%d", i)})
	}
	bad := flip(toks[0], len(toks[0])-5)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				raw := toks[(g*7+i)%len(toks)]
				if id, err := f.cache.Verify(raw); err != nil || id.Subject != "user-1" {
					t.Errorf("Verify = %v, %v", id, err)
					return
				}
				if _, err := f.cache.Verify(bad); err == nil {
					t.Error("tampered token verified")
					return
				}
				if i%50 == 0 {
					f.clk.advance(time.Second)
				}
			}
		}(g)
	}
	wg.Wait()
	if n, _ := f.cache.Len(); n > 16 {
		t.Errorf("%d entries, bound 16", n)
	}
}

// BenchmarkVerifyCached compares a cache hit with a full verification.
func BenchmarkVerifyCached(b *testing.B) {
	for _, alg := range algs {
		f := newFixture(b, alg, tokencache.Options{})
		raw := f.sign(b, nil)
		b.Run(alg+"/uncached", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := f.inner.v.Verify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := f.cache.Verify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		// More distinct tokens than the default bounds hold, in turn:
		// every request misses, as for a client that sends a new token
		// each time. Against uncached, what a miss adds.
		toks := make([]string, 3000)
		for i := range toks {
			toks[i] = f.sign(b, map[string]any{"jti": fmt.Sprint("t", i)})
		}
		b.Run(alg+"/rotating", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := f.cache.Verify(toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/rotating-uncached", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := f.inner.v.Verify(toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestGenerationChangeDropsEntries: once the keys change (the generation
// grows), a cached token is verified again, and refused when its key went.
func TestGenerationChangeDropsEntries(t *testing.T) {
	var gen atomic.Uint64
	f := newFixture(t, keys.EdDSA, tokencache.Options{Generation: gen.Load, AdmitFirst: true})
	raw := f.sign(t, nil)
	f.mustVerify(t, raw)
	if f.mustVerify(t, raw) {
		t.Fatal("not cached")
	}
	f.src.set(testKey(t, keys.ES256)) // the EdDSA key was removed
	gen.Add(1)
	if _, err := f.cache.Verify(raw); err == nil {
		t.Fatal("token of a removed key served after the keys changed")
	}
	f.src.set(f.key)
	gen.Add(1)
	if !f.mustVerify(t, raw) {
		t.Fatal("first Verify after a key change did not reach the Verifier")
	}
	if f.mustVerify(t, raw) {
		t.Error("not cached again under the new generation")
	}
}

// TestChargedBytesCoverHeap: what an entry is charged (EntrySize) is at
// least what it takes on the heap, and not far above, so max_bytes bounds
// the cache's memory and not only a figure: for access tokens with a few
// claims, and for tokens with a long group list (many small Go values).
func TestChargedBytesCoverHeap(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes heap sizes; `make bench` runs this test without it")
	}
	groups := make([]string, 200)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%d", i)
	}
	for _, tc := range []struct {
		name  string
		extra map[string]any
	}{
		{"access token", nil},
		{"200 groups", map[string]any{"groups": groups, "realm_access": map[string]any{"roles": []string{"a", "b"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 1000
			f := newFixture(t, keys.EdDSA, tokencache.Options{MaxEntries: 2 * n, MaxBytes: 1 << 30, AdmitFirst: true})
			toks := make([]string, n)
			for i := range toks {
				claims := map[string]any{"sub": fmt.Sprintf("user-%d", i), "jti": fmt.Sprintf("jti-%08d", i),
					"preferred_username": fmt.Sprintf("user%d", i), "email": fmt.Sprintf("user%d@example.com", i),
					"sid": fmt.Sprintf("%032x", i)}
				for k, v := range tc.extra {
					claims[k] = v
				}
				toks[i] = f.sign(t, claims)
			}
			heap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			before := heap()
			var charged int64
			for i, raw := range toks {
				id, err := f.cache.Verify(raw)
				if err != nil || id.Subject != fmt.Sprintf("user-%d", i) {
					t.Fatalf("Verify = %v, %v", id, err)
				}
				charged += tokencache.EntrySize(id)
			}
			after := heap()
			if got, _ := f.cache.Len(); got != n {
				t.Fatalf("%d entries cached, want %d", got, n)
			}
			used := int64(after) - int64(before)
			t.Logf("%d entries: %d bytes on the heap (%d per entry), %d charged (%d per entry); tokens %d bytes",
				n, used, used/n, charged, charged/n, len(toks[0]))
			if used > charged {
				t.Errorf("entries take %d bytes on the heap, more than the %d charged: max_bytes does not bound memory", used, charged)
			}
			if charged > 2*used {
				t.Errorf("%d bytes charged for %d on the heap: the estimate wastes most of max_bytes", charged, used)
			}
			runtime.KeepAlive(toks)
		})
	}
}
