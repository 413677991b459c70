package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/authgate/authgate/proxy/headers"
	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/route"
)

// newReverseProxy returns the reverse proxy of one route. Its Rewrite runs
// after httputil.ReverseProxy removed hop-by-hop headers (including any a
// client named in Connection) and X-Forwarded-*, so nothing a client sends
// can remove or replace the identity headers set here.
func (s *Snapshot) newReverseProxy(rr *gatewayRoute) *httputil.ReverseProxy {
	logger := s.Logger
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			ex := exchangeOf(pr.In)
			out := pr.Out
			s.strip.Strip(out.Header)
			// Authorization goes upstream only when the route asks for it
			// and, on a route that authenticates, only as the bearer token
			// authgate verified: another scheme ("Basic ...") on an
			// anonymous request would otherwise reach the upstream as an
			// identity authgate never checked.
			if !rr.ForwardAuthorization || (rr.Auth != AuthNone && ex.id == nil) {
				delete(out.Header, "Authorization")
			}

			p := ex.path
			if rr.StripPrefix != "" {
				p = route.StripPrefix(p, rr.StripPrefix)
			}
			out.URL.Scheme = rr.Upstream.Scheme
			out.URL.Host = rr.Upstream.Host
			out.URL.Path = joinPath(rr.Upstream.Path, p)
			out.URL.RawPath = ""
			if rr.PreserveHost {
				out.Host = pr.In.Host
			} else {
				out.Host = ""
			}

			trusted := s.TrustedProxies.Peer(pr.In.RemoteAddr)
			if !trusted {
				originalHeaders.Strip(out.Header)
			}
			stripH2CUpgrade(out.Header)
			if prior, ok := pr.In.Header["X-Forwarded-For"]; ok && trusted {
				out.Header["X-Forwarded-For"] = append([]string(nil), prior...)
			}
			pr.SetXForwarded()
			if trusted {
				for _, h := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
					if v := pr.In.Header.Get(h); v != "" {
						out.Header.Set(h, v)
					}
				}
			}

			// Ours in every case, in every spelling: the client address as
			// X-Forwarded-For names it, and the request id the client got.
			ownHeaders.Strip(out.Header)
			// (Header.Set without allocating: the values live in ex.)
			ex.realIPUp[0] = s.TrustedProxies.ClientIP(pr.In)
			out.Header["X-Real-Ip"] = ex.realIPUp[:]
			if ex.requestID != "" {
				ex.requestIDUp[0] = ex.requestID
				out.Header["X-Request-Id"] = ex.requestIDUp[:]
			}

			for i := range ex.headers {
				h := &ex.headers[i]
				out.Header[h.name] = h.value[:]
			}
			ex.sent = time.Now()
		},
		ModifyResponse: func(resp *http.Response) error {
			s.Metrics.Upstream(rr.Name, time.Since(exchangeOf(resp.Request).sent), "")
			return nil
		},
		Transport: rr.Transport,
		ErrorLog:  slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			ex := exchangeOf(r)
			if ex.bodyTimedOut.Load() {
				// The client stalled sending the body: the upstream
				// request was cut, and the connection is not reused.
				// (The server also canceled the request's context on the
				// read error: this is checked first.)
				ex.reason = respond.ReasonBodyTimeout
				logger.Debug("request body timed out", "route", rr.Name)
				w.Header().Set("Connection", "close")
				respond.Error(w, http.StatusRequestTimeout, "request body timed out")
				return
			}
			if errors.Is(r.Context().Err(), context.Canceled) {
				// The client went away before the upstream answered: its
				// doing, not the upstream's. Nobody reads this answer; it
				// is recorded as 499 (nginx's "client closed request"),
				// which is no 5xx, and as no upstream error.
				ex.reason = respond.ReasonClientClosed
				logger.Debug("client closed request", "route", rr.Name)
				w.WriteHeader(statusClientClosed)
				return
			}
			status, msg, reason := http.StatusBadGateway, "upstream unavailable", respond.ReasonUpstreamError
			if isTimeout(err) {
				status, msg, reason = http.StatusGatewayTimeout, "upstream timed out", respond.ReasonUpstreamTimeout
			}
			ex.reason = reason
			if !ex.sent.IsZero() {
				kind := "error"
				if status == http.StatusGatewayTimeout {
					kind = "timeout"
				}
				s.Metrics.Upstream(rr.Name, time.Since(ex.sent), kind)
			}
			logger.Warn("upstream error", "route", rr.Name, "status", status, "error", err)
			respond.Error(w, status, msg)
		},
		BufferPool: copyBuffers,
	}
}

// originalHeaders tell an upstream which request or client it serves. A
// framework that believes them lets the client choose the path behind
// access control (X-Original-URL, X-Rewrite-URL), the method
// (X-HTTP-Method-Override) or the address an allow-list sees, so they are
// kept only from trusted proxies and stripped, in every spelling, from
// everyone else. X-Forwarded-For, -Host and -Proto are rebuilt after the
// strip (SetXForwarded, and a trusted proxy's chain kept).
var originalHeaders = headers.NewSet(
	"Forwarded",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
	"X-Forwarded-Prefix", "X-Forwarded-Port", "X-Forwarded-Server",
	"X-Forwarded-Scheme", "X-Forwarded-Ssl", "X-Scheme",
	"X-Forwarded-Method", "X-Forwarded-Uri",
	"X-Original-URL", "X-Original-URI", "X-Original-Method", "X-Original-Host",
	"X-Rewrite-URL", "X-Host",
	"X-Real-IP", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP", "X-Cluster-Client-IP",
	"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
	"X-Request-Id",
)

// ownHeaders are set by authgate on every forwarded request; every client
// spelling of them is removed first, trusted peer or not.
var ownHeaders = headers.NewSet("X-Real-IP", "X-Request-Id")

// h2cSettings is the HTTP2-Settings header of an h2c upgrade (RFC 7540
// §3.2.1), in every spelling.
var h2cSettings = headers.NewSet("HTTP2-Settings")

// stripH2CUpgrade removes an h2c upgrade: authgate never lets a client
// switch its connection to an upstream to cleartext HTTP/2, where requests
// would pass without authgate seeing them (h2c smuggling). Other upgrades
// (WebSocket) pass.
func stripH2CUpgrade(h http.Header) {
	h2cSettings.Strip(h)
	for _, v := range h.Values("Upgrade") {
		for _, proto := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(proto), "h2c") {
				h.Del("Upgrade")
				h.Del("Connection")
				return
			}
		}
	}
}

// statusClientClosed is the status logged and counted for a request
// whose client disconnected before the answer: nginx's 499. It is never
// sent (nobody is there to read it), and is a 4xx in metrics.
const statusClientClosed = 499

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// joinPath appends the request path to the upstream's base path.
func joinPath(base, p string) string {
	if base == "" || base == "/" {
		return p
	}
	return strings.TrimSuffix(base, "/") + p
}
