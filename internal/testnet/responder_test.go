package testnet

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

var (
	testLAN4 = netip.MustParsePrefix("198.18.4.0/24")
	testLAN6 = netip.MustParsePrefix("2001:db8:4::/120")
)

// ping runs the system ping in the scanner namespace and returns its output
// and whether any reply came back.
func ping(t *testing.T, ns *NS, args ...string) (string, bool) {
	t.Helper()
	out, err := ns.Command(Root, append([]string{"ping", "-n"}, args...)...).CombinedOutput()
	return string(out), err == nil
}

var rttRE = regexp.MustCompile(`icmp_seq=(\d+) ttl=\d+ time=([0-9.]+) ms`)

// replies parses ping's reply lines into sequence numbers and round trips.
func replies(t *testing.T, out string) (seqs []int, rtts []time.Duration) {
	t.Helper()
	for _, m := range rttRE.FindAllStringSubmatch(out, -1) {
		seq, _ := strconv.Atoi(m[1])
		ms, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("bad time in %q", m[0])
		}
		seqs = append(seqs, seq)
		rtts = append(rtts, time.Duration(ms*float64(time.Millisecond)))
	}
	return seqs, rtts
}

// TestResponder drives the responder with iputils ping, which checks the
// identifier, sequence number and payload of every reply it accepts.
func TestResponder(t *testing.T) {
	n := NewResponderLAN(t, testLAN4, testLAN6)
	var (
		fast    = netip.MustParseAddr("198.18.4.10")
		slow    = netip.MustParseAddr("198.18.4.20")
		shy     = netip.MustParseAddr("198.18.4.30")
		dup     = netip.MustParseAddr("198.18.4.40")
		absent  = netip.MustParseAddr("198.18.4.50")
		slowShy = netip.MustParseAddr("2001:db8:4::2a")
		fast6   = netip.MustParseAddr("2001:db8:4::1")
		absent6 = netip.MustParseAddr("2001:db8:4::3")
	)
	r := StartResponder(t, n.Router, map[netip.Addr]Behavior{
		fast:    {},
		slow:    {Delay: 200 * time.Millisecond},
		shy:     {DropFirst: 1},
		dup:     {Duplicate: 1},
		fast6:   {},
		slowShy: {Delay: 200 * time.Millisecond, DropFirst: 1},
	})

	t.Run("payload", func(t *testing.T) {
		for _, a := range []netip.Addr{fast, fast6} {
			// An odd size and a pattern make a mangled payload show.
			out, ok := ping(t, n.Scanner, "-c", "3", "-i", "0.2", "-W", "1", "-s", "101", "-p", "a5c3", a.String())
			if !ok {
				t.Fatalf("%s: no reply:\n%s", a, out)
			}
			if strings.Contains(out, "wrong data") || strings.Contains(out, "DUP!") {
				t.Errorf("%s: reply differs from request:\n%s", a, out)
			}
			if !strings.Contains(out, "109 bytes from "+a.String()) {
				t.Errorf("%s: want 109-byte replies from the probed address:\n%s", a, out)
			}
			if seqs, _ := replies(t, out); fmt.Sprint(seqs) != "[1 2 3]" {
				t.Errorf("%s: icmp_seq %v, want [1 2 3]:\n%s", a, seqs, out)
			}
			if c := r.Counts(a); c != (Counts{Requests: 3, Replies: 3}) {
				t.Errorf("%s: counts %+v, want 3 requests and 3 replies", a, c)
			}
		}
	})

	t.Run("delay", func(t *testing.T) {
		out, ok := ping(t, n.Scanner, "-c", "1", "-W", "2", slow.String())
		if !ok {
			t.Fatalf("no reply:\n%s", out)
		}
		if _, rtts := replies(t, out); len(rtts) != 1 || rtts[0] < 200*time.Millisecond {
			t.Errorf("round trip %v, want one of at least 200ms:\n%s", rtts, out)
		}
	})

	t.Run("drop first", func(t *testing.T) {
		if out, ok := ping(t, n.Scanner, "-c", "1", "-W", "1", shy.String()); ok {
			t.Errorf("first request answered:\n%s", out)
		}
		if out, ok := ping(t, n.Scanner, "-c", "1", "-W", "1", shy.String()); !ok {
			t.Errorf("second request not answered:\n%s", out)
		}
		if c := r.Counts(shy); c != (Counts{Requests: 2, Replies: 1}) {
			t.Errorf("counts %+v, want 2 requests and 1 reply", c)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		// ping quits at the last reply it waits for; a second request
		// keeps it listening while the first one's duplicate arrives.
		out, ok := ping(t, n.Scanner, "-c", "2", "-i", "0.2", "-W", "1", dup.String())
		if !ok || !regexp.MustCompile(`icmp_seq=1 .*\(DUP!\)`).MatchString(out) {
			t.Errorf("want replies and a duplicate of the first:\n%s", out)
		}
		// The last duplicate may still be on its way when ping exits.
		deadline := time.Now().Add(time.Second)
		for r.Counts(dup).Replies < 4 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if c := r.Counts(dup); c != (Counts{Requests: 2, Replies: 4}) {
			t.Errorf("counts %+v, want 2 requests and 4 replies", c)
		}
	})

	t.Run("absent", func(t *testing.T) {
		before := r.Stray()
		for _, a := range []netip.Addr{absent, absent6} {
			if out, ok := ping(t, n.Scanner, "-c", "1", "-W", "1", a.String()); ok {
				t.Errorf("%s answered though not configured:\n%s", a, out)
			}
		}
		if got := r.Stray() - before; got != 2 {
			t.Errorf("stray requests %d, want 2 (the responder must see them and stay silent)", got)
		}
	})

	t.Run("only echo answered", func(t *testing.T) {
		// TCP: silence, not the kernel's reset, even for a configured host.
		for _, a := range []netip.Addr{fast, absent, fast6} {
			var err error
			n.Scanner.Do(func() {
				var c net.Conn
				if c, err = net.DialTimeout("tcp", netip.AddrPortFrom(a, 80).String(), 300*time.Millisecond); err == nil {
					c.Close()
				}
			})
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Errorf("TCP to %s: %v, want a timeout", a, err)
			}
		}
		// ICMP timestamp: the kernel would answer it for any address.
		var c *icmp.PacketConn
		n.Scanner.Do(func() {
			var err error
			if c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0"); err != nil {
				t.Fatal(err)
			}
		})
		defer c.Close()
		m := icmp.Message{Type: ipv4.ICMPTypeTimestamp, Body: &icmp.RawBody{Data: make([]byte, 16)}}
		b, err := m.Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WriteTo(b, &net.IPAddr{IP: fast.AsSlice()}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			nr, from, err := c.ReadFrom(buf)
			if err != nil {
				break
			}
			if m, err := icmp.ParseMessage(1, buf[:nr]); err == nil && m.Type == ipv4.ICMPTypeTimestampReply {
				t.Errorf("timestamp reply from %v", from)
			}
		}
	})

	t.Run("IPv6 delay and drop first", func(t *testing.T) {
		if out, ok := ping(t, n.Scanner, "-c", "1", "-W", "1", slowShy.String()); ok {
			t.Errorf("first request answered:\n%s", out)
		}
		out, ok := ping(t, n.Scanner, "-c", "1", "-W", "2", slowShy.String())
		if !ok {
			t.Fatalf("second request not answered:\n%s", out)
		}
		if _, rtts := replies(t, out); len(rtts) != 1 || rtts[0] < 200*time.Millisecond {
			t.Errorf("round trip %v, want one of at least 200ms:\n%s", rtts, out)
		}
		if c := r.Counts(slowShy); c != (Counts{Requests: 2, Replies: 1}) {
			t.Errorf("counts %+v, want 2 requests and 1 reply", c)
		}
	})

	if err := r.Err(); err != nil {
		t.Errorf("responder: %v", err)
	}
}

