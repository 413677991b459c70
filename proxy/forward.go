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
			if !rr.ForwardAuthorization {
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

			for _, h := range ex.headers {
				out.Header[h.name] = []string{h.value}
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
