package testnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// MDNSReply is one datagram an MDNSResponder sends.
type MDNSReply struct {
	// Msg is the message; ignored when Raw is set.
	Msg *dns.Msg
	// Raw, if set, is sent as it is: malformed or oversized datagrams.
	Raw []byte
	// To overrides where it goes. By default a reply goes where RFC 6762
	// says: to the querier's address and port for a legacy query (one
	// from a port other than 5353) or a query with the QU bit, to the
	// group otherwise.
	To netip.AddrPort
	// FromPort, if set, sends it from a socket on that port instead of
	// 5353, as no real responder does.
	FromPort uint16
	// After delays it, counted from the query.
	After time.Duration
}

// MDNSHandler answers one query (a message with no answers, read from
// from) with any number of replies; nil for none.
type MDNSHandler func(q *dns.Msg, from netip.AddrPort) []MDNSReply

// MDNSResponder is a multicast DNS responder in a host's namespace that
// answers exactly as its handler says: split answers, hostile records,
// announcements for addresses the host does not have. It reads queries on
// port 5353 of both families, joined to the groups on its interface.
type MDNSResponder struct {
	t       testing.TB
	ns      *NS
	ifi     *net.Interface
	handler MDNSHandler
	c4, c6  net.PacketConn
	wg      sync.WaitGroup
	mu      sync.Mutex
	queries []*dns.Msg
	closed  bool
}

// StartMDNSResponder starts a responder on ifname in ns, stopped by
// t.Cleanup.
func StartMDNSResponder(t testing.TB, ns *NS, ifname string, h MDNSHandler) *MDNSResponder {
	t.Helper()
	r := &MDNSResponder{t: t, ns: ns, handler: h}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		})
		return errors.Join(err, serr)
	}}
	var err error
	ns.Do(func() {
		if r.ifi, err = net.InterfaceByName(ifname); err != nil {
			return
		}
		if r.c4, err = lc.ListenPacket(t.Context(), "udp4", "0.0.0.0:5353"); err != nil {
			return
		}
		p4 := ipv4.NewPacketConn(r.c4)
		if err = errors.Join(p4.JoinGroup(r.ifi, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251)}), p4.SetMulticastInterface(r.ifi),
			p4.SetMulticastTTL(255), p4.SetMulticastLoopback(false)); err != nil {
			return
		}
		if r.c6, err = lc.ListenPacket(t.Context(), "udp6", "[::]:5353"); err != nil {
			return
		}
		p6 := ipv6.NewPacketConn(r.c6)
		err = errors.Join(p6.JoinGroup(r.ifi, &net.UDPAddr{IP: net.ParseIP("ff02::fb")}), p6.SetMulticastInterface(r.ifi),
			p6.SetMulticastHopLimit(255), p6.SetMulticastLoopback(false))
	})
	if err != nil {
		r.close()
		t.Fatalf("mDNS responder in %s: %v", ns.Name, err)
	}
	for _, c := range []net.PacketConn{r.c4, r.c6} {
		r.wg.Go(func() { r.serve(c) })
	}
	t.Cleanup(r.close)
	return r
}

func (r *MDNSResponder) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	for _, c := range []net.PacketConn{r.c4, r.c6} {
		if c != nil {
			c.Close()
		}
	}
	r.wg.Wait()
}

// Queries returns the queries read so far.
func (r *MDNSResponder) Queries() []*dns.Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*dns.Msg(nil), r.queries...)
}

func (r *MDNSResponder) serve(c net.PacketConn) {
	buf := make([]byte, 9000)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil || q.Response || len(q.Answer) > 0 {
			continue
		}
		ua := from.(*net.UDPAddr)
		src := ua.AddrPort()
		src = netip.AddrPortFrom(src.Addr().Unmap().WithZone(""), src.Port())
		if src.Addr().IsLinkLocalUnicast() {
			src = netip.AddrPortFrom(src.Addr().WithZone(fmt.Sprint(r.ifi.Index)), src.Port())
		}
		r.mu.Lock()
		r.queries = append(r.queries, q)
		r.mu.Unlock()
		for _, rep := range r.handler(q, src) {
			r.wg.Go(func() { r.send(c, q, src, rep) })
		}
	}
}

func (r *MDNSResponder) send(c net.PacketConn, q *dns.Msg, src netip.AddrPort, rep MDNSReply) {
	time.Sleep(rep.After)
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return
	}
	data := rep.Raw
	if data == nil {
		m := rep.Msg
		if src.Port() != 5353 && m.Id == 0 {
			// A legacy reply repeats the query's id.
			m = m.Copy()
			m.Id = q.Id
		}
		var err error
		if data, err = m.Pack(); err != nil {
			r.t.Errorf("mDNS responder: pack: %v", err)
			return
		}
	}
	to := rep.To
	if !to.IsValid() {
		qu := len(q.Question) > 0 && q.Question[0].Qclass&(1<<15) != 0
		switch {
		case src.Port() != 5353 || qu:
			to = src
		case src.Addr().Is4():
			to = netip.MustParseAddrPort("224.0.0.251:5353")
		default:
			to = netip.AddrPortFrom(netip.MustParseAddr("ff02::fb").WithZone(fmt.Sprint(r.ifi.Index)), 5353)
		}
	}
	if rep.FromPort != 0 {
		var err error
		r.ns.Do(func() {
			network := "udp4"
			if to.Addr().Is6() {
				network = "udp6"
			}
			var other net.PacketConn
			if other, err = net.ListenPacket(network, fmt.Sprintf(":%d", rep.FromPort)); err != nil {
				return
			}
			defer other.Close()
			_, err = other.WriteTo(data, net.UDPAddrFromAddrPort(to))
		})
		if err != nil {
			r.t.Errorf("mDNS responder: send from port %d: %v", rep.FromPort, err)
		}
		return
	}
	if _, err := c.WriteTo(data, net.UDPAddrFromAddrPort(to)); err != nil && !errors.Is(err, net.ErrClosed) {
		r.t.Errorf("mDNS responder: send to %s: %v", to, err)
	}
}

// MDNSAnswer is a response message (id 0, authoritative) holding rrs, each
// given in zone-file form, such as "tv.local. 120 IN A 198.18.100.66".
// It fails the test on a record that does not parse.
func MDNSAnswer(t testing.TB, rrs ...string) *dns.Msg {
	t.Helper()
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}}
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("MDNSAnswer: %q: %v", s, err)
		}
		m.Answer = append(m.Answer, rr)
	}
	return m
}

// Asks reports whether q asks for name (case-insensitively) with type t.
func Asks(q *dns.Msg, name string, t uint16) bool {
	for _, qq := range q.Question {
		if qq.Qtype == t && dns.CanonicalName(qq.Name) == dns.CanonicalName(name) {
			return true
		}
	}
	return false
}
