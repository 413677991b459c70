package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// RFC 8037 Appendix A.1 Ed25519 key.
const (
	rfc8037D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
)

// testKeys are generated once: RSA generation is slow under -race.
type testKeys struct {
	rsa     *rsa.PrivateKey // 2048 bits
	rsa1024 *rsa.PrivateKey
	ecA     *ecdsa.PrivateKey // P-256
	ecB     *ecdsa.PrivateKey // P-256
	ec384   *ecdsa.PrivateKey
	ed      ed25519.PrivateKey // RFC 8037 A.1
}

var keysOnce = sync.OnceValue(func() *testKeys {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var k testKeys
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024)
	must(err)
	k.ecA, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.ecB, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	seed, err := base64.RawURLEncoding.DecodeString(rfc8037D)
	must(err)
	k.ed = ed25519.NewKeyFromSeed(seed)
	return &k
})

func keys(t *testing.T) *testKeys {
	t.Helper()
	return keysOnce()
}

// pubJWK is the public JWK of priv with kid (no kid when empty).
func pubJWK(t *testing.T, priv crypto.Signer, kid string) jwkset.JWKMarshal {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(priv.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid}})
	if err != nil {
		t.Fatal(err)
	}
	return j.Marshal()
}

// sign returns a token of method signed with key, carrying kid unless it
// is empty.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims{
		"iss": "https://idp.example",
		"sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(),
	})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Server failure modes.
const (
	modeOK       = "ok"
	mode500      = "500"
	modeGarbage  = "garbage"
	modeHuge     = "huge" // a valid JWK Set padded past testMaxBytes, streamed without Content-Length
	modeHang     = "hang" // never answers until the client gives up
	modeEmpty    = "empty"
	modeNoKeys   = "nokeys" // JSON without a "keys" member
	testMaxBytes = 8 << 10
)

// jwksServer serves a JWK Set that tests change at will.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jwkset.JWKMarshal
	mode    string
	hits    atomic.Int64
	release chan struct{} // closed at cleanup: hanging handlers return
}

func newJWKSServer(t *testing.T, keys ...jwkset.JWKMarshal) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys, mode: modeOK, release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.release)
		s.Close()
	})
	return s
}

func (s *jwksServer) url() string { return s.URL + "/jwks" }

func (s *jwksServer) set(mode string, keys ...jwkset.JWKMarshal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = mode
	if keys != nil {
		s.keys = keys
	}
}

func (s *jwksServer) setMode(mode string) { s.set(mode) }

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	s.mu.Lock()
	mode, keys := s.mode, s.keys
	s.mu.Unlock()
	if keys == nil {
		keys = []jwkset.JWKMarshal{}
	}
	switch mode {
	case mode500:
		http.Error(w, "down", http.StatusInternalServerError)
	case modeGarbage:
		w.Write([]byte("<html>not json</html>"))
	case modeEmpty:
		w.Write([]byte(`{"keys":[]}`))
	case modeNoKeys:
		w.Write([]byte(`{"error":"maintenance"}`))
	case modeHuge:
		body, _ := json.Marshal(map[string]any{"keys": keys, "pad": strings.Repeat("x", 2*testMaxBytes)})
		for len(body) > 0 { // several writes with flushes: no Content-Length
			n := min(1024, len(body))
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
		}
	case modeHang:
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
	default:
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}
}

// testConfig is a config for srv with short intervals.
func testConfig(url string, algs ...string) Config {
	return Config{
		Name:               "test",
		Issuer:             "https://idp.example",
		JWKSURL:            url,
		Algorithms:         algs,
		RefreshInterval:    time.Hour,
		UnknownKIDInterval: 10 * time.Millisecond,
		FetchTimeout:       2 * time.Second,
		MaxBytes:           testMaxBytes,
	}
}

// newSource starts a Source and closes it at cleanup.
func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	// Keep the first-fetch backoff short so "keys arrive" tests are quick.
	cfg.retryMin, cfg.retryMax = 10*time.Millisecond, 100*time.Millisecond
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

// readySource starts a Source and waits for its keys.
func readySource(t *testing.T, cfg Config) *Source {
	t.Helper()
	src := newSource(t, cfg)
	eventually(t, "keys arrive", func() bool { return src.Status().HasKeys })
	return src
}

// eventually polls cond until it holds, failing the test after 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// verify parses tok as authgate does, with the source's algorithms.
func verify(src *Source, tok string) error {
	_, err := jwt.Parse(tok, src.Keyfunc, jwt.WithValidMethods(src.cfg.Algorithms))
	return err
}
