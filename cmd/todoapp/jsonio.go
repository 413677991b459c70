package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// maxBodyBytes caps the size of JSON request bodies.
const maxBodyBytes = 64 << 10

// errorBody is the shape of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own, always-encodable types are passed in.
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal error: cannot encode response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError writes the JSON error response {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// requestError is a client error with the HTTP status that reports it.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// decodeJSON decodes a single JSON object from the request body into dst.
// It requires Content-Type application/json (415), limits the body to
// maxBodyBytes (413) and rejects malformed JSON, unknown fields and trailing
// data (400). Errors are *requestError.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &requestError{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}
	}

	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return bodyError(err)
	}
	// Exactly one JSON value is allowed.
	if _, err := dec.Token(); err != io.EOF {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return bodyError(err)
		}
		return &requestError{http.StatusBadRequest, "invalid JSON body: unexpected data after JSON value"}
	}
	return nil
}

// bodyError maps an error from reading or decoding the body to a
// *requestError.
func bodyError(err error) error {
	if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &requestError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body too large (max %d bytes)", tooLarge.Limit)}
	}
	if errors.Is(err, io.EOF) {
		return &requestError{http.StatusBadRequest, "request body is empty"}
	}
	return &requestError{http.StatusBadRequest, "invalid JSON body: " + err.Error()}
}

// writeRequestError reports err, which should be a *requestError.
func writeRequestError(w http.ResponseWriter, err error) {
	if re, ok := errors.AsType[*requestError](err); ok {
		writeError(w, re.status, re.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, "internal error")
}
