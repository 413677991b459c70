// Package jwks provides the verification keys of a trusted external token
// issuer (Keycloak, Auth0, Okta, Entra ID, Google, Dex, another authgate),
// fetched from its JSON Web Key Set and kept current in the background.
//
// A [Source] never makes its caller wait for the issuer: [New] returns at
// once, tokens of the issuer fail with [ErrNoKeys] until its keys arrive,
// and [Source.Status] tells readiness checks whether they have. Once keys
// have arrived, a failed refresh keeps them; a new kid is fetched when the
// first token using it arrives (at a bounded rate, waiting at most about a
// second), and a key removed from the set stops verifying after the next
// refresh.
//
// Keys are bound to algorithms by type (RFC 8725 §3.1): [Source.Keyfunc]
// returns an RSA key only for RS*/PS* tokens, an ECDSA key only for the ES*
// algorithm of its curve, an Ed25519 key only for EdDSA, and never a
// symmetric key. Keys are only ever taken from the configured JWK Set URL,
// never from a token (RFC 8725 §3.10).
package jwks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// ErrNoKeys is returned (wrapped) by [Source.Keyfunc] while no key set has
// arrived.
var ErrNoKeys = errors.New("jwks: no keys yet")

// maxKIDBytes bounds a token's kid before it is looked up.
const maxKIDBytes = 256

// Backoff between attempts to fetch the first key set.
const (
	defaultRetryMin = time.Second
	defaultRetryMax = 30 * time.Second
)

// Source is the live key set of one issuer. It fetches in the background:
// [New] returns at once. A Source is safe for concurrent use.
type Source struct {
	cfg       Config
	ownClient bool // cfg.Client was made by New, so Close may close its connections
	retryMin  time.Duration
	retryMax  time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the start goroutine returns
	ready  chan struct{} // closed when the first usable key set is published
	close  sync.Once

	// keys is the storage of the keyfunc that first held usable keys; nil
	// until then. jwkset refreshes it in place.
	keys atomic.Pointer[keySet]

	mu          sync.Mutex
	lastSuccess time.Time
	lastError   string
	successes   uint64 // number of successful fetches
}

// keySet is a published key source.
type keySet struct {
	storage jwkset.Storage
	url     string
	cancel  context.CancelFunc // stops its refresh goroutine
}

// Status is a snapshot of a Source, for readiness checks and metrics.
type Status struct {
	// HasKeys reports whether the key set holds at least one key usable
	// with the issuer's algorithms.
	HasKeys bool
	// Keys is the number of such keys.
	Keys int
	// LastSuccess is when a fetch last returned a valid JWK Set; zero if
	// none has.
	LastSuccess time.Time
	// LastError describes the latest failure (a fetch, discovery, or a key
	// set without usable keys) after LastSuccess; "" when the latest
	// attempt succeeded. It holds URLs and error text, never token data.
	LastError string
}

// New validates cfg and starts fetching the issuer's keys in the
// background. It never does network I/O on the caller's goroutine. cfg is
// invalid when a URL is neither https nor http to a loopback host
// (127.0.0.0/8, ::1, "localhost"), when Algorithms is empty or holds an
// algorithm other than the asymmetric ones Config lists, or when both or
// neither of JWKSURL and Discovery are set.
//
// Until the first key set with a usable key arrives, New's goroutine tries
// again with a backoff from 1 to 30 seconds (discovery included); after
// that, keyfunc refreshes the set every RefreshInterval. Call Close to stop.
func New(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg, retryMin: cmp.Or(cfg.retryMin, defaultRetryMin),
		retryMax: cmp.Or(cfg.retryMax, defaultRetryMax), done: make(chan struct{}), ready: make(chan struct{})}
	if s.cfg.Client == nil {
		s.cfg.Client = NewClient(cfg.FetchTimeout, cfg.MaxBytes)
		s.ownClient = true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.start()
	return s, nil
}

// Validate reports whether New would accept cfg, without starting
// anything.
func Validate(cfg Config) error {
	_, err := cfg.withDefaults()
	return err
}

// Ready is closed once the first key set with a usable key has arrived;
// from then on the Source keeps keys (see Keyfunc). It is never closed for a
// Source closed before its keys arrived.
func (s *Source) Ready() <-chan struct{} { return s.ready }

