package probe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Addresses used in synthetic packets: ours, a probed host, a router.
var (
	testUs     = netip.MustParseAddr("198.18.0.1")
	testHost   = netip.MustParseAddr("198.18.3.1")
	testRouter = netip.MustParseAddr("198.18.0.2")
	testUs6    = netip.MustParseAddr("2001:db8::1")
	testHost6  = netip.MustParseAddr("2001:db8:1::4")
	testRtr6   = netip.MustParseAddr("2001:db8::2")
)

func testIdentity() identity {
	return identity{id: 0x1234, key: tagKey{0x0706050403020100, 0x0f0e0d0c0b0a0908}}
}

// hostOf is the probed host of the synthetic packets of a family.
func hostOf(v6 bool) netip.Addr {
	if v6 {
		return testHost6
	}
	return testHost
}

// request builds the echo request to dst that a Conn with identity me
// would send.
func request(t testing.TB, v6 bool, me identity, dst netip.Addr, seq uint16, sent time.Duration) []byte {
	t.Helper()
	return marshalEcho(v6, &me, dst, seq, sent)
}

// parseTest is parseReply for a message that came from the family's
// probed host, with no groups pinged.
func parseTest(family int, raw bool, b []byte, me identity) (packet, error) {
	return parseReply(family, raw, b, &me, hostOf(family == 6), nil)
}

