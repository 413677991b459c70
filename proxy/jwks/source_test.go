package jwks

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

func TestRotation(t *testing.T) {
	k := keys(t)
	a, b := pubJWK(t, k.ecA, "a"), pubJWK(t, k.ecB, "b")
	tokA, tokB := sign(t, jwt.SigningMethodES256, k.ecA, "a"), sign(t, jwt.SigningMethodES256, k.ecB, "b")

	t.Run("new kid fetched on demand", func(t *testing.T) {
		srv := newJWKSServer(t, a)
		src := readySource(t, testConfig(srv.url(), "ES256")) // refresh interval: an hour
		if err := verify(src, tokA); err != nil {
			t.Fatal(err)
		}
		if err := verify(src, tokB); err == nil {
			t.Fatal("token of unpublished key b verified")
		}
		srv.set(modeOK, a, b)
		before := srv.hits.Load()
		if err := verify(src, tokB); err != nil {
			t.Fatalf("token of newly published key b: %v", err)
		}
		if srv.hits.Load() == before {
			t.Error("key b verified without a fetch")
		}
	})

	t.Run("unknown kid refresh is rate limited", func(t *testing.T) {
		srv := newJWKSServer(t, a)
		cfg := testConfig(srv.url(), "ES256")
		// Longer than the wait a request may spend on an unknown kid: later
		// lookups give up at once rather than wait for the limiter.
		cfg.UnknownKIDInterval = 5 * time.Second
		src := readySource(t, cfg)
		if err := verify(src, tokB); err == nil {
			t.Fatal("token of unpublished key b verified")
		}
		srv.set(modeOK, a, b)
		before := srv.hits.Load()
		for range 5 {
			start := time.Now()
			if err := verify(src, tokB); err == nil {
				t.Fatal("key b fetched again within UnknownKIDInterval")
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("rate-limited lookup took %v", d)
			}
		}
		if got := srv.hits.Load() - before; got != 0 {
			t.Errorf("%d fetches within UnknownKIDInterval", got)
		}
	})

	t.Run("removed key stops verifying after refresh", func(t *testing.T) {
		srv := newJWKSServer(t, a, b)
		cfg := testConfig(srv.url(), "ES256")
		cfg.RefreshInterval = 20 * time.Millisecond
		cfg.UnknownKIDInterval = time.Hour
		src := readySource(t, cfg)
		if err := verify(src, tokA); err != nil {
			t.Fatal(err)
		}
		srv.set(modeOK, b)
		eventually(t, "key a is gone", func() bool { return verify(src, tokA) != nil })
		if err := verify(src, tokB); err != nil {
			t.Errorf("key b after removing a: %v", err)
		}
		if st := src.Status(); st.Keys != 1 {
			t.Errorf("Status.Keys = %d, want 1", st.Keys)
		}
	})
}

