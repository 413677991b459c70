package jwks

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultRefreshInterval is how often a JWK Set is fetched again when
// Config.RefreshInterval is zero.
const DefaultRefreshInterval = 10 * time.Minute

// Defaults of the other zero Config fields.
const (
	defaultUnknownKIDInterval = 30 * time.Second
	defaultFetchTimeout       = 5 * time.Second
	defaultMaxBytes           = 512 << 10
)

// unknownKIDWait bounds how long a Keyfunc call with an unknown kid waits
// for the refresh rate limiter and the refresh it triggers.
const unknownKIDWait = time.Second

// Config is one issuer's key source.
type Config struct {
	// Name names the issuer in logs and errors. Required.
	Name string
	// Issuer is the issuer's exact "iss". With Discovery it is also where
	// the discovery document is: Issuer + "/.well-known/openid-configuration"
	// (one trailing slash of Issuer removed first), and that document must
	// name exactly this issuer (OpenID Connect Discovery 1.0 §4.3).
	Issuer string
	// JWKSURL is the URL of the issuer's JWK Set (see CheckURL). It must be
	// empty when Discovery is set, and is required otherwise.
	JWKSURL string
	// Discovery reads the JWK Set URL from the "jwks_uri" of the issuer's
	// discovery document.
	Discovery bool
	// Algorithms is the issuer's "alg" allow-list: RS256, RS384, RS512,
	// PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA (see
	// CheckAlgorithm). Required; HS* and "none" are refused. A key is returned only for a token whose alg
	// matches the key's type: RS* and PS* need an RSA key of at least 2048
	// bits, ES256, ES384 and ES512 an ECDSA key on P-256, P-384 and P-521
	// respectively, and EdDSA an Ed25519 key. Symmetric ("oct") keys are
	// never returned.
	Algorithms []string
	// RefreshInterval is how often the JWK Set is fetched again once it
	// arrived. Default DefaultRefreshInterval (10 minutes).
	RefreshInterval time.Duration
	// UnknownKIDInterval is the minimum gap between the extra fetches
	// caused by tokens whose kid is not in the key set. Default 30 seconds.
	UnknownKIDInterval time.Duration
	// FetchTimeout bounds each HTTP request, body included. Default 5
	// seconds.
	FetchTimeout time.Duration
	// MaxBytes caps the size of a JWK Set or discovery document. Default
	// 512 KiB.
	MaxBytes int64
	// Client fetches the discovery document and the JWK Set. If nil,
	// NewClient(FetchTimeout, MaxBytes) is used. A Source never changes the
	// Client it is given; it still applies MaxBytes itself.
	Client *http.Client
	// Logger receives fetch failures, with the issuer name and URL but never
	// token data. If nil, nothing is logged.
	Logger *slog.Logger
	// OnFetch, when set, is told the result ("success" or "failure") of
	// every fetch, for metrics. It must not block.
	OnFetch func(result string, at time.Time)

	// retryMin and retryMax bound the backoff before the first key set
	// arrives (defaults 1s and 30s); tests shorten them.
	retryMin, retryMax time.Duration
}

// Errors of CheckAlgorithm and CheckURL, also wrapped by New.
var (
	// ErrAlgorithm reports an "alg" a Config may not allow.
	ErrAlgorithm = errors.New("algorithm not allowed")
	// ErrURL reports a URL that keys may not be fetched from.
	ErrURL = errors.New("URL not allowed")
)

// asymmetricAlgs are the algorithms a Config may allow. HMAC is never
// accepted: its "key" would be a shared secret, not something a JWK Set can
// publish (RFC 8725 §3.1); "none" is no signature at all.
var asymmetricAlgs = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Algorithms returns the "alg" values a Config may allow, in a new slice.
func Algorithms() []string { return slices.Clone(asymmetricAlgs) }

// CheckAlgorithm returns an error wrapping ErrAlgorithm unless alg, compared
// case-sensitively as in a JOSE header, is one of Algorithms.
func CheckAlgorithm(alg string) error {
	if !slices.Contains(asymmetricAlgs, alg) {
		return fmt.Errorf("%w: %q is not one of %s", ErrAlgorithm, alg, strings.Join(asymmetricAlgs, ", "))
	}
	return nil
}

// CheckURL returns an error wrapping ErrURL unless raw is a URL keys or a
// discovery document may be fetched from: absolute, https (http only to
// "localhost" or a loopback address, which are never resolved), with a host
// and without credentials (they would end up in logs). The error never
// contains a password.
func CheckURL(raw string) error {
	_, err := checkURL(raw)
	return err
}

// withDefaults validates c and returns it with defaults filled in and the
// slices copied.
func (c Config) withDefaults() (Config, error) {
	fail := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("jwks: issuer %q: "+format, append([]any{c.Name}, args...)...)
	}
	if c.Name == "" {
		return Config{}, errors.New("jwks: empty issuer name")
	}
	if len(c.Algorithms) == 0 {
		return fail("no algorithms")
	}
	for _, alg := range c.Algorithms {
		if err := CheckAlgorithm(alg); err != nil {
			return fail("%w", err)
		}
	}
	c.Algorithms = slices.Clone(c.Algorithms)
	if c.Discovery {
		if c.JWKSURL != "" {
			return fail("jwks_url and discovery are exclusive")
		}
		if c.Issuer == "" {
			return fail("discovery needs the issuer URL")
		}
		if _, err := checkURL(c.Issuer); err != nil {
			return fail("issuer: %w", err)
		}
	} else {
		if c.JWKSURL == "" {
			return fail("no jwks_url")
		}
		if _, err := checkURL(c.JWKSURL); err != nil {
			return fail("jwks_url: %w", err)
		}
	}
	durations := []struct {
		d   *time.Duration
		def time.Duration
		nm  string
	}{
		{&c.RefreshInterval, DefaultRefreshInterval, "refresh interval"},
		{&c.UnknownKIDInterval, defaultUnknownKIDInterval, "unknown kid interval"},
		{&c.FetchTimeout, defaultFetchTimeout, "fetch timeout"},
	}
	for _, d := range durations {
		switch {
		case *d.d < 0:
			return fail("negative %s", d.nm)
		case *d.d == 0:
			*d.d = d.def
		}
	}
	switch {
	case c.MaxBytes < 0:
		return fail("negative max bytes")
	case c.MaxBytes == 0:
		c.MaxBytes = defaultMaxBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// checkURL parses raw and checks it as CheckURL does.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the raw URL, password and all: keep only why.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%w: not a URL: %w", ErrURL, err)
	}
	return u, checkParsedURL(u)
}

func checkParsedURL(u *url.URL) error {
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%w: %q: scheme must be https", ErrURL, u.Redacted())
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: %q has no host", ErrURL, u.Redacted())
	}
	if u.User != nil {
		return fmt.Errorf("%w: %q must not contain credentials", ErrURL, u.Redacted())
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%w: %q: http is allowed only for loopback hosts, use https", ErrURL, u.Redacted())
	}
	return nil
}

// isLoopback reports whether host is "localhost" or a loopback IP address.
// Other names are not resolved: a name that resolves to 127.0.0.1 today may
// not tomorrow.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
