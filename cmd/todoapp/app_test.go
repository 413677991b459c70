package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// req describes one request to the app.
type req struct {
	method, target string
	subject        string // X-Auth-Subject; none if empty
	contentType    string // defaults to application/json when body is set
	body           string
}

func (rq req) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.target, body)
	if rq.subject != "" {
		r.Header.Set(subjectHeader, rq.subject)
	}
	switch {
	case rq.contentType != "":
		r.Header.Set("Content-Type", rq.contentType)
	case rq.body != "":
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// mustDo performs rq and fails the test unless it gets status want.
func (rq req) mustDo(t *testing.T, h http.Handler, want int) *httptest.ResponseRecorder {
	t.Helper()
	w := rq.do(t, h)
	if w.Code != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", rq.method, rq.target, w.Code, want, w.Body)
	}
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var v T
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding response: %v", err)
	}
	return v
}

// checkError checks for a JSON error response with the given status and,
// if msg is not empty, a message containing msg.
func checkError(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	got := decode[errorBody](t, w)
	if got.Error == "" || !strings.Contains(got.Error, msg) {
		t.Errorf("error = %q, want it to contain %q", got.Error, msg)
	}
}

func createReq(subject, title string) req {
	return req{method: "POST", target: "/todos", subject: subject, body: `{"title":"` + title + `"}`}
}

func TestTodosRequireSubject(t *testing.T) {
	tests := []struct {
		name string
		req  req
	}{
		{"list", req{method: "GET", target: "/todos"}},
		{"create", req{method: "POST", target: "/todos", body: `{"title":"x"}`}},
		{"get", req{method: "GET", target: "/todos/1"}},
		{"patch", req{method: "PATCH", target: "/todos/1", body: `{"done":true}`}},
		{"delete", req{method: "DELETE", target: "/todos/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp()
			createReq("alice", "x").mustDo(t, a, http.StatusCreated)
			w := tt.req.do(t, a)
			checkError(t, w, http.StatusUnauthorized, "no authenticated subject (X-Auth-Subject missing)")
		})
	}
}

func TestCreateTodo(t *testing.T) {
	title200 := strings.Repeat("é", 200) // 200 characters, 400 bytes
	tests := []struct {
		name       string
		req        req
		wantStatus int
		wantTitle  string // for 201
		wantErr    string // for errors
	}{
		{"ok", createReq("alice", "buy milk"), 201, "buy milk", ""},
		{"title trimmed", createReq("alice", `  buy milk \t`), 201, "buy milk", ""},
		{"title 200 chars", createReq("alice", title200), 201, title200, ""},
		{"content type with charset", req{method: "POST", target: "/todos", subject: "alice",
			contentType: "application/json; charset=utf-8", body: `{"title":"x"}`}, 201, "x", ""},
		{"title too long", createReq("alice", title200+"x"), 400, "", "at most 200 characters"},
		{"title empty", createReq("alice", ""), 400, "", "title is required"},
		{"title blank", createReq("alice", "   "), 400, "", "title is required"},
		{"title missing", req{method: "POST", target: "/todos", subject: "alice", body: `{}`}, 400, "", "title is required"},
		{"null body", req{method: "POST", target: "/todos", subject: "alice", body: `null`}, 400, "", "title is required"},
		{"empty body", req{method: "POST", target: "/todos", subject: "alice", contentType: "application/json"}, 400, "", "empty"},
		{"bad JSON", req{method: "POST", target: "/todos", subject: "alice", body: `{"title":`}, 400, "", "invalid JSON"},
		{"not an object", req{method: "POST", target: "/todos", subject: "alice", body: `["x"]`}, 400, "", "invalid JSON"},
		{"wrong type", req{method: "POST", target: "/todos", subject: "alice", body: `{"title":1}`}, 400, "", "invalid JSON"},
		{"unknown field", req{method: "POST", target: "/todos", subject: "alice", body: `{"title":"x","done":true}`}, 400, "", "invalid JSON"},
		{"trailing data", req{method: "POST", target: "/todos", subject: "alice", body: `{"title":"x"}{}`}, 400, "", "unexpected data"},
		{"too large", req{method: "POST", target: "/todos", subject: "alice",
			body: `{"title":"` + strings.Repeat("a", maxBodyBytes) + `"}`}, 413, "", "too large"},
		{"too large after value", req{method: "POST", target: "/todos", subject: "alice",
			body: `{"title":"x"}` + strings.Repeat(" ", maxBodyBytes)}, 413, "", "too large"},
		{"text content type", req{method: "POST", target: "/todos", subject: "alice",
			contentType: "text/plain", body: `{"title":"x"}`}, 415, "", "application/json"},
		{"form content type", req{method: "POST", target: "/todos", subject: "alice",
			contentType: "application/x-www-form-urlencoded", body: `title=x`}, 415, "", "application/json"},
		{"no content type", req{method: "POST", target: "/todos", subject: "alice"}, 415, "", "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp()
			w := tt.req.do(t, a)
			if tt.wantStatus != http.StatusCreated {
				checkError(t, w, tt.wantStatus, tt.wantErr)
				if got := a.store.list("alice"); len(got) != 0 {
					t.Errorf("store has %v after failed create", got)
				}
				return
			}
			if w.Code != http.StatusCreated {
				t.Fatalf("status %d, want 201; body %s", w.Code, w.Body)
			}
			if loc := w.Header().Get("Location"); loc != "/todos/1" {
				t.Errorf("Location = %q, want /todos/1", loc)
			}
			if got, want := decode[todo](t, w), (todo{ID: 1, Title: tt.wantTitle}); got != want {
				t.Errorf("created %+v, want %+v", got, want)
			}
		})
	}
}

func TestListTodos(t *testing.T) {
	t.Run("empty list is [] not null", func(t *testing.T) {
		w := req{method: "GET", target: "/todos", subject: "alice"}.mustDo(t, newApp(), http.StatusOK)
		if got, want := strings.TrimSpace(w.Body.String()), `{"subject":"alice","todos":[]}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	})
	t.Run("own todos in creation order", func(t *testing.T) {
		a := newApp()
		createReq("alice", "one").mustDo(t, a, http.StatusCreated)
		createReq("bob", "bob's").mustDo(t, a, http.StatusCreated)
		createReq("alice", "two").mustDo(t, a, http.StatusCreated)
		req{method: "PATCH", target: "/todos/1", subject: "alice", body: `{"done":true}`}.mustDo(t, a, http.StatusOK)
		createReq("alice", "three").mustDo(t, a, http.StatusCreated)

		got := decode[listResponse](t, req{method: "GET", target: "/todos", subject: "alice"}.mustDo(t, a, http.StatusOK))
		want := listResponse{Subject: "alice", Todos: []todo{
			{ID: 1, Title: "one", Done: true}, {ID: 3, Title: "two"}, {ID: 4, Title: "three"},
		}}
		if got.Subject != want.Subject || !slices.Equal(got.Todos, want.Todos) {
			t.Errorf("list = %+v, want %+v", got, want)
		}
	})
}
