package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// foldName is a header name as upstream frameworks compare it.
func foldName(name string) string {
	return strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(name))
}

// spellings are the ways a client can write a header name that upstreams
// (CGI, PHP, WSGI) read as the same header.
func spellings(name string) []string {
	return []string{
		name,
		strings.ToLower(name),
		strings.ToUpper(name),
		strings.ReplaceAll(name, "-", "_"),
		strings.ReplaceAll(strings.ToLower(name), "-", "_"),
		strings.ReplaceAll(name, "-", "."),
	}
}

// TestOriginalRequestHeadersTrustedOnlyFromTrustedProxies: headers that
// tell an upstream which request or client it serves reach it, in any
// spelling, only from a trusted proxy. X-Real-IP and X-Request-Id are
// always authgate's own.
func TestOriginalRequestHeadersTrustedOnlyFromTrustedProxies(t *testing.T) {
	up := newUpstream(t)
	base := tokensYAML + `
routes:
  - {name: none, path: /none, upstream: "${UPSTREAM}", auth: none}
`
	untrusted := newGateway(t, base, up.URL)
	trusted := newGateway(t, "trusted_proxies: [192.0.2.0/24]\n"+base, up.URL)
	names := []string{
		"X-Original-URL", "X-Original-URI", "X-Rewrite-URL", "X-Forwarded-Prefix", "X-Forwarded-Port",
		"X-Forwarded-Server", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP", "X-Original-Method",
		"X-Forwarded-Method", "X-Forwarded-Uri", "X-HTTP-Method-Override", "X-HTTP-Method",
		"X-Method-Override", "X-Forwarded-Scheme", "X-Scheme", "X-Original-Host", "X-Host",
		"X-Cluster-Client-IP", "X-Forwarded-Ssl",
		// Rebuilt by authgate: only the canonical spelling is set.
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded",
		// Always authgate's own.
		"X-Real-IP", "X-Request-Id",
	}
	const forged = "/admin"
	for _, name := range names {
		for _, spelled := range spellings(name) {
			t.Run("untrusted/"+spelled, func(t *testing.T) {
				r := httptest.NewRequest("GET", "http://gateway.test/none", nil)
				r.RemoteAddr = "203.0.113.7:4444"
				r.Header[spelled] = []string{forged}
				if w := serve(untrusted, r); w.Code != 200 {
					t.Fatalf("status %d", w.Code)
				}
				for got, vals := range up.last(t).Header {
					if foldName(got) == foldName(name) && slicesContain(vals, forged) {
						t.Errorf("upstream got %s: %q from an untrusted client", got, vals)
					}
				}
				if got := up.last(t).Header.Get("X-Real-Ip"); got != "203.0.113.7" {
					t.Errorf("X-Real-IP = %q, want the peer", got)
				}
			})
		}
		t.Run("trusted/"+name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://gateway.test/none", nil)
			r.RemoteAddr = "192.0.2.1:4444"
			r.Header.Set(name, "/kept")
			serve(trusted, r)
			got := up.last(t).Header.Get(name)
			switch name {
			case "X-Real-IP":
				// Ours: the client the trusted proxy names, else the peer.
				if got != "192.0.2.1" {
					t.Errorf("X-Real-IP = %q, want 192.0.2.1", got)
				}
			case "X-Request-Id":
				if len(got) != 32 {
					t.Errorf("X-Request-Id = %q, want a generated id for a malformed one", got)
				}
			case "X-Forwarded-For":
				if got != "/kept, 192.0.2.1" {
					t.Errorf("X-Forwarded-For = %q", got)
				}
			case "Forwarded":
				// Rebuilt by nobody: httputil.ReverseProxy drops it and
				// authgate sends X-Forwarded-* instead.
				if got != "" {
					t.Errorf("Forwarded = %q, want none", got)
				}
			default:
				if got != "/kept" {
					t.Errorf("%s from a trusted proxy = %q, want it kept", name, got)
				}
			}
		})
	}
	// X-Real-IP is the client as X-Forwarded-For names it.
	for _, tt := range []struct {
		name string
		g    *Gateway
		want string
	}{{"untrusted", untrusted, "192.0.2.1"}, {"trusted", trusted, "198.51.100.4"}} {
		t.Run("X-Real-IP/"+tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/none", nil)
			r.RemoteAddr = "192.0.2.1:4444"
			r.Header.Set("X-Forwarded-For", "198.51.100.4")
			r.Header.Set("X-Real-IP", "10.0.0.1")
			r.Header["X_Real_IP"] = []string{"10.0.0.2"}
			serve(tt.g, r)
			var got []string
			for name, vals := range up.last(t).Header {
				if foldName(name) == "xrealip" {
					got = append(got, vals...)
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("X-Real-IP = %q, want only %q", got, tt.want)
			}
		})
	}
}

func slicesContain(vals []string, v string) bool {
	for _, x := range vals {
		if strings.Contains(x, v) {
			return true
		}
	}
	return false
}

// TestH2CUpgradeIsNeverForwarded: an h2c upgrade would turn the upstream
// connection into cleartext HTTP/2 that authgate no longer sees; its
// Upgrade and HTTP2-Settings never reach an upstream, whatever Connection
// says. (WebSocket: TestWebSocketUpgradePassesThrough.)
func TestH2CUpgradeIsNeverForwarded(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, modesYAML, up.URL)
	tests := []struct {
		name string
		h    http.Header
	}{
		{"plain", http.Header{"Upgrade": {"h2c"}, "Connection": {"Upgrade"}, "Http2-Settings": {"AAMAAABkAAQAAP__"}}},
		{"settings named in Connection", http.Header{"Upgrade": {"h2c"}, "Connection": {"Upgrade, HTTP2-Settings"}, "Http2-Settings": {"AAMAAABkAAQAAP__"}}},
		{"upper case", http.Header{"Upgrade": {"H2C"}, "Connection": {"upgrade"}, "Http2-Settings": {"AAMAAABkAAQAAP__"}}},
		{"among other protocols", http.Header{"Upgrade": {"websocket, h2c"}, "Connection": {"Upgrade"}}},
		{"without Connection", http.Header{"Upgrade": {"h2c"}, "Http2-Settings": {"AAMAAABkAAQAAP__"}}},
		{"settings alone", http.Header{"Http2-Settings": {"AAMAAABkAAQAAP__"}}},
		{"settings underscore", http.Header{"Http2_Settings": {"AAMAAABkAAQAAP__"}, "Upgrade": {"h2c"}, "Connection": {"Upgrade"}}},
	}
	for _, tt := range tests {
		for _, route := range []string{"/none", "/required"} {
			t.Run(tt.name+route, func(t *testing.T) {
				r := httptest.NewRequest("GET", route, nil)
				for k, v := range tt.h {
					r.Header[k] = v
				}
				r.Header.Set("Authorization", "Bearer "+mint(t, "alice", nil))
				if w := serve(g, r); w.Code != 200 {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				for name, vals := range up.last(t).Header {
					switch foldName(name) {
					case "http2settings":
						t.Errorf("upstream got %s: %q", name, vals)
					case "upgrade", "connection":
						for _, v := range vals {
							if strings.Contains(strings.ToLower(v), "h2c") || strings.EqualFold(v, "upgrade") {
								t.Errorf("upstream got %s: %q", name, vals)
							}
						}
					}
				}
			})
		}
	}
}