// replyTo turns an echo request into the echo reply a host would send:
// same identifier, sequence and data.
func replyTo(t testing.TB, v6 bool, req []byte) []byte {
	t.Helper()
	proto := protoICMP
	if v6 {
		proto = protoICMPv6
	}
	m, err := icmp.ParseMessage(proto, req)
	if err != nil {
		t.Fatal(err)
	}
	m.Type = ipv4.ICMPTypeEchoReply
	if v6 {
		m.Type = ipv6.ICMPTypeEchoReply
	}
	b, err := m.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ipv4Packet prepends an IPv4 header to payload.
func ipv4Packet(src, dst netip.Addr, proto, ttl int, payload []byte) []byte {
	h := make([]byte, ipv4.HeaderLen, ipv4.HeaderLen+len(payload))
	h[0] = 4<<4 | ipv4.HeaderLen/4
	binary.BigEndian.PutUint16(h[2:4], uint16(ipv4.HeaderLen+len(payload)))
	h[8], h[9] = byte(ttl), byte(proto)
	s, d := src.As4(), dst.As4()
	copy(h[12:16], s[:])
	copy(h[16:20], d[:])
	return append(h, payload...)
}

// ipv6Packet prepends an IPv6 header to payload.
func ipv6Packet(src, dst netip.Addr, next int, payload []byte) []byte {
	h := make([]byte, ipv6.HeaderLen, ipv6.HeaderLen+len(payload))
	h[0] = 6 << 4
	binary.BigEndian.PutUint16(h[4:6], uint16(len(payload)))
	h[6], h[7] = byte(next), 64
	s, d := src.As16(), dst.As16()
	copy(h[8:24], s[:])
	copy(h[24:40], d[:])
	return append(h, payload...)
}

// icmpError builds an ICMP error message of the given type and code that
// quotes the datagram q.
func icmpError(t testing.TB, v6 bool, typ, code int, q []byte) []byte {
	t.Helper()
	m := icmp.Message{Code: code}
	if v6 {
		m.Type = ipv6.ICMPType(typ)
	} else {
		m.Type = ipv4.ICMPType(typ)
	}
	switch m.Type {
	case ipv4.ICMPTypeTimeExceeded, ipv6.ICMPTypeTimeExceeded:
		m.Body = &icmp.TimeExceeded{Data: q}
	case ipv4.ICMPTypeParameterProblem, ipv6.ICMPTypeParameterProblem:
		m.Body = &icmp.ParamProb{Data: q}
	case ipv6.ICMPTypePacketTooBig:
		m.Body = &icmp.PacketTooBig{MTU: 1280, Data: q}
	default:
		m.Body = &icmp.DstUnreach{Data: q}
	}
	b, err := m.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEchoRoundTrip(t *testing.T) {
	me := testIdentity()
	const seq, sent = 0xbeef, 1234567 * time.Microsecond
	for _, v6 := range []bool{false, true} {
		for _, raw := range []bool{false, true} {
			rep := replyTo(t, v6, request(t, v6, me, hostOf(v6), seq, sent))
			family, wantTTL := 4, 0
			if v6 {
				family = 6
			} else if raw {
				rep, wantTTL = ipv4Packet(testHost, testUs, protoICMP, 57, rep), 57
			}
			p, err := parseTest(family, raw, rep, me)
			if err != nil {
				t.Fatalf("v6=%v raw=%v: %v", v6, raw, err)
			}
			want := packet{seq: seq, sent: sent, hasSent: true, ttl: wantTTL}
			if p != want {
				t.Errorf("v6=%v raw=%v: got %+v, want %+v", v6, raw, p, want)
			}
		}
	}
}

func TestMarshalEcho(t *testing.T) {
	me := testIdentity()
	b := request(t, false, me, testHost, 7, 42)
	m, err := icmp.ParseMessage(protoICMP, b)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := m.Body.(*icmp.Echo)
	if m.Type != ipv4.ICMPTypeEcho || !ok || e.ID != 0x1234 || e.Seq != 7 || len(e.Data) != payloadLen {
		t.Fatalf("got %+v %+v", m, m.Body)
	}
	// An ICMPv4 checksum over the whole message sums to 0xffff.
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	if sum != 0xffff {
		t.Errorf("bad checksum: sum %#x", sum)
	}
	if b6 := request(t, true, me, testHost6, 7, 42); b6[0] != 128 {
		t.Errorf("IPv6 echo request type %d, want 128", b6[0])
	}
}

func TestErrorQuotingV4(t *testing.T) {
	me := testIdentity()
	const seq, sent = 9, 5 * time.Second
	req := request(t, false, me, testHost, seq, sent)
	quotedFull := ipv4Packet(testUs, testHost, protoICMP, 63, req)
	quotedShort := quotedFull[:ipv4.HeaderLen+8] // RFC 792 minimum: the echo header only

	tests := []struct {
		name      string
		typ, code int
		quoted    []byte
		hasSent   bool
		text      string
		unreach   bool
	}{
		{"host unreachable", 3, 1, quotedFull, true, "host unreachable", true},
		{"net unreachable, short quote", 3, 0, quotedShort, false, "network unreachable", true},
		{"admin prohibited", 3, 13, quotedFull, true, "communication administratively prohibited", true},
		{"ttl exceeded", 11, 0, quotedFull, true, "TTL exceeded in transit", false},
		{"parameter problem", 12, 0, quotedShort, false, "parameter problem", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := ipv4Packet(testRouter, testUs, protoICMP, 64, icmpError(t, false, tt.typ, tt.code, tt.quoted))
			p, err := parseTest(4, true, pkt, me)
			if err != nil {
				t.Fatal(err)
			}
			want := packet{seq: seq, hasSent: tt.hasSent, ttl: 64, isErr: true, typ: tt.typ, code: tt.code, dst: testHost}
			if tt.hasSent {
				want.sent = sent
			}
			if p != want {
				t.Fatalf("got %+v, want %+v", p, want)
			}
			e := &ICMPError{From: testRouter, Type: p.typ, Code: p.code, Text: icmpErrorText(false, p.typ, p.code)}
			if e.Text != tt.text {
				t.Errorf("text %q, want %q", e.Text, tt.text)
			}
			if errors.Is(e, ErrUnreachable) != tt.unreach || errors.Is(e, ErrTimeExceeded) != (tt.typ == 11) {
				t.Errorf("%v: errors.Is does not match type %d", e, tt.typ)
			}
		})
	}
}

func TestErrorQuotingV6(t *testing.T) {
	me := testIdentity()
	const seq, sent = 0xffff, time.Millisecond
	req := request(t, true, me, testHost6, seq, sent)
	quoted := ipv6Packet(testUs6, testHost6, protoICMPv6, req)
	for _, tt := range []struct {
		typ, code int
		text      string
	}{
		{1, 3, "address unreachable"},
		{1, 0, "no route to destination"},
		{1, 1, "communication administratively prohibited"},
		{3, 0, "hop limit exceeded in transit"},
		{2, 0, "packet too big"},
		{4, 0, "parameter problem"},
	} {
		p, err := parseTest(6, true, icmpError(t, true, tt.typ, tt.code, quoted), me)
		if err != nil {
			t.Fatalf("type %d: %v", tt.typ, err)
		}
		want := packet{seq: seq, sent: sent, hasSent: true, isErr: true, typ: tt.typ, code: tt.code, dst: testHost6}
		if p != want {
			t.Errorf("got %+v, want %+v", p, want)
		}
		if got := icmpErrorText(true, tt.typ, tt.code); got != tt.text {
			t.Errorf("type %d code %d: text %q, want %q", tt.typ, tt.code, got, tt.text)
		}
		e := &ICMPError{From: testRtr6, Type: tt.typ, Code: tt.code}
		if errors.Is(e, ErrUnreachable) != (tt.typ == 1) || errors.Is(e, ErrTimeExceeded) != (tt.typ == 3) {
			t.Errorf("%d/%d: errors.Is does not match the IPv6 type", tt.typ, tt.code)
		}
	}
}

// TestRejections feeds parseReply what a raw socket sees besides our
// answers, and broken packets, and checks each is refused for its reason.
func TestRejections(t *testing.T) {
	me := testIdentity()
	other := me
	other.id++
	stranger := me
	stranger.key.k1++

	req := request(t, false, me, testHost, 1, time.Second)
	rep := replyTo(t, false, req)
	raw4 := func(icmpMsg []byte) []byte { return ipv4Packet(testHost, testUs, protoICMP, 64, icmpMsg) }
	quote4 := func(q []byte) []byte { return raw4(icmpError(t, false, 3, 1, q)) }
	req6 := request(t, true, me, testHost6, 1, time.Second)

	// Correctly tagged, so that only the time is wrong.
	negTime := replyTo(t, false, request(t, false, me, testHost, 1, time.Duration(math.MinInt64)))
	badIHL := raw4(rep)
	badIHL[0] = 4<<4 | 15 // claims 60 bytes of header
	shortIHL := raw4(rep)
	shortIHL[0] = 4<<4 | 3
	v6InV4 := raw4(rep)
	v6InV4[0] = 6<<4 | 5
	udp := ipv4Packet(testHost, testUs, 17, 64, rep)
	partialCookie := ipv4Packet(testUs, testHost, protoICMP, 64, request(t, false, me, testHost, 1, 0)[:8+2])
	zeroLenUnreach := raw4([]byte{3, 1, 0, 0, 0, 0, 0, 0})

	tests := []struct {
		name   string
		family int
		raw    bool
		b      []byte
		want   error
	}{
		{"empty", 4, false, nil, errTruncated},
		{"3 bytes", 4, false, rep[:3], errTruncated},
		{"echo header only", 4, false, rep[:8], errTruncated},
		{"payload cut", 4, false, rep[:8+payloadLen-1], errTruncated},
		{"IP header only", 4, true, raw4(nil)[:ipv4.HeaderLen], errTruncated},
		{"IP header cut", 4, true, raw4(rep)[:12], errBadHeader},
		{"IHL beyond packet", 4, true, badIHL[:40], errBadHeader},
		{"IHL below minimum", 4, true, shortIHL, errBadHeader},
		{"version 6 in IPv4", 4, true, v6InV4, errBadHeader},
		{"not ICMP", 4, true, udp, errBadHeader},
		{"wrong id", 4, false, replyTo(t, false, request(t, false, other, testHost, 1, 0)), errForeign},
		{"wrong key", 4, false, replyTo(t, false, request(t, false, stranger, testHost, 1, 0)), errWrongHost},
		{"wrong key raw", 4, true, raw4(replyTo(t, false, request(t, false, stranger, testHost, 1, 0))), errWrongHost},
		{"negative send time", 4, false, negTime, errBadSendTime},
		{"our own request", 4, false, req, errUnexpected},
		{"IPv6 reply on IPv4", 4, false, replyTo(t, true, req6), errUnexpected},
		{"redirect", 4, true, raw4(append([]byte{5, 1, 0, 0, 198, 18, 0, 9}, ipv4Packet(testUs, testHost, 1, 64, req)...)), errUnexpected},
		{"router advertisement", 6, true, []byte{134, 0, 0, 0, 64, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0}, errUnexpected},
		{"unreachable quoting nothing", 4, true, zeroLenUnreach, errBadQuote},
		{"quote of a UDP datagram", 4, true, quote4(ipv4Packet(testUs, testHost, 17, 64, make([]byte, 16))), errBadQuote},
		{"quote of an IPv6 header", 4, true, quote4(ipv6Packet(testUs6, testHost6, 58, req6)), errBadQuote},
		{"quote of an echo reply", 4, true, quote4(ipv4Packet(testUs, testHost, 1, 64, rep)), errBadQuote},
		{"quote cut in the echo header", 4, true, quote4(ipv4Packet(testUs, testHost, 1, 64, req)[:ipv4.HeaderLen+6]), errTruncated},
		{"quote of someone else's id", 4, true, quote4(ipv4Packet(testUs, testHost, 1, 64, request(t, false, other, testHost, 1, 0))), errForeign},
		{"quote of someone else's key", 4, true, quote4(ipv4Packet(testUs, testHost, 1, 64, request(t, false, stranger, testHost, 1, 0))), errWrongHost},
		{"quote cutting the tag short", 4, true, quote4(partialCookie), errTruncated},
		{"quote of a packet to 0.0.0.0", 4, true, quote4(ipv4Packet(testUs, netip.IPv4Unspecified(), 1, 64, req)), errForeign},
		{"quote of a packet to ::", 6, true, icmpError(t, true, 1, 3, ipv6Packet(testUs6, netip.IPv6Unspecified(), 58, req6)), errForeign},
		{"quote of a packet to a mapped address", 6, true, icmpError(t, true, 1, 3, ipv6Packet(testUs6, netip.MustParseAddr("::ffff:198.18.3.1"), 58, req6)), errForeign},
		{"IPv6 quote with extension header", 6, true, icmpError(t, true, 1, 3, ipv6Packet(testUs6, testHost6, 0, req6)), errBadQuote},
		{"IPv6 quote cut", 6, true, icmpError(t, true, 1, 3, ipv6Packet(testUs6, testHost6, 58, req6)[:39]), errBadQuote},
		{"IPv6 wrong id", 6, true, replyTo(t, true, request(t, true, other, testHost6, 1, 0)), errForeign},
		{"IPv6 wrong key", 6, false, replyTo(t, true, request(t, true, stranger, testHost6, 1, 0)), errWrongHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseTest(tt.family, tt.raw, tt.b, me)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("rejected with %q, want %q", err, tt.want)
			}
		})
	}
	if _, err := parseTest(5, false, rep, me); err == nil {
		t.Error("family 5 accepted")
	}
}

