package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// errBodyTimeout is the error a request body's Read returns once the
// client sent nothing for the body read timeout. It is an
// os.ErrDeadlineExceeded, which handlers reading the body (the account
// endpoints) answer with 408.
var errBodyTimeout = fmt.Errorf("request body timed out: %w", os.ErrDeadlineExceeded)

// timedBody is a request body whose every Read must make progress within
// timeout: before each Read it moves the connection's read deadline to
// timeout from now (never past the whole-request deadline, when there is
// one), so a slow but steady upload never times out while a stalled one
// does, as nginx's client_body_timeout. At the end of the body it restores
// the whole-request deadline, so that a long wait for the upstream's
// answer is not taken for a client that went away.
type timedBody struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	ex      *exchange
	timeout time.Duration
	until   time.Time // the whole-request deadline; zero for none
}

// limitBody wraps r's body with the snapshot's body read timeout, when it
// has one and r has a body.
func (s *Snapshot) limitBody(w http.ResponseWriter, r *http.Request, ex *exchange) {
	if s.BodyReadTimeout <= 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	b := &timedBody{body: r.Body, rc: http.NewResponseController(w), ex: ex, timeout: s.BodyReadTimeout}
	if s.ReadTimeout > 0 {
		b.until = ex.start.Add(s.ReadTimeout)
	}
	r.Body = b
}

func (b *timedBody) Read(p []byte) (int, error) {
	d := time.Now().Add(b.timeout)
	if !b.until.IsZero() && b.until.Before(d) {
		d = b.until
	}
	if b.rc.SetReadDeadline(d) != nil {
		// The connection cannot take deadlines: read without.
		return b.body.Read(p)
	}
	n, err := b.body.Read(p)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.ex.bodyTimedOut.Store(true)
		return n, errBodyTimeout
	case err != nil:
		_ = b.rc.SetReadDeadline(b.until)
	}
	return n, err
}

func (b *timedBody) Close() error { return b.body.Close() }
