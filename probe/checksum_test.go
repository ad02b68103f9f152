package probe

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// TestRawChecksum is the regression test for a false positive found by the
// hostile-router reliability test: Linux hands IPv4 raw sockets ICMP
// messages without checking their checksum, so a corrupted copy of the
// right echo reply made a silent host look alive through the raw method.
func TestRawChecksum(t *testing.T) {
	me := testIdentity()
	req := request(t, false, me, testHost, 7, time.Second)
	rep := replyTo(t, false, req)
	raw4 := func(icmpMsg []byte) []byte { return ipv4Packet(testHost, testUs, protoICMP, 64, icmpMsg) }
	corrupt := func(m []byte) []byte {
		m = append([]byte(nil), m...)
		binary.BigEndian.PutUint16(m[2:], binary.BigEndian.Uint16(m[2:])+1)
		return m
	}
	unreach := icmpError(t, false, 3, 1, ipv4Packet(testUs, testHost, protoICMP, 64, req))

	for _, tt := range []struct {
		name string
		raw  bool
		b    []byte
		want error
	}{
		{"raw reply", true, raw4(rep), nil},
		{"raw reply, bad checksum", true, raw4(corrupt(rep)), errBadChecksum},
		{"raw reply, zero checksum", true, raw4(func() []byte { m := append([]byte(nil), rep...); m[2], m[3] = 0, 0; return m }()), errBadChecksum},
		{"raw error", true, raw4(unreach), nil},
		{"raw error, bad checksum", true, raw4(corrupt(unreach)), errBadChecksum},
		// A ping socket's kernel has checked the checksum already.
		{"dgram reply", false, corrupt(rep), nil},
	} {
		p, err := parseTest(4, tt.raw, tt.b, me)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err == nil && p.seq != 7 {
			t.Errorf("%s: seq %d, want 7", tt.name, p.seq)
		}
	}
}
