package testnet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
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

	// sysctl through `ip netns exec` rather than /proc/sys from a thread in
	// the namespace: it cannot touch this machine's own namespace by mistake.
	out, err := exec.Command("ip", "netns", "exec", nsName, "sysctl", "-q", "-w",
		"net.ipv4.icmp_echo_ignore_all=1", "net.ipv6.icmp.echo_ignore_all=1").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("responder: silence the kernel in %s: %w: %s", nsName, err, strings.TrimSpace(string(out)))
	}

	var openErr error
	if err := Do(nsName, func() { r.c4, r.c6, openErr = openResponderSockets() }); err != nil {
		return nil, fmt.Errorf("responder: enter %s: %w", nsName, err)
	}
	if openErr != nil {
		return nil, fmt.Errorf("responder in %s: %w", nsName, openErr)
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
	l4, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return nil, nil, fmt.Errorf("raw ICMPv4 socket: %w", err)
	}
	c4, err := ipv4.NewRawConn(l4) // sets IP_HDRINCL
	if err != nil {
		l4.Close()
		return nil, nil, fmt.Errorf("IP_HDRINCL: %w", err)
	}
	var f4 ipv4.ICMPFilter
	f4.SetAll(true)
	f4.Accept(ipv4.ICMPTypeEcho)
	if err := c4.SetICMPFilter(&f4); err != nil {
		c4.Close()
		return nil, nil, fmt.Errorf("ICMPv4 filter: %w", err)
	}
	forceRcvBuf(l4)

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
	buf := make([]byte, 1<<16)
	for {
		h, p, _, err := r.c4.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || r.ctx.Err() != nil {
				return
			}
			continue // a malformed packet; the socket is fine
		}
		// The kernel does not verify ICMP checksums for raw sockets; a
		// real host drops a corrupted request, and so do we.
		if len(p) < 8 || p[0] != byte(ipv4.ICMPTypeEcho) || p[1] != 0 || checksum(p) != 0 {
			continue
		}
		probed, ok1 := netip.AddrFromSlice(h.Dst)
		from, ok2 := netip.AddrFromSlice(h.Src)
		if !ok1 || !ok2 {
			continue
		}
		r.answer(probed.Unmap(), from.Unmap(), p)
	}
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
	reply := make([]byte, len(req))
	copy(reply, req)
	reply[2], reply[3] = 0, 0
	if probed.Is4() {
		reply[0] = byte(ipv4.ICMPTypeEchoReply)
		binary.BigEndian.PutUint16(reply[2:4], checksum(reply))
	} else {
		reply[0] = byte(ipv6.ICMPTypeEchoReply) // the kernel adds the checksum
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
	h := &ipv4.Header{
		Version:  ipv4.Version,
		Len:      ipv4.HeaderLen,
		TotalLen: ipv4.HeaderLen + len(msg),
		ID:       int(uint16(r.ipID.Add(1))),
		TTL:      64,
		Protocol: 1, // ICMP
		Src:      src.AsSlice(),
		Dst:      dst.AsSlice(),
	}
	// Linux fills in the header checksum of IP_HDRINCL packets anyway; we
	// compute it so the packet is right as written.
	b, err := h.Marshal()
	if err != nil {
		return err
	}
	h.Checksum = int(checksum(b))
	return r.c4.WriteTo(h, msg, nil)
}

// checksum is the Internet checksum (RFC 1071) of b. Over data that carries
// its own correct checksum it returns 0.
func checksum(b []byte) uint16 {
	var sum uint32
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
