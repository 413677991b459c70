package main

import (
	"net/http"
	"strings"
	"testing"
)

// seeded returns an app where alice owns todo 1 ("alice's") and bob owns
// todo 2 ("bob's").
func seeded(t *testing.T) *app {
	t.Helper()
	a := newApp()
	createReq("alice", "alice's").mustDo(t, a, http.StatusCreated)
	createReq("bob", "bob's").mustDo(t, a, http.StatusCreated)
	return a
}

func TestGetTodo(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		wantStatus int
		want       todo
	}{
		{"own todo", "/todos/1", 200, todo{ID: 1, Title: "alice's"}},
		{"other subject's todo", "/todos/2", 404, todo{}},
		{"unknown id", "/todos/99", 404, todo{}},
		{"zero id", "/todos/0", 404, todo{}},
		{"negative id", "/todos/-1", 404, todo{}},
		{"non-numeric id", "/todos/abc", 404, todo{}},
		{"id overflow", "/todos/99999999999999999999", 404, todo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := req{method: "GET", target: tt.target, subject: "alice"}.do(t, seeded(t))
			if tt.wantStatus != http.StatusOK {
				checkError(t, w, tt.wantStatus, "todo not found")
				return
			}
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if got := decode[todo](t, w); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPatchTodo(t *testing.T) {
	tests := []struct {
		name       string
		req        req
		wantStatus int
		want       todo   // for 200
		wantErr    string // for errors
	}{
		{"done", req{body: `{"done":true}`}, 200, todo{ID: 1, Title: "alice's", Done: true}, ""},
		{"title trimmed", req{body: `{"title":"  renamed  "}`}, 200, todo{ID: 1, Title: "renamed"}, ""},
		{"title and done", req{body: `{"title":"renamed","done":true}`}, 200, todo{ID: 1, Title: "renamed", Done: true}, ""},
		{"empty patch", req{body: `{}`}, 200, todo{ID: 1, Title: "alice's"}, ""},
		{"null fields", req{body: `{"title":null,"done":null}`}, 200, todo{ID: 1, Title: "alice's"}, ""},
		{"title empty", req{body: `{"title":""}`}, 400, todo{}, "title is required"},
		{"title too long", req{body: `{"title":"` + strings.Repeat("a", 201) + `"}`}, 400, todo{}, "at most 200"},
		{"done wrong type", req{body: `{"done":"yes"}`}, 400, todo{}, "invalid JSON"},
		{"unknown field", req{body: `{"id":5}`}, 400, todo{}, "invalid JSON"},
		{"bad JSON", req{body: `{`}, 400, todo{}, "invalid JSON"},
		{"too large", req{body: `{"title":"` + strings.Repeat("a", maxBodyBytes) + `"}`}, 413, todo{}, "too large"},
		{"wrong content type", req{contentType: "text/plain", body: `{"done":true}`}, 415, todo{}, "application/json"},
		{"unknown id", req{target: "/todos/99", body: `{"done":true}`}, 404, todo{}, "todo not found"},
		{"other subject's todo", req{target: "/todos/2", body: `{"done":true}`}, 404, todo{}, "todo not found"},
		{"non-numeric id", req{target: "/todos/x", body: `{"done":true}`}, 404, todo{}, "todo not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := seeded(t)
			rq := tt.req
			rq.method, rq.subject = "PATCH", "alice"
			if rq.target == "" {
				rq.target = "/todos/1"
			}
			w := rq.do(t, a)
			if tt.wantStatus != http.StatusOK {
				checkError(t, w, tt.wantStatus, tt.wantErr)
				// Nothing changed.
				if got, _ := a.store.get("alice", 1); got != (todo{ID: 1, Title: "alice's"}) {
					t.Errorf("alice's todo = %+v after failed patch", got)
				}
				if got, _ := a.store.get("bob", 2); got != (todo{ID: 2, Title: "bob's"}) {
					t.Errorf("bob's todo = %+v after failed patch", got)
				}
				return
			}
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", w.Code, w.Body)
			}
			if got := decode[todo](t, w); got != tt.want {
				t.Errorf("response %+v, want %+v", got, tt.want)
			}
			if got, _ := a.store.get("alice", 1); got != tt.want {
				t.Errorf("stored %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDeleteTodo(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		wantStatus int
	}{
		{"own todo", "/todos/1", 204},
		{"other subject's todo", "/todos/2", 404},
		{"unknown id", "/todos/99", 404},
		{"non-numeric id", "/todos/x", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := seeded(t)
			w := req{method: "DELETE", target: tt.target, subject: "alice"}.do(t, a)
			if tt.wantStatus != http.StatusNoContent {
				checkError(t, w, tt.wantStatus, "todo not found")
				if len(a.store.list("alice")) != 1 || len(a.store.list("bob")) != 1 {
					t.Error("a todo was deleted by a failed request")
				}
				return
			}
			if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
				t.Fatalf("status %d body %q, want 204 and no body", w.Code, w.Body)
			}
			// Gone: GET and a second DELETE are 404.
			checkError(t, req{method: "GET", target: tt.target, subject: "alice"}.do(t, a), 404, "todo not found")
			checkError(t, req{method: "DELETE", target: tt.target, subject: "alice"}.do(t, a), 404, "todo not found")
		})
	}
}

func TestSubjectIsolation(t *testing.T) {
	a := seeded(t)
	for _, subject := range []string{"alice", "bob"} {
		t.Run(subject, func(t *testing.T) {
			got := decode[listResponse](t, req{method: "GET", target: "/todos", subject: subject}.mustDo(t, a, http.StatusOK))
			if got.Subject != subject || len(got.Todos) != 1 || got.Todos[0].Title != subject+"'s" {
				t.Errorf("%s sees %+v", subject, got)
			}
		})
	}
	t.Run("carol sees nothing and touches nothing", func(t *testing.T) {
		got := decode[listResponse](t, req{method: "GET", target: "/todos", subject: "carol"}.mustDo(t, a, http.StatusOK))
		if len(got.Todos) != 0 {
			t.Errorf("carol sees %+v", got.Todos)
		}
		for _, rq := range []req{
			{method: "GET", target: "/todos/1"},
			{method: "PATCH", target: "/todos/1", body: `{"done":true}`},
			{method: "DELETE", target: "/todos/1"},
		} {
			rq.subject = "carol"
			checkError(t, rq.do(t, a), http.StatusNotFound, "todo not found")
		}
		if got, _ := a.store.get("alice", 1); got != (todo{ID: 1, Title: "alice's"}) {
			t.Errorf("alice's todo = %+v", got)
		}
	})
	t.Run("ids are store-wide", func(t *testing.T) {
		w := createReq("carol", "c").mustDo(t, a, http.StatusCreated)
		if got := decode[todo](t, w); got.ID != 3 {
			t.Errorf("carol's first todo has id %d, want 3", got.ID)
		}
	})
}
