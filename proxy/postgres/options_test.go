package postgres

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      Options
		want    Options
		wantErr string
	}{
		{"zero takes defaults", Options{}, Options{MaxConns: 10, Timeout: 5 * time.Second, MaxConnLifetime: time.Hour,
			MaxConnIdleTime: 5 * time.Minute, MigrateTimeout: time.Minute}, ""},
		{"set fields kept", Options{MaxConns: 3, MinConns: 1, ConnectTimeout: time.Second, Timeout: 2 * time.Second,
			MaxConnLifetime: time.Minute, MaxConnIdleTime: 10 * time.Second, MigrateTimeout: 5 * time.Second},
			Options{MaxConns: 3, MinConns: 1, ConnectTimeout: time.Second, Timeout: 2 * time.Second,
				MaxConnLifetime: time.Minute, MaxConnIdleTime: 10 * time.Second, MigrateTimeout: 5 * time.Second}, ""},
		{"negative MaxConns", Options{MaxConns: -1}, Options{}, "MaxConns"},
		{"negative MinConns", Options{MinConns: -1}, Options{}, "MinConns"},
		{"MinConns above default MaxConns", Options{MinConns: 11}, Options{}, "above MaxConns"},
		{"negative timeout", Options{Timeout: -time.Second}, Options{}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.withDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("withDefaults = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestPoolConfig(t *testing.T) {
	const base = "postgres://u:pw@db.example:5432/authgate?sslmode=verify-full"
	defaults, _ := Options{}.withDefaults()
	for _, tc := range []struct {
		name        string
		url         string
		opts        Options
		wantMax     int32
		wantConnect time.Duration
	}{
		{"defaults", base, defaults, 10, 5 * time.Second},
		{"options", base, Options{MaxConns: 4, ConnectTimeout: 2 * time.Second}, 4, 2 * time.Second},
		{"URL connect_timeout when Options has none", base + "&connect_timeout=7", defaults, 10, 7 * time.Second},
		{"Options connect timeout wins", base + "&connect_timeout=7", Options{MaxConns: 10, ConnectTimeout: time.Second}, 10, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := poolConfig(tc.url, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxConns != tc.wantMax || cfg.ConnConfig.ConnectTimeout != tc.wantConnect {
				t.Errorf("MaxConns %d, ConnectTimeout %v; want %d, %v",
					cfg.MaxConns, cfg.ConnConfig.ConnectTimeout, tc.wantMax, tc.wantConnect)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgresql://u:p%40ss@h/db", "postgresql://u:xxxxx@h/db"},
		{"postgres://h/db?password=s3cret&sslpassword=k3y&sslmode=require",
			"postgres://h/db?password=xxxxx&sslmode=require&sslpassword=xxxxx"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := redact(u); got != tc.want {
			t.Errorf("redact(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
