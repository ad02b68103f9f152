package probe

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
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

// Layout of the echo payload: the tag, then the send time.
const (
	tagLen     = 8
	payloadLen = tagLen + 8
)

// identity is what marks a packet as ours: the echo identifier, and the
// key of the tag that starts every payload. The tag is a keyed hash of the
// request's destination and sequence number (zmap validates its probes
// alike), so an answer proves which request it answers, not merely that
// it is ours: an echo reply from one address carrying the tag of a request
// to another (a host answering for its neighbour, or a broadcast's members
// when the destination was no group of ours), and an ICMP error quoting a
// request as if it had gone elsewhere, fail the check. A raw socket sees
// every ICMP packet on the machine, so identifier and tag must both match;
// a datagram socket gets only packets with its identifier from the kernel
// (which rewrites the identifier we send), and the tag works the same.
type identity struct {
	id  uint16
	key tagKey
}

// tagKey is a SipHash key: random per Conn, so nobody off the path can
// forge a tag.
type tagKey struct{ k0, k1 uint64 }

// newTagKey draws a random key.
func newTagKey() tagKey {
	var b [16]byte
	rand.Read(b[:]) // never fails
	return tagKey{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
}

// tag is the tag of the request to dst with sequence number seq and the
// send time field sent (the 8 bytes after the tag), so that neither a
// sequence number nor a send time (and the round trip it gives) can be
// changed on the way either. The zone of a link-local address does not
// count: it is not on the wire.
func (me *identity) tag(dst netip.Addr, seq uint16, sent []byte) [tagLen]byte {
	var msg [26]byte
	a := dst.As16() // an IPv4 address in its IPv4-mapped form
	copy(msg[:16], a[:])
	binary.BigEndian.PutUint16(msg[16:], seq)
	copy(msg[18:], sent)
	var t [tagLen]byte
	binary.BigEndian.PutUint64(t[:], sipHash24(me.key, msg[:]))
	return t
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein, 2012) of msg under k:
// a keyed hash built for short inputs, the one Linux computes its SYN
// cookies with. It takes tens of nanoseconds for a tag's 26 bytes.
func sipHash24(k tagKey, msg []byte) uint64 {
	v0 := k.k0 ^ 0x736f6d6570736575
	v1 := k.k1 ^ 0x646f72616e646f6d
	v2 := k.k0 ^ 0x6c7967656e657261
	v3 := k.k1 ^ 0x7465646279746573
	n := len(msg)
	compress := func(m uint64) {
		v3 ^= m
		for range 2 {
			v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		}
		v0 ^= m
	}
	for ; len(msg) >= 8; msg = msg[8:] {
		compress(binary.LittleEndian.Uint64(msg))
	}
	var last [8]byte
	copy(last[:], msg)
	last[7] = byte(n)
	compress(binary.LittleEndian.Uint64(last[:]))
	v2 ^= 0xff
	for range 4 {
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	}
	return v0 ^ v1 ^ v2 ^ v3
}

func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13) ^ v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16) ^ v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21) ^ v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17) ^ v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}

// Reasons parseReply rejects a message. They are not reported to callers,
// but tests check that each rejection happens for the right reason.
var (
	errTruncated   = errors.New("truncated packet")
	errBadHeader   = errors.New("malformed IP header")
	errUnexpected  = errors.New("not an echo reply or an ICMP error")
	errForeign     = errors.New("not one of our requests")
	errWrongHost   = errors.New("answers our request to another address")
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

// marshalEcho builds an echo request to dst carrying seq, its tag and the
// time since the Conn started. It writes the message itself rather than
// through icmp.Message: a sweep builds one per address. IPv6 leaves the
// checksum zero: the kernel fills it in on ICMPv6 sockets (it needs the
// source address, which we do not know).
func marshalEcho(v6 bool, me *identity, dst netip.Addr, seq uint16, sent time.Duration) []byte {
	b := make([]byte, 8+payloadLen)
	b[0] = byte(ipv4.ICMPTypeEcho)
	if v6 {
		b[0] = byte(ipv6.ICMPTypeEchoRequest)
	}
	binary.BigEndian.PutUint16(b[4:], me.id)
	binary.BigEndian.PutUint16(b[6:], seq)
	binary.BigEndian.PutUint64(b[8+tagLen:], uint64(sent))
	t := me.tag(dst, seq, b[8+tagLen:])
	copy(b[8:], t[:])
	if !v6 {
		binary.BigEndian.PutUint16(b[2:], inetChecksum(b))
	}
	return b
}

// parseReply decides whether b, one message read from an ICMP socket of the
// given family (4 or 6) that came from the address from, answers one of our
// requests. raw says it came from a raw socket, where IPv4 messages still
// carry their IP header. It accepts echo replies with our identifier and
// the tag of a request to from, or to one of groups (multicast groups we
// pinged, whose members answer for themselves), and ICMP errors
// (destination unreachable, time exceeded, parameter problem, packet too
// big) that quote one of our echo requests with the tag of its quoted
// destination. Everything else is rejected with an error.
func parseReply(family int, raw bool, b []byte, me *identity, from netip.Addr, groups []netip.Addr) (packet, error) {
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
		p.seq = uint16(body.Seq)
		if err := checkTag(me, body.Data[:payloadLen], from, p.seq, groups); err != nil {
			return p, err
		}
		if p.sent, err = sendTime(body.Data[tagLen:payloadLen]); err != nil {
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
	if p.seq, p.sent, p.hasSent, err = parseQuotedEcho(v6, echo, me, dst); err != nil {
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

// checkTag reports whether payload (payloadLen bytes: tag, send time)
// carries the tag of our request to from with sequence number seq, or to
// one of groups: each member of a group answers from its own address.
func checkTag(me *identity, payload []byte, from netip.Addr, seq uint16, groups []netip.Addr) error {
	tag, sent := payload[:tagLen], payload[tagLen:payloadLen]
	want := me.tag(from, seq, sent)
	if bytes.Equal(tag, want[:]) {
		return nil
	}
	for _, g := range groups {
		if g.Is6() == from.Is6() {
			if want := me.tag(g, seq, sent); bytes.Equal(tag, want[:]) {
				return nil
			}
		}
	}
	return errWrongHost
}

// parseQuotedEcho checks that b starts with one of our echo requests to
// dst, as quoted by an ICMP error or returned from the error queue, and
// returns its sequence number and, when enough of the payload was quoted,
// its send time. Routers need only quote the 8-byte echo header (RFC 792),
// and then there is no tag to check; a quote that cuts the payload short
// cannot be checked either, and is refused.
func parseQuotedEcho(v6 bool, b []byte, me *identity, dst netip.Addr) (seq uint16, sent time.Duration, hasSent bool, err error) {
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
	switch {
	case len(data) == 0:
		return seq, 0, false, nil
	case len(data) < payloadLen:
		return 0, 0, false, fmt.Errorf("%w: %d bytes of echo payload quoted", errTruncated, len(data))
	}
	if err := checkTag(me, data, dst, seq, nil); err != nil {
		return 0, 0, false, err
	}
	if sent, err = sendTime(data[tagLen:payloadLen]); err != nil {
		return 0, 0, false, err
	}
	return seq, sent, true, nil
}

// sendTime decodes the timestamp we put after the tag.
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
