package proxy

import (
	"net/http"

	"github.com/authgate/authgate/proxy/crossorigin"
)

// CORS on the request path. A route with a policy (Route.CORS) gets:
//
//   - preflights answered by authgate: 204, with the policy's headers when
//     the origin, method and headers are allowed and without them
//     otherwise, never authenticated and never forwarded;
//   - on every answer to an actual request, authgate's own 401, 403 and
//     5xx included, the policy's Access-Control-Allow-Origin (and Vary,
//     credentials, exposed headers), set in admit before anything is
//     written;
//   - the upstream's own Access-Control-* headers dropped (forward.go).
//
// A preflight belongs to the route that would serve the request it
// announces: the route table is asked with the method of
// Access-Control-Request-Method, so a route limited to GET and POST still
// answers the preflights of its requests. When that route has no policy,
// the preflight is a request like any other, as it is without CORS.

// preflight answers the CORS preflight r when the route that would serve
// the request it announces has a policy, and reports whether it did.
func (s *Snapshot) preflight(w http.ResponseWriter, r *http.Request, ex *exchange) bool {
	if !crossorigin.IsPreflight(r.Method, r.Header) {
		return false
	}
	rr := s.preflightRoute(r.Header, r.Host, ex.path)
	if rr == nil {
		return false
	}
	ex.route = rr.Name
	rr.CORS.Preflight(w, r.Header)
	w.WriteHeader(http.StatusNoContent)
	return true
}

// preflightRoute returns the route that would serve the request a
// preflight with headers h announces, for host and canonical path p, when
// that route has a CORS policy; otherwise nil.
func (s *Snapshot) preflightRoute(h http.Header, host, p string) *gatewayRoute {
	i := s.table.Match(host, crossorigin.RequestedMethod(h), p)
	if i < 0 || s.routes[i].CORS == nil {
		return nil
	}
	return s.routes[i]
}

// decidePreflight allows, as a decision endpoint, the original request o
// when it is a CORS preflight to a route with a policy, and reports
// whether it did. The answer is an anonymous allow (every identity header
// present and empty) with the policy's preflight headers: the peer then
// passes the preflight on, and the upstream answers it; a peer that copies
// headers of the decision answer onto its own answer can use authgate's.
// (A decision answer cannot be the preflight's answer: a 2xx lets the
// request through, and a browser refuses any other status.)
func (s *Snapshot) decidePreflight(w http.ResponseWriter, h http.Header, o original, ex *exchange) bool {
	if !s.cors || !crossorigin.IsPreflight(o.method, h) {
		return false
	}
	rr := s.preflightRoute(h, o.host, ex.path)
	if rr == nil {
		return false
	}
	rr.CORS.Preflight(w, h)
	return true
}

// accountsCORS applies the account endpoints' CORS policy to r: it answers
// a preflight (and reports true), or sets the headers of an actual
// request's answer before the endpoint writes it.
func (s *Snapshot) accountsCORS(w http.ResponseWriter, r *http.Request) bool {
	if crossorigin.IsPreflight(r.Method, r.Header) {
		s.AccountsCORS.Preflight(w, r.Header)
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	s.AccountsCORS.Actual(w, r.Method, r.Header)
	return false
}
