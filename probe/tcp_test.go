//go:build linux

package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netscanner/internal/testnet"
)

// nsDial connects from inside the named namespace. Only the socket is
// created there (a socket belongs to the namespace of the thread that
// created it, for life); the connect and the wait may run on any thread.
func nsDial(name string) func(context.Context, netip.Addr, uint16) (*ICMPError, error) {
	socket := func(family int) (fd int, err error) {
		if e := testnet.Do(name, func() { fd, err = streamSocket(family) }); e != nil {
			return -1, e
		}
		return fd, err
	}
	return func(ctx context.Context, dst netip.Addr, port uint16) (*ICMPError, error) {
		return socketDial(ctx, socket, dst, port)
	}
}

func TestTCPRouted(t *testing.T) {
	n := testnet.NewRouted(t)
	// Both ports reset on a live host: one reply each all the same.
	c := openTCP(Options{Timeout: time.Second, TCPPorts: []uint16{80, 443}}, nsDial(n.Scanner.Name))
	defer c.Close()
	if c.Method() != TCP {
		t.Errorf("Method() = %v", c.Method())
	}
	live, live6, dead, unr := n.Live[0], n.LiveV6[0], n.Dead[0], n.Unreachable[0]
	for i, a := range []netip.Addr{live, live6, dead, unr} {
		if err := c.Send(context.Background(), a, uint16(10+i)); err != nil {
			t.Fatalf("Send %s: %v", a, err)
		}
	}
	got := collect(t, c, 3*time.Second)

	for i, a := range []netip.Addr{live, live6} {
		rs := got[a]
		if len(rs) != 1 {
			t.Errorf("%s: got %d replies %+v, want exactly 1", a, len(rs), rs)
			continue
		}
		if r := rs[0]; r.Err != nil || r.Reason != "tcp-rst" || r.From != a || r.Seq != uint16(10+i) ||
			r.Method != TCP || r.RTT <= 0 {
			t.Errorf("%s: reply %+v, want tcp-rst from it with seq %d", a, r, 10+i)
		}
	}
	if rs := got[dead]; len(rs) != 0 {
		t.Errorf("dead %s answered: %+v", dead, rs)
	}
	rs := got[unr]
	if len(rs) != 1 {
		t.Fatalf("unreachable %s: got %+v, want one error", unr, rs)
	}
	var ie *ICMPError
	r := rs[0]
	if !errors.Is(r.Err, ErrUnreachable) || !errors.As(r.Err, &ie) || r.Reason != "" || r.Seq != 13 {
		t.Fatalf("unreachable %s: reply %+v, want an ICMP error matching ErrUnreachable", unr, r)
	}
	router := netip.MustParseAddr("198.18.0.2")
	if ie.From != router || r.From != router || ie.Type != 3 || ie.Code != 1 || ie.Text != "host unreachable" {
		t.Errorf("ICMP error %+v (reply from %s), want host unreachable (3/1) from %s", ie, r.From, router)
	}
}

// TestTCPOpen listens on live addresses inside the router's namespace, so
// the connects are accepted.
func TestTCPOpen(t *testing.T) {
	n := testnet.NewRouted(t)
	var lns []net.Listener
	for _, a := range []netip.Addr{n.Live[0], n.LiveV6[0]} {
		var ln net.Listener
		var err error
		// Never t.Fatal inside Do: its thread is in the namespace.
		n.Router.Do(func() { ln, err = listenAny(a, 8080) })
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	c := openTCP(Options{Timeout: time.Second, TCPPorts: []uint16{8080}}, nsDial(n.Scanner.Name))
	defer c.Close()
	for _, a := range []netip.Addr{n.Live[0], n.LiveV6[0]} {
		if err := c.Send(context.Background(), a, 5); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-c.Replies():
			if r.Addr != a || r.Err != nil || r.Reason != "tcp-open" || r.Seq != 5 || r.RTT <= 0 {
				t.Errorf("%s: reply %+v, want tcp-open", a, r)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("%s: no reply", a)
		}
	}
}

// listenAny listens on a:port even where a is only routed locally (as the
// router's live addresses are) rather than assigned: IPv6 wants
// IPV6_FREEBIND for that, IPv4 takes the local route as it is.
func listenAny(a netip.Addr, port uint16) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if a.Is6() {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, 1)
			}
		})
		return errors.Join(err, serr)
	}}
	return lc.Listen(context.Background(), "tcp", netip.AddrPortFrom(a, port).String())
}

// TestTCPNoRoute: a namespace without routes refuses the connect at once.
func TestTCPNoRoute(t *testing.T) {
	ns := testnet.NewNS(t, "tcpnoroute")
	c := openTCP(Options{Timeout: time.Second, TCPPorts: []uint16{80}}, nsDial(ns.Name))
	defer c.Close()
	dst := netip.MustParseAddr("198.18.0.9")
	if err := c.Send(context.Background(), dst, 1); err != nil {
		t.Fatal(err)
	}
	rs := collect(t, c, 2*time.Second)[dst]
	var se *SendError
	if len(rs) != 1 || !errors.Is(rs[0].Err, ErrUnreachable) || !errors.As(rs[0].Err, &se) {
		t.Fatalf("got %+v, want one SendError matching ErrUnreachable", rs)
	}
}

// TestTCPPoolAndClose checks that Send waits for a free slot only as long
// as its ctx allows, and that Close aborts connects that would otherwise
// wait out a long timeout.
func TestTCPPoolAndClose(t *testing.T) {
	n := testnet.NewRouted(t)
	c := openTCP(Options{Timeout: time.Minute, Concurrency: 1, TCPPorts: []uint16{80, 443}}, nsDial(n.Scanner.Name))

	// The first port of the dead host takes the only slot and keeps it;
	// the second cannot start.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err := c.Send(ctx, n.Dead[0], 1)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send on a full pool: %v, want context.DeadlineExceeded", err)
	}
	// Another Send waits for the slot the cancelled one gives back.
	go func() { _ = c.Send(context.Background(), n.Dead[1], 2) }()

	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Close took %v: it waited for the connects instead of aborting them", d)
	}
	if r, ok := <-c.Replies(); ok {
		t.Errorf("reply after Close: %+v", r)
	}
	if err := c.Send(context.Background(), n.Live[0], 3); err == nil {
		t.Error("Send after Close succeeded")
	}
}

func TestTCPBadTarget(t *testing.T) {
	c := openTCP(Options{}, systemDial)
	defer c.Close()
	if err := c.Send(context.Background(), netip.Addr{}, 1); err == nil {
		t.Error("the zero Addr was accepted")
	}
	if err := c.Send(context.Background(), netip.MustParseAddr("fe80::1%no-such-if0"), 1); err == nil {
		t.Error("a zone naming no interface was accepted")
	}
}
