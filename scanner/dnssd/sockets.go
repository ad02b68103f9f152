package dnssd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	"netscanner/scanner/mcast"
)

// legacyQuestions caps the questions of one query sent from an ephemeral
// port: responders answer such "legacy" queries in at most 512 bytes
// (avahi drops what does not fit), so each asks for little.
const legacyQuestions = 6

// endpoint is one open socket.
type endpoint struct {
	sock *mcast.Socket
	// shared is the socket on port 5353, joined to the group on every
	// link of its family: queries sent from it are answered in full, by
	// multicast or by unicast to port 5353. Otherwise the socket is a
	// legacy querier's, on an ephemeral port of one link's address.
	shared bool
}

// open opens, per family, the shared socket on port 5353 or, when that
// cannot be had (or Config.NoMulticastListen says not to), a legacy query
// socket per link, and returns the sockets that work with the errors of
// the others.
func (b *Browser) open(ctx context.Context) ([]*endpoint, []error) {
	var (
		eps  []*endpoint
		errs []error
	)
	fail := func(err error) {
		if len(errs) < maxErrors {
			errs = append(errs, err)
		}
	}
	for _, v6 := range []bool{false, true} {
		family, group := "IPv4", Group4
		if v6 {
			family, group = "IPv6", Group6
		}
		if !slices.ContainsFunc(b.cfg.Links, func(l mcast.Link) bool { return l.Has(v6) }) {
			continue
		}
		if !b.cfg.NoMulticastListen {
			sock, err := mcast.Open(ctx, mcast.Options{V6: v6, Bind: netip.AddrPortFrom(netip.Addr{}, DefaultPort),
				Links: b.cfg.Links, Group: group, Reuse: true, InNet: b.cfg.InNet})
			if err == nil {
				eps = append(eps, &endpoint{sock: sock, shared: true})
				continue
			}
			fail(fmt.Errorf("dnssd: port %d (%s): %w", DefaultPort, family, err))
		}
		for _, l := range b.cfg.Links {
			if !l.Has(v6) {
				continue
			}
			// Bound to this machine's address on the link, so that
			// the answers to its queries come back on its socket.
			bind := netip.AddrPortFrom(l.Addr4, 0)
			if v6 {
				bind = netip.AddrPortFrom(l.Addr6.WithZone(fmt.Sprint(l.Index)), 0)
			}
			sock, err := mcast.Open(ctx, mcast.Options{V6: v6, Bind: bind, Links: []mcast.Link{l}, InNet: b.cfg.InNet})
			if err != nil {
				fail(fmt.Errorf("dnssd: %s (%s): %w", l.Name, family, err))
				continue
			}
			eps = append(eps, &endpoint{sock: sock})
		}
	}
	return eps, errs
}

// read passes the datagrams of ep to the loop until ep is closed. It
// never blocks on the loop: a datagram the loop has no room for is
// dropped and counted.
func (b *Browser) read(ep *endpoint, pkts chan<- packet) {
	buf := make([]byte, maxDatagram+1)
	for {
		n, from, link, err := ep.sock.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p := packet{from: from, ep: ep, link: link, shared: ep.shared, data: slices.Clone(buf[:n])}
		select {
		case pkts <- p:
		default:
			b.dropped.Add(1)
		}
	}
}

// sendGroup asks every link ep serves the group questions qs, asking for
// unicast answers if qu is set.
func (b *Browser) sendGroup(s *session, ep *endpoint, qs []dns.Question, qu bool) {
	g := Group4
	if ep.sock.V6() {
		g = Group6
	}
	for i := range ep.sock.Links() {
		b.send(s, ep, i, netip.AddrPortFrom(g, DefaultPort), qs, qu)
	}
}

// sendDirect asks src the questions qs (one group per instance) on the
// socket and link its answers came in on.
func (b *Browser) sendDirect(s *session, src *source, qs [][]dns.Question) {
	dst := netip.AddrPortFrom(src.addr, DefaultPort)
	if src.ep.shared {
		// Answered in full: all in one go.
		b.send(s, src.ep, src.link, dst, slices.Concat(qs...), false)
		return
	}
	for _, q := range qs {
		b.send(s, src.ep, src.link, dst, q, false)
	}
}

// send sends qs to dst on link from ep, in as many packets as it takes,
// with the QU bit if qu is set. Queries from port 5353 carry id 0 (RFC
// 6762 section 18.1), legacy ones the session's id (and the QU bit, which
// changes nothing for them, but some responders want).
func (b *Browser) send(s *session, ep *endpoint, link int, dst netip.AddrPort, qs []dns.Question, qu bool) {
	chunk := maxQuestions
	id := uint16(0)
	if !ep.shared {
		chunk, id = legacyQuestions, s.id
	}
	for len(qs) > 0 {
		n := min(len(qs), chunk)
		batch := slices.Clone(qs[:n])
		qs = qs[n:]
		if qu || !ep.shared {
			for j := range batch {
				batch[j].Qclass |= topClassBit
			}
		}
		m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: id}, Question: batch, Compress: true}
		data, err := m.Pack()
		if err == nil {
			err = ep.sock.WriteTo(data, link, dst)
		}
		if err != nil {
			if len(s.stats.Errors) < maxErrors {
				s.stats.Errors = append(s.stats.Errors, fmt.Errorf("dnssd: send to %s: %w", dst, err))
			}
			continue
		}
		s.stats.Sent++
	}
}