func TestIdPDownAtStart(t *testing.T) {
	k := keys(t)
	jwk := pubJWK(t, k.ecA, "a")
	tok := sign(t, jwt.SigningMethodES256, k.ecA, "a")

	t.Run("closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		src := newSource(t, testConfig("http://"+addr+"/jwks", "ES256"))
		if _, err := src.Keyfunc(&jwt.Token{Header: map[string]any{"alg": "ES256", "kid": "a"}}); !errors.Is(err, ErrNoKeys) {
			t.Errorf("Keyfunc before keys: %v, want ErrNoKeys", err)
		}
		eventually(t, "the failure is reported", func() bool { return src.Status().LastError != "" })
		if st := src.Status(); st.HasKeys || st.Keys != 0 || !st.LastSuccess.IsZero() {
			t.Errorf("Status = %+v, want no keys and no success", st)
		}
		if err := verify(src, tok); !errors.Is(err, ErrNoKeys) {
			t.Errorf("verify before keys: %v, want ErrNoKeys", err)
		}

		ln, err = net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s again: %v", addr, err)
		}
		srv := &jwksServer{keys: []jwkset.JWKMarshal{jwk}, mode: modeOK, release: make(chan struct{})}
		srv.Server = httptest.NewUnstartedServer(http.HandlerFunc(srv.serve))
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		defer srv.Close()
		eventually(t, "keys arrive", func() bool { return src.Status().HasKeys })
		if err := verify(src, tok); err != nil {
			t.Error(err)
		}
		if st := src.Status(); st.LastError != "" || st.LastSuccess.IsZero() {
			t.Errorf("Status = %+v, want a success and no error", st)
		}
	})

	t.Run("New does not wait for the IdP", func(t *testing.T) {
		started, release := make(chan struct{}), make(chan struct{})
		var first sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			first.Do(func() { // the first request hangs until released
				close(started)
				<-release
			})
			w.Write([]byte(`{"keys":[` + mustJSON(t, jwk) + `]}`))
		}))
		defer srv.Close()
		cfg := testConfig(srv.URL+"/jwks", "ES256")
		cfg.FetchTimeout = 30 * time.Second
		returned := make(chan *Source, 1)
		go func() {
			src, err := New(cfg)
			if err != nil {
				t.Error(err)
			}
			returned <- src
		}()
		var src *Source
		select {
		case src = <-returned:
		case <-time.After(10 * time.Second): // far below FetchTimeout
			close(release)
			t.Fatal("New blocked on the IdP")
		}
		if src == nil {
			close(release)
			return
		}
		defer src.Close()
		<-started
		if err := verify(src, tok); !errors.Is(err, ErrNoKeys) {
			t.Errorf("verify while the IdP hangs: %v, want ErrNoKeys", err)
		}
		if src.Status().HasKeys {
			t.Error("HasKeys while the IdP hangs")
		}
		close(release)
		eventually(t, "keys arrive", func() bool { return src.Status().HasKeys })
		if err := verify(src, tok); err != nil {
			t.Error(err)
		}
	})
}

