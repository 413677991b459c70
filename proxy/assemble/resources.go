package assemble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/metrics"
	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/postgres"
	"github.com/authgate/authgate/proxy/sqlite"
	"github.com/authgate/authgate/proxy/throttle"
)

// Mode says what Resources may open and start.
type Mode uint8

const (
	// Serve opens the store and fetches external issuers' keys: a
	// running gateway.
	Serve Mode = iota
	// Admin opens the store but fetches no keys: 'authgate users'.
	Admin
	// Check opens and starts nothing: files are read and every setting
	// checked, but the store is not created or migrated and no identity
	// provider is asked. Tokens of external issuers fail to verify.
	Check
)

// Options are what Resources need beyond the configuration.
type Options struct {
	// Mode says what may be opened and started. Default Serve.
	Mode Mode
	// Logger receives operational messages. Nil discards them.
	Logger *slog.Logger
	// Now is the clock for tokens, limiters and revocations. Nil means
	// time.Now.
	Now func() time.Time
	// Metrics receives JWKS fetches, account events and the request path's
	// metrics. Nil records nothing.
	Metrics *metrics.Metrics
	// Store, when set, is used instead of opening the one the config
	// names; Resources then closes it too.
	Store accounts.Store
}

// Resources are what outlives one configuration: the store, revocations,
// limiters and password hashers, and, shared by every snapshot that uses
// them, external issuers' key sources and upstream transports. A source or
// transport is found again by its settings, so a reload that keeps an
// issuer keeps its keys, and one that keeps a route's timeout and idle
// connection bound keeps its idle upstream connections. Build takes a reference on each; the snapshot
// gives them back when it is retired, and the last one out closes it.
//
// Resources are safe for concurrent use. Close them after the last
// snapshot was retired.
type Resources struct {
	mode    Mode
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics.Metrics

	store       accounts.Store // nil when the config names none, or in Check mode
	revocations *accounts.Revocations
	throttles   accounts.Throttles

	mu         sync.Mutex
	closed     bool
	hashers    map[int]*password.Hasher // by concurrency bound
	sources    map[sourceKey]*keySource
	latest     map[string]*keySource // by issuer name: the source a changed issuer hands over from
	transports map[transportSettings]*transport
}

