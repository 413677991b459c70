package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestHealthz(t *testing.T) {
	w := req{method: "GET", target: "/healthz"}.mustDo(t, newApp(), http.StatusOK)
	if got := decode[map[string]string](t, w); got["status"] != "ok" || len(got) != 1 {
		t.Errorf("body = %v, want {status: ok}", got)
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name   string
		target string
		header http.Header
		want   headersResponse
	}{
		{
			name:   "headers and query",
			target: "http://app.example:9000/headers?b=2&a=1",
			header: http.Header{
				"X-Auth-Subject": {"alice"},
				"x-custom":       {"one", "two"}, // sent non-canonical
			},
			want: headersResponse{
				Method: "GET", Path: "/headers", Query: "b=2&a=1", Host: "app.example:9000",
				Headers: http.Header{"X-Auth-Subject": {"alice"}, "X-Custom": {"one", "two"}},
			},
		},
		{
			name:   "no subject needed",
			target: "/headers",
			want:   headersResponse{Method: "GET", Path: "/headers", Host: "example.com", Headers: http.Header{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			for k, vs := range tt.header {
				for _, v := range vs {
					r.Header.Add(k, v) // Add canonicalises, like the server does
				}
			}
			w := httptest.NewRecorder()
			newApp().ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d; body %s", w.Code, w.Body)
			}
			if got := decode[headersResponse](t, w); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRoutingErrorsAreJSON(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantAllow  string
	}{
		{"unknown path", "GET", "/nope", 404, ""},
		{"root", "GET", "/", 404, ""},
		{"todos trailing slash", "GET", "/todos/", 404, ""},
		{"todo subpath", "GET", "/todos/1/extra", 404, ""},
		{"unknown path POST", "POST", "/nope", 404, ""},
		{"POST healthz", "POST", "/healthz", 405, "GET, HEAD"},
		{"DELETE headers", "DELETE", "/headers", 405, "GET, HEAD"},
		{"DELETE todos", "DELETE", "/todos", 405, "GET, HEAD, POST"},
		{"PUT todo", "PUT", "/todos/1", 405, "DELETE, GET, HEAD, PATCH"},
		{"POST todo", "POST", "/todos/1", 405, "DELETE, GET, HEAD, PATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := req{method: tt.method, target: tt.target, subject: "alice"}.do(t, newApp())
			want := "not found"
			if tt.wantStatus == http.StatusMethodNotAllowed {
				want = "method not allowed"
			}
			checkError(t, w, tt.wantStatus, want)
			if got := w.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestUncleanPathRedirects(t *testing.T) {
	w := req{method: "GET", target: "/nope/../healthz"}.do(t, newApp())
	if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != "/healthz" {
		t.Errorf("status %d Location %q, want 307 to /healthz", w.Code, w.Header().Get("Location"))
	}
}

func TestLogRequests(t *testing.T) {
	tests := []struct {
		name string
		req  req
		want []string
	}{
		{"created", createReq("alice", "x"),
			[]string{"msg=request", "method=POST", "path=/todos", "status=201", "subject=alice", "duration="}},
		{"unauthenticated", req{method: "GET", target: "/todos"},
			[]string{"method=GET", "path=/todos", "status=401", `subject=""`}},
		{"method not allowed", req{method: "PUT", target: "/healthz"},
			[]string{"method=PUT", "path=/healthz", "status=405"}},
		{"implicit 200", req{method: "GET", target: "/implicit"},
			[]string{"path=/implicit", "status=200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			mux := http.NewServeMux()
			mux.Handle("/", newApp())
			mux.HandleFunc("GET /implicit", func(http.ResponseWriter, *http.Request) {})
			h := logRequests(slog.New(slog.NewTextHandler(&buf, nil)), mux)
			tt.req.do(t, h)

			line := buf.String()
			if strings.Count(line, "\n") != 1 {
				t.Fatalf("want exactly one log line, got %q", line)
			}
			for _, want := range tt.want {
				if !strings.Contains(line, want) {
					t.Errorf("log line %q lacks %q", line, want)
				}
			}
		})
	}
}
