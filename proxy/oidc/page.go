package oidc

import (
	"html/template"
	"net/http"
)

// refusalPage is the page of a refused or failed sign-in. It loads
// nothing and runs no script.
var refusalPage = template.Must(template.New("refused").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in refused</title></head>
<body><main><h1>Sign-in refused</h1><p role="alert">{{.Message}}</p>
<p><a href="{{.SignIn}}">Back to sign in</a></p></main></body></html>
`))

// refuse answers a failed sign-in with a page saying why, and counts it.
func (h *Handler) refuse(w http.ResponseWriter, status int, rp *remote, result, msg string) {
	h.count(w, rp.p.Name, result)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = refusalPage.Execute(w, struct{ Message, SignIn string }{msg, h.cfg.Prefix + "/signin"})
}

// OutcomeWriter is a ResponseWriter that keeps the outcome of the
// sign-in it answers, for its request's access-log line. The Handler tells
// the first writer implementing it, unwrapping writers with an Unwrap
// method (as http.ResponseController does).
type OutcomeWriter interface {
	SignInOutcome(provider, result string)
}

// Count records the result of a sign-in through provider, answered by w,
// for a Finisher reporting its own outcome ("success", "unavailable",
// ...): in the metrics and, through an OutcomeWriter, the access log.
func (h *Handler) Count(w http.ResponseWriter, provider, result string) { h.count(w, provider, result) }

func (h *Handler) count(w http.ResponseWriter, provider, result string) {
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.OIDCSignIn(provider, result)
	}
	for w != nil {
		if o, ok := w.(OutcomeWriter); ok {
			o.SignInOutcome(provider, result)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}