// Open returns the Resources of cfg: in Serve and Admin modes it opens the
// store cfg names (creating a SQLite file's directory) and loads the
// revocations in force.
func Open(ctx context.Context, cfg *config.Config, opts Options) (*Resources, error) {
	r := &Resources{
		mode: opts.Mode, logger: opts.Logger, now: opts.Now, metrics: opts.Metrics,
		revocations: accounts.NewRevocations(),
		hashers:     map[int]*password.Hasher{},
		sources:     map[sourceKey]*keySource{},
		latest:      map[string]*keySource{},
		transports:  map[transportSettings]*transport{},
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.store = opts.Store
	if r.store == nil && r.mode != Check && cfg.Store != "" {
		s, err := openStore(ctx, cfg)
		if err != nil {
			return nil, err
		}
		r.store = s
	}
	r.throttles = newThrottles(r.store, r.now)
	if r.store != nil {
		if err := r.revocations.Load(ctx, r.store, r.now()); err != nil {
			r.store.Close()
			return nil, fmt.Errorf("store: load revocations: %w", err)
		}
	}
	return r, nil
}

// Login throttling thresholds: free failures before any wait (see
// accounts.Throttles). The pair of account and address throttles early;
// an account from every address, and an address over every account, later.
const (
	freePair    = 5
	freeAccount = 20
	freeIP      = 50
)

// newThrottles keeps login failure counts in the store when it can share
// them with other replicas (PostgreSQL), else in this process.
func newThrottles(store accounts.Store, now func() time.Time) accounts.Throttles {
	counter, shared := store.(throttle.Counter)
	mk := func(free int) accounts.Throttle {
		cfg := throttle.Config{Free: free}
		if shared {
			return throttle.NewShared(cfg, counter, now)
		}
		return throttle.InProcess{L: throttle.New(cfg, now)}
	}
	return accounts.Throttles{Pair: mk(freePair), Account: mk(freeAccount), IP: mk(freeIP)}
}

// openStore opens the store cfg names. "sqlite:PATH" creates PATH's
// directory (0700) when missing; a postgres:// store applies the schema
// migrations it lacks.
func openStore(ctx context.Context, cfg *config.Config) (accounts.Store, error) {
	if config.IsPostgres(cfg.Store) {
		dbURL, opts, err := PostgresSettings(cfg)
		if err != nil {
			return nil, err
		}
		s, err := postgres.Open(ctx, dbURL, opts)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	}
	path, ok := sqlitePath(cfg)
	if !ok {
		return nil, errors.New("store: unsupported store (want sqlite:PATH)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return s, nil
}

// PostgresSettings returns the URL and pool options of cfg's postgres://
// store, the password read from postgres.password_file when set. The URL
// may hold the password: never log it.
func PostgresSettings(cfg *config.Config) (string, postgres.Options, error) {
	var opts postgres.Options
	pg := cfg.Postgres
	if pg == nil {
		return cfg.Store, opts, nil
	}
	opts = postgres.Options{MaxConns: int32(pg.MaxConns), ConnectTimeout: pg.ConnectTimeout, Timeout: pg.QueryTimeout}
	if pg.PasswordFile == "" {
		return cfg.Store, opts, nil
	}
	pw, err := readSecret(cfg.ResolvePath(pg.PasswordFile))
	if err != nil {
		return "", opts, fmt.Errorf("postgres.password_file: %w", err)
	}
	u, err := url.Parse(cfg.Store)
	if err != nil {
		return "", opts, errors.New("store: not a valid postgres:// URL")
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String(), opts, nil
}

// readSecret reads a secret file: one trailing newline is not part of it.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// sqlitePath is the file of a "sqlite:PATH" store, resolved against the
// config file's directory.
func sqlitePath(cfg *config.Config) (string, bool) {
	p, ok := strings.CutPrefix(cfg.Store, "sqlite:")
	if !ok || p == "" {
		return "", false
	}
	return cfg.ResolvePath(p), true
}

// checkStore reports, without creating or connecting to anything, why the
// store cfg names could not be opened: for SQLite, its directory is missing
// and cannot be created, or the path is not a regular file; for
// PostgreSQL, the password file cannot be read.
func checkStore(cfg *config.Config) error {
	if config.IsPostgres(cfg.Store) {
		_, _, err := PostgresSettings(cfg)
		return err
	}
	path, ok := sqlitePath(cfg)
	if !ok {
		return errors.New("store: unsupported store (want sqlite:PATH or postgres://)")
	}
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("store: %s is not a regular file", path)
		}
		return nil
	}
	// The first ancestor that exists must be a directory; Open creates the
	// rest.
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("store: %s is not a directory", dir)
			}
			return nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			return fmt.Errorf("store: %w", err)
		}
	}
}

// Store returns the open store, nil when there is none.
func (r *Resources) Store() accounts.Store { return r.store }

// Revocations returns the in-memory revocation index shared by every
// snapshot.
func (r *Resources) Revocations() *accounts.Revocations { return r.revocations }

// SyncRevocations reloads revocations from the store every interval until
// ctx is done, forgets expired ones, and hourly prunes what has ended from
// the store: logouts and password changes made by other replicas or by
// 'authgate users' reach this process within one interval. Requests never
// wait for it. Without a store it returns at once.
//
// A store that announces revocations as they commit (PostgreSQL's
// LISTEN/NOTIFY) is also listened to, so that a logout on one replica is
// enforced by every other within moments; after every (re)connection the
// revocations are loaded again, so nothing announced while not listening
// is missed.
func (r *Resources) SyncRevocations(ctx context.Context, interval time.Duration) {
	if r.store == nil {
		return
	}
	if feed, ok := r.store.(revocationFeed); ok {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			r.listenRevocations(ctx, feed)
		}()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := r.now()
			if err := r.revocations.Load(ctx, r.store, now); err != nil && ctx.Err() == nil {
				r.logger.Warn("revocation sync failed", "error", err)
			}
			r.revocations.Sweep(now)
		case <-prune.C:
			if err := r.store.Prune(ctx, r.now()); err != nil && ctx.Err() == nil {
				r.logger.Warn("store prune failed", "error", err)
			}
		}
	}
}

// revocationFeed is a store that announces the revocations every process
// commits; *postgres.Store is one.
type revocationFeed interface {
	WatchRevocations(ctx context.Context, ready func(), apply func(*accounts.RevocationSet)) error
}

