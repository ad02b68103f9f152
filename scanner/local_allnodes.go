package scanner

// IPv6 neighbours no sweep can enumerate.
//
// A LAN's IPv6 /64 holds 2^64 addresses, and every IPv6 host has a
// link-local address (fe80::/64) besides, often its only one. No sweep
// finds those; one echo request to ff02::1, the all-nodes group, does:
// every IPv6 host on the link answers from its link-local address. This
// is what `ping ff02::1%eth0` shows, and what Fing's IPv6 discovery does.
//
// It goes out only on interfaces whose network the scan covers, so that a
// scan of a few hosts, or of a far network, adds nobody else; and through
// a Conn of the sweep's own method, so that it needs no privilege the
// sweep did not have (dgram and raw sockets can send to a group; the exec
// and tcp methods cannot, and then there is no multicast probe).

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"time"

	"netscanner/probe"
	"netscanner/scanner/targets"
)

// allNodes is the link-local all-nodes multicast group (RFC 4291).
var allNodes = netip.MustParseAddr("ff02::1")

// Timing of the all-nodes probe: the request goes out twice, since a
// multicast frame on Wi-Fi is sent at the lowest rate and without
// retransmission, and answers are collected for allNodesListen. A wired
// host answers within a millisecond; a phone whose radio sleeps, within a
// few hundred.
const (
	allNodesResend = 300 * time.Millisecond
	allNodesListen = time.Second
)

// minLANCover is how many of a network's addresses a scan must cover for
// it to count as a scan of that LAN: a /24 of IPv4, a /120 of IPv6, or the
// whole network if it is smaller.
const minLANCover = 254

// localIface is what the scan needs to know about one of this machine's
// interfaces.
type localIface struct {
	Name     string
	Index    int
	Flags    net.Flags
	MAC      net.HardwareAddr
	Prefixes []netip.Prefix // each address with its prefix length
}

// localInterfaces lists this machine's interfaces and their addresses, in
// the calling thread's network namespace.
func localInterfaces() ([]localIface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]localIface, 0, len(ifs))
	for _, ifc := range ifs {
		li := localIface{Name: ifc.Name, Index: ifc.Index, Flags: ifc.Flags, MAC: ifc.HardwareAddr}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue // the interface went away meanwhile
		}
		for _, a := range addrs {
			if p, ok := ipNetPrefix(a); ok {
				li.Prefixes = append(li.Prefixes, p)
			}
		}
		out = append(out, li)
	}
	return out, nil
}

// allNodesInterfaces returns the interfaces worth an all-nodes probe for
// a scan of t: up, multicast-capable, neither loopback nor point-to-point,
// with IPv6 enabled (a link-local address to send from), and with a
// network (IPv4 or IPv6) that t covers at least minLANCover addresses of,
// or all of.
func allNodesInterfaces(ifs []localIface, t *targets.Set) []localIface {
	var out []localIface
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagMulticast == 0 ||
			ifc.Flags&(net.FlagLoopback|net.FlagPointToPoint) != 0 {
			continue
		}
		hasLinkLocal, covered := false, false
		for _, p := range ifc.Prefixes {
			if p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
				hasLinkLocal = true
				continue
			}
			covered = covered || coversLAN(t, p.Masked())
		}
		if hasLinkLocal && covered {
			out = append(out, ifc)
		}
	}
	return out
}

// coversLAN tells whether t holds all of network's scannable addresses, or
// at least minLANCover of them.
func coversLAN(t *targets.Set, network netip.Prefix) bool {
	if t == nil || !network.IsValid() || network.Bits() == network.Addr().BitLen() {
		return false
	}
	lan := targets.ScanRange(network)
	return t.CountIn(lan) >= min(lan.Size(), minLANCover)
}

// neighbour6 is one answer to the all-nodes probe.
type neighbour6 struct {
	Addr netip.Addr // link-local, zoned with its interface
	RTT  time.Duration
	TTL  int
}

// pingAllNodes sends an echo request to ff02::1 on each of ifaces through
// conn, which must be a Conn of its own (the probe reads its Replies), and
// again after allNodesResend, then reports each distinct address that
// answers through found, zoned with its interface's name, until
// allNodesListen has passed or ctx ends. Addresses for which skip is true
// (this machine's own, which answers its own group, and those the sweep
// covers anyway) are left out.
//
// Requests name their interface by index, which means the same to the
// socket whatever thread sends: a name would be looked up in the sending
// thread's network namespace, which need not be the socket's.
func pingAllNodes(ctx context.Context, conn probe.Conn, ifaces []localIface, skip func(netip.Addr) bool, found func(neighbour6)) {
	if len(ifaces) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, allNodesListen)
	defer cancel()
	names := make(map[string]string, len(ifaces)) // index as a zone -> name
	for _, ifc := range ifaces {
		names[strconv.Itoa(ifc.Index)] = ifc.Name
	}
	seq := uint16(rand.Uint32())
	send := func(seq uint16) {
		for _, ifc := range ifaces {
			// A failed send (no IPv6 on the link after all, or a
			// Conn without IPv6) only means nobody is found there.
			_ = conn.Send(ctx, allNodes.WithZone(strconv.Itoa(ifc.Index)), seq)
		}
	}
	send(seq)
	resend := time.NewTimer(allNodesResend)
	defer resend.Stop()

	seen := make(map[netip.Addr]bool)
	for {
		select {
		case <-ctx.Done():
			return
		case <-resend.C:
			send(seq + 1)
		case r, ok := <-conn.Replies():
			if !ok {
				return
			}
			a := r.Addr
			if name, ok := names[a.Zone()]; ok {
				a = a.WithZone(name)
			}
			if r.Err != nil || (r.Seq != seq && r.Seq != seq+1) || !a.Is6() ||
				a.IsMulticast() || seen[a] || skip(a) {
				continue
			}
			seen[a] = true
			// The answer to a multicast request teaches this machine
			// nothing about the host's MAC address (a host that has ours
			// cached sends no solicitation), so ask the host directly:
			// sending to it makes the kernel resolve it, as the sweep's
			// unicast requests do for the hosts it finds.
			_ = conn.Send(ctx, r.Addr, seq+2)
			found(neighbour6{Addr: a, RTT: r.RTT, TTL: r.TTL})
		}
	}
}

// openAllNodesConn opens a Conn of method for the all-nodes probe, or
// returns nil when the method cannot send to a multicast group.
func openAllNodesConn(method probe.Method) (probe.Conn, error) {
	switch method {
	case probe.Dgram:
		return probe.OpenDgram(probe.Options{})
	case probe.Raw:
		return probe.OpenRaw(probe.Options{})
	}
	return nil, nil
}
