package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/authgate/authgate/proxy/password"
	"github.com/authgate/authgate/proxy/respond"
)

// maxBodyBytes bounds an account request's body.
const maxBodyBytes = 16 << 10

// badRequest is a client error whose message is safe to return.
type badRequest struct {
	status int
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

// decodeJSON reads a single JSON object into v: Content-Type must be
// application/json (415), the body at most maxBodyBytes (413) and sent
// without stalling past the body read timeout (408), and the
// object must have no unknown fields (400). An empty body is allowed only
// when emptyOK.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	if r.ContentLength == 0 && emptyOK {
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &badRequest{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The client stalled sending the body (server.body_read_timeout).
			return &badRequest{http.StatusRequestTimeout, "request body timed out"}
		case errors.As(err, &tooBig):
			return &badRequest{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes)}
		case errors.Is(err, io.EOF):
			if emptyOK {
				return nil
			}
			return &badRequest{http.StatusBadRequest, "request body is empty"}
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
			return &badRequest{http.StatusBadRequest, "request body is not valid JSON"}
		case errors.As(err, &typ):
			return &badRequest{http.StatusBadRequest, fmt.Sprintf("field %q must be a %s", typ.Field, typ.Type)}
		default:
			// Unknown fields and similar: json's message names the field
			// and holds nothing secret.
			return &badRequest{http.StatusBadRequest, "invalid request body: " + err.Error()}
		}
	}
	if dec.More() {
		return &badRequest{http.StatusBadRequest, "request body must hold a single JSON object"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &badRequest{http.StatusBadRequest, "request body must hold a single JSON object"}
	}
	return nil
}

// writeErr answers err: a badRequest with its own status and message,
// anything else as 503 when the store or hasher is unavailable, else 500.
// Internal detail stays in the log.
func (s *Service) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		respond.Error(w, br.status, br.msg)
		return
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, password.ErrBusy) {
		s.d.Logger.Warn("account request failed", "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "1")
		respond.Error(w, http.StatusServiceUnavailable, "service temporarily unavailable")
		return
	}
	s.d.Logger.Error("account request failed", "path", r.URL.Path, "error", err)
	respond.Error(w, http.StatusInternalServerError, "internal error")
}

// unauthorized answers 401 with a bare bearer challenge and msg.
func (s *Service) unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", respond.Challenge(s.cfg.Realm, "", ""))
	respond.Error(w, http.StatusUnauthorized, msg)
}

// tooMany answers 429 with Retry-After in whole seconds (at least 1).
func tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	respond.Error(w, http.StatusTooManyRequests, "too many failed attempts, retry later")
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
