package icmpsock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// This file holds the pure half of the socket methods: building echo
// requests and deciding whether a received message answers one of ours.
// Nothing here touches a socket, so all of it is table-tested and fuzzed.

// Protocol numbers for icmp.ParseMessage.
const (
	protoICMP   = 1
	protoICMPv6 = 58
)

// Layout of the echo payload: a per-Conn cookie, then the send time.
const (
	cookieLen  = 8
	payloadLen = cookieLen + 8
)

// identity is what marks a packet as ours: the echo identifier and the
// random cookie at the start of the payload. A raw socket sees every ICMP
// packet on the machine, so both must match; a datagram socket gets only
// packets with its identifier from the kernel, but we check anyway.
type identity struct {
	id     uint16
	cookie [cookieLen]byte
}

// Reasons parseReply rejects a message. They are not reported to callers,
// but tests check that each rejection happens for the right reason.
var (
	errTruncated   = errors.New("truncated packet")
	errBadHeader   = errors.New("malformed IP header")
	errUnexpected  = errors.New("not an echo reply or an ICMP error")
	errForeign     = errors.New("not one of our requests")
	errBadQuote    = errors.New("ICMP error quotes no echo request of ours")
	errBadSendTime = errors.New("impossible send time")
	errBadChecksum = errors.New("bad ICMP checksum")
)

// packet is what parseReply found in an answer to one of our requests.
type packet struct {
	seq     uint16
	sent    time.Duration // send time since the Conn started, if hasSent
	hasSent bool          // the timestamp was present (always for echo replies)
	ttl     int           // from the IPv4 header of a raw socket; 0 otherwise

	// ICMP errors only.
	isErr     bool
	typ, code int
	dst       netip.Addr // destination of the quoted request: the probed address
}

// marshalEcho builds an echo request carrying seq, our cookie and the time
// since the Conn started. IPv6 leaves the checksum zero: the kernel fills it
// in on ICMPv6 sockets (it needs the source address, which we do not know).
func marshalEcho(v6 bool, me identity, seq uint16, sent time.Duration) ([]byte, error) {
	data := make([]byte, payloadLen)
	copy(data, me.cookie[:])
	binary.BigEndian.PutUint64(data[cookieLen:], uint64(sent))
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if v6 {
		typ = ipv6.ICMPTypeEchoRequest
	}
	m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(me.id), Seq: int(seq), Data: data}}
	return m.Marshal(nil)
}