// TestParseQuotedEcho covers the error-queue path, where the kernel returns
// the echo request alone.
func TestParseQuotedEcho(t *testing.T) {
	me := testIdentity()
	for _, v6 := range []bool{false, true} {
		req := request(t, v6, me, hostOf(v6), 77, time.Minute)
		seq, sent, hasSent, err := parseQuotedEcho(v6, req, &me, hostOf(v6))
		if err != nil || seq != 77 || sent != time.Minute || !hasSent {
			t.Errorf("v6=%v: got %d %v %v %v", v6, seq, sent, hasSent, err)
		}
		seq, _, hasSent, err = parseQuotedEcho(v6, req[:8], &me, hostOf(v6))
		if err != nil || seq != 77 || hasSent {
			t.Errorf("v6=%v header only: got %d %v %v", v6, seq, hasSent, err)
		}
		if _, _, _, err := parseQuotedEcho(!v6, req, &me, hostOf(v6)); !errors.Is(err, errBadQuote) {
			t.Errorf("v6=%v: request of the other family: %v", v6, err)
		}
		if _, _, _, err := parseQuotedEcho(v6, req[:7], &me, hostOf(v6)); !errors.Is(err, errTruncated) {
			t.Errorf("v6=%v: 7 bytes: %v", v6, err)
		}
	}
}