// TestResponderBadInput checks that nonsense is refused before any socket
// is opened.
func TestResponderBadInput(t *testing.T) {
	for _, b := range []Behavior{{Delay: -1}, {DropFirst: -1}, {Duplicate: -1}} {
		if _, err := Listen("no-such-namespace", map[netip.Addr]Behavior{netip.MustParseAddr("198.18.4.1"): b}); err == nil {
			t.Errorf("%+v: no error", b)
		}
	}
	if _, err := Listen("no-such-namespace", map[netip.Addr]Behavior{{}: {}}); err == nil {
		t.Error("invalid address: no error")
	}
	if _, err := Listen("no-such-namespace", nil); err == nil {
		t.Error("missing namespace: no error")
	}
}

// TestKernelLAN checks that live addresses answer and the rest of the
// prefix stays silent, with enough live hosts to need the batch.
func TestKernelLAN(t *testing.T) {
	p := netip.MustParsePrefix("198.18.8.0/22")
	var live []netip.Addr
	for a, i := p.Addr(), 0; p.Contains(a); a, i = a.Next(), i+1 {
		if i%3 == 1 {
			live = append(live, a)
		}
	}
	n := NewKernelLAN(t, p, live)
	for _, a := range []netip.Addr{live[0], live[len(live)-1]} {
		if out, ok := ping(t, n.Scanner, "-c", "1", "-W", "1", a.String()); !ok {
			t.Errorf("live %s: no reply:\n%s", a, out)
		}
	}
	for _, a := range []netip.Addr{live[0].Next(), netip.MustParseAddr("198.18.11.255")} {
		if out, ok := ping(t, n.Scanner, "-c", "1", "-W", "1", a.String()); ok {
			t.Errorf("dead %s answered:\n%s", a, out)
		}
	}
}

