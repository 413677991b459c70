// Package respond writes authgate's HTTP answers: JSON bodies, JSON errors
// {"error": "..."}, and RFC 6750 bearer challenges. It holds the one table
// that maps authentication and authorization errors to status codes and
// client messages; internal detail never reaches a response.
package respond

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/authgate/proxy/policy"
	"github.com/authgate/authgate/proxy/token"
)

// JSON writes v as a JSON response with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error writes {"error": msg} with the given status.
func Error(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

// Denial is how one kind of failed authentication or authorization is
// answered.
type Denial struct {
	Status  int
	Message string // the {"error"} message
	Code    string // RFC 6750 error code; "" for a bare challenge
	// Reason is a short fixed word for logs and metrics labels.
	Reason Reason
}

// Reason says in one fixed word why a request was denied or failed. It is
// a log field and a metrics label, so the set is closed: these constants.
type Reason string

// Reasons.
const (
	ReasonNoToken         Reason = "no_token"
	ReasonMalformed       Reason = "malformed"
	ReasonExpired         Reason = "expired"
	ReasonInvalid         Reason = "invalid"
	ReasonForbidden       Reason = "forbidden"
	ReasonNoRoute         Reason = "no_route"
	ReasonBadPath         Reason = "bad_path"
	ReasonBadRequest      Reason = "bad_request"
	ReasonUntrustedPeer   Reason = "untrusted_peer"
	ReasonUpstreamError   Reason = "upstream_error"
	ReasonUpstreamTimeout Reason = "upstream_timeout"
	ReasonClientClosed    Reason = "client_closed" // the client disconnected before the answer
	ReasonBodyTimeout     Reason = "body_timeout"  // the client stalled sending the request body
	// ReasonCSRF: a request authenticated by the session cookie that may
	// change state (or open a WebSocket) came from an origin not allowed.
	ReasonCSRF Reason = "csrf"
)

// Reasons lists every Reason, for metrics that pre-declare their labels.
func Reasons() []Reason {
	return []Reason{ReasonNoToken, ReasonMalformed, ReasonExpired, ReasonInvalid, ReasonForbidden,
		ReasonNoRoute, ReasonBadPath, ReasonBadRequest, ReasonUntrustedPeer, ReasonUpstreamError, ReasonUpstreamTimeout,
		ReasonClientClosed, ReasonBodyTimeout,
		ReasonCSRF}
}

// denials is the table from error to answer, checked in order.
var denials = []struct {
	err error
	Denial
}{
	{token.ErrMissing, Denial{http.StatusUnauthorized, "authentication required", "", ReasonNoToken}},
	{token.ErrMalformed, Denial{http.StatusBadRequest, "malformed Authorization header", "invalid_request", ReasonMalformed}},
	{token.ErrExpired, Denial{http.StatusUnauthorized, "token expired", "invalid_token", ReasonExpired}},
	{token.ErrInvalid, Denial{http.StatusUnauthorized, "invalid token", "invalid_token", ReasonInvalid}},
	{policy.ErrForbidden, Denial{http.StatusForbidden, "insufficient permissions", "insufficient_scope", ReasonForbidden}},
}

// failClosed answers any error the table does not know: a bug must deny.
var failClosed = Denial{http.StatusUnauthorized, "invalid token", "invalid_token", ReasonInvalid}

// DenialFor returns how err is answered.
func DenialFor(err error) Denial {
	for _, d := range denials {
		if errors.Is(err, d.err) {
			return d.Denial
		}
	}
	return failClosed
}

// Deny answers a failed authentication or authorization: the JSON error
// and, for 400, 401 and 403, a WWW-Authenticate challenge for realm. It
// returns the Denial it wrote.
func Deny(w http.ResponseWriter, realm string, err error) Denial {
	d := DenialFor(err)
	w.Header().Set("WWW-Authenticate", Challenge(realm, d.Code, d.Message))
	w.Header().Set("Cache-Control", "no-store")
	Error(w, d.Status, d.Message)
	return d
}

// Challenge formats a Bearer challenge (RFC 6750 §3). realm and description
// come from configuration and this package, never from a request; they must
// not contain quotes.
func Challenge(realm, code, description string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	b.WriteString(realm)
	b.WriteByte('"')
	if code != "" {
		b.WriteString(`, error="`)
		b.WriteString(code)
		b.WriteString(`", error_description="`)
		b.WriteString(description)
		b.WriteByte('"')
	}
	return b.String()
}