func TestICMPErrorText(t *testing.T) {
	for _, tt := range []struct {
		v6        bool
		typ, code int
		want      string
	}{
		{false, 3, 3, "port unreachable"},
		{false, 3, 10, "host administratively prohibited"},
		{false, 3, 99, "destination unreachable (code 99)"},
		{false, 11, 1, "fragment reassembly time exceeded"},
		{false, 42, 0, "ICMP type 42 code 0"},
		{true, 1, 4, "port unreachable"},
		{true, 1, 6, "reject route to destination"},
		{true, 1, -1, "destination unreachable (code -1)"},
		{true, 3, 1, "fragment reassembly time exceeded"},
		{true, 200, 0, "ICMPv6 type 200 code 0"},
	} {
		if got := icmpErrorText(tt.v6, tt.typ, tt.code); got != tt.want {
			t.Errorf("v6=%v %d/%d: %q, want %q", tt.v6, tt.typ, tt.code, got, tt.want)
		}
	}
}

// FuzzParseReply checks that no input makes the parser panic, and that
// what it accepts really carries our identity.
func FuzzParseReply(f *testing.F) {
	me := testIdentity()
	req := request(f, false, me, testHost, 1, time.Second)
	req6 := request(f, true, me, testHost6, 1, time.Second)
	rep := replyTo(f, false, req)
	f.Add(byte(4), false, rep)
	f.Add(byte(4), true, ipv4Packet(testHost, testUs, 1, 64, rep))
	f.Add(byte(6), false, replyTo(f, true, req6))
	f.Add(byte(4), true, ipv4Packet(testRouter, testUs, 1, 64, icmpError(f, false, 3, 1, ipv4Packet(testUs, testHost, 1, 64, req))))
	f.Add(byte(4), true, ipv4Packet(testRouter, testUs, 1, 64, icmpError(f, false, 11, 0, ipv4Packet(testUs, testHost, 1, 64, req[:8]))))
	f.Add(byte(6), true, icmpError(f, true, 1, 3, ipv6Packet(testUs6, testHost6, 58, req6)))
	f.Add(byte(6), true, icmpError(f, true, 3, 0, ipv6Packet(testUs6, testHost6, 58, req6[:8])))
	f.Add(byte(4), false, req)
	f.Add(byte(4), true, []byte{0x4f, 0, 0, 0})

	f.Fuzz(func(t *testing.T, family byte, raw bool, b []byte) {
		fam := 4
		if family&1 == 1 {
			fam = 6
		}
		p, err := parseTest(fam, raw, b, me)
		if err == nil {
			if p.isErr {
				if !p.dst.IsValid() || p.dst.IsUnspecified() || p.dst.Is6() != (fam == 6) {
					t.Errorf("accepted an error quoting destination %v", p.dst)
				}
				if icmpErrorText(fam == 6, p.typ, p.code) == "" {
					t.Error("no text for an accepted error")
				}
			} else if !p.hasSent || p.sent < 0 {
				t.Errorf("accepted echo reply without a valid send time: %+v", p)
			}
			// Whatever we accept must carry the tag of its request
			// (from the probed host, or quoting a request to p.dst),
			// or, for a short quote, at least our identifier.
			dst := hostOf(fam == 6)
			if p.isErr {
				dst = p.dst
			}
			var sent [8]byte
			binary.BigEndian.PutUint64(sent[:], uint64(p.sent))
			tag := me.tag(dst, p.seq, sent[:])
			if !bytes.Contains(b, tag[:]) && !(p.isErr && !p.hasSent && bytes.Contains(b, []byte{0x12, 0x34})) {
				t.Errorf("accepted a packet without the tag of its request: %x", b)
			}
		}
		seq, sent, hasSent, err := parseQuotedEcho(fam == 6, b, &me, hostOf(fam == 6))
		if err == nil {
			if len(b) < 8 || binary.BigEndian.Uint16(b[6:8]) != seq || (hasSent && sent < 0) {
				t.Errorf("parseQuotedEcho(%x) = %d %v %v", b, seq, sent, hasSent)
			}
		}
	})
}

