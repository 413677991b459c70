package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/authgate/authgate/config"
)

// healthcheckCmd asks a running authgate's admin /readyz, for a container
// HEALTHCHECK in an image without a shell or curl: exit status 0 when it
// answers 200 within -timeout, 1 otherwise with the reason on standard
// error. The URL is -url, else admin_listen of -config (or
// $AUTHGATE_CONFIG), else the default admin_listen.
func healthcheckCmd(ctx context.Context, c *command, st streams, args []string) error {
	fs := c.flags()
	path := configFlag(fs, "config `file` whose admin_listen to ask")
	rawURL := fs.String("url", "", "the readiness `URL` to ask, instead of the config's admin_listen")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := c.parse(fs, args, st); err != nil {
		return err
	}
	if *timeout <= 0 || *timeout > time.Minute {
		return fmt.Errorf("%w: healthcheck: -timeout %s: want more than 0 and at most 1m", errUsage, *timeout)
	}
	target, insecure := *rawURL, false
	if target == "" {
		addr, useTLS := config.DefaultAdminListen, false
		if *path != "" {
			cfg, err := config.Load(*path)
			if err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			addr, useTLS = cfg.AdminListen, cfg.TLS != nil && cfg.TLS.Admin
		}
		scheme := "http"
		if useTLS {
			// The certificate names the public host, not the loopback
			// address asked here; the probe only reads a status.
			scheme, insecure = "https", true
		}
		target = scheme + "://" + dialAddr(addr) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%w: healthcheck: -url: %v", errUsage, err)
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:           nil,                                       // never through HTTP_PROXY: the server is local
			TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // loopback probe of our own admin listener
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s: %s", target, resp.Status, trimBody(body))
	}
	fmt.Fprintf(st.out, "ready: %s\n", target)
	return nil
}

// dialAddr is where to reach a listener bound to addr from the same host:
// an unspecified address (0.0.0.0, ::, or none) becomes loopback.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" {
		host = "127.0.0.1"
	} else if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.Is6() {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// trimBody is a response body fit for one line of an error.
func trimBody(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
