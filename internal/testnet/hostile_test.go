package testnet

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

var hostileLAN = netip.MustParsePrefix("198.18.6.0/24")

// captured is one ICMP packet seen by the probe socket.
type captured struct {
	from netip.Addr
	msg  []byte
	at   time.Duration // since the request went out
}

// probeOnce sends one echo request with a known identifier, sequence and
// payload from the scanner namespace to dst and captures every ICMP packet
// that arrives for listen.
func probeOnce(t *testing.T, n *LAN, dsts []netip.Addr, listen time.Duration) (req []byte, got []captured) {
	t.Helper()
	var c *ipv4.RawConn
	n.Scanner.Do(func() {
		l, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if c, err = ipv4.NewRawConn(l); err != nil {
			t.Fatal(err)
		}
	})
	defer c.Close()
	req = []byte{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07, 'c', 'o', 'o', 'k', 'i', 'e', '!', '!', 1, 2, 3, 4, 5, 6, 7, 8}
	fixChecksum(req)
	start := time.Now()
	for _, dst := range dsts {
		b, _ := (&Hostile{}).packet(netip.MustParseAddr("198.18.0.1"), dst, req)
		hdr, _ := ipv4.ParseHeader(b)
		if err := c.WriteTo(hdr, b[ipv4.HeaderLen:], nil); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(start.Add(listen))
	for {
		h, m, _, err := c.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return req, got
		}
		if err != nil {
			t.Fatal(err)
		}
		from, _ := netip.AddrFromSlice(h.Src.To4())
		if m[0] == 8 { // our own request, seen on the way out of some stacks
			continue
		}
		got = append(got, captured{from, append([]byte(nil), m...), time.Since(start)})
	}
}

// TestHostileSendsWhatItSays checks every kind of garbage arrives as
// described, and only for the address that is not live.
func TestHostileSendsWhatItSays(t *testing.T) {
	n := NewResponderLAN(t, hostileLAN, netip.Prefix{})
	live, dead := netip.MustParseAddr("198.18.6.9"), netip.MustParseAddr("198.18.6.5")
	const late = 300 * time.Millisecond
	h := StartHostile(t, n.Router, HostileConfig{Live: []netip.Addr{live}, LateDelay: late})

	req, got := probeOnce(t, n, []netip.Addr{live, dead}, late+400*time.Millisecond)
	want := echoReply(req)
	kinds := map[string]int{}
	for _, p := range got {
		m := p.msg
		kind := "unknown"
		switch {
		case p.from == live && bytes.Equal(m, want):
			kind = "correct"
		case p.from == live:
			kind = "garbage-from-live"
		case !hostileLAN.Contains(p.from):
			if bytes.Equal(m, want) {
				kind = Spoofed.String()
			}
		case len(m) < len(req) && m[0] == 0:
			kind = Truncated.String()
		case m[0] == 3:
			kind = ForeignError.String()
		case checksum(m) != 0:
			kind = BadChecksum.String()
		case bytes.Equal(m, want) && p.at >= late:
			kind = Late.String()
		case !bytes.Equal(m[4:6], want[4:6]):
			kind = WrongID.String()
		case !bytes.Equal(m[6:8], want[6:8]):
			kind = WrongSeq.String()
		case !bytes.Equal(m[8:], want[8:]):
			kind = WrongPayload.String()
		}
		kinds[kind]++
	}
	t.Logf("captured %v; responder: %v", kinds, h.Stats())
	expect := map[string]int{
		"correct":             1,
		Truncated.String():    2,
		BadChecksum.String():  1,
		WrongID.String():      1,
		WrongSeq.String():     1,
		WrongPayload.String(): 1,
		Spoofed.String():      1,
		Late.String():         1,
		ForeignError.String(): 3,
		"garbage-from-live":   0,
		"unknown":             0,
	}
	for k, v := range expect {
		if kinds[k] != v {
			t.Errorf("%s: got %d packets, want %d", k, kinds[k], v)
		}
	}
	if s := h.Stats(); s.LiveRequests != 1 || s.DeadRequests != 1 || s.SendErrors != 0 {
		t.Errorf("stats %v: want one request each and no send errors", s)
	}
}

// TestHostileFlood checks the flood reaches its victim at about the rate
// asked for, and stops on time.
func TestHostileFlood(t *testing.T) {
	n := NewResponderLAN(t, hostileLAN, netip.Prefix{})
	h := StartHostile(t, n.Router, HostileConfig{})

	var c *ipv4.RawConn
	n.Scanner.Do(func() {
		l, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err != nil {
			t.Fatal(err)
		}
		forceRcvBuf(l)
		if c, err = ipv4.NewRawConn(l); err != nil {
			t.Fatal(err)
		}
	})
	defer c.Close()
	recv := make(chan int64)
	go func() {
		var n int64
		buf := make([]byte, 2048)
		for {
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, _, _, err := c.ReadFrom(buf); err != nil {
				recv <- n
				return
			}
			n++
		}
	}()
	const rate, d = 20000, 500 * time.Millisecond
	st, err := h.Flood(context.Background(), netip.MustParseAddr("198.18.0.1"), rate, d)
	if err != nil {
		t.Fatal(err)
	}
	got := <-recv
	t.Logf("flood: sent %d in %v (%.0f/s), received %d", st.Sent, st.Elapsed, st.Rate(), got)
	if st.Elapsed > d+200*time.Millisecond {
		t.Errorf("flood ran %v, asked for %v", st.Elapsed, d)
	}
	want := int64(rate * d.Seconds())
	if st.Sent < want/2 || got < st.Sent/2 {
		t.Errorf("flood sent %d and %d arrived; want about %d", st.Sent, got, want)
	}
	if _, err := h.Flood(context.Background(), netip.MustParseAddr("192.0.2.1"), 1, time.Millisecond); err == nil {
		t.Error("a flood outside 198.18.0.0/15 was accepted")
	}
}
