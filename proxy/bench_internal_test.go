package proxy

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/identity"
	"github.com/authgate/authgate/proxy/logwriter"
)

func benchIdentity() *identity.Identity {
	return &identity.Identity{
		Issuer:  "authgate",
		Subject: "alice",
		Roles:   []string{"user", "admin"},
		Claims: map[string]any{
			"sub": "alice", "preferred_username": "alice",
			"email": "alice@example.com", "email_verified": true,
			"roles": []any{"user", "admin"},
		},
	}
}

var benchIdentityHeaders = []IdentityHeader{
	{Name: "X-Auth-Subject", Claim: "sub"},
	{Name: "X-Auth-Username", Claim: "preferred_username"},
	{Name: "X-Auth-Email", Claim: "email"},
	{Name: "X-Auth-Roles", Claim: "roles"},
}

// BenchmarkIdentityHeaders renders the default identity headers of one
// identity, without and with headers its issuer adds.
func BenchmarkIdentityHeaders(b *testing.B) {
	id := benchIdentity()
	rr := &gatewayRoute{Route: Route{Name: "todos"}}
	for _, bc := range []struct {
		name  string
		extra map[string][]IdentityHeader
	}{
		{"common", nil},
		{"issuer_extra", map[string][]IdentityHeader{"authgate": {{Name: "X-Auth-Tenant", Claim: "preferred_username"}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := &Snapshot{Settings: Settings{IdentityHeaders: benchIdentityHeaders, IssuerHeaders: bc.extra}}
			b.ReportAllocs()
			var buf [5]identityHeaderVal // as in the exchange
			for b.Loop() {
				hs, err := s.identityHeaders(buf[:], id, rr)
				if err != nil || len(hs) == 0 {
					b.Fatal(hs, err)
				}
			}
		})
	}
}

// BenchmarkAccessLog writes the access-log line of one allowed request:
// JSON to io.Discard (formatting only), JSON to a file (one write(2) per
// line), JSON to a file through logwriter (as `authgate serve` writes),
// and with the log level above Info (disabled).
func BenchmarkAccessLog(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	buffered := logwriter.New(f, 0, 100*time.Millisecond)
	b.Cleanup(func() { buffered.Close() })
	r := httptest.NewRequest("GET", "/todos/1", nil)
	ex := &exchange{start: time.Now(), requestID: "0123456789abcdef0123456789abcdef",
		path: "/todos/1", route: "todos", id: benchIdentity(), status: 200, bytes: 11}
	for _, bc := range []struct {
		name  string
		out   io.Writer
		level slog.Level
	}{{"json", io.Discard, slog.LevelInfo}, {"json_file", f, slog.LevelInfo}, {"json_file_buffered", buffered, slog.LevelInfo}, {"disabled", io.Discard, slog.LevelWarn}} {
		b.Run(bc.name, func(b *testing.B) {
			s := &Snapshot{Settings: Settings{Logger: slog.New(slog.NewJSONHandler(bc.out, &slog.HandlerOptions{Level: bc.level}))}}
			b.ReportAllocs()
			for b.Loop() {
				s.logAccess(r, ex)
			}
		})
	}
}

// BenchmarkRequestID generates one request id.
func BenchmarkRequestID(b *testing.B) {
	r := httptest.NewRequest("GET", "/todos/1", nil)
	b.ReportAllocs()
	for b.Loop() {
		if len(requestID(r, false)) != 32 {
			b.Fatal("bad id")
		}
	}
}
