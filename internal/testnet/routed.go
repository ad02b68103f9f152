package testnet

import (
	"fmt"
	"net/netip"
	"testing"
)

// Routed is a two-namespace network: the scanner's namespace and a router
// namespace behind one veth link. The router owns the "live" addresses (the
// kernel answers echo and TCP for them), drops the "dead" ones silently, and
// answers the "unreachable" ones with ICMP destination unreachable.
//
//	Scanner 198.18.0.1/30, 2001:db8::1/64  --veth--  198.18.0.2/30, 2001:db8::2/64 Router
//	Scanner routes 198.18.0.0/15 and 2001:db8::/32 via Router.
type Routed struct {
	Scanner *NS
	Router  *NS

	Live        []netip.Addr // answer echo and TCP (kernel-owned, on Router's lo)
	Dead        []netip.Addr // silently dropped by Router
	Unreachable []netip.Addr // Router answers ICMP destination unreachable
	LiveV6      []netip.Addr
	DeadV6      []netip.Addr
}

// Prefixes used by Routed. Live and dead hosts share a /24 so that a sweep
// of it sees both.
var (
	routedLAN   = netip.MustParsePrefix("198.18.1.0/24")   // live .1-.10 (every third), rest dead
	routedUnr   = netip.MustParsePrefix("198.18.3.0/24")   // unreachable
	routedLANv6 = netip.MustParsePrefix("2001:db8:1::/64") // live ::1-::3, rest dead
)

// NewRouted builds a Routed network and registers its removal with t.Cleanup.
func NewRouted(t testing.TB) *Routed {
	t.Helper()
	s, r := NewNS(t, "scan"), NewNS(t, "rtr")
	Link(t, s, r, "198.18.0.1/30", "198.18.0.2/30", "2001:db8::1/64", "2001:db8::2/64")
	s.Run("ip", "route", "add", "198.18.0.0/15", "via", "198.18.0.2")
	s.Run("ip", "-6", "route", "add", "2001:db8::/32", "via", "2001:db8::2")

	// ICMP errors are rate-limited per destination by default; a test
	// needs every one of them.
	r.Sysctl("net.ipv4.icmp_ratelimit", "0")
	// A router only answers for routes it forwards along, so it must
	// forward; the blackhole routes keep anything from going further.
	r.Sysctl("net.ipv4.ip_forward", "1")
	r.Sysctl("net.ipv6.conf.all.forwarding", "1")
	r.Sysctl("net.ipv6.icmp.ratelimit", "0")

	n := &Routed{Scanner: s, Router: r}
	a := routedLAN.Addr()
	for i := 1; i <= 30; i++ {
		a = a.Next()
		if i%3 == 1 && i <= 10 {
			n.Live = append(n.Live, a)
			r.Run("ip", "route", "add", "local", a.String()+"/32", "dev", "lo")
		} else {
			n.Dead = append(n.Dead, a)
		}
	}
	// More specific local routes win; everything else in the /24 vanishes.
	r.Run("ip", "route", "add", "blackhole", routedLAN.String())
	r.Run("ip", "route", "add", "unreachable", routedUnr.String())
	for i, a := 1, routedUnr.Addr(); i <= 3; i++ {
		a = a.Next()
		n.Unreachable = append(n.Unreachable, a)
	}

	a6 := routedLANv6.Addr()
	for i := 1; i <= 6; i++ {
		a6 = a6.Next()
		if i <= 3 {
			n.LiveV6 = append(n.LiveV6, a6)
			r.Run("ip", "-6", "route", "add", "local", a6.String()+"/128", "dev", "lo")
		} else {
			n.DeadV6 = append(n.DeadV6, a6)
		}
	}
	r.Run("ip", "-6", "route", "add", "blackhole", routedLANv6.String())
	return n
}

// Link joins a and b with a veth pair and gives each end its addresses
// (CIDR strings; IPv6 ones are added without duplicate address detection so
// they work at once).
func Link(t testing.TB, a, b *NS, addrs ...string) (aIf, bIf string) {
	t.Helper()
	if len(addrs)%2 != 0 {
		t.Fatalf("Link wants addresses in pairs, got %d", len(addrs))
	}
	n := nsSeq.Add(1)
	aIf, bIf = fmt.Sprintf("va%d", n), fmt.Sprintf("vb%d", n)
	a.Run("ip", "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.Name)
	for i := 0; i < len(addrs); i += 2 {
		addAddr(a, aIf, addrs[i])
		addAddr(b, bIf, addrs[i+1])
	}
	a.Run("ip", "link", "set", aIf, "up")
	b.Run("ip", "link", "set", bIf, "up")
	// Resolve the neighbours now. A fresh veth loses the first neighbour
	// solicitation, which would otherwise cost a test's first probe a
	// second.
	for i := 1; i < len(addrs); i += 2 {
		peer := netip.MustParsePrefix(addrs[i]).Addr().String()
		for try := 0; ; try++ {
			if a.Command(Root, "ping", "-n", "-q", "-c", "1", "-W", "1", peer).Run() == nil {
				break
			}
			if try == 4 {
				t.Fatalf("link %s-%s: %s does not answer", a.Name, b.Name, peer)
			}
		}
	}
	return aIf, bIf
}

func addAddr(ns *NS, ifname, cidr string) {
	p := netip.MustParsePrefix(cidr)
	if p.Addr().Is6() {
		ns.Run("ip", "-6", "addr", "add", cidr, "dev", ifname, "nodad")
		return
	}
	ns.Run("ip", "addr", "add", cidr, "dev", ifname)
}
