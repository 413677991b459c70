// Package clientip decides which peers are trusted proxies and which address
// a request came from.
//
// A request's peer is the address that opened the connection. When the peer
// is a trusted proxy, the client is further back: proxies append the address
// they received a request from to X-Forwarded-For, so the header is read
// from the right, skipping trusted proxies, and the first address that is
// not trusted is the client. Everything left of it was written by that
// client and may be forged, so it is never used.
package clientip

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ErrInvalid is wrapped by the errors of ParsePrefix and ParseTrusted.
var ErrInvalid = errors.New("not an IP address or CIDR")

// ParsePrefix parses a trusted proxy written as an IP address ("10.0.0.1",
// "::1", "::ffff:10.0.0.1") or a CIDR ("10.0.0.0/8"). An address becomes a
// single-address prefix, and an IPv4-mapped IPv6 address or CIDR its IPv4
// form; a CIDR has its host bits cleared ("10.0.0.1/8" is 10.0.0.0/8). Errors wrap
// ErrInvalid.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if p.Addr().Is4In6() {
			// Addresses are unmapped before they are compared, so a
			// v4-mapped CIDR is kept as its IPv4 form; one wider than the
			// mapped range would never match what it seems to say.
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("%w: %s reaches beyond IPv4-mapped addresses", ErrInvalid, s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Trusted is a list of trusted proxies. The zero value trusts nobody.
type Trusted []netip.Prefix

// ParseTrusted parses each entry of list with ParsePrefix. An error names
// the index of the first entry that does not parse and wraps ErrInvalid.
func ParseTrusted(list []string) (Trusted, error) {
	if len(list) == 0 {
		return nil, nil
	}
	t := make(Trusted, 0, len(list))
	for i, s := range list {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %d: %w", i, err)
		}
		t = append(t, p)
	}
	return t, nil
}

// Contains reports whether a, IPv4-mapped or not, is a trusted proxy.
func (t Trusted) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer reports whether remoteAddr, an "ip:port" as in
// http.Request.RemoteAddr, is a trusted proxy. Anything else is not.
func (t Trusted) Peer(remoteAddr string) bool {
	if len(t) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	return t.Contains(ap.Addr())
}

// ClientIP returns the address r came from: its peer or, when the peer is a
// trusted proxy, the nearest address in X-Forwarded-For (all its lines
// joined, read right to left) that is not. If the walk meets an entry that
// is not an IP address, or runs out of entries, the last trusted address
// seen is returned. A RemoteAddr that is not "ip:port" is returned as is.
func (t Trusted) ClientIP(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !t.Contains(addr) {
		if peer.Addr().Is4() {
			// The host part of RemoteAddr as it stands: a parsed IPv4
			// address has one spelling, and slicing does not allocate.
			return r.RemoteAddr[:strings.LastIndexByte(r.RemoteAddr, ':')]
		}
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !t.Contains(a) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}
