package names

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The top bit of a question's class asks for a unicast response (the "QU"
// bit, RFC 6762 section 5.4); in a record's class it is the cache-flush bit.
const topClassBit = 1 << 15

// MDNS asks addr for its own name with a multicast DNS reverse lookup: a
// PTR query for addr's in-addr.arpa or ip6.arpa name, with the QU bit set.
// The query goes to the host directly at its mDNS port (most responders
// answer such queries, RFC 6762 section 5.5) and, when addr is on one of
// this machine's links, to the mDNS group on that link as well. Replies
// are read on the query's own socket, from an ephemeral port.
//
// An answer is taken only from addr at the mDNS port, and only if it is a
// response with the query's id (or 0, the id of multicast responses), no
// question but the one asked, and a PTR record whose owner is exactly the
// queried name, so that a reply can never give addr another host's name.
//
// Limits: replies sent only to the multicast group are not heard (the
// socket joins no group and does not listen on port 5353, which a system
// responder such as Avahi holds); a querier on an ephemeral port is a
// "one-shot" querier whom RFC 6762 responders answer by unicast, so this
// costs little. Multicast is skipped for hosts not on a local link, where
// it could not reach them, and for link-local IPv6 addresses without a
// zone, where the link is unknown. A silent host costs the whole Timeout
// and yields a *TimeoutError.
func (r *Resolver) MDNS(ctx context.Context, addr netip.Addr) (string, error) {
	if !addr.IsValid() {
		return "", errors.New("names: mdns: invalid address")
	}
	addr = addr.Unmap()
	groupStr, def := r.MDNSAddr4, DefaultMDNSAddr4
	if addr.Is6() {
		groupStr, def = r.MDNSAddr6, DefaultMDNSAddr6
	}
	if groupStr == "" {
		groupStr = def
	}
	group, err := netip.ParseAddrPort(groupStr)
	if err != nil || group.Addr().Is4() != addr.Is4() {
		return "", fmt.Errorf("names: mdns: bad group address %q for %s", groupStr, addr)
	}
	qname, err := dns.ReverseAddr(addr.WithZone("").String())
	if err != nil {
		return "", fmt.Errorf("names: mdns %s: %w", addr, err)
	}
	ctx, cancel := r.budget(ctx)
	defer cancel()

	id := dns.Id()
	q := new(dns.Msg)
	q.Id = id
	q.Question = []dns.Question{{Name: qname, Qtype: dns.TypePTR, Qclass: dns.ClassINET | topClassBit}}
	query, err := q.Pack()
	if err != nil {
		return "", fmt.Errorf("names: mdns %s: %w", addr, err)
	}

	var (
		conn *net.UDPConn
		dsts []netip.AddrPort
	)
	err = r.setup(func() (err error) {
		conn, dsts, err = openMDNS(addr, group)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("names: mdns %s: %w", addr, err)
	}
	defer conn.Close()

	var name string
	x := exchange{
		conn:  conn,
		query: query,
		dsts:  dsts,
		from:  netip.AddrPortFrom(addr, group.Port()),
		accept: func(b []byte) (err error) {
			name, err = parseMDNSReply(b, id, qname)
			return err
		},
	}
	rejected, last, err := x.run(ctx)
	if err != nil {
		return "", timeoutOr(SourceMDNS, addr, rejected, last, err)
	}
	return name, nil
}

// openMDNS opens the query socket for target and says where the query
// goes: to the group on target's link, if that link is known, and to the
// host itself. Zones are given by index, which a send from any thread can
// use (a name would be looked up in the sending thread's namespace).
func openMDNS(target netip.Addr, group netip.AddrPort) (*net.UDPConn, []netip.AddrPort, error) {
	ifi, local, err := onLink(target)
	if err != nil {
		return nil, nil, err
	}
	network := "udp4"
	if target.Is6() {
		network = "udp6"
	}
	// Bound to our address on target's link, if known: an IPv6 query to
	// the group would otherwise leave from our link-local address, and
	// the answer would come from the host's, which is not target.
	laddr := &net.UDPAddr{}
	if local.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0))
	}
	conn, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, nil, err
	}
	if ifi == nil {
		return conn, []netip.AddrPort{netip.AddrPortFrom(target, group.Port())}, nil
	}
	zone := strconv.Itoa(ifi.Index)
	if target.Zone() != "" {
		target = target.WithZone(zone)
	}
	dsts := []netip.AddrPort{netip.AddrPortFrom(target, group.Port())}
	if err := multicastVia(conn, ifi, target.Is4()); err == nil {
		g := group.Addr()
		if g.Is6() && g.IsLinkLocalMulticast() {
			g = g.WithZone(zone)
		}
		dsts = append([]netip.AddrPort{netip.AddrPortFrom(g, group.Port())}, dsts...)
	}
	return conn, dsts, nil
}

