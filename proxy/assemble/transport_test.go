package assemble

import (
	"testing"
	"time"
)

// TestTransportPerSettings: routes share a pooled transport only when
// their timeout and idle connection bound are the same, and the transport
// keeps the bound per upstream host.
func TestTransportPerSettings(t *testing.T) {
	r := &Resources{transports: map[transportSettings]*transport{}}
	a, releaseA := r.transport(transportSettings{timeout: 30 * time.Second, maxIdleConnsPerHost: 256})
	b, releaseB := r.transport(transportSettings{timeout: 30 * time.Second, maxIdleConnsPerHost: 256})
	c, releaseC := r.transport(transportSettings{timeout: 30 * time.Second, maxIdleConnsPerHost: 1000})
	if a != b {
		t.Error("same settings: different transports")
	}
	if a == c {
		t.Error("different idle connection bounds: one transport")
	}
	if a.MaxIdleConnsPerHost != 256 || a.MaxIdleConns < 256 {
		t.Errorf("MaxIdleConnsPerHost %d, MaxIdleConns %d; want 256, at least 256", a.MaxIdleConnsPerHost, a.MaxIdleConns)
	}
	if c.MaxIdleConnsPerHost != 1000 || c.MaxIdleConns < 1000 {
		t.Errorf("MaxIdleConnsPerHost %d, MaxIdleConns %d; want 1000, at least 1000", c.MaxIdleConnsPerHost, c.MaxIdleConns)
	}
	if a.ResponseHeaderTimeout != 30*time.Second {
		t.Errorf("ResponseHeaderTimeout %v; want 30s", a.ResponseHeaderTimeout)
	}
	releaseA()
	releaseB()
	releaseC()
	if len(r.transports) != 0 {
		t.Errorf("%d transports left after every release; want 0", len(r.transports))
	}
}