// Keyfunc returns the key that verifies t, for token.Issuer.Keys or
// jwt.Parse. It fails with an error wrapping ErrNoKeys while no key set has
// arrived. The token's alg must be one of the issuer's Algorithms, and the
// key returned always has the type alg needs.
//
// With a kid, the keys of that kid are looked up; an unknown kid triggers a
// refresh at most once per UnknownKIDInterval, and the call waits at most
// about a second for it. Without a kid, Keyfunc returns a
// jwt.VerificationKeySet of every key of the right type.
func (s *Source) Keyfunc(t *jwt.Token) (any, error) {
	ks := s.keys.Load()
	if ks == nil {
		return nil, fmt.Errorf("%w for issuer %q", ErrNoKeys, s.cfg.Name)
	}
	alg, _ := t.Header["alg"].(string)
	if !slices.Contains(s.cfg.Algorithms, alg) || (t.Method != nil && t.Method.Alg() != alg) {
		return nil, fmt.Errorf("jwks: issuer %q: alg %q is not allowed", s.cfg.Name, bound(alg))
	}
	kidValue, hasKID := t.Header["kid"]
	if !hasKID {
		return s.keySetFor(ks, alg)
	}
	kid, ok := kidValue.(string)
	if !ok || kid == "" || len(kid) > maxKIDBytes {
		return nil, fmt.Errorf("jwks: issuer %q: kid is not a short string", s.cfg.Name)
	}
	if key, found, err := s.keyFor(ks, kid, alg); found {
		return key, err
	}
	// Unknown kid: jwkset refreshes (rate-limited) and looks it up again.
	// The context bounds both the wait for the limiter and the fetch;
	// after Close it is done, so no fetch starts.
	if _, err := ks.storage.KeyRead(s.ctx, kid); err != nil && !errors.Is(err, jwkset.ErrKeyNotFound) {
		return nil, fmt.Errorf("jwks: issuer %q: unknown kid, and no refresh: %w", s.cfg.Name, err)
	}
	if key, found, err := s.keyFor(ks, kid, alg); found {
		return key, err
	}
	return nil, fmt.Errorf("jwks: issuer %q: unknown kid", s.cfg.Name)
}

// keyFor looks kid up without fetching. found reports whether the set has
// a key of that kid; err whether none of them suits alg. Several keys of
// one kid (an issuer may reuse a kid across key types) are all candidates.
func (s *Source) keyFor(ks *keySet, kid, alg string) (key any, found bool, err error) {
	all, err := ks.storage.KeyReadAll(context.Background())
	if err != nil {
		return nil, true, fmt.Errorf("jwks: issuer %q: %w", s.cfg.Name, err)
	}
	var keys []jwt.VerificationKey
	for _, j := range all {
		if j.Marshal().KID != kid {
			continue
		}
		found = true
		k, kerr := verificationKey(j, alg)
		if kerr != nil {
			err = kerr
			continue
		}
		keys = append(keys, k)
	}
	switch {
	case len(keys) == 1:
		return keys[0], true, nil
	case len(keys) > 1:
		return jwt.VerificationKeySet{Keys: keys}, true, nil
	case found:
		return nil, true, fmt.Errorf("jwks: issuer %q: key of this kid does not fit the token: %w", s.cfg.Name, err)
	}
	return nil, false, nil
}

