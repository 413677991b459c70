// Package crossorigin answers the Cross-Origin Resource Sharing (CORS)
// questions of one route: which pages of other origins a browser may let
// call it, with which methods and headers, and what they may read of the
// answer. The header logic is github.com/rs/cors's; this package builds
// one of its handlers per policy, once, and exposes the two things the
// request path does with it: answer a preflight, and put the CORS headers
// on the answer to an actual request, whatever that answer turns out to
// be (an upstream's, or authgate's own 401).
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is a
// browser asking for permission, never a request of the page: it carries
// no credentials, so a route with a policy answers it itself, without
// authentication, and never forwards it.
package crossorigin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rs/cors"
)

// ErrInvalid is wrapped by every error New and the Check functions return.
var ErrInvalid = errors.New("invalid CORS policy")

// Limits of a policy.
const (
	// MaxMaxAge bounds Options.MaxAge. Browsers cap it lower still
	// (Chromium at 2h, Firefox at 24h).
	MaxMaxAge = 24 * time.Hour
)

// Options is one CORS policy as configured.
type Options struct {
	// AllowedOrigins are the origins whose pages may call the route:
	// "scheme://host[:port]" as browsers send them, "scheme://*.domain"
	// for the subdomains of domain at any depth (not domain itself), or
	// "*" alone for every origin. At least one (see CheckOrigin).
	AllowedOrigins []string
	// AllowedMethods may be announced by a preflight. At least one.
	AllowedMethods []string
	// AllowedHeaders are the request headers a preflight may announce
	// (compared without regard to case); "*" allows any. At least one.
	AllowedHeaders []string
	// ExposedHeaders are the response headers a page may read beyond the
	// CORS-safelisted ones.
	ExposedHeaders []string
	// AllowCredentials lets pages send cookies (and read answers to
	// requests that carried them). It cannot be combined with the origin
	// "*".
	AllowCredentials bool
	// MaxAge is how long a browser may cache a preflight's answer, in
	// whole seconds, at most MaxMaxAge; 0 asks it not to cache.
	MaxAge time.Duration
}

// Policy is one compiled CORS policy. It is immutable and safe for
// concurrent use; build it once per configuration, never per request.
type Policy struct {
	// headers sets CORS response headers for the request it is given and
	// writes nothing else (rs/cors with OptionsPassthrough and a handler
	// that does nothing).
	headers http.Handler
	// cors answers whether an origin is allowed.
	cors *cors.Cors
	// credentials is Options.AllowCredentials.
	credentials bool
}

// New checks o and compiles it.
func New(o Options) (*Policy, error) {
	if err := check(o); err != nil {
		return nil, err
	}
	maxAge := int(o.MaxAge / time.Second)
	if maxAge == 0 {
		maxAge = -1 // rs/cors: send "Access-Control-Max-Age: 0"
	}
	c := cors.New(cors.Options{
		AllowedOrigins:     o.AllowedOrigins,
		AllowedMethods:     o.AllowedMethods,
		AllowedHeaders:     o.AllowedHeaders,
		ExposedHeaders:     o.ExposedHeaders,
		AllowCredentials:   o.AllowCredentials,
		MaxAge:             maxAge,
		OptionsPassthrough: true, // the caller writes the status
	})
	return &Policy{
		headers:     c.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})),
		cors:        c,
		credentials: o.AllowCredentials,
	}, nil
}

// check reports the first problem of o, or nil.
func check(o Options) error {
	if len(o.AllowedOrigins) == 0 {
		return fmt.Errorf("%w: allowed_origins: at least one origin is required", ErrInvalid)
	}
	for _, s := range o.AllowedOrigins {
		if err := CheckOrigin(s); err != nil {
			return err
		}
	}
	if err := CheckOrigins(o.AllowedOrigins, o.AllowCredentials); err != nil {
		return err
	}
	if len(o.AllowedMethods) == 0 {
		return fmt.Errorf("%w: allowed_methods: at least one method is required", ErrInvalid)
	}
	for _, m := range o.AllowedMethods {
		if err := CheckMethod(m); err != nil {
			return err
		}
	}
	if len(o.AllowedHeaders) == 0 {
		return fmt.Errorf("%w: allowed_headers: at least one header is required", ErrInvalid)
	}
	for _, h := range o.AllowedHeaders {
		if h == "*" {
			continue
		}
		if err := CheckHeader(h); err != nil {
			return err
		}
	}
	for _, h := range o.ExposedHeaders {
		if err := CheckHeader(h); err != nil {
			return err
		}
	}
	return CheckMaxAge(o.MaxAge)
}

// IsPreflight reports whether a request of method with headers h is a CORS
// preflight: OPTIONS with Origin and Access-Control-Request-Method.
func IsPreflight(method string, h http.Header) bool {
	return method == http.MethodOptions && len(h["Origin"]) > 0 && len(h["Access-Control-Request-Method"]) > 0
}

// RequestedMethod returns the method a preflight announces.
func RequestedMethod(h http.Header) string {
	return h.Get("Access-Control-Request-Method")
}

// Preflight sets on w the answer's headers to a preflight with headers h:
// Vary always, and Access-Control-Allow-Origin, -Methods, -Headers,
// -Credentials and -Max-Age when the origin, the method and every
// announced header are allowed. It writes no status: a preflight is
// answered with a 2xx whether or not it is allowed, and the browser reads
// the refusal from the missing headers.
func (p *Policy) Preflight(w http.ResponseWriter, h http.Header) {
	p.headers.ServeHTTP(w, &http.Request{Method: http.MethodOptions, Header: h})
}

// Actual sets on w the CORS headers of the answer to an actual (not
// preflight) request of method with headers h: Vary: Origin always, and
// Access-Control-Allow-Origin, -Credentials and -Expose-Headers when the
// origin and the method are allowed. Call it before the answer is
// written, whatever the answer will be, so that a page can read an error
// as well as a success.
func (p *Policy) Actual(w http.ResponseWriter, method string, h http.Header) {
	if IsPreflight(method, h) {
		// Not an actual request: rs/cors would answer it as a preflight.
		return
	}
	p.headers.ServeHTTP(w, &http.Request{Method: method, Header: h})
}

// AllowsCredentialsFrom reports whether the policy lets pages of the origin
// in h's Origin header send cookies: the policy allows credentials and
// that origin. A cookie-authenticated request from such a page is as
// intended as one from the request's own origin.
func (p *Policy) AllowsCredentialsFrom(h http.Header) bool {
	if !p.credentials {
		return false
	}
	o := h.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	return p.cors.OriginAllowed(&http.Request{Header: h})
}

// StripResponse removes every Access-Control-* header from an upstream's
// answer, so that the route's policy is the only one a browser sees: two
// Access-Control-Allow-Origin headers, or an upstream's laxer one, would
// either break the page or widen the policy. Vary is kept (and merged with
// the policy's).
func StripResponse(h http.Header) {
	for k := range h {
		if len(k) > len("Access-Control-") && strings.EqualFold(k[:len("Access-Control-")], "Access-Control-") {
			delete(h, k)
		}
	}
}
