// Package pgtest gives tests a PostgreSQL database of their own.
//
// The server is named by AUTHGATE_TEST_POSTGRES_URL, a URL whose role may
// create databases (CREATEDB); .ci/run starts the machine's PostgreSQL and
// sets it. Without it a test skips, saying why, except under CI=true, where
// it fails: CI must never pass by skipping the PostgreSQL tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable holding the test server's URL.
const EnvURL = "AUTHGATE_TEST_POSTGRES_URL"

// URL returns the test server's URL, or skips (fails under CI=true) when
// there is none.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL tests (.ci/run starts PostgreSQL and sets it)", EnvURL)
		}
		t.Skipf("%s is not set: the PostgreSQL tests need a server whose role may create databases (.ci/run starts one)", EnvURL)
	}
	return u
}

// Database creates an empty database for the test, dropped when the test
// ends, and returns its URL (the server's URL with the database replaced).
func Database(t testing.TB) string {
	t.Helper()
	base := URL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "authgate_t_" + hex.EncodeToString(b[:])
	admin := connect(t, base)
	if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	admin.Close(context.Background())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		// FORCE ends the sessions a test left behind (processes killed
		// mid-connection among them).
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// HostPort returns the host:port of a database URL.
func HostPort(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// WithHostPort returns dbURL reaching the server at hostPort instead: a
// proxy between the test and the database, say.
func WithHostPort(t testing.TB, dbURL, hostPort string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = hostPort
	return u.String()
}

func connect(t testing.TB, dbURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: connect to the test server: %v", err)
	}
	return c
}