// keySetFor returns every key that suits alg, for a token without kid.
func (s *Source) keySetFor(ks *keySet, alg string) (any, error) {
	all, err := ks.storage.KeyReadAll(context.Background())
	if err != nil {
		return nil, fmt.Errorf("jwks: issuer %q: %w", s.cfg.Name, err)
	}
	var set jwt.VerificationKeySet
	for _, j := range all {
		if k, err := verificationKey(j, alg); err == nil {
			set.Keys = append(set.Keys, k)
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("jwks: issuer %q: no key for alg %s", s.cfg.Name, alg)
	}
	return set, nil
}

// Status reports the current key set and the outcome of the latest fetch.
func (s *Source) Status() Status {
	var st Status
	s.mu.Lock()
	st.LastSuccess, st.LastError = s.lastSuccess, s.lastError
	s.mu.Unlock()
	if ks := s.keys.Load(); ks != nil {
		st.Keys = s.usableKeys(ks.storage)
		st.HasKeys = st.Keys > 0
		if !st.HasKeys && st.LastError == "" {
			// A refresh succeeded but replaced the keys with unusable ones.
			st.LastError = fmt.Sprintf("jwks: key set at %s has no key usable with %v", ks.url, s.cfg.Algorithms)
		}
	}
	return st
}

// Close stops the background fetching and waits for the start goroutine.
// Keyfunc keeps answering from the last keys, without fetching. Close is
// idempotent.
func (s *Source) Close() {
	s.close.Do(func() {
		s.cancel()
		<-s.done
		if s.ownClient {
			s.cfg.Client.CloseIdleConnections()
		}
	})
}

// usableKeys counts the keys of storage usable with the issuer's
// algorithms.
func (s *Source) usableKeys(storage jwkset.Storage) int {
	all, err := storage.KeyReadAll(context.Background())
	if err != nil {
		return 0
	}
	n := 0
	for _, j := range all {
		if usableFor(j, s.cfg.Algorithms) {
			n++
		}
	}
	return n
}

// start obtains the first key set: it runs discovery if configured, builds
// a keyfunc (whose first fetch is synchronous, bounded by FetchTimeout) and
// publishes it once it holds a usable key. Until then it starts over with a
// fresh keyfunc after a growing pause, stopping the previous one's refresh
// goroutine; from then on that goroutine keeps the set current.
func (s *Source) start() {
	defer close(s.done)
	wait := s.retryMin
	for {
		if ks := s.attempt(); ks != nil {
			s.keys.Store(ks)
			close(s.ready)
			s.cfg.Logger.Info("jwks: keys loaded", "issuer", s.cfg.Name, "url", ks.url, "keys", s.usableKeys(ks.storage))
			return
		}
		timer := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		wait = min(2*wait, s.retryMax)
	}
}

// attempt makes one try at a key set with a usable key.
func (s *Source) attempt() *keySet {
	u := s.cfg.JWKSURL
	if s.cfg.Discovery {
		var err error
		if u, err = s.discover(s.ctx); err != nil {
			s.fail(err, discoveryURL(s.cfg.Issuer))
			return nil
		}
	}
	before := s.successCount()
	ctx, cancel := context.WithCancel(s.ctx)
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{u}, s.override())
	if err != nil {
		cancel()
		s.fail(fmt.Errorf("jwks: %w", err), u)
		return nil
	}
	ks := &keySet{storage: kf.Storage(), url: u, cancel: cancel}
	if s.usableKeys(ks.storage) > 0 {
		return ks
	}
	cancel()
	if s.successCount() != before {
		// The fetch succeeded (failures are reported by the refresh error
		// handler) but brought nothing this issuer can use.
		s.fail(fmt.Errorf("jwks: key set at %s has no key usable with %v", u, s.cfg.Algorithms), u)
	}
	return nil
}

func (s *Source) successCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.successes
}

// override is how keyfunc fetches for s.
func (s *Source) override() keyfunc.Override {
	client := *s.cfg.Client // a copy: the caller's client stays unchanged
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = &fetchObserver{base: base, maxBytes: s.cfg.MaxBytes, onSuccess: s.succeed}
	noErrorFirst := true
	return keyfunc.Override{
		Client:                    &client,
		HTTPTimeout:               s.cfg.FetchTimeout,
		NoErrorReturnFirstHTTPReq: &noErrorFirst,
		RateLimitWaitMax:          unknownKIDWait,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) { s.fail(err, u) }
		},
		RefreshInterval:   s.cfg.RefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(s.cfg.UnknownKIDInterval), 1),
	}
}

// succeed records a successful fetch.
func (s *Source) succeed() {
	now := time.Now()
	s.mu.Lock()
	s.successes++
	s.lastSuccess = now
	s.lastError = ""
	s.mu.Unlock()
	if s.cfg.OnFetch != nil {
		s.cfg.OnFetch("success", now)
	}
}

// fail records and logs a failure concerning url. Failures caused by Close
// are neither.
func (s *Source) fail(err error, url string) {
	if s.ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	s.lastError = err.Error()
	s.mu.Unlock()
	if s.cfg.OnFetch != nil {
		s.cfg.OnFetch("failure", time.Now())
	}
	s.cfg.Logger.Warn("jwks: fetching keys failed", "issuer", s.cfg.Name, "url", url, "error", err)
}
