package testnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Behavior is how one simulated host answers ICMP echo requests.
//
// The zero Behavior answers every request at once, like a wired host. Real
// LANs are less kind: a phone asleep takes 100-900 ms to wake its radio, and
// some devices lose the first request while they resolve the sender's
// address.
//
// Hostile modes for reliability tests (truncated or corrupted replies, wrong
// id or sequence, floods) belong here as further fields; they plug into
// Responder.answer, which builds the list of packets one request produces.
type Behavior struct {
	// Delay holds every reply back by this long after its request arrived.
	Delay time.Duration
	// DropFirst ignores the host's first DropFirst requests, whoever sent
	// them; later requests are answered.
	DropFirst int
	// Duplicate sends every reply this many extra times, as a bridged or
	// misconfigured network does; ping shows them as "(DUP!)".
	Duplicate int
}

func (b Behavior) validate() error {
	switch {
	case b.Delay < 0:
		return fmt.Errorf("negative Delay %v", b.Delay)
	case b.DropFirst < 0:
		return fmt.Errorf("negative DropFirst %d", b.DropFirst)
	case b.Duplicate < 0:
		return fmt.Errorf("negative Duplicate %d", b.Duplicate)
	}
	return nil
}

// Counts is what a Responder saw and did for one address.
type Counts struct {
	Requests int // echo requests received, dropped ones included
	Replies  int // echo reply packets sent, duplicates included
}

// Responder answers ICMP echo requests inside a namespace on behalf of
// simulated hosts, each with its own Behavior. It replaces the kernel's echo
// handling there: addresses it was not told about stay silent.
//
// Requests reach it through raw sockets, so the namespace must route the
// simulated addresses to itself (NewResponderLAN does so with a local route
// over a whole prefix). Replies carry the probed address as their source.
type Responder struct {
	hosts map[netip.Addr]*simHost // fixed after Listen; values count atomically

	c4 *ipv4.RawConn    // IP_HDRINCL: replies carry a header we build
	c6 *ipv6.PacketConn // the kernel builds the header and the checksum

	ctx    context.Context // cancelled by Close; late timers check it
	cancel context.CancelFunc
	wg     sync.WaitGroup // the two read loops

	ipID  atomic.Uint32 // IPv4 identification of the next reply
	stray atomic.Int64  // requests for addresses with no Behavior

	mu  sync.Mutex
	err error // first failure to send a reply
}

type simHost struct {
	b        Behavior
	requests atomic.Int64
	replies  atomic.Int64
}

// rcvBuf is the socket receive buffer asked for: a sweep at 100k packets a
// second must not overflow the default while the read loop is descheduled.
const rcvBuf = 8 << 20

// Listen starts a Responder inside the namespace called nsName (a name under
// /run/netns) for the given hosts. It sets net.ipv4.icmp_echo_ignore_all and
// net.ipv6.icmp.echo_ignore_all to 1 in that namespace, so the kernel no
// longer answers echo requests for any address there, and leaves them set.
//
// The caller must Close the Responder. Tests use StartResponder instead.
func Listen(nsName string, hosts map[netip.Addr]Behavior) (*Responder, error) {
	r := &Responder{hosts: make(map[netip.Addr]*simHost, len(hosts))}
	for a, b := range hosts {
		if !a.IsValid() {
			return nil, errors.New("responder: invalid address in host list")
		}
		if err := b.validate(); err != nil {
			return nil, fmt.Errorf("responder: host %s: %w", a, err)
		}
		r.hosts[a.Unmap()] = &simHost{b: b}
	}

	open := func() (err error) {
		r.c4, r.c6, err = openResponderSockets()
		return err
	}
	ignore := []string{"net.ipv4.icmp_echo_ignore_all", "net.ipv6.icmp.echo_ignore_all"}
	if err := takeOverEcho("responder", nsName, ignore, open); err != nil {
		return nil, err
	}

	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(2)
	go r.serve4()
	go r.serve6()
	return r, nil
}

// StartResponder is Listen for a test: it fails t on error and closes the
// Responder when t ends.
func StartResponder(t testing.TB, ns *NS, hosts map[netip.Addr]Behavior) *Responder {
	t.Helper()
	r, err := Listen(ns.Name, hosts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// openResponderSockets opens one raw socket per address family. It runs on a
// thread inside the target namespace; the sockets stay there afterwards.
func openResponderSockets() (*ipv4.RawConn, *ipv6.PacketConn, error) {
	c4, err := openEcho4()
	if err != nil {
		return nil, nil, err
	}

	l6, err := net.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		c4.Close()
		return nil, nil, fmt.Errorf("raw ICMPv6 socket: %w", err)
	}
	c6 := ipv6.NewPacketConn(l6)
	var f6 ipv6.ICMPFilter
	f6.SetAll(true)
	f6.Accept(ipv6.ICMPTypeEchoRequest)
	err = c6.SetICMPFilter(&f6)
	if err == nil {
		// The destination tells which simulated host was probed.
		err = c6.SetControlMessage(ipv6.FlagDst, true)
	}
	if err == nil {
		// The simulated addresses are routed here but not assigned to an
		// interface, so the kernel refuses them as a source without this.
		err = setsockoptInt(l6, unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, 1)
	}
	if err != nil {
		c4.Close()
		c6.Close()
		return nil, nil, fmt.Errorf("ICMPv6 socket options: %w", err)
	}
	forceRcvBuf(l6)
	return c4, c6, nil
}

func setsockoptInt(c net.PacketConn, level, opt, value int) error {
	sc, err := c.(*net.IPConn).SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, value) }); err != nil {
		return err
	}
	return serr
}

