package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of Options, applied to its zero fields. The configuration file's
// defaults (config.Postgres) are these.
const (
	DefaultMaxConns        = 10
	DefaultConnectTimeout  = 5 * time.Second
	DefaultTimeout         = 5 * time.Second
	defaultMaxConnLifetime = time.Hour
	defaultMaxConnIdleTime = 5 * time.Minute
	defaultMigrateTimeout  = time.Minute
)

// Options configure the connection pool and the time limits of a Store.
// Every zero field takes its default; negative values are refused. The
// pool is configured only here: pool_* parameters in the URL are refused,
// so that no setting has two sources.
type Options struct {
	// MaxConns is the most connections the pool holds open; 0 means 10.
	// Every replica has its own pool, so the sum over replicas must stay
	// below the server's max_connections.
	MaxConns int32
	// MinConns is how many connections the pool keeps open even when
	// idle; 0 (the default) keeps none.
	MinConns int32
	// ConnectTimeout bounds establishing one connection: dialling, TLS
	// and authentication. 0 means the URL's connect_timeout if it has
	// one, else 5s.
	ConnectTimeout time.Duration
	// Timeout bounds each Store method as a whole: waiting for a pooled
	// connection, waiting for row locks held by other replicas, and every
	// statement of its transaction. A method that runs out of time rolls
	// back and fails with accounts.ErrUnavailable. 0 means 5s.
	Timeout time.Duration
	// MaxConnLifetime is the age at which a connection is closed and
	// replaced (once returned to the pool), so that connections move to
	// a failed-over primary or a resized server in time. 0 means 1h.
	MaxConnLifetime time.Duration
	// MaxConnIdleTime is how long a connection may sit unused before it is
	// closed (down to MinConns); 0 means 5m.
	MaxConnIdleTime time.Duration
	// MigrateTimeout bounds applying migrations in Open and Migrate,
	// including the wait for another replica that is migrating the same
	// database; 0 means 1m.
	MigrateTimeout time.Duration
}

// withDefaults returns o with its zero fields set to their defaults, or an
// error naming the first invalid field.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.MaxConns < 0:
		return o, fmt.Errorf("MaxConns %d is negative", o.MaxConns)
	case o.MinConns < 0:
		return o, fmt.Errorf("MinConns %d is negative", o.MinConns)
	case o.ConnectTimeout < 0, o.Timeout < 0, o.MaxConnLifetime < 0, o.MaxConnIdleTime < 0, o.MigrateTimeout < 0:
		return o, errors.New("timeouts and lifetimes must not be negative")
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MinConns > o.MaxConns {
		return o, fmt.Errorf("MinConns %d is above MaxConns %d", o.MinConns, o.MaxConns)
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.Timeout, DefaultTimeout},
		{&o.MaxConnLifetime, defaultMaxConnLifetime},
		{&o.MaxConnIdleTime, defaultMaxConnIdleTime},
		{&o.MigrateTimeout, defaultMigrateTimeout},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	return o, nil
}

// poolConfig parses rawURL into a pool configuration with opts applied
// (opts already defaulted), and returns the parsed URL for messages. Its
// errors never contain the password, nor the URL: the caller names it in
// its redacted form.
func poolConfig(rawURL string, opts Options) (*pgxpool.Config, *url.URL, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	for k := range u.Query() {
		if strings.HasPrefix(k, "pool_") {
			return nil, u, fmt.Errorf("URL parameter %s: set pool settings through Options", k)
		}
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// The parser's error can quote the URL: it is scrubbed, and not
		// kept in the chain.
		return nil, u, fmt.Errorf("invalid URL: %s", scrub(err.Error(), u))
	}
	cfg.MaxConns, cfg.MinConns = opts.MaxConns, opts.MinConns
	cfg.MaxConnLifetime, cfg.MaxConnIdleTime = opts.MaxConnLifetime, opts.MaxConnIdleTime
	// Spread the replacement of connections opened together.
	cfg.MaxConnLifetimeJitter = opts.MaxConnLifetime / 10
	switch {
	case opts.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	case cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	return cfg, u, nil
}

// parseURL checks that rawURL is a postgres:// or postgresql:// URL. The
// keyword=value form the driver also accepts is refused, so that every
// error can show the URL with its password masked.
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole input, password included: keep only
		// what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL: %v", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, errors.New("invalid URL: it must start with postgres:// or postgresql://")
	}
	return u, nil
}

// redactedParams are the URL parameters that can hold a secret.
var redactedParams = []string{"password", "sslpassword"}

// redact is u for messages: its password and any password parameter
// replaced by "xxxxx".
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	q := c.Query()
	changed := false
	for _, k := range redactedParams {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// scrub removes from msg every secret u holds, as written and escaped.
func scrub(msg string, u *url.URL) string {
	var secrets []string
	if u.User != nil {
		if pw, has := u.User.Password(); has {
			secrets = append(secrets, pw)
		}
	}
	q := u.Query()
	for _, k := range redactedParams {
		secrets = append(secrets, q[k]...)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		userinfo := strings.TrimPrefix(url.UserPassword("", s).String(), ":")
		for _, form := range []string{s, userinfo, url.QueryEscape(s), url.PathEscape(s)} {
			msg = strings.ReplaceAll(msg, form, "xxxxx")
		}
	}
	return msg
}

// describe returns err of operation op (open, migrate) on the database u
// (nil when the URL did not parse), naming u with its secrets masked.
// Nothing else in the chain holds the password: the driver's connection
// errors name the user, host and database only, and its parse errors are
// scrubbed and dropped by poolConfig.
func describe(op string, u *url.URL, err error) error {
	if u == nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return fmt.Errorf("postgres: %s %s: %w", op, redact(u), err)
}