// Back-off between attempts to listen to a revocation feed.
const (
	feedRetryMin = 100 * time.Millisecond
	feedRetryMax = 5 * time.Second
)

// listenRevocations applies feed's announcements until ctx ends, listening
// again after a failure with a growing pause. On every (re)connection, and
// when an announcement asks for it, it loads every revocation.
func (r *Resources) listenRevocations(ctx context.Context, feed revocationFeed) {
	reload := func() {
		if err := r.revocations.Load(ctx, r.store, r.now()); err != nil && ctx.Err() == nil {
			r.logger.Warn("revocation reload failed", "error", err)
		}
	}
	wait := feedRetryMin
	for {
		listening := false
		err := feed.WatchRevocations(ctx, func() {
			listening = true
			reload()
		}, func(set *accounts.RevocationSet) {
			if set == nil {
				reload()
				return
			}
			r.revocations.Apply(set)
		})
		if ctx.Err() != nil {
			return
		}
		if listening {
			wait = feedRetryMin // it worked for a while: retry soon
		}
		r.logger.Warn("revocation feed lost; revocations are still loaded periodically", "error", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, feedRetryMax)
	}
}

// pruneInterval is how often ended families, their tokens and expired
// revocations are deleted from the store.
const pruneInterval = time.Hour

// Close stops every key source, closes idle upstream connections and
// closes the store. Snapshots still holding references lose their key
// fetching (their last keys keep answering).
func (r *Resources) Close() error {
	r.mu.Lock()
	r.closed = true
	sources := make([]*keySource, 0, len(r.sources))
	for _, s := range r.sources {
		sources = append(sources, s)
	}
	for _, t := range r.transports {
		t.tr.CloseIdleConnections()
	}
	clear(r.sources)
	clear(r.latest)
	clear(r.transports)
	r.mu.Unlock()
	for _, s := range sources {
		s.stop()
	}
	if r.store != nil {
		return r.store.Close()
	}
	return nil
}

// hasher returns the password hasher for a concurrency bound, built once
// and kept across reloads.
func (r *Resources) hasher(concurrency int) (*password.Hasher, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.hashers[concurrency]; ok {
		return h, nil
	}
	h, err := password.NewHasher(password.DefaultParams(), concurrency, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	r.hashers[concurrency] = h
	return h, nil
}

// transport is a pooled upstream transport and its number of users.
type transport struct {
	tr   *http.Transport
	refs int
}

// transportSettings are what tells one pooled upstream transport from
// another.
type transportSettings struct {
	timeout             time.Duration // response header timeout
	maxIdleConnsPerHost int
	protocol            string // the route's upstream_protocol: auto, http1 or http2
}

// transport returns the upstream transport for settings, with a reference
// taken: routes with the same settings share connections, across reloads
// too. The release function gives the reference back; the last one closes
// the idle connections (busy ones close when their request ends).
func (r *Resources) transport(settings transportSettings) (*http.Transport, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.transports[settings]
	if !ok {
		t = &transport{tr: newTransport(settings)}
		r.transports[settings] = t
	}
	t.refs++
	var once sync.Once
	return t.tr, func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if t.refs--; t.refs == 0 {
				t.tr.CloseIdleConnections()
				if r.transports[settings] == t {
					delete(r.transports, settings)
				}
			}
		})
	}
}

// newTransport is the pooled transport of routes with the same settings.
func newTransport(settings transportSettings) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		// Proxy is deliberately nil: HTTP_PROXY from the environment must
		// not silently reroute authenticated traffic.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(512, settings.maxIdleConnsPerHost),
		MaxIdleConnsPerHost:   settings.maxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: settings.timeout,
	}
	var p http.Protocols
	switch settings.protocol {
	case "http1":
		p.SetHTTP1(true)
		tr.Protocols = &p
	case "http2":
		// One protocol per scheme: h2 by ALPN on TLS, h2c with prior
		// knowledge in the clear. Never a fallback to HTTP/1.1.
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	}
	return tr
}

// leases collects the references one Build takes, to give them all back
// at once.
type leases []func()

func (l *leases) add(release func()) { *l = append(*l, release) }

func (l leases) release() {
	for _, f := range slices.Backward(l) {
		f()
	}
}
