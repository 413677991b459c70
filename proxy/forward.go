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
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				// The client went away; nobody reads this answer.
				logger.Debug("client canceled request", "route", rr.Name)
			} else {
				logger.Warn("upstream error", "route", rr.Name, "status", status, "error", err)
			}
			respond.Error(w, status, msg)
		},
	}
}

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
