package proxy_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/sqlite"
)

// TestReadinessFollowsStoreWrites: a store that answers reads but cannot
// write (here another process holds its write lock past the write timeout;
// a read-only file or a full disk fail the same way) makes signup answer
// 503 and readiness fail naming the store as not writable; once the lock
// is released, readiness recovers by itself and signup works.
func TestReadinessFollowsStoreWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the store's 5 s write timeout")
	}
	path := filepath.Join(t.TempDir(), "authgate.db")
	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	g, err := build(t, parseConfig(t, accountsYAML, "http://127.0.0.1:9"), assemble.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if rd := g.Readiness(ctx); !rd.Ready {
		t.Fatalf("before the fault: %+v", rd)
	}

	// Another process's write lock, held.
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if rd := g.Readiness(ctx); !rd.Ready {
		t.Fatalf("before a write failed: %+v (readiness must not write)", rd)
	}

	creds := map[string]string{"username": "testuser", "password": "testpass123"}
	if code, body := call(t, g, "POST", "/auth/signup", creds, ""); code != 503 {
		t.Fatalf("signup while the store cannot write: %d %v, want 503", code, body)
	}
	if rd := g.Readiness(ctx); rd.Ready || rd.Checks["store"] != "not writable" {
		t.Fatalf("readiness while the store cannot write: %+v, want store not writable", rd)
	}

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for rd := g.Readiness(ctx); !rd.Ready; rd = g.Readiness(ctx) {
		if time.Now().After(deadline) {
			t.Fatalf("readiness after the fault cleared: %+v", rd)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := call(t, g, "POST", "/auth/signup", creds, ""); code != 201 {
		t.Fatalf("signup after the fault cleared: %d %v", code, body)
	}
}