// multicastVia sends conn's multicast out of ifi: without it the routing
// table picks the interface, or refuses when no route covers the group.
func multicastVia(conn *net.UDPConn, ifi *net.Interface, v4 bool) error {
	if v4 {
		return ipv4.NewPacketConn(conn).SetMulticastInterface(ifi)
	}
	return ipv6.NewPacketConn(conn).SetMulticastInterface(ifi)
}

// onLink finds the interface whose subnet holds target, and this machine's
// address there. It returns a nil interface when there is none, when the
// interface list cannot be read (as in some app sandboxes), and for a
// link-local IPv6 address without a zone. A zone names the interface
// directly; an unknown zone is an error, since target cannot be reached.
func onLink(target netip.Addr) (*net.Interface, netip.Addr, error) {
	if z := target.Zone(); z != "" {
		var ifi *net.Interface
		var err error
		if n, aerr := strconv.Atoi(z); aerr == nil {
			ifi, err = net.InterfaceByIndex(n)
		} else {
			ifi, err = net.InterfaceByName(z)
		}
		if err != nil {
			return nil, netip.Addr{}, fmt.Errorf("zone %q: %w", z, err)
		}
		return ifi, netip.Addr{}, nil
	}
	if target.IsLinkLocalUnicast() {
		return nil, netip.Addr{}, nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, netip.Addr{}, nil
	}
	for i := range ifs {
		ifi := &ifs[i]
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
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
			if ip != target && netip.PrefixFrom(ip, bits).Contains(target) {
				return ifi, ip, nil
			}
		}
	}
	return nil, netip.Addr{}, nil
}

// parseMDNSReply checks that b answers the PTR query id for qname and
// returns the cleaned name it gives. See MDNS for what is accepted.
func parseMDNSReply(b []byte, id uint16, qname string) (string, error) {
	if len(b) > maxDatagram {
		return "", errOversized
	}
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		return "", fmt.Errorf("malformed reply: %w", err)
	}
	switch {
	case !m.Response:
		return "", errNotReply
	case m.Opcode != dns.OpcodeQuery:
		return "", fmt.Errorf("opcode %d in reply", m.Opcode)
	case m.Id != id && m.Id != 0:
		// RFC 6762 section 18.1: multicast responses carry id 0, and
		// some responders send those even to a one-shot querier.
		return "", errWrongID
	case m.Rcode != dns.RcodeSuccess:
		return "", fmt.Errorf("rcode %s in reply", dns.RcodeToString[m.Rcode])
	case len(m.Question) > 1:
		return "", errQuestion
	}
	// A unicast reply repeats the question; a multicast one has none.
	for _, q := range m.Question {
		if q.Qtype != dns.TypePTR || q.Qclass&^topClassBit != dns.ClassINET || !strings.EqualFold(q.Name, qname) {
			return "", errQuestion
		}
	}
	other := false
	for _, rr := range m.Answer {
		ptr, ok := rr.(*dns.PTR)
		if !ok || ptr.Hdr.Class&^topClassBit != dns.ClassINET {
			continue
		}
		if !strings.EqualFold(ptr.Hdr.Name, qname) {
			other = true
			continue
		}
		if name := clean(unescape(ptr.Ptr)); name != "" {
			return name, nil
		}
	}
	if other {
		return "", errors.New("PTR record for another name")
	}
	return "", errors.New("no PTR record for the queried name")
}

// unescape turns a name in presentation form, as miekg/dns prints it, back
// into its bytes: \DDD is a byte in decimal, \X is X itself. Labels keep
// their dots; a dot inside a label becomes indistinguishable from one
// between labels, which for showing a name does no harm.
func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var out strings.Builder
	out.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			out.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); v <= 0xff {
				out.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		out.WriteByte(s[i+1])
		i++
	}
	return out.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Unescape is unescape for the other readers of mDNS records
// (scanner/dnssd), so that names and TXT strings from miekg/dns are read
// back one way everywhere.
func Unescape(s string) string { return unescape(s) }

// Clean is clean for the other readers of names from the network
// (scanner/dnssd): one rule for what a name may hold before it is shown.
func Clean(s string) string { return clean(s) }