// parseReply decides whether b, one message read from an ICMP socket of the
// given family (4 or 6), answers one of our requests. raw says it came from
// a raw socket, where IPv4 messages still carry their IP header. It accepts
// echo replies with our identifier and cookie, and ICMP errors (destination
// unreachable, time exceeded, parameter problem, packet too big) that quote
// one of our echo requests. Everything else is rejected with an error.
func parseReply(family int, raw bool, b []byte, me identity) (packet, error) {
	var p packet
	proto, v6 := protoICMP, false
	switch family {
	case 4:
	case 6:
		proto, v6 = protoICMPv6, true
	default:
		return p, fmt.Errorf("address family %d", family)
	}
	if raw && !v6 {
		h, err := ipv4.ParseHeader(b)
		if err != nil {
			return p, fmt.Errorf("%w: %v", errBadHeader, err)
		}
		if h.Version != 4 || h.Protocol != protoICMP {
			return p, errBadHeader
		}
		p.ttl = h.TTL
		b = b[h.Len:]
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil {
		return p, fmt.Errorf("%w: %v", errTruncated, err)
	}
	// Linux checks ICMP checksums before a ping socket or an ICMPv6 raw
	// socket sees a message, but hands IPv4 raw sockets every packet as it
	// arrived: without this, a corrupted copy of a reply (or a forged one)
	// would prove a silent host up. Checked last, once all else matched.
	badSum := raw && !v6 && inetChecksum(b) != 0
	p.typ, p.code = icmpTypeNumber(m.Type), m.Code

	switch body := m.Body.(type) {
	case *icmp.Echo:
		if m.Type != ipv4.ICMPTypeEchoReply && m.Type != ipv6.ICMPTypeEchoReply {
			return p, errUnexpected // an echo request: ours looped back, or someone pinging us
		}
		if body.ID != int(me.id) {
			return p, errForeign
		}
		if len(body.Data) < payloadLen {
			return p, errTruncated
		}
		if !bytes.Equal(body.Data[:cookieLen], me.cookie[:]) {
			return p, errForeign
		}
		p.seq = uint16(body.Seq)
		if p.sent, err = sendTime(body.Data[cookieLen:payloadLen]); err != nil {
			return p, err
		}
		p.hasSent = true
		p.typ, p.code = 0, 0
		if badSum {
			return packet{}, errBadChecksum
		}
		return p, nil
	}

	quoted, ok := quotedDatagram(m.Body)
	if !ok {
		return p, errUnexpected
	}
	p.isErr = true
	echo, dst, err := splitQuoted(v6, quoted)
	if err != nil {
		return p, err
	}
	p.dst = dst
	if p.seq, p.sent, p.hasSent, err = parseQuotedEcho(v6, echo, me); err != nil {
		return p, err
	}
	if badSum {
		return packet{}, errBadChecksum
	}
	return p, nil
}

// quotedDatagram returns the start of the offending datagram that an ICMP
// error message quotes, for the error types we report.
func quotedDatagram(body icmp.MessageBody) ([]byte, bool) {
	switch b := body.(type) {
	case *icmp.DstUnreach:
		return b.Data, true
	case *icmp.TimeExceeded:
		return b.Data, true
	case *icmp.ParamProb:
		return b.Data, true
	case *icmp.PacketTooBig:
		return b.Data, true
	}
	return nil, false
}

// splitQuoted checks the IP header at the start of a quoted datagram and
// returns what follows it (our echo request, if it is ours) and its
// destination.
func splitQuoted(v6 bool, q []byte) (rest []byte, dst netip.Addr, err error) {
	if !v6 {
		h, err := ipv4.ParseHeader(q)
		if err != nil {
			return nil, dst, fmt.Errorf("%w: quoted IPv4 header: %v", errBadQuote, err)
		}
		if h.Version != 4 || h.Protocol != protoICMP {
			return nil, dst, errBadQuote
		}
		dst, _ = netip.AddrFromSlice(h.Dst.To4())
		rest = q[h.Len:]
	} else {
		h, err := ipv6.ParseHeader(q)
		if err != nil {
			return nil, dst, fmt.Errorf("%w: quoted IPv6 header: %v", errBadQuote, err)
		}
		// We send no extension headers, so ICMPv6 must follow at once.
		if h.Version != 6 || h.NextHeader != protoICMPv6 {
			return nil, dst, errBadQuote
		}
		dst, _ = netip.AddrFromSlice(h.Dst)
		rest = q[ipv6.HeaderLen:]
	}
	// We never send to the unspecified address, nor IPv4 through an IPv6
	// socket: a quote saying otherwise is about someone else's packet.
	if !dst.IsValid() || dst.IsUnspecified() || dst.Is4In6() {
		return nil, netip.Addr{}, fmt.Errorf("%w: quoted destination %v", errForeign, dst)
	}
	return rest, dst, nil
}

// parseQuotedEcho checks that b starts with one of our echo requests, as
// quoted by an ICMP error or returned from the error queue, and returns its
// sequence number and, when enough of the payload was quoted, its send time.
// Routers need only quote the 8-byte echo header; when more is there, the
// cookie must match as far as it goes.
func parseQuotedEcho(v6 bool, b []byte, me identity) (seq uint16, sent time.Duration, hasSent bool, err error) {
	const hdrLen = 8
	if len(b) < hdrLen {
		return 0, 0, false, fmt.Errorf("%w: %d bytes of echo header quoted", errTruncated, len(b))
	}
	want := byte(ipv4.ICMPTypeEcho)
	if v6 {
		want = byte(ipv6.ICMPTypeEchoRequest)
	}
	if b[0] != want || b[1] != 0 {
		return 0, 0, false, fmt.Errorf("%w: quoted type %d code %d", errBadQuote, b[0], b[1])
	}
	if binary.BigEndian.Uint16(b[4:6]) != me.id {
		return 0, 0, false, errForeign
	}
	seq = binary.BigEndian.Uint16(b[6:8])
	data := b[hdrLen:]
	n := min(len(data), cookieLen)
	if !bytes.Equal(data[:n], me.cookie[:n]) {
		return 0, 0, false, errForeign
	}
	if len(data) >= payloadLen {
		if sent, err = sendTime(data[cookieLen:payloadLen]); err != nil {
			return 0, 0, false, err
		}
		hasSent = true
	}
	return seq, sent, hasSent, nil
}

// sendTime decodes the timestamp we put after the cookie.
func sendTime(b []byte) (time.Duration, error) {
	d := time.Duration(binary.BigEndian.Uint64(b))
	if d < 0 {
		return 0, errBadSendTime
	}
	return d, nil
}

// icmpTypeNumber returns the wire value of an ICMP type.
func icmpTypeNumber(t icmp.Type) int {
	switch t := t.(type) {
	case ipv4.ICMPType:
		return int(t)
	case ipv6.ICMPType:
		return int(t)
	}
	return -1
}

// icmpErrorText says in words what an ICMP error means, after RFC 792, RFC 1812
// and RFC 4443.
func icmpErrorText(v6 bool, typ, code int) string {
	unreachV4 := [...]string{
		0:  "network unreachable",
		1:  "host unreachable",
		2:  "protocol unreachable",
		3:  "port unreachable",
		4:  "fragmentation needed",
		5:  "source route failed",
		6:  "destination network unknown",
		7:  "destination host unknown",
		8:  "source host isolated",
		9:  "network administratively prohibited",
		10: "host administratively prohibited",
		11: "network unreachable for type of service",
		12: "host unreachable for type of service",
		13: "communication administratively prohibited",
		14: "host precedence violation",
		15: "precedence cutoff in effect",
	}
	unreachV6 := [...]string{
		0: "no route to destination",
		1: "communication administratively prohibited",
		2: "beyond scope of source address",
		3: "address unreachable",
		4: "port unreachable",
		5: "source address failed ingress/egress policy",
		6: "reject route to destination",
		7: "error in source routing header",
	}
	if !v6 {
		switch typ {
		case 3:
			if code >= 0 && code < len(unreachV4) {
				return unreachV4[code]
			}
			return fmt.Sprintf("destination unreachable (code %d)", code)
		case 11:
			if code == 1 {
				return "fragment reassembly time exceeded"
			}
			return "TTL exceeded in transit"
		case 12:
			return "parameter problem"
		}
		return fmt.Sprintf("ICMP type %d code %d", typ, code)
	}
	switch typ {
	case 1:
		if code >= 0 && code < len(unreachV6) {
			return unreachV6[code]
		}
		return fmt.Sprintf("destination unreachable (code %d)", code)
	case 2:
		return "packet too big"
	case 3:
		if code == 1 {
			return "fragment reassembly time exceeded"
		}
		return "hop limit exceeded in transit"
	case 4:
		return "parameter problem"
	}
	return fmt.Sprintf("ICMPv6 type %d code %d", typ, code)
}

// inetChecksum is the Internet checksum (RFC 1071) of b; over a message
// that carries its own correct checksum it is 0.
func inetChecksum(b []byte) uint16 {
	var sum uint32
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
