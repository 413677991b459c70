package logwriter_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/logwriter"
)

// recorder records each Write it gets as one chunk.
type recorder struct {
	mu     sync.Mutex
	chunks []string
	fail   error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.chunks = append(r.chunks, string(p))
	return len(p), nil
}

func (r *recorder) all() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.chunks, ""), len(r.chunks)
}

// never is a flush interval no test reaches: flushes happen only when a
// test asks or the buffer fills.
const never = time.Hour

func TestWriteFlushClose(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		writes     []string
		wantChunks int // Writes the underlying writer got before Close
	}{
		{"small lines wait for a flush", 64, []string{"a\n", "b\n", "c\n"}, 0},
		{"a full buffer goes out first", 8, []string{"1234\n", "5678\n"}, 1},
		{"a line larger than the buffer goes through", 4, []string{"ab\n", "toolong\n"}, 2},
		{"exact fit stays", 6, []string{"abc\n", "d\n"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			w := logwriter.New(rec, tc.size, never)
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if _, n := rec.all(); n != tc.wantChunks {
				t.Errorf("%d writes reached the output before Close, want %d", n, tc.wantChunks)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got, _ := rec.all(); got != strings.Join(tc.writes, "") {
				t.Errorf("output %q, want %q", got, strings.Join(tc.writes, ""))
			}
		})
	}
}

// TestIntervalFlush: lines reach the output without Flush or Close.
func TestIntervalFlush(t *testing.T) {
	rec := &recorder{}
	w := logwriter.New(rec, 0, time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("line\n"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, _ := rec.all(); got == "line\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line never reached the output")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConcurrentLinesStayWhole: lines written at the same time from many
// goroutines come out whole, each once.
func TestConcurrentLinesStayWhole(t *testing.T) {
	rec := &recorder{}
	w := logwriter.New(rec, 512, time.Millisecond)
	var wg sync.WaitGroup
	const writers, lines = 8, 500
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < lines; i++ {
				_, _ = fmt.Fprintf(w, "{\"writer\":%d,\"line\":%d,\"pad\":%q}\n", g, i, strings.Repeat("x", i%40))
			}
		}(g)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := rec.all()
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(l, "{\"writer\":") || !strings.HasSuffix(l, "\"}") || seen[l] {
			t.Fatalf("line split, merged or repeated: %q", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*lines {
		t.Errorf("%d lines, want %d", len(seen), writers*lines)
	}
}

func TestUnderlyingErrorReported(t *testing.T) {
	boom := errors.New("disk full")
	rec := &recorder{fail: boom}
	w := logwriter.New(rec, 4, never)
	defer w.Close()
	_, _ = w.Write([]byte("abc\n"))
	if _, err := w.Write([]byte("def\n")); !errors.Is(err, boom) { // flushes "abc\n" first
		t.Errorf("Write after a failed flush: %v, want %v", err, boom)
	}
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush: %v, want %v", err, boom)
	}
}

func TestCloseTwice(t *testing.T) {
	var b bytes.Buffer
	w := logwriter.New(&b, 0, never)
	_, _ = w.Write([]byte("x\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b.String() != "x\n" {
		t.Errorf("output %q", b.String())
	}
}