// TestSipHash24 checks the keyed hash against the reference vector of the
// SipHash paper (appendix A): key 00..0f, message 00..0e.
func TestSipHash24(t *testing.T) {
	k := tagKey{0x0706050403020100, 0x0f0e0d0c0b0a0908}
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	if got, want := sipHash24(k, msg), uint64(0xa129ca6149be45e5); got != want {
		t.Errorf("SipHash-2-4 = %#x, want %#x", got, want)
	}
	// The empty message, from the reference implementation's vectors.
	if got, want := sipHash24(k, nil), uint64(0x726fdb47dd0e0e31); got != want {
		t.Errorf("SipHash-2-4 of nothing = %#x, want %#x", got, want)
	}
}

// TestTagBindsDestination: an answer is credited only to the request that
// caused it. A reply from one probed host carrying the tag of the request
// to another, and an error quoting a request as if it had gone to another
// host, are refused; a multicast group's members are accepted only for a
// group that was pinged.
func TestTagBindsDestination(t *testing.T) {
	me := testIdentity()
	other4, other6 := netip.MustParseAddr("198.18.3.2"), netip.MustParseAddr("2001:db8:1::5")
	group6 := netip.MustParseAddr("ff02::1")
	for _, v6 := range []bool{false, true} {
		host, other, fam := testHost, other4, 4
		if v6 {
			host, other, fam = testHost6, other6, 6
		}
		// The same sequence number, as a sweep's first round sends.
		forOther := replyTo(t, v6, request(t, v6, me, other, 1, 0))
		if _, err := parseReply(fam, false, forOther, &me, host, nil); !errors.Is(err, errWrongHost) {
			t.Errorf("v6=%v: %s answering with the request to %s: %v, want errWrongHost", v6, host, other, err)
		}
		if _, err := parseReply(fam, false, forOther, &me, other, nil); err != nil {
			t.Errorf("v6=%v: %s answering for itself: %v", v6, other, err)
		}
		// The tag binds the sequence number too.
		if _, err := parseReply(fam, false, replyTo(t, v6, request(t, v6, me, host, 2, 0)), &me, host, nil); err != nil {
			t.Errorf("v6=%v: own reply with seq 2: %v", v6, err)
		}
		b := replyTo(t, v6, request(t, v6, me, host, 2, 0))
		binary.BigEndian.PutUint16(b[6:], 3)
		if _, err := parseReply(fam, false, b, &me, host, nil); !errors.Is(err, errWrongHost) {
			t.Errorf("v6=%v: reply with its sequence number changed: %v, want errWrongHost", v6, err)
		}
		// And the send time: a forged one would fake the round trip.
		b = replyTo(t, v6, func() []byte {
			r := request(t, v6, me, host, 2, time.Second)
			binary.BigEndian.PutUint64(r[8+tagLen:], uint64(time.Millisecond))
			return r
		}())
		if _, err := parseReply(fam, false, b, &me, host, nil); !errors.Is(err, errWrongHost) {
			t.Errorf("v6=%v: reply with its send time changed: %v, want errWrongHost", v6, err)
		}

		// An error quoting the request to other, its destination
		// rewritten to host.
		req := request(t, v6, me, other, 1, 0)
		var pkt []byte
		if v6 {
			pkt = icmpError(t, true, 1, 3, ipv6Packet(testUs6, host, 58, req))
		} else {
			pkt = ipv4Packet(testRouter, testUs, 1, 64, icmpError(t, false, 3, 1, ipv4Packet(testUs, host, 1, 64, req)))
		}
		if _, err := parseReply(fam, !v6, pkt, &me, testRouter, nil); !errors.Is(err, errWrongHost) {
			t.Errorf("v6=%v: error quoting the request to %s as sent to %s: %v, want errWrongHost", v6, other, host, err)
		}
		if _, _, _, err := parseQuotedEcho(v6, req, &me, host); !errors.Is(err, errWrongHost) {
			t.Errorf("v6=%v: error queue entry for %s with the request to %s: %v, want errWrongHost", v6, host, other, err)
		}
	}

	// All-nodes: each member answers from its own address.
	member := netip.MustParseAddr("fe80::1")
	rep := replyTo(t, true, request(t, true, me, group6.WithZone("3"), 5, 0))
	if _, err := parseReply(6, false, rep, &me, member, nil); !errors.Is(err, errWrongHost) {
		t.Errorf("member of a group never pinged: %v, want errWrongHost", err)
	}
	if _, err := parseReply(6, false, rep, &me, member, []netip.Addr{group6}); err != nil {
		t.Errorf("member of a pinged group: %v", err)
	}
	if _, err := parseReply(4, false, replyTo(t, false, request(t, false, me, netip.MustParseAddr("224.0.0.1"), 5, 0)),
		&me, testHost, []netip.Addr{group6}); !errors.Is(err, errWrongHost) {
		t.Errorf("IPv4 group answered although only an IPv6 group was pinged: %v", err)
	}
}