func TestCheckLANPrefix(t *testing.T) {
	for _, s := range []string{"198.18.4.0/24", "198.19.0.0/16", "2001:db8:4::/120"} {
		if err := checkLANPrefix(netip.MustParsePrefix(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"10.0.0.0/24", "198.18.0.0/15", "198.18.0.0/24", "198.18.4.1/24", "2001:db8::/64", "2001:db9::/48"} {
		if err := checkLANPrefix(netip.MustParsePrefix(s)); err == nil {
			t.Errorf("%s: accepted", s)
		}
	}
}

// TestResponderMany sweeps a thousand hosts with delays spread over half a
// second from a raw socket in the scanner namespace: every host answers
// exactly once, with its own sequence number, after at least its delay.
func TestResponderMany(t *testing.T) {
	p := netip.MustParsePrefix("198.18.8.0/22")
	n := NewResponderLAN(t, p, netip.Prefix{})
	hosts := map[netip.Addr]Behavior{}
	var addrs []netip.Addr
	for a, i := p.Addr().Next(), 0; p.Contains(a) && i < 1000; a, i = a.Next(), i+1 {
		hosts[a] = Behavior{Delay: time.Duration(i%500) * time.Millisecond}
		addrs = append(addrs, a)
	}
	r := StartResponder(t, n.Router, hosts)

	var c *icmp.PacketConn
	n.Scanner.Do(func() {
		var err error
		if c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0"); err != nil {
			t.Fatal(err)
		}
	})
	defer c.Close()
	const id = 0x4e53
	sent := make(map[netip.Addr]time.Time, len(addrs))
	for i, a := range addrs {
		m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: i, Data: []byte("netscanner")}}
		b, err := m.Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		sent[a] = time.Now()
		if _, err := c.WriteTo(b, &net.IPAddr{IP: a.AsSlice()}); err != nil {
			t.Fatalf("send to %s: %v", a, err)
		}
	}

	got := make(map[netip.Addr]int, len(addrs))
	buf := make([]byte, 1500)
	if err := c.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for len(got) < len(addrs) {
		nr, from, err := c.ReadFrom(buf)
		if err != nil {
			break // deadline: report below what is missing
		}
		m, err := icmp.ParseMessage(1, buf[:nr])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		e := m.Body.(*icmp.Echo)
		a, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
		a = a.Unmap()
		i := slices.Index(addrs, a)
		switch {
		case e.ID != id:
			continue // someone else's ping
		case i < 0:
			t.Errorf("reply from unprobed %s", a)
		case e.Seq != i || string(e.Data) != "netscanner":
			t.Errorf("%s: seq %d data %q, want %d %q", a, e.Seq, e.Data, i, "netscanner")
		case time.Since(sent[a]) < hosts[a].Delay:
			t.Errorf("%s answered after %v, before its delay %v", a, time.Since(sent[a]), hosts[a].Delay)
		}
		got[a]++
	}
	for _, a := range addrs {
		if got[a] != 1 {
			t.Errorf("%s: %d replies, want 1 (responder counts %+v)", a, got[a], r.Counts(a))
		}
	}
	if err := r.Err(); err != nil {
		t.Errorf("responder: %v", err)
	}
}
