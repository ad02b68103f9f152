//go:build linux

package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netscanner/internal/testnet"
)

// socketMethod is a socket method under test. open may fix the raw
// identifier, to prove that the tag alone keeps Conns apart.
type socketMethod struct {
	m    Method
	open func() (Conn, error)
}

func socketMethods() []socketMethod {
	return []socketMethod{
		{Dgram, func() (Conn, error) { return OpenDgram(Options{}) }},
		{Raw, func() (Conn, error) { return OpenRaw(Options{}) }},
	}
}

// openIn opens a Conn inside ns and closes it when the test ends.
func openIn(t testing.TB, ns *testnet.NS, open func() (Conn, error)) Conn {
	t.Helper()
	var c Conn
	var err error
	ns.Do(func() { c, err = open() })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// routedForSockets builds the routed test network and lets every group
// open datagram ICMP sockets in the scanner's namespace.
//
// Mind the router's budget of unreachable answers: Linux sends them for an
// unreachable route from ip_error, which allows each source address a burst
// of 5 and then one a second (net.ipv4.route.error_burst and error_cost,
// which are not per namespace). So each test sends at most 5 probes to
// Unreachable addresses.
func routedForSockets(t *testing.T) *testnet.Routed {
	n := testnet.NewRouted(t)
	n.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	return n
}

func ping(t *testing.T, p *Pinger, dst netip.Addr, wait time.Duration) Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := p.Ping(ctx, dst)
	if err != nil {
		t.Fatalf("ping %s: %v", dst, err)
	}
	return r
}