func mustJSON(t *testing.T, j jwkset.JWKMarshal) string {
	t.Helper()
	jwk, err := jwkset.NewJWKFromMarshal(j, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set := jwkset.NewMemoryStorage()
	set.KeyWrite(t.Context(), jwk)
	raw, err := set.JSONPublic(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	return s[strings.IndexByte(s, '[')+1 : strings.LastIndexByte(s, ']')]
}

func TestBadJWKSAtStart(t *testing.T) {
	k := keys(t)
	tests := []struct {
		mode    string
		keys    []jwkset.JWKMarshal
		wantErr string
	}{
		{mode500, nil, "500"},
		{modeGarbage, nil, "not a JWK Set"},
		{modeHuge, []jwkset.JWKMarshal{pubJWK(t, k.ecA, "a")}, "too large"},
		{modeEmpty, nil, "empty"},
		{modeNoKeys, nil, `no "keys"`},
		{"only unusable keys", []jwkset.JWKMarshal{pubJWK(t, k.rsa1024, "weak"), pubJWK(t, k.ec384, "p384")}, "no key usable"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			srv := newJWKSServer(t, tt.keys...)
			srv.setMode(tt.mode)
			src := newSource(t, testConfig(srv.url(), "ES256", "RS256"))
			eventually(t, "the failure is reported", func() bool { return src.Status().LastError != "" })
			st := src.Status()
			if st.HasKeys || !strings.Contains(st.LastError, tt.wantErr) {
				t.Errorf("Status = %+v, want no keys and an error containing %q", st, tt.wantErr)
			}
			tok := &jwt.Token{Header: map[string]any{"alg": "ES256", "kid": "a"}, Method: jwt.SigningMethodES256}
			if _, err := src.Keyfunc(tok); !errors.Is(err, ErrNoKeys) {
				t.Errorf("Keyfunc: %v, want ErrNoKeys", err)
			}
			// It keeps trying.
			hits := srv.hits.Load()
			eventually(t, "another attempt", func() bool { return srv.hits.Load() > hits })
		})
	}
}

func TestIdPDownLater(t *testing.T) {
	k := keys(t)
	tokA := sign(t, jwt.SigningMethodES256, k.ecA, "a")
	tokUnknown := sign(t, jwt.SigningMethodES256, k.ecB, "unknown")
	for _, mode := range []string{mode500, modeGarbage, modeHuge, modeHang, modeEmpty, modeNoKeys} {
		t.Run(mode, func(t *testing.T) {
			srv := newJWKSServer(t, pubJWK(t, k.ecA, "a"))
			cfg := testConfig(srv.url(), "ES256")
			cfg.RefreshInterval = 20 * time.Millisecond
			cfg.FetchTimeout = 300 * time.Millisecond
			src := readySource(t, cfg)
			srv.setMode(mode)
			eventually(t, "the failure is reported", func() bool { return src.Status().LastError != "" })
			failedAt := time.Now()

			if err := verify(src, tokA); err != nil {
				t.Errorf("old key after the outage: %v", err)
			}
			if st := src.Status(); !st.HasKeys || st.Keys != 1 || st.LastSuccess.After(failedAt) {
				t.Errorf("Status = %+v, want the old key and no new success", st)
			}
			start := time.Now()
			if err := verify(src, tokUnknown); err == nil {
				t.Error("unknown kid verified")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("unknown kid during the outage took %v", d)
			}

			srv.setMode(modeOK)
			eventually(t, "recovery", func() bool {
				st := src.Status()
				return st.LastError == "" && st.LastSuccess.After(failedAt)
			})
			if err := verify(src, tokA); err != nil {
				t.Errorf("after recovery: %v", err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	k := keys(t)
	tok := sign(t, jwt.SigningMethodES256, k.ecA, "a")
	before := runtime.NumGoroutine()

	srv := newJWKSServer(t, pubJWK(t, k.ecA, "a"))
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	cfg := testConfig(srv.url(), "ES256")
	cfg.RefreshInterval = 10 * time.Millisecond
	up, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	retrying, err := New(testConfig(down.URL, "ES256"))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "keys arrive", func() bool { return up.Status().HasKeys })
	eventually(t, "a failure", func() bool { return retrying.Status().LastError != "" })
	up.Close()
	up.Close() // idempotent
	retrying.Close()

	// Keyfunc still answers from the last keys, and fetches nothing.
	if err := verify(up, tok); err != nil {
		t.Errorf("after Close: %v", err)
	}
	hits := srv.hits.Load()
	if err := verify(up, sign(t, jwt.SigningMethodES256, k.ecB, "unknown")); err == nil {
		t.Error("unknown kid verified after Close")
	}
	if srv.hits.Load() != hits {
		t.Error("fetched after Close")
	}

	srv.Close()
	down.Close()
	eventually(t, "goroutines end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestKeysBecomeUnusable(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, pubJWK(t, k.ecA, "a"))
	cfg := testConfig(srv.url(), "ES256")
	cfg.RefreshInterval = 20 * time.Millisecond
	src := readySource(t, cfg)
	srv.set(modeOK, pubJWK(t, k.rsa1024, "weak"))
	eventually(t, "the key set is replaced", func() bool { return !src.Status().HasKeys })
	if st := src.Status(); st.Keys != 0 || !strings.Contains(st.LastError, "no key usable") {
		t.Errorf("Status = %+v, want no keys and an error saying so", st)
	}
	if err := verify(src, sign(t, jwt.SigningMethodES256, k.ecA, "a")); err == nil || errors.Is(err, ErrNoKeys) {
		t.Errorf("verify: %v, want a failure other than ErrNoKeys", err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestLogging(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, pubJWK(t, k.ecA, "a"))
	var logs syncBuffer
	cfg := testConfig(srv.url(), "ES256")
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	src := readySource(t, cfg)
	srv.setMode(mode500)
	tok := sign(t, jwt.SigningMethodES256, k.ecB, "kid-from-a-token")
	if err := verify(src, tok); err == nil {
		t.Fatal("unknown kid verified")
	}
	eventually(t, "the failure is logged", func() bool { return strings.Contains(logs.String(), "500") })
	out := logs.String()
	for _, want := range []string{"issuer=test", "url=" + srv.url()} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{tok, "kid-from-a-token", strings.Split(tok, ".")[1]} {
		if strings.Contains(out, secret) || strings.Contains(src.Status().LastError, secret) {
			t.Errorf("log or LastError contains token data %q", secret)
		}
	}
}
