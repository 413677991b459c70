package clientip

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in      string
		want    string // the prefix, "" when an error is wanted
		wantErr error
	}{
		{"10.0.0.0/8", "10.0.0.0/8", nil},
		{"10.0.0.1", "10.0.0.1/32", nil},
		{"10.0.0.1/8", "10.0.0.0/8", nil},
		{"10.0.0.1/32", "10.0.0.1/32", nil},
		{"0.0.0.0/0", "0.0.0.0/0", nil},
		{"::1", "::1/128", nil},
		{"2001:db8::/32", "2001:db8::/32", nil},
		{"2001:db8::1/32", "2001:db8::/32", nil},
		{"::ffff:10.0.0.1", "10.0.0.1/32", nil},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", nil},
		{"::ffff:10.0.0.1/128", "10.0.0.1/32", nil},
		{"::ffff:0.0.0.0/80", "", ErrInvalid},
		{"fe80::1%eth0", "fe80::1/128", nil},
		{"10.0.0.0/33", "", ErrInvalid},
		{"::1/129", "", ErrInvalid},
		{"10.0.0.0/", "", ErrInvalid},
		{"10.0.0.0/-1", "", ErrInvalid},
		{"10.0.0", "", ErrInvalid},
		{"10.0.0.256", "", ErrInvalid},
		{"garbage", "", ErrInvalid},
		{"", "", ErrInvalid},
		{" 10.0.0.1", "", ErrInvalid},
		{"10.0.0.1:80", "", ErrInvalid},
		{"[::1]", "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePrefix(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParsePrefix(%q) = %v, %v; want error %v", tt.in, p, err, tt.wantErr)
			}
			if err == nil && p.String() != tt.want {
				t.Errorf("ParsePrefix(%q) = %v, want %s", tt.in, p, tt.want)
			}
			if err != nil && p.IsValid() {
				t.Errorf("ParsePrefix(%q) returned %v with its error", tt.in, p)
			}
		})
	}
}

func TestParseTrusted(t *testing.T) {
	got, err := ParseTrusted([]string{"10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	want := Trusted{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ParseTrusted = %v, want %v", got, want)
	}
	if got, err := ParseTrusted(nil); got != nil || err != nil {
		t.Errorf("ParseTrusted(nil) = %v, %v", got, err)
	}
	_, err = ParseTrusted([]string{"10.0.0.0/8", "::1", "nope"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "2") {
		t.Errorf("ParseTrusted with a bad third entry: %v, want ErrInvalid naming index 2", err)
	}
}

func mustTrusted(t *testing.T, list ...string) Trusted {
	t.Helper()
	tr, err := ParseTrusted(list)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestContainsAndPeer(t *testing.T) {
	tr := mustTrusted(t, "10.0.0.0/8", "::1", "2001:db8::/32")
	tests := []struct {
		remote string
		want   bool
	}{
		{"10.1.2.3:1234", true},
		{"[::ffff:10.1.2.3]:1234", true},
		{"[::1]:1234", true},
		{"[2001:db8::7]:80", true},
		{"11.0.0.1:1234", false},
		{"[::2]:1234", false},
		{"10.1.2.3", false}, // no port: not a RemoteAddr
		{"", false},
		{"@", false},
		{"localhost:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			if got := tr.Peer(tt.remote); got != tt.want {
				t.Errorf("Peer(%q) = %v, want %v", tt.remote, got, tt.want)
			}
			if ap, err := netip.ParseAddrPort(tt.remote); err == nil {
				if got := tr.Contains(ap.Addr()); got != tt.want {
					t.Errorf("Contains(%v) = %v, want %v", ap.Addr(), got, tt.want)
				}
			}
		})
	}
	var none Trusted
	if none.Peer("10.1.2.3:1") || none.Contains(netip.MustParseAddr("10.1.2.3")) {
		t.Error("the zero Trusted trusts someone")
	}
}

func TestClientIP(t *testing.T) {
	tr := mustTrusted(t, "10.0.0.0/8", "::1")
	tests := []struct {
		name   string
		remote string
		xff    []string // header lines
		want   string
	}{
		{"untrusted peer", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer ignores XFF", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted v4-mapped peer", "[::ffff:203.0.113.9]:5000", nil, "203.0.113.9"},
		{"untrusted IPv6 peer", "[2001:db8::9]:5000", []string{"198.51.100.1"}, "2001:db8::9"},
		{"trusted peer, no XFF", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"trusted peer, one hop", "10.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted IPv6 peer", "[::1]:5000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"trusted v4-mapped peer", "[::ffff:10.0.0.1]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"v4-mapped client", "10.0.0.1:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"spoofed left entries are skipped", "10.0.0.1:5000", []string{"1.2.3.4, 5.6.7.8, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.1:5000", []string{"198.51.100.1, 10.0.0.3, 10.0.0.2"}, "198.51.100.1"},
		{"spoofed trusted address left of the client", "10.0.0.1:5000", []string{"10.9.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"several header lines are joined", "10.0.0.1:5000", []string{"1.2.3.4", "198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"only trusted hops", "10.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"garbage stops the walk", "10.0.0.1:5000", []string{"198.51.100.1, garbage, 10.0.0.2"}, "10.0.0.2"},
		{"garbage at the right", "10.0.0.1:5000", []string{"198.51.100.1, unknown"}, "10.0.0.1"},
		{"empty entry stops the walk", "10.0.0.1:5000", []string{"198.51.100.1,"}, "10.0.0.1"},
		{"port in XFF is not an address", "10.0.0.1:5000", []string{"198.51.100.1:443"}, "10.0.0.1"},
		{"spaces are trimmed", "10.0.0.1:5000", []string{"  198.51.100.1  "}, "198.51.100.1"},
		{"RemoteAddr without port", "10.0.0.1", []string{"198.51.100.1"}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tr.ClientIP(r); got != tt.want {
				t.Errorf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientIPTrustsNobodyByDefault(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := Trusted(nil).ClientIP(r); got != "10.0.0.1" {
		t.Errorf("ClientIP = %q, want the peer", got)
	}
}
