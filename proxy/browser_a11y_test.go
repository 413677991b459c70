package proxy_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// a11yPage is what TestBrowserPagesAccessible reads of a rendered page.
type a11yPage struct {
	lang, title string
	labels      map[string]string // label text by the id it is for
	ids         map[string]string // text of every element with an id
	alerts      []string          // ids of role=alert elements
	inputs      []*html.Node      // visible inputs
	buttons     []string          // button texts
	focus       []string          // ids of autofocus elements
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func parseA11y(t *testing.T, body string) *a11yPage {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	p := &a11yPage{labels: map[string]string{}, ids: map[string]string{}}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if id, ok := attr(n, "id"); ok {
			p.ids[id] = text(n)
		}
		if role, _ := attr(n, "role"); role == "alert" {
			id, _ := attr(n, "id")
			p.alerts = append(p.alerts, id)
		}
		if _, ok := attr(n, "autofocus"); ok {
			id, _ := attr(n, "id")
			p.focus = append(p.focus, id)
		}
		switch n.Data {
		case "html":
			p.lang, _ = attr(n, "lang")
		case "title":
			p.title = text(n)
		case "label":
			if f, ok := attr(n, "for"); ok {
				p.labels[f] = text(n)
			}
		case "input":
			if typ, _ := attr(n, "type"); typ != "hidden" {
				p.inputs = append(p.inputs, n)
			}
		case "button":
			p.buttons = append(p.buttons, text(n))
		}
	}
	return p
}

// TestBrowserPagesAccessible renders the sign-in, sign-up and sign-out
// pages, fresh and after each kind of failure, and checks what a screen
// reader and a keyboard user rely on: the page's language and title,
// every visible input labelled, buttons named, the error in a role=alert
// element that the fields it is about point to (aria-invalid,
// aria-describedby), and the focus on the field to fill or fix.
func TestBrowserPagesAccessible(t *testing.T) {
	up := newUpstream(t)
	g := newAccountsGateway(t, browserYAML, up.URL)
	j := signIn(t, g) // testuser exists
	csrf := j["__Host-authgate-csrf"]
	signup := func(username, email, pw, pw2 string) *http.Request {
		return browserRequest(j, "POST", "/auth/signup", url.Values{"username": {username}, "email": {email},
			"password": {pw}, "password2": {pw2}, "rd": {"/app"}, "csrf": {csrf}})
	}
	for _, tt := range []struct {
		name    string
		req     *http.Request
		status  int
		invalid []string // ids of the inputs the error is about
		focus   string
	}{
		{"sign-in page", browserRequest(jar{}, "GET", "/auth/signin?rd=%2Fapp", nil), 200, nil, "username"},
		{"failed sign-in", browserRequest(j, "POST", "/auth/signin", url.Values{"username": {"testuser"}, "password": {"wrong-password"},
			"rd": {"/app"}, "csrf": {csrf}}), 401, []string{"username", "password"}, "password"},
		{"sign-up page", browserRequest(jar{}, "GET", "/auth/signup", nil), 200, nil, "username"},
		{"sign-up, passwords differ", signup("newuser", "", "testpass123", "testpass124"), 400, []string{"password", "password2"}, "password"},
		{"sign-up, password too short", signup("newuser", "", "short", "short"), 400, []string{"password", "password2"}, "password"},
		{"sign-up, bad email", signup("newuser", "not-an-address", "testpass123", "testpass123"), 400, []string{"email"}, "email"},
		{"sign-up, bad username", signup("-", "", "testpass123", "testpass123"), 400, []string{"username"}, "username"},
		{"sign-up, username taken", signup("testuser", "", "testpass123", "testpass123"), 409, []string{"username"}, "username"},
		{"sign-out page", browserRequest(j, "GET", "/auth/signout", nil), 200, nil, ""},
		{"refused redirect", browserRequest(jar{}, "GET", "/auth/signin?rd=%2F%2Fevil.example", nil), 400, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(g, tt.req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			p := parseA11y(t, w.Body.String())
			if p.lang != "en" || p.title == "" {
				t.Errorf("lang %q, title %q", p.lang, p.title)
			}
			var invalid []string
			for _, in := range p.inputs {
				id, _ := attr(in, "id")
				if p.labels[id] == "" {
					t.Errorf("input %q has no label", id)
				}
				if v, _ := attr(in, "aria-invalid"); v == "true" {
					invalid = append(invalid, id)
					if d, _ := attr(in, "aria-describedby"); d == "" || !slices.Contains(p.alerts, d) {
						t.Errorf("invalid input %q: aria-describedby %q names no alert", id, d)
					}
				}
			}
			for _, b := range p.buttons {
				if b == "" {
					t.Error("a button has no text")
				}
			}
			if !slices.Equal(invalid, tt.invalid) {
				t.Errorf("invalid inputs %v, want %v", invalid, tt.invalid)
			}
			if tt.status >= 400 {
				if len(p.alerts) != 1 || p.ids[p.alerts[0]] == "" {
					t.Errorf("alerts %v: want one role=alert element with the error", p.alerts)
				}
				if !strings.HasPrefix(p.title, "Error: ") {
					t.Errorf("title %q does not say there is an error", p.title)
				}
			} else if len(p.alerts) != 0 {
				t.Errorf("alerts %v on a page without an error", p.alerts)
			}
			switch {
			case tt.focus == "" && len(p.focus) > 1:
				t.Errorf("autofocus on %v, want at most one", p.focus)
			case tt.focus != "" && !slices.Equal(p.focus, []string{tt.focus}):
				t.Errorf("autofocus on %v, want %s", p.focus, tt.focus)
			}
		})
	}
}
