// Package clientip tells which peers are trusted proxies and, behind them,
// which address a request really came from.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParsePrefix parses an IP address or CIDR. A bare address becomes the
// prefix of that one address; an IPv4-mapped IPv6 address is unmapped.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Trusted is a set of trusted proxies.
type Trusted []netip.Prefix

// ParseTrusted parses each of list with ParsePrefix.
func ParseTrusted(list []string) (Trusted, error) {
	t := make(Trusted, 0, len(list))
	for i, s := range list {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		t = append(t, p)
	}
	return t, nil
}

// Contains reports whether a is a trusted proxy.
func (t Trusted) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer reports whether the peer at remoteAddr ("ip:port") is trusted.
func (t Trusted) Peer(remoteAddr string) bool {
	if len(t) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	return err == nil && t.Contains(ap.Addr())
}

// ClientIP is the address r came from: the peer, or, when the peer is
// trusted, the nearest address in X-Forwarded-For that is not.
func (t Trusted) ClientIP(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !t.Contains(addr) {
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
