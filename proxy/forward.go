package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate/proxy/respond"
	"github.com/authgate/authgate/proxy/route"
)

// newReverseProxy returns the reverse proxy of one route. Its Rewrite runs
// after httputil.ReverseProxy removed hop-by-hop headers (including any a
// client named in Connection) and X-Forwarded-*, so nothing a client sends
// can remove or replace the identity headers set here.
func (rt *runtime) newReverseProxy(rr *gatewayRoute, tr http.RoundTripper, logger *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			fw, _ := pr.In.Context().Value(forwardingKey{}).(*forwarding)
			out := pr.Out
			rt.strip.Strip(out.Header)
			if !rr.forwardAuthz {
				delete(out.Header, "Authorization")
			}

			p := fw.path
			if rr.stripPrefix != "" {
				p = route.StripPrefix(p, rr.stripPrefix)
			}
			out.URL.Scheme = rr.upstream.Scheme
			out.URL.Host = rr.upstream.Host
			out.URL.Path = joinPath(rr.upstream.Path, p)
			out.URL.RawPath = ""
			if rr.preserveHost {
				out.Host = pr.In.Host
			} else {
				out.Host = ""
			}

			trusted := rt.isTrusted(pr.In.RemoteAddr)
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

			for _, h := range fw.headers {
				out.Header[h.name] = []string{h.value}
			}
			fw.sent = time.Now()
		},
		ModifyResponse: func(resp *http.Response) error {
			if fw, ok := resp.Request.Context().Value(forwardingKey{}).(*forwarding); ok {
				rt.metrics.Upstream(rr.name, time.Since(fw.sent), "")
			}
			return nil
		},
		Transport: tr,
		ErrorLog:  slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status, msg, reason := http.StatusBadGateway, "upstream unavailable", "upstream_error"
			if isTimeout(err) {
				status, msg, reason = http.StatusGatewayTimeout, "upstream timed out", "upstream_timeout"
			}
			if rec, ok := w.(*accessRecord); ok {
				rec.reason = reason
			}
			if fw, ok := r.Context().Value(forwardingKey{}).(*forwarding); ok && !fw.sent.IsZero() {
				kind := "error"
				if status == http.StatusGatewayTimeout {
					kind = "timeout"
				}
				rt.metrics.Upstream(rr.name, time.Since(fw.sent), kind)
			}
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				// The client went away; nobody reads this answer.
				logger.Debug("client canceled request", "route", rr.name)
			} else {
				logger.Warn("upstream error", "route", rr.name, "status", status, "error", err)
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

// transports hands out one pooled upstream transport per distinct response
// header timeout, so routes with the same timeout share connections.
type transports struct {
	mu    sync.Mutex
	byTTL map[time.Duration]*http.Transport
}

func newTransports() *transports {
	return &transports{byTTL: make(map[time.Duration]*http.Transport)}
}

func (t *transports) forTimeout(d time.Duration) *http.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.byTTL[d]; ok {
		return tr
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		// Proxy is deliberately nil: HTTP_PROXY from the environment must
		// not silently reroute authenticated traffic.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: d,
	}
	t.byTTL[d] = tr
	return tr
}

func (t *transports) closeIdle() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.byTTL {
		tr.CloseIdleConnections()
	}
}
