// Package logwriter buffers log output: one write(2) for many log lines
// instead of one per line. At a few thousand requests per second, a
// system call per access-log line costs more than formatting the line.
//
// A Writer keeps whole Write calls together (slog handlers write one
// record per call), so lines never interleave or split, and hands them to
// the underlying writer when its buffer would overflow, at every flush
// interval, and on Close. Lines written within the last interval are lost
// if the process is killed (SIGKILL); a panic's own output goes to stderr
// directly and is not affected.
package logwriter

import (
	"io"
	"sync"
	"time"
)

// DefaultSize is the buffer size New uses when size is 0 or less.
const DefaultSize = 64 << 10

// Writer is an io.Writer that buffers whole writes for an underlying
// writer. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	out io.Writer
	buf []byte
	err error // the underlying writer's first error

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// New returns a Writer that flushes to out every interval, and sooner
// when size bytes are waiting. Close stops it.
func New(out io.Writer, size int, interval time.Duration) *Writer {
	if size <= 0 {
		size = DefaultSize
	}
	w := &Writer{out: out, buf: make([]byte, 0, size), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(interval)
	return w
}

func (w *Writer) loop(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = w.Flush()
		case <-w.stop:
			return
		}
	}
}

// Write keeps p for the next flush; p goes out in one piece with the
// lines around it. A p larger than the buffer is written through at once,
// after what is waiting. Write reports the underlying writer's first error,
// if any, and otherwise never fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf)+len(p) > cap(w.buf) {
		w.flushLocked()
		if len(p) > cap(w.buf) {
			w.writeLocked(p)
			return len(p), w.err
		}
	}
	w.buf = append(w.buf, p...)
	return len(p), w.err
}

// Flush writes out what is waiting.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return w.err
}

func (w *Writer) flushLocked() {
	if len(w.buf) > 0 {
		w.writeLocked(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *Writer) writeLocked(p []byte) {
	if _, err := w.out.Write(p); err != nil && w.err == nil {
		w.err = err
	}
}

// Close stops the flush timer and writes out what is waiting. Writes
// after Close still reach the buffer but are flushed only by Flush.
func (w *Writer) Close() error {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
	return w.Flush()
}
