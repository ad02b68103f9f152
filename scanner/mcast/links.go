// Package mcast holds what the multicast discovery sources (scanner/dnssd,
// scanner/ssdp) share: the links to ask on, as the caller names them, and
// a UDP socket that sends out of a chosen link and says on which link each
// answer came in.
//
// The caller reads its links in its own network namespace (LocalLinks does
// it on the calling thread) and passes an InNet function that opens
// sockets there (as scanner.Enrich.InNet does), so nothing here depends on
// the namespace of whichever thread runs it.
package mcast

import (
	"fmt"
	"net"
	"net/netip"
)

// Link is one network link to ask on.
type Link struct {
	// Name names the interface; it is the zone of the link-local
	// addresses reported on it.
	Name string
	// Index is its interface index.
	Index int
	// Addr4 is this machine's IPv4 address there; invalid means no
	// IPv4 on this link.
	Addr4 netip.Addr
	// Addr6 is this machine's link-local IPv6 address there, without
	// zone; invalid means no IPv6 on this link.
	Addr6 netip.Addr
}

// Has reports whether the link has an address of the family (IPv6 when v6
// is set) to send from.
func (l Link) Has(v6 bool) bool {
	if v6 {
		return l.Addr6.Is6() && l.Addr6.IsLinkLocalUnicast()
	}
	return l.Addr4.Is4()
}

func (l Link) ifi() *net.Interface { return &net.Interface{Index: l.Index, Name: l.Name} }

// LocalLinks lists the links of the calling thread's network namespace that
// multicast discovery can use: up, multicast, not loopback, with an IPv4
// address or an IPv6 link-local one. covers, if not nil, keeps only the
// links with an address prefix it accepts (such as one overlapping the
// scan's targets); a kept link keeps both its IPv4 and its IPv6 link-local
// address, since one device answers on both.
func LocalLinks(covers func(netip.Prefix) bool) ([]Link, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("mcast: interfaces: %w", err)
	}
	var out []Link
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		l := Link{Name: ifi.Name, Index: ifi.Index}
		wanted := covers == nil
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			bits, _ := ipn.Mask.Size()
			switch {
			case ip.Is4() && !l.Addr4.IsValid():
				l.Addr4 = ip
			case ip.Is6() && ip.IsLinkLocalUnicast() && !l.Addr6.IsValid():
				l.Addr6 = ip
			}
			if covers != nil && covers(netip.PrefixFrom(ip, bits).Masked()) {
				wanted = true
			}
		}
		if wanted && (l.Has(false) || l.Has(true)) {
			out = append(out, l)
		}
	}
	return out, nil
}
