package assemble

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/jwks"
)

// sourceKey is everything that decides what a key source fetches and
// accepts: an issuer whose key is unchanged by a reload keeps its source,
// and its keys.
type sourceKey struct {
	name, issuer, jwksURL string
	discovery             bool
	algorithms            string // joined with ","
	refresh               time.Duration
}

func keyOf(ic *config.Issuer) sourceKey {
	return sourceKey{name: ic.Name, issuer: ic.Issuer, jwksURL: ic.JWKSURL, discovery: ic.Discovery,
		algorithms: strings.Join(ic.Algorithms, ","), refresh: ic.RefreshInterval}
}

// keySource is one external issuer's jwks.Source with the snapshots using
// it. A source that replaced another of the same issuer name and iss (a
// changed JWKS URL, say) holds on to it as prev and verifies with prev's
// keys until its own arrive: a reload never leaves an issuer without keys
// that it had.
type keySource struct {
	key  sourceKey
	src  *jwks.Source // nil in Check mode
	refs int          // guarded by Resources.mu

	prev atomic.Pointer[keySource] // the source handed over from, until src has keys
	// gen counts the changes of the keys Keyfunc answers with: every
	// successful fetch, and the hand-over from prev. The verified-token
	// cache drops what it stored under another count.
	gen      *atomic.Uint64
	dropPrev func()        // gives prev back, once
	stopped  chan struct{} // closed by stop
	stopOnce sync.Once
}

// errNotFetched: in Check mode no key is ever fetched.
var errNotFetched = errors.New("keys are not fetched by a check")

// keySource returns the key source of ic with a reference taken, starting
// one (in Serve mode) when no snapshot uses one with the same settings.
// The release function gives the reference back; the last one stops the
// source.
func (r *Resources) keySource(ic *config.Issuer) (*keySource, func(), error) {
	gen := new(atomic.Uint64) // the new source's, if one is started
	cfg := jwks.Config{
		Name:            ic.Name,
		Issuer:          ic.Issuer,
		JWKSURL:         ic.JWKSURL,
		Discovery:       ic.Discovery,
		Algorithms:      ic.Algorithms,
		RefreshInterval: ic.RefreshInterval,
		Logger:          r.logger,
		OnFetch: func(result string, at time.Time) {
			if result == "success" {
				gen.Add(1)
			}
			r.metrics.JWKSRefresh(ic.Name, result, at)
		},
	}
	if err := jwks.Validate(cfg); err != nil {
		return nil, nil, err
	}
	k := keyOf(ic)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, nil, errors.New("resources are closed")
	}
	ks, ok := r.sources[k]
	if !ok {
		ks = &keySource{key: k, stopped: make(chan struct{}), gen: gen}
		if r.mode == Serve {
			src, err := jwks.New(cfg)
			if err != nil {
				return nil, nil, err
			}
			ks.src = src
			// Only the same issuer (the same iss) hands over: keys of
			// another identity provider must never vouch for this one.
			if prev := r.latest[k.name]; prev != nil && prev.refs > 0 && prev.key.issuer == k.issuer {
				prev.refs++
				ks.prev.Store(prev)
				ks.dropPrev = sync.OnceFunc(func() { r.releaseSource(prev) })
				go ks.handOver()
			}
		}
		r.sources[k] = ks
		r.latest[k.name] = ks
	}
	ks.refs++
	return ks, sync.OnceFunc(func() { r.releaseSource(ks) }), nil
}

// releaseSource gives back one reference to ks; the last one stops it.
func (r *Resources) releaseSource(ks *keySource) {
	r.mu.Lock()
	ks.refs--
	last := ks.refs == 0
	if last {
		if r.sources[ks.key] == ks {
			delete(r.sources, ks.key)
		}
		if r.latest[ks.key.name] == ks {
			delete(r.latest, ks.key.name)
		}
	}
	r.mu.Unlock()
	if last {
		ks.stop()
	}
}

// handOver waits until the source has keys of its own, then lets go of
// the source it took over from.
func (ks *keySource) handOver() {
	select {
	case <-ks.src.Ready():
		ks.prev.Store(nil)
		ks.gen.Add(1)
	case <-ks.stopped:
	}
	ks.dropPrev()
}

// stop stops fetching; the last keys keep answering requests in flight.
func (ks *keySource) stop() {
	ks.stopOnce.Do(func() {
		close(ks.stopped)
		if ks.src != nil {
			ks.src.Close()
		}
	})
}

// Keyfunc returns the key verifying t: from the previous source of the
// issuer while this one has no keys yet, then from this one.
func (ks *keySource) Keyfunc(t *jwt.Token) (any, error) {
	if ks.src == nil {
		return nil, fmt.Errorf("%w: issuer %q: %w", jwks.ErrNoKeys, ks.key.name, errNotFetched)
	}
	if prev := ks.prev.Load(); prev != nil && !ks.hasKeys() {
		return prev.Keyfunc(t)
	}
	return ks.src.Keyfunc(t)
}

// generation returns the count of key changes (see gen).
func (ks *keySource) generation() uint64 { return ks.gen.Load() }

// hasKeys reports whether the source's own first keys have arrived.
func (ks *keySource) hasKeys() bool {
	select {
	case <-ks.src.Ready():
		return true
	default:
		return false
	}
}

// ready reports nil when the issuer has keys to verify with, its own or
// those of the source it takes over from; otherwise what is missing.
func (ks *keySource) ready() error {
	if ks.src == nil {
		return errNotFetched
	}
	if prev := ks.prev.Load(); prev != nil && prev.ready() == nil {
		return nil
	}
	st := ks.src.Status()
	switch {
	case st.HasKeys:
		return nil
	case st.LastError != "":
		return errors.New("no keys: " + st.LastError)
	}
	return errors.New("no keys yet")
}
