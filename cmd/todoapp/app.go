package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// subjectHeader carries the authenticated user. authgate sets it after
// verifying the caller's token and strips any copy sent by the client, so
// the app can trust it as-is.
const subjectHeader = "X-Auth-Subject"

// maxTitleLen is the maximum length of a todo title, in characters.
const maxTitleLen = 200

// app is the todo API as an http.Handler.
type app struct {
	mux   *http.ServeMux
	store *store
}

// newApp returns the todo API with an empty in-memory store.
func newApp() *app {
	a := &app{mux: http.NewServeMux(), store: newStore()}
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.HandleFunc("GET /headers", a.headers)
	a.mux.HandleFunc("GET /todos", a.withSubject(a.listTodos))
	a.mux.HandleFunc("POST /todos", a.withSubject(a.createTodo))
	a.mux.HandleFunc("GET /todos/{id}", a.withSubject(a.getTodo))
	a.mux.HandleFunc("PATCH /todos/{id}", a.withSubject(a.patchTodo))
	a.mux.HandleFunc("DELETE /todos/{id}", a.withSubject(a.deleteTodo))
	return a
}

// ServeHTTP routes r. ServeMux answers unknown paths and wrong methods with
// plain-text errors; those are replaced by JSON ones (keeping the Allow
// header of a 405).
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	// No route matched: run the mux's fallback handler on a recorder to
	// learn whether it means 404 or 405.
	rec := &headerRecorder{header: make(http.Header)}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		writeError(w, http.StatusNotFound, "not found")
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	default: // e.g. a redirect to the cleaned path
		a.mux.ServeHTTP(w, r)
	}
}

// headerRecorder is a ResponseWriter that keeps the header and status and
// discards the body.
type headerRecorder struct {
	header http.Header
	status int
}

func (rec *headerRecorder) Header() http.Header { return rec.header }

func (rec *headerRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (rec *headerRecorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return len(b), nil
}

// withSubject rejects requests without an authenticated subject and passes
// the subject to h.
func (a *app) withSubject(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		subject := r.Header.Get(subjectHeader)
		if subject == "" {
			writeError(w, http.StatusUnauthorized, "no authenticated subject (X-Auth-Subject missing)")
			return
		}
		h(w, r, subject)
	}
}

func (a *app) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// headersResponse echoes what the app received, to show what authgate
// forwarded.
type headersResponse struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	RawPath string      `json:"raw_path"`
	Query   string      `json:"query"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
}

func (a *app) headers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, headersResponse{
		Method:  r.Method,
		Path:    r.URL.Path,
		RawPath: r.URL.RawPath,
		Query:   r.URL.RawQuery,
		Host:    r.Host,
		Headers: r.Header,
	})
}

type listResponse struct {
	Subject string `json:"subject"`
	Todos   []todo `json:"todos"`
}

func (a *app) listTodos(w http.ResponseWriter, _ *http.Request, subject string) {
	writeJSON(w, http.StatusOK, listResponse{Subject: subject, Todos: a.store.list(subject)})
}

type createRequest struct {
	Title string `json:"title"`
}

func (a *app) createTodo(w http.ResponseWriter, r *http.Request, subject string) {
	var req createRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	title, err := validTitle(req.Title)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	t := a.store.create(subject, title)
	w.Header().Set("Location", fmt.Sprintf("/todos/%d", t.ID))
	writeJSON(w, http.StatusCreated, t)
}

func (a *app) getTodo(w http.ResponseWriter, r *http.Request, subject string) {
	id, ok := todoID(r)
	if !ok {
		writeTodoNotFound(w)
		return
	}
	t, ok := a.store.get(subject, id)
	if !ok {
		writeTodoNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

type patchRequest struct {
	Title *string `json:"title"`
	Done  *bool   `json:"done"`
}

func (a *app) patchTodo(w http.ResponseWriter, r *http.Request, subject string) {
	id, ok := todoID(r)
	if !ok {
		writeTodoNotFound(w)
		return
	}
	var req patchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	p := todoPatch{Done: req.Done}
	if req.Title != nil {
		title, err := validTitle(*req.Title)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		p.Title = &title
	}
	t, ok := a.store.update(subject, id, p)
	if !ok {
		writeTodoNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (a *app) deleteTodo(w http.ResponseWriter, r *http.Request, subject string) {
	id, ok := todoID(r)
	if !ok || !a.store.delete(subject, id) {
		writeTodoNotFound(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// todoID parses the {id} path segment; only positive integers are valid.
func todoID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func writeTodoNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "todo not found")
}

// validTitle trims title and checks that it is present and not too long.
func validTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return "", errors.New("title is required")
	case utf8.RuneCountInString(title) > maxTitleLen:
		return "", fmt.Errorf("title must be at most %d characters", maxTitleLen)
	}
	return title, nil
}
