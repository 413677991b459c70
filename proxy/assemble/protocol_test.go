package assemble_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestUpstreamProtocol: upstream_protocol picks the HTTP version spoken to
// the upstream: http2 reaches an h2c-only upstream (prior knowledge, as
// gRPC services expect), auto and http1 speak HTTP/1.1 in the clear, and
// none falls back to another version.
func TestUpstreamProtocol(t *testing.T) {
	upstream := func(h1, h2c bool) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprint(w, r.Proto)
		}))
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(h1)
		srv.Config.Protocols.SetUnencryptedHTTP2(h2c)
		srv.Start()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	h1Only, h2cOnly := upstream(true, false), upstream(false, true)
	tests := []struct {
		protocol, upstream string // protocol "" leaves the key out
		wantStatus         int
		wantProto          string
	}{
		{"", h1Only, http.StatusOK, "HTTP/1.1"},
		{"auto", h1Only, http.StatusOK, "HTTP/1.1"},
		{"http1", h1Only, http.StatusOK, "HTTP/1.1"},
		{"http2", h2cOnly, http.StatusOK, "HTTP/2.0"},
		{"http2", h1Only, http.StatusBadGateway, ""},
		{"http1", h2cOnly, http.StatusBadGateway, ""},
	}
	for _, tc := range tests {
		t.Run(tc.protocol+" to "+map[string]string{h1Only: "HTTP/1.1 only", h2cOnly: "h2c only"}[tc.upstream], func(t *testing.T) {
			key := ""
			if tc.protocol != "" {
				key = ", upstream_protocol: " + tc.protocol
			}
			l := start(t, `
routes:
  - {name: app, path: /, upstream: "`+tc.upstream+`", auth: none, timeout: 5s`+key+`}
`)
			w := httptest.NewRecorder()
			l.gw.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantProto != "" && w.Body.String() != tc.wantProto {
				t.Errorf("upstream saw %q, want %q", w.Body, tc.wantProto)
			}
		})
	}
}
