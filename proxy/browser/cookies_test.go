package browser

import (
	"net/http"
	"reflect"
	"testing"
)

func TestStripCookies(t *testing.T) {
	for _, c := range []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{"none of ours", http.Header{"Cookie": {"a=1; b=2"}}, http.Header{"Cookie": {"a=1; b=2"}}},
		{"ours between others", http.Header{"Cookie": {"a=1; __Host-authgate-session=x; b=2"}}, http.Header{"Cookie": {"a=1; b=2"}}},
		{"every one of ours", http.Header{"Cookie": {"__Host-authgate-session=x;__Secure-authgate-refresh=y; __Host-authgate-csrf=z"}}, http.Header{}},
		{"any case", http.Header{"Cookie": {"__HOST-AUTHGATE-SESSION=x; __secure-authgate-session=y; a=1"}}, http.Header{"Cookie": {"a=1"}}},
		{"several lines", http.Header{"Cookie": {"__Host-authgate-session=x", "a=1", " __Secure-authgate-csrf-token=z ; b=2"}}, http.Header{"Cookie": {"a=1", "b=2"}}},
		{"a non-canonical header name", http.Header{"cookie": {"__Host-authgate-session=x; a=1"}}, http.Header{"cookie": {"a=1"}}},
		{"look-alikes are the app's", http.Header{"Cookie": {"authgate-session=x; __Host-authgatex=y"}}, http.Header{"Cookie": {"authgate-session=x; __Host-authgatex=y"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			StripCookies(c.in)
			if !reflect.DeepEqual(c.in, c.want) {
				t.Errorf("got %q, want %q", c.in, c.want)
			}
		})
	}
}

func TestNavigation(t *testing.T) {
	for _, c := range []struct {
		method string
		h      http.Header
		want   bool
	}{
		{"GET", http.Header{"Sec-Fetch-Mode": {"navigate"}}, true},
		{"GET", http.Header{"Sec-Fetch-Mode": {"cors"}, "Accept": {"text/html"}}, false},
		{"GET", http.Header{"Accept": {"text/html,application/xhtml+xml"}}, true},
		{"HEAD", http.Header{"Accept": {"TEXT/HTML"}}, true},
		{"GET", http.Header{"Accept": {"application/json"}}, false},
		{"GET", http.Header{}, false},
		{"POST", http.Header{"Sec-Fetch-Mode": {"navigate"}}, false},
	} {
		if got := Navigation(c.method, c.h); got != c.want {
			t.Errorf("Navigation(%s, %v) = %v, want %v", c.method, c.h, got, c.want)
		}
	}
}
