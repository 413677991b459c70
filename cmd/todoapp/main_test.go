package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent use (the server logs
// from many goroutines).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestRunServesAndShutsDown(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--listen=" + addr}, io.Discard, &stderr) }()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v; stderr:\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up after 5s: %v; stderr:\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A round trip over the network, as authgate would make it.
	post, err := http.NewRequest("POST", base+"/todos", strings.NewReader(`{"title":"ship it"}`))
	if err != nil {
		t.Fatal(err)
	}
	post.Header.Set("Content-Type", "application/json")
	post.Header.Set(subjectHeader, "alice")
	resp, err := client.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	var created todo
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || created != (todo{ID: 1, Title: "ship it"}) {
		t.Fatalf("POST /todos: status %d, todo %+v, err %v", resp.StatusCode, created, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}

	logs := stderr.String()
	for _, want := range []string{
		`msg="todoapp listening" addr=` + addr,
		"method=POST path=/todos status=201 subject=alice",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("server still answering after run returned")
	}
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name      string
		args      []string
		wantErr   string // substring; "" means flag.ErrHelp
		wantUsage bool   // a flag error, already reported by the flag package
	}{
		{"help", []string{"-h"}, "", false},
		{"unknown flag", []string{"-port", "1"}, "flag provided but not defined", true},
		{"missing flag value", []string{"-listen"}, "flag needs an argument", true},
		{"extra argument", []string{"serve"}, "unexpected arguments", false},
		{"bad address", []string{"-listen", "nonsense"}, "missing port", false},
		{"address in use", []string{"-listen", busy.Addr().String()}, "address already in use", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr syncBuffer
			err := run(t.Context(), tt.args, io.Discard, &stderr)
			switch {
			case err == nil:
				t.Fatal("run returned nil")
			case tt.wantErr == "":
				if !errors.Is(err, flag.ErrHelp) {
					t.Fatalf("err = %v, want flag.ErrHelp", err)
				}
				if !strings.Contains(stderr.String(), "-listen address") {
					t.Errorf("usage not printed:\n%s", stderr.String())
				}
			case !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := errors.Is(err, errUsage); got != tt.wantUsage {
				t.Errorf("errors.Is(%v, errUsage) = %v, want %v", err, got, tt.wantUsage)
			}
		})
	}
}