// forceRcvBuf enlarges the receive buffer past net.core.rmem_max, which
// needs CAP_NET_ADMIN; without it the default buffer stays, which is only
// slower to recover from bursts, so failure is ignored.
func forceRcvBuf(c net.PacketConn) {
	if setsockoptInt(c, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
		_ = c.(*net.IPConn).SetReadBuffer(rcvBuf)
	}
}

// Close stops the Responder and waits for its read loops to end. Replies
// still waiting for their Delay are not sent. Close is safe to call twice.
func (r *Responder) Close() {
	r.cancel()
	r.c4.Close()
	r.c6.Close()
	r.wg.Wait()
}

// Counts reports what the Responder saw and sent for addr so far.
func (r *Responder) Counts(addr netip.Addr) Counts {
	h := r.hosts[addr.Unmap()]
	if h == nil {
		return Counts{}
	}
	return Counts{Requests: int(h.requests.Load()), Replies: int(h.replies.Load())}
}

// Stray reports how many echo requests arrived for addresses the Responder
// has no Behavior for (and so left unanswered).
func (r *Responder) Stray() int { return int(r.stray.Load()) }

// Err reports the first failure to send a reply, or nil.
func (r *Responder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Responder) fail(err error) {
	if r.ctx.Err() != nil {
		return // closing: sockets fail on purpose
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

func (r *Responder) serve4() {
	defer r.wg.Done()
	serveEcho4(r.ctx, r.c4, r.answer)
}

func (r *Responder) serve6() {
	defer r.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, cm, src, err := r.c6.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || r.ctx.Err() != nil {
				return
			}
			continue
		}
		// The kernel has verified the ICMPv6 checksum already.
		p := buf[:n]
		if len(p) < 8 || p[0] != byte(ipv6.ICMPTypeEchoRequest) || p[1] != 0 || cm == nil {
			continue
		}
		probed, ok1 := netip.AddrFromSlice(cm.Dst)
		from, ok2 := netip.AddrFromSlice(src.(*net.IPAddr).IP)
		if !ok1 || !ok2 {
			continue
		}
		r.answer(probed, from, p)
	}
}

// answer applies probed's Behavior to one echo request (an ICMP message
// from from) and schedules the reply. req is only valid during the call.
func (r *Responder) answer(probed, from netip.Addr, req []byte) {
	h := r.hosts[probed]
	if h == nil {
		r.stray.Add(1)
		return
	}
	if n := h.requests.Add(1); n <= int64(h.b.DropFirst) {
		return
	}

	// An echo reply is the request with another type: identifier,
	// sequence number and payload come back unchanged.
	var reply []byte
	if probed.Is4() {
		reply = echoReply(req)
	} else {
		reply = append([]byte(nil), req...)
		reply[0] = byte(ipv6.ICMPTypeEchoReply)
		reply[2], reply[3] = 0, 0 // the kernel adds the checksum
	}
	send := func() {
		if r.ctx.Err() != nil {
			return
		}
		for i := 0; i <= h.b.Duplicate; i++ {
			if err := r.send(probed, from, reply); err != nil {
				r.fail(fmt.Errorf("reply from %s to %s: %w", probed, from, err))
				return
			}
			h.replies.Add(1)
		}
	}
	if h.b.Delay <= 0 {
		send()
		return
	}
	// The runtime's timer heap holds thousands of pending replies cheaply;
	// a goroutine exists only while one is being sent.
	time.AfterFunc(h.b.Delay, send)
}

// send puts one ICMP message from src to dst on the wire.
func (r *Responder) send(src, dst netip.Addr, msg []byte) error {
	if src.Is6() {
		cm := &ipv6.ControlMessage{Src: src.AsSlice()}
		_, err := r.c6.WriteTo(msg, cm, &net.IPAddr{IP: dst.AsSlice(), Zone: dst.Zone()})
		return err
	}
	return writeIP4(r.c4, icmp4Packet(src, dst, uint16(r.ipID.Add(1)), msg))
}