// TestSocketMethods pings every kind of host of the routed network by both
// socket methods and checks each answer in detail.
func TestSocketMethods(t *testing.T) {
	n := routedForSockets(t)
	// A local reject route, to see sendto refuse a destination.
	n.Scanner.Run("ip", "route", "add", "unreachable", "198.18.200.0/24")
	router := netip.MustParseAddr("198.18.0.2")

	for i, sm := range socketMethods() {
		t.Run(string(sm.m), func(t *testing.T) {
			c := openIn(t, n.Scanner, sm.open)
			if c.Method() != sm.m {
				t.Errorf("Method() = %s", c.Method())
			}
			if v6, ok := c.(interface{ IPv6() error }); !ok || v6.IPv6() != nil {
				t.Errorf("no IPv6 in a namespace that has it: %T", c)
			}
			p := NewPinger(c)

			for _, a := range append(append([]netip.Addr{}, n.Live...), n.LiveV6...) {
				r := ping(t, p, a, time.Second)
				if r.Err != nil {
					t.Errorf("live %s: %v", a, r.Err)
					continue
				}
				if r.Addr != a || r.From != a || r.Reason != "echo-reply" || r.Method != sm.m {
					t.Errorf("live %s: got %+v", a, r)
				}
				// The router's kernel answers with TTL (hop limit) 64
				// and it reaches us without being forwarded.
				if r.TTL != 64 || r.RTT <= 0 || r.RTT > time.Second {
					t.Errorf("live %s: TTL %d, RTT %v", a, r.TTL, r.RTT)
				}
			}

			t.Run("dead", func(t *testing.T) {
				var wg sync.WaitGroup
				for _, a := range append(append([]netip.Addr{}, n.Dead[:4]...), n.DeadV6...) {
					wg.Go(func() {
						if r := ping(t, p, a, 300*time.Millisecond); r.Err != ErrTimeout {
							t.Errorf("dead %s: got %+v, want a timeout", a, r)
						}
					})
				}
				wg.Wait()
			})

			t.Run("unreachable", func(t *testing.T) {
				// One address per method, within the router's budget.
				for _, a := range n.Unreachable[i : i+1] {
					r := ping(t, p, a, time.Second)
					var ie *ICMPError
					if !errors.Is(r.Err, ErrUnreachable) || !errors.As(r.Err, &ie) {
						t.Fatalf("%s: got %+v, want an ICMP unreachable", a, r)
					}
					if r.Addr != a || r.From != router || ie.From != router ||
						ie.Type != 3 || ie.Code != 1 || ie.Text != "host unreachable" {
						t.Errorf("%s: got %+v, %+v", a, r, ie)
					}
					if r.TTL != 64 || r.RTT <= 0 {
						t.Errorf("%s: TTL %d, RTT %v", a, r.TTL, r.RTT)
					}
				}
			})

			t.Run("refused locally", func(t *testing.T) {
				var se *SendError
				// 198.18.0.3 is the broadcast address of the scanner's link:
				// sending there needs SO_BROADCAST.
				bcast := netip.MustParseAddr("198.18.0.3")
				err := c.Send(context.Background(), bcast, 1)
				if !errors.As(err, &se) || se.Addr != bcast || !errors.Is(err, syscall.EACCES) {
					t.Errorf("broadcast: %v, want a SendError with EACCES", err)
				}
				noRoute := netip.MustParseAddr("198.18.200.1")
				err = c.Send(context.Background(), noRoute, 1)
				if !errors.As(err, &se) || se.Addr != noRoute || !errors.Is(err, syscall.EHOSTUNREACH) || !errors.Is(err, ErrUnreachable) {
					t.Errorf("reject route: %v, want a SendError with EHOSTUNREACH", err)
				}
				// Through a Pinger, the refusal is the host's answer.
				if r := ping(t, p, noRoute, time.Second); !errors.As(r.Err, &se) {
					t.Errorf("Pinger: %+v, want a SendError", r)
				}
				// An IPv4-mapped address is IPv4.
				if r := ping(t, p, netip.AddrFrom16(n.Live[0].As16()), time.Second); r.Err != nil || r.Addr != n.Live[0] {
					t.Errorf("mapped %s: %+v", n.Live[0], r)
				}
				if err := c.Send(context.Background(), netip.Addr{}, 1); err == nil || errors.As(err, &se) {
					t.Errorf("invalid address: %v, want a plain error", err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if err := c.Send(ctx, n.Live[0], 1); !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled context: %v", err)
				}
			})
		})
	}
}

// TestConcurrentPings runs 300 Pings at once over one Conn to live and
// dead hosts, and one unreachable, and checks that each gets its own answer.
func TestConcurrentPings(t *testing.T) {
	n := routedForSockets(t)
	var targets []netip.Addr
	for _, list := range [][]netip.Addr{n.Live, n.Dead, n.LiveV6, n.DeadV6} {
		targets = append(targets, list...)
	}
	kind := map[netip.Addr]string{}
	for _, a := range append(append([]netip.Addr{}, n.Live...), n.LiveV6...) {
		kind[a] = "live"
	}
	for _, a := range n.Unreachable {
		kind[a] = "unreachable"
	}

	for m, sm := range socketMethods() {
		t.Run(string(sm.m), func(t *testing.T) {
			p := NewPinger(openIn(t, n.Scanner, sm.open))
			var wg sync.WaitGroup
			for i := range 300 {
				a := targets[i%len(targets)]
				if i == 150 {
					a = n.Unreachable[m]
				}
				wg.Go(func() {
					r := ping(t, p, a, 800*time.Millisecond)
					switch kind[a] {
					case "live":
						if r.Err != nil || r.From != a || r.Addr != a {
							t.Errorf("live %s: %+v", a, r)
						}
					case "unreachable":
						if !errors.Is(r.Err, ErrUnreachable) || r.Addr != a {
							t.Errorf("unreachable %s: %+v", a, r)
						}
					default:
						if r.Err != ErrTimeout {
							t.Errorf("dead %s: %+v", a, r)
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestCrossTalk opens two Conns of a method in one namespace and checks
// that neither sees the other's answers. The raw Conns share their echo
// identifier, so only the tag (keyed per Conn) tells their replies apart.
func TestCrossTalk(t *testing.T) {
	n := routedForSockets(t)
	targets := append(append([]netip.Addr{}, n.Live...), n.LiveV6...)
	methods := []socketMethod{
		{Dgram, func() (Conn, error) { return OpenDgram(Options{}) }},
		{Raw, func() (Conn, error) { return openSock(Raw, 0x4242) }},
	}
	const probes = 40
	for m, sm := range methods {
		t.Run(string(sm.m), func(t *testing.T) {
			a, b := openIn(t, n.Scanner, sm.open), openIn(t, n.Scanner, sm.open)
			sentTo := map[uint16]netip.Addr{}
			for i := range probes {
				dst := targets[i%len(targets)]
				if i == probes/2 {
					// Each Conn's ICMP errors must stay its own as well.
					dst = n.Unreachable[m]
				}
				sentTo[uint16(1+i)], sentTo[uint16(1001+i)] = dst, dst
				if err := a.Send(context.Background(), dst, uint16(1+i)); err != nil {
					t.Fatal(err)
				}
				if err := b.Send(context.Background(), dst, uint16(1001+i)); err != nil {
					t.Fatal(err)
				}
			}
			check := func(name string, c Conn, first uint16) {
				seen := map[uint16]bool{}
				deadline := time.After(3 * time.Second)
				for len(seen) < probes {
					select {
					case r := <-c.Replies():
						if r.Seq < first || r.Seq >= first+probes || seen[r.Seq] {
							t.Errorf("%s: foreign or duplicate reply %+v", name, r)
							continue
						}
						seen[r.Seq] = true
						if r.Addr != sentTo[r.Seq] {
							t.Errorf("%s: seq %d answered for %s, sent to %s", name, r.Seq, r.Addr, sentTo[r.Seq])
						}
					case <-deadline:
						t.Fatalf("%s: %d of %d answers", name, len(seen), probes)
					}
				}
				// Nothing more may come: the other Conn's answers in
				// particular.
				select {
				case r := <-c.Replies():
					t.Errorf("%s: extra reply %+v", name, r)
				case <-time.After(200 * time.Millisecond):
				}
			}
			check("first Conn", a, 1)
			check("second Conn", b, 1001)
		})
	}
}

// TestCloseWhileBlocked fills the Replies channel, so that the readers
// block handing over a reply, and checks that Close still returns, closes
// Replies, and is idempotent, and that Send then fails with net.ErrClosed.
func TestCloseWhileBlocked(t *testing.T) {
	n := routedForSockets(t)
	for _, sm := range socketMethods() {
		t.Run(string(sm.m), func(t *testing.T) {
			c := openIn(t, n.Scanner, sm.open)
			for i := range replyBuffer + 100 {
				if err := c.Send(context.Background(), n.Live[i%len(n.Live)], uint16(i)); err != nil {
					t.Fatal(err)
				}
			}
			// Wait for the channel to fill: the readers never drop replies.
			for i := 0; len(c.Replies()) < replyBuffer; i++ {
				if i == 300 {
					t.Fatalf("Replies holds %d, want %d", len(c.Replies()), replyBuffer)
				}
				time.Sleep(10 * time.Millisecond)
			}
			closed := make(chan error)
			go func() { closed <- c.Close() }()
			select {
			case err := <-closed:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Close hangs while a reader waits on a full Replies channel")
			}
			got := 0
			for range c.Replies() {
				got++
			}
			if got != replyBuffer {
				t.Errorf("drained %d replies after Close, want %d", got, replyBuffer)
			}
			if err := c.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := c.Send(context.Background(), n.Live[0], 1); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Send after Close: %v, want net.ErrClosed", err)
			}
		})
	}
}

// TestDgramDenied opens a datagram socket where ping_group_range admits
// nobody.
func TestDgramDenied(t *testing.T) {
	ns := testnet.NewNS(t, "deny")
	ns.Sysctl("net.ipv4.ping_group_range", "1 0")
	var err error
	ns.Do(func() {
		var c Conn
		if c, err = OpenDgram(Options{}); err == nil {
			c.Close()
		}
	})
	if !errors.Is(err, syscall.EACCES) {
		t.Fatalf("OpenDgram: %v, want EACCES", err)
	}
}

// TestNoIPv6 checks what a Conn without an IPv6 socket says when asked to
// reach an IPv6 host. (No namespace lacks IPv6 while the machine has it,
// so the Conn is built by hand.)
func TestNoIPv6(t *testing.T) {
	c := &sockConn{method: Dgram, noV6: syscall.EAFNOSUPPORT, done: make(chan struct{})}
	if err := c.IPv6(); !errors.Is(err, ErrNoIPv6) || !errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Errorf("IPv6() = %v", err)
	}
	err := c.Send(context.Background(), netip.MustParseAddr("2001:db8::1"), 1)
	var se *SendError
	if !errors.As(err, &se) || !errors.Is(err, ErrNoIPv6) || !errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Errorf("got %v, want a SendError wrapping ErrNoIPv6", err)
	}
	for _, err := range []error{syscall.EAFNOSUPPORT, syscall.EPROTONOSUPPORT, syscall.EADDRNOTAVAIL} {
		if !ipv6Absent(&net.OpError{Op: "listen", Err: err}) {
			t.Errorf("%v is not taken for missing IPv6", err)
		}
	}
	if ipv6Absent(syscall.EACCES) || ipv6Absent(syscall.EMFILE) {
		t.Error("a permission or resource error is taken for missing IPv6")
	}
}

// TestStaleSendError covers a trap of IP_RECVERR: every ICMP error also
// sets the socket's pending error, and the next sendto fails with it, to
// whatever destination, without sending. Send must not report that as a
// refusal of its own destination. The Conn here runs no reader, so the
// pending error stays for the next Send to meet.
func TestStaleSendError(t *testing.T) {
	n := routedForSockets(t)
	c := &sockConn{method: Dgram, start: time.Now(), replies: make(chan Reply, replyBuffer), done: make(chan struct{})}
	var err error
	n.Scanner.Do(func() { c.v4, err = openFamily(false, false, testIdentity()) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	live := n.Live[0]
	waitForError := func() {
		// The error arrives in well under a millisecond; allow plenty.
		time.Sleep(200 * time.Millisecond)
	}

	// The premise: a bare sendto to a live host fails with the pending
	// error of an earlier probe.
	if err := c.Send(ctx, n.Unreachable[0], 1); err != nil {
		t.Fatal(err)
	}
	waitForError()
	req := marshalEcho(false, &c.v4.me, live, 2, 0)
	if err := syscall.Sendto(c.v4.fd, req, 0, &syscall.SockaddrInet4{Addr: live.As4()}); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("premise: sendto after an ICMP error: %v, want the stale EHOSTUNREACH", err)
	}

	// The fix: Send retries and the probe goes out.
	if err := c.Send(ctx, n.Unreachable[1], 3); err != nil {
		t.Fatal(err)
	}
	waitForError()
	if err := c.Send(ctx, live, 4); err != nil {
		t.Fatalf("Send to a live host after an ICMP error: %v", err)
	}

	// Both errors wait in the error queue, and the echo reply arrives.
	c.readers.Add(1)
	go c.read(c.v4)
	want := map[uint16]netip.Addr{1: n.Unreachable[0], 3: n.Unreachable[1], 4: live}
	timeout := time.After(2 * time.Second)
	for len(want) > 0 {
		select {
		case r := <-c.Replies():
			if want[r.Seq] != r.Addr || (r.Seq == 4) != (r.Err == nil) {
				t.Errorf("unexpected %+v", r)
			}
			delete(want, r.Seq)
		case <-timeout:
			t.Fatalf("missing answers for %v", want)
		}
	}
}

// TestUnprivileged runs TestUnprivilegedHelper in a copy of this test
// binary as nobody inside the scanner's namespace: the datagram method must
// work there without any privilege, and the raw one must fail with EPERM.
func TestUnprivileged(t *testing.T) {
	n := routedForSockets(t)
	bin := worldExecutableCopy(t)
	cmd := n.Scanner.Command(testnet.Nobody, bin, "-test.run=^TestUnprivilegedHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "ICMPSOCK_HELPER_ADDRS="+n.Live[0].String()+","+n.LiveV6[0].String())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestUnprivilegedHelper") {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
}

// TestUnprivilegedHelper is the part of TestUnprivileged that runs as
// nobody. Run directly, it has nothing to do.
func TestUnprivilegedHelper(t *testing.T) {
	addrs := os.Getenv("ICMPSOCK_HELPER_ADDRS")
	if addrs == "" {
		t.Skip("run by TestUnprivileged")
	}
	if os.Geteuid() == 0 {
		t.Fatal("the helper runs as root")
	}
	if c, err := OpenRaw(Options{}); !errors.Is(err, syscall.EPERM) {
		if err == nil {
			c.Close()
		}
		t.Errorf("OpenRaw as uid %d: %v, want EPERM", os.Geteuid(), err)
	}
	c, err := OpenDgram(Options{})
	if err != nil {
		t.Fatalf("OpenDgram as uid %d: %v", os.Geteuid(), err)
	}
	p := NewPinger(c)
	defer p.Close()
	for _, s := range strings.Split(addrs, ",") {
		a := netip.MustParseAddr(s)
		if r := ping(t, p, a, time.Second); r.Err != nil || r.From != a {
			t.Errorf("%s: %+v", a, r)
		}
	}
}

// worldExecutableCopy copies the running test binary where nobody can
// execute it.
func worldExecutableCopy(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "probe-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "probe.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestSendBufferRaised: a LAN sweep parks its requests to empty addresses
// in the kernel's neighbour queues, charged to the socket for the three
// seconds that ARP takes to fail. The default send buffer (208 KiB) is too
// small for a /24 and its retries, and sendto then blocks for those three
// seconds; see raiseBuffers.
func TestSendBufferRaised(t *testing.T) {
	n := routedForSockets(t)
	for _, raw := range []bool{false, true} {
		var f *family
		var err error
		n.Scanner.Do(func() { f, err = openFamily(raw, false, testIdentity()) })
		if err != nil {
			t.Fatal(err)
		}
		got, err := syscall.GetsockoptInt(f.fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF)
		syscall.Close(f.fd)
		if err != nil {
			t.Fatal(err)
		}
		// Even where net.core.wmem_max caps it at its Debian default, the
		// kernel doubles what we ask for: twice the default.
		if want := 2 * 212992; got < want {
			t.Errorf("raw=%v: SO_SNDBUF is %d bytes, want at least %d", raw, got, want)
		}
	}
}

// TestFullSendBuffer: on a LAN, requests to empty addresses wait in ARP
// queues, charged to the socket, for the three seconds ARP takes to fail.
// A Send that meets the full buffer (EAGAIN after a wait on a datagram
// socket, ENOBUFS at once on a raw one) waits for room rather than fail
// the scan, and gives up with net.ErrClosed as soon as the Conn closes:
// Close does not wait those seconds for it.
func TestFullSendBuffer(t *testing.T) {
	for _, m := range []struct {
		name string
		open func(Options) (Conn, error)
	}{{"dgram", OpenDgram}, {"raw", OpenRaw}} {
		t.Run(m.name, func(t *testing.T) {
			scan, empty := testnet.NewNS(t, "scan"), testnet.NewNS(t, "empty")
			scan.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
			testnet.Link(t, scan, empty, "198.18.7.1/24", "198.18.7.2/24")
			var c Conn
			var err error
			scan.Do(func() { c, err = m.open(Options{}) })
			if err != nil {
				t.Fatal(err)
			}
			// The kernel's smallest buffer fills after a few requests.
			if err := unix.SetsockoptInt(c.(*sockConn).v4.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1); err != nil {
				t.Fatal(err)
			}
			sent := make(chan int, 1)
			failed := make(chan error, 1)
			go func() {
				for i := 0; ; i++ {
					if i == 50 {
						sent <- i
					}
					// 198.18.7.3 to .254: nobody holds them.
					dst := netip.AddrFrom4([4]byte{198, 18, 7, byte(3 + i%252)})
					if err := c.Send(context.Background(), dst, uint16(i)); err != nil {
						failed <- err
						return
					}
				}
			}()
			select {
			case <-sent:
				t.Fatal("50 requests went out: the send buffer never filled, so this test proves nothing")
			case err := <-failed:
				t.Fatalf("Send failed on a full buffer: %v", err)
			case <-time.After(500 * time.Millisecond): // Send waits for room
			}
			closed := make(chan struct{})
			go func() { c.Close(); close(closed) }()
			select {
			case err := <-failed:
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("Send after Close: %v, want net.ErrClosed", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Send still waiting 2 s after Close")
			}
			select {
			case <-closed:
			case <-time.After(2 * time.Second):
				t.Fatal("Close still waiting 2 s later")
			}
		})
	}
}
