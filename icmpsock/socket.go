//go:build linux

package icmpsock

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// This file is the machinery shared by the dgram and raw methods: one ICMP
// socket per address family, one reader goroutine per socket, and a
// Replies channel they both feed.

const (
	// replyBuffer is the capacity of the Replies channel: room for a burst
	// of answers while the caller is busy.
	replyBuffer = 1024
	// rcvBufSize is the socket receive buffer we ask for, so that the
	// kernel can hold thousands of replies arriving together.
	rcvBufSize = 4 << 20
	// readBufSize holds any answer of ours: echo replies are 44 bytes and
	// routers quote at most 576 bytes of an IPv4 datagram or 1232 of IPv6.
	readBufSize = 2048
	// sendTries bounds how often Send retries a datagram socket's sendto
	// that failed with a stale error (see Send).
	sendTries = 3
)

// ErrNoIPv6 reports that a Conn has no IPv6 socket because this machine
// (or network namespace) has no IPv6. Send returns it, wrapped in a
// *SendError, for every IPv6 destination.
var ErrNoIPv6 = errors.New("no IPv6 socket")

// sockConn is the Conn of the dgram and raw methods.
type sockConn struct {
	method Method
	start  time.Time // send times in payloads are offsets from start
	v4, v6 *family   // v6 is nil when the machine has no IPv6
	noV6   error     // why v6 is nil

	replies   chan Reply
	done      chan struct{} // closed by Close: readers stop
	readers   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// zones maps IPv6 scope IDs seen in Send back to the zone names the
	// caller used, so that a reply from fe80::1%eth0 matches its request.
	zones     sync.Map // uint32 -> string
	zoneNames sync.Map // string -> struct{}: zones already in zones
}

// family is one socket of a sockConn.
type family struct {
	v6      bool
	raw     bool
	pc      *icmp.PacketConn
	rc      syscall.RawConn
	me      identity // identifier on the wire and our cookie
	recvErr bool     // IP_RECVERR is on: ICMP errors arrive on the error queue
}

// openSock opens the IPv4 and IPv6 sockets of a Conn. rawID is the echo
// identifier a raw Conn puts in its requests; a datagram Conn gets its
// identifier from the kernel.
func openSock(m Method, rawID uint16) (Conn, error) {
	c := &sockConn{
		method:  m,
		start:   time.Now(),
		replies: make(chan Reply, replyBuffer),
		done:    make(chan struct{}),
	}
	me := identity{id: rawID}
	rand.Read(me.cookie[:]) // never fails

	var err error
	if c.v4, err = openFamily(m == Raw, false, me); err != nil {
		return nil, fmt.Errorf("icmpsock: %s: open IPv4 socket: %w", m, err)
	}
	if c.v6, err = openFamily(m == Raw, true, me); err != nil {
		if !ipv6Absent(err) {
			c.v4.pc.Close()
			return nil, fmt.Errorf("icmpsock: %s: open IPv6 socket: %w", m, err)
		}
		c.v6, c.noV6 = nil, err
	}
	for _, f := range []*family{c.v4, c.v6} {
		if f != nil {
			c.readers.Add(1)
			go c.read(f)
		}
	}
	return c, nil
}

// ipv6Absent tells whether opening an IPv6 socket failed because there is
// no IPv6 here, rather than for lack of permission.
func ipv6Absent(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EPROTONOSUPPORT) ||
		errors.Is(err, syscall.EADDRNOTAVAIL)
}

// openFamily opens and configures one socket.
func openFamily(raw, v6 bool, me identity) (*family, error) {
	network, laddr := "udp4", "0.0.0.0"
	switch {
	case raw && v6:
		network, laddr = "ip6:ipv6-icmp", "::"
	case raw:
		network = "ip4:icmp"
	case v6:
		network, laddr = "udp6", "::"
	}
	pc, err := icmp.ListenPacket(network, laddr)
	if err != nil {
		return nil, err
	}
	f := &family{v6: v6, raw: raw, pc: pc, me: me}
	if err := f.configure(); err != nil {
		pc.Close()
		return nil, err
	}
	return f, nil
}

// configure sets the socket options the reader relies on.
func (f *family) configure() error {
	// The ipv4 and ipv6 wrappers hold the net.PacketConn that
	// icmp.ListenPacket made; its SyscallConn lets us recvmsg ourselves.
	var nc net.PacketConn
	if f.v6 {
		nc = f.pc.IPv6PacketConn().PacketConn
	} else {
		nc = f.pc.IPv4PacketConn().PacketConn
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return fmt.Errorf("%T has no SyscallConn", nc)
	}
	var err error
	if f.rc, err = sc.SyscallConn(); err != nil {
		return err
	}

	if f.raw {
		// Go's net package turns SO_BROADCAST on for raw sockets; ping
		// sockets and ping(8) refuse broadcast destinations unless asked,
		// and so do we: a sweep that includes a subnet's broadcast address
		// should not ping every host on it.
		var serr error
		if err := f.rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 0)
		}); err != nil {
			return err
		}
		if serr != nil {
			return os.NewSyscallError("setsockopt", serr)
		}
	}

	switch {
	case f.raw && f.v6:
		// A raw socket sees every ICMP packet of the machine: let the
		// kernel drop what can never be an answer to us.
		var filt ipv6.ICMPFilter
		filt.SetAll(true)
		for _, t := range []ipv6.ICMPType{ipv6.ICMPTypeEchoReply, ipv6.ICMPTypeDestinationUnreachable,
			ipv6.ICMPTypePacketTooBig, ipv6.ICMPTypeTimeExceeded, ipv6.ICMPTypeParameterProblem} {
			filt.Accept(t)
		}
		if err := f.pc.IPv6PacketConn().SetICMPFilter(&filt); err != nil {
			return err
		}
	case f.raw:
		var filt ipv4.ICMPFilter
		filt.SetAll(true)
		for _, t := range []ipv4.ICMPType{ipv4.ICMPTypeEchoReply, ipv4.ICMPTypeDestinationUnreachable,
			ipv4.ICMPTypeTimeExceeded, ipv4.ICMPTypeParameterProblem} {
			filt.Accept(t)
		}
		if err := f.pc.IPv4PacketConn().SetICMPFilter(&filt); err != nil {
			return err
		}
	default:
		// The kernel chose our identifier: it is the socket's port.
		ua, ok := f.pc.LocalAddr().(*net.UDPAddr)
		if !ok {
			return fmt.Errorf("datagram ICMP socket has local address %v", f.pc.LocalAddr())
		}
		f.me.id = uint16(ua.Port)
		// ICMP errors about our requests reach a datagram socket only
		// through its error queue.
		if err := setRecvErr(f.rc, f.v6); err != nil {
			return err
		}
		f.recvErr = true
	}

	// TTL and hop limit come as control messages, except for raw IPv4,
	// whose packets keep their IP header.
	if f.v6 {
		if err := f.pc.IPv6PacketConn().SetControlMessage(ipv6.FlagHopLimit, true); err != nil {
			return err
		}
	} else if !f.raw {
		if err := f.pc.IPv4PacketConn().SetControlMessage(ipv4.FlagTTL, true); err != nil {
			return err
		}
	}
	raiseRcvBuf(f.rc, rcvBufSize)
	return nil
}

// Method reports Dgram or Raw.
func (c *sockConn) Method() Method { return c.method }

// IPv6 reports whether the Conn can reach IPv6 hosts: nil if it can, else
// an error wrapping ErrNoIPv6 and the reason the IPv6 socket failed to open.
// The selector finds it with a type assertion to interface{ IPv6() error }.
func (c *sockConn) IPv6() error {
	if c.v6 != nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNoIPv6, c.noV6)
}

// Replies delivers echo replies and ICMP errors for our requests.
func (c *sockConn) Replies() <-chan Reply { return c.replies }

// Send emits one echo request. It never waits for an answer, only (rarely)
// for room in the socket's send buffer.
func (c *sockConn) Send(ctx context.Context, dst netip.Addr, seq uint16) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.done:
		return fmt.Errorf("icmpsock: send to %s: %w", dst, net.ErrClosed)
	default:
	}
	dst = dst.Unmap()
	var f *family
	switch {
	case !dst.IsValid():
		return errors.New("icmpsock: send to an invalid address")
	case dst.Is4():
		f = c.v4
	case c.v6 == nil:
		return &SendError{Addr: dst, Err: c.IPv6()}
	default:
		f = c.v6
		c.rememberZone(dst.Zone())
	}
	b, err := marshalEcho(f.v6, f.me, seq, time.Since(c.start))
	if err != nil {
		return fmt.Errorf("icmpsock: %w", err)
	}
	var to net.Addr = &net.IPAddr{IP: dst.AsSlice(), Zone: dst.Zone()}
	if !f.raw {
		to = &net.UDPAddr{IP: dst.AsSlice(), Zone: dst.Zone()}
	}
	for try := 1; ; try++ {
		_, err = f.pc.WriteTo(b, to)
		if err == nil {
			return nil
		}
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("icmpsock: send to %s: %w", dst, net.ErrClosed)
		}
		// With IP_RECVERR every ICMP error also sets the socket's pending
		// error, and the next sendto on the socket fails with it, whatever
		// its destination, without sending. That error is consumed by
		// failing, so a retry tells a stale error from a real refusal.
		if f.recvErr && try < sendTries {
			continue
		}
		var errno syscall.Errno
		if errors.As(err, &errno) {
			if se := sendError(dst, errno); se != nil {
				return se
			}
		}
		return fmt.Errorf("icmpsock: send to %s: %w", dst, err)
	}
}

// sendError returns the *SendError for a sendto error that is the kernel's
// verdict on this destination (no route, a reject or blackhole route, a
// broadcast address, a firewall rule), or nil for a problem of the socket.
// A refusal to route also matches ErrUnreachable.
func sendError(dst netip.Addr, errno syscall.Errno) *SendError {
	switch errno {
	case syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.ENETDOWN:
		return &SendError{Addr: dst, Err: fmt.Errorf("%w: %w", ErrUnreachable, errno)}
	case syscall.EACCES, syscall.EPERM, syscall.EADDRNOTAVAIL, syscall.EINVAL,
		syscall.ECONNREFUSED, syscall.EMSGSIZE:
		return &SendError{Addr: dst, Err: errno}
	}
	return nil
}

// Close closes the sockets, waits for the readers and closes Replies.
// Closing again returns the first result.
func (c *sockConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		var errs []error
		for _, f := range []*family{c.v4, c.v6} {
			if f != nil {
				errs = append(errs, f.pc.Close())
			}
		}
		c.readers.Wait()
		close(c.replies)
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// message is one datagram read from a socket.
type message struct {
	n, oobn  int
	from     unix.Sockaddr
	errQueue bool // read from the error queue
}

// read runs for the life of a socket: it reads, keeps what answers our
// requests and hands it to Replies, waiting for room rather than dropping
// anything, until Close.
func (c *sockConn) read(f *family) {
	defer c.readers.Done()
	buf := make([]byte, readBufSize)
	oob := make([]byte, 512)
	for {
		m, err := f.recv(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Datagram sockets report no lasting read errors; pause all
			// the same, so that a surprise cannot spin the CPU.
			select {
			case <-c.done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		r, ok := c.decode(f, m, buf[:m.n], oob[:m.oobn])
		if !ok {
			continue
		}
		select {
		case c.replies <- r:
		case <-c.done:
			return
		}
	}
}

// recv reads one datagram from the socket, or from its error queue, and
// waits in the runtime's poller while there is none.
func (f *family) recv(buf, oob []byte) (message, error) {
	var m message
	var rerr error
	err := f.rc.Read(func(fd uintptr) bool {
		for tries := 0; tries < 4; tries++ {
			n, oobn, _, from, err := unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT)
			switch {
			case err == nil:
				m = message{n: n, oobn: oobn, from: from}
				return true
			case err == unix.EINTR:
				continue
			case err != unix.EAGAIN && !f.recvErr:
				rerr = os.NewSyscallError("recvmsg", err)
				return true
			}
			// The queue is empty, or err is the pending socket error that
			// IP_RECVERR raises with each queued ICMP error (reading it
			// cleared it). Either way, drain the error queue before
			// sleeping: the poller is edge-triggered, and a sendto may have
			// eaten the pending error that announced a queued one.
			if f.recvErr {
				n, oobn, _, from, qerr := unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
				if qerr == nil {
					m = message{n: n, oobn: oobn, from: from, errQueue: true}
					return true
				}
			}
			if err == unix.EAGAIN {
				return false // wait for the poller
			}
		}
		rerr = errors.New("recvmsg: pending socket error with an empty error queue")
		return true
	})
	if err != nil {
		return m, err
	}
	return m, rerr
}

// decode turns a message into a Reply, or reports that it is not an answer
// to one of our requests.
func (c *sockConn) decode(f *family, m message, b, oob []byte) (Reply, bool) {
	now := time.Since(c.start)
	from := c.addrOf(m.from)
	if !from.IsValid() {
		return Reply{}, false
	}
	r := Reply{Method: c.method, TTL: f.ttl(oob)}
	rtt := func(sent time.Duration) time.Duration { return max(now-sent, 0) }

	if m.errQueue {
		// An ICMP error the kernel matched to our socket: b is our echo
		// request, the message's address its destination, and the
		// offender the router that complained.
		seq, sent, hasSent, err := parseQuotedEcho(f.v6, b, f.me)
		if err != nil {
			return Reply{}, false
		}
		ee, offender, ok := parseExtendedErr(f.v6, oob)
		if !ok {
			return Reply{}, false
		}
		r.Addr, r.Seq = from, seq
		if hasSent {
			r.RTT = rtt(sent)
		}
		switch ee.Origin {
		case unix.SO_EE_ORIGIN_ICMP, unix.SO_EE_ORIGIN_ICMP6:
			r.From = c.withZone(offender, from)
			if !r.From.IsValid() {
				r.From = from
			}
			typ, code := int(ee.Type), int(ee.Code)
			r.Err = &ICMPError{From: r.From, Type: typ, Code: code, Text: icmpErrorText(f.v6, typ, code)}
		case unix.SO_EE_ORIGIN_LOCAL:
			// Our own kernel refused the request after sendto returned.
			se := sendError(from, syscall.Errno(ee.Errno))
			if se == nil {
				se = &SendError{Addr: from, Err: syscall.Errno(ee.Errno)}
			}
			r.From, r.Err = from, se
		default:
			return Reply{}, false
		}
		return r, true
	}

	family := 4
	if f.v6 {
		family = 6
	}
	p, err := parseReply(family, f.raw, b, f.me)
	if err != nil {
		return Reply{}, false
	}
	r.Seq, r.From = p.seq, from
	if p.ttl != 0 {
		r.TTL = p.ttl
	}
	if p.hasSent {
		r.RTT = rtt(p.sent)
	}
	if !p.isErr {
		// An echo reply comes from the address we pinged, except when we
		// pinged a broadcast or multicast group: then each member answers
		// for itself.
		r.Addr, r.Reason = from, "echo-reply"
		return r, true
	}
	r.Addr = c.withZone(p.dst, from)
	r.Err = &ICMPError{From: from, Type: p.typ, Code: p.code, Text: icmpErrorText(f.v6, p.typ, p.code)}
	return r, true
}

// ttl returns the TTL or hop limit from a message's control data, or 0.
func (f *family) ttl(oob []byte) int {
	if len(oob) == 0 {
		return 0
	}
	if f.v6 {
		var cm ipv6.ControlMessage
		if cm.Parse(oob) == nil {
			return cm.HopLimit
		}
		return 0
	}
	var cm ipv4.ControlMessage
	if cm.Parse(oob) == nil {
		return cm.TTL
	}
	return 0
}

// addrOf converts a socket address, giving link-local IPv6 addresses the
// zone name the caller used when sending.
func (c *sockConn) addrOf(sa unix.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId == 0 {
			return a
		}
		if z, ok := c.zones.Load(sa.ZoneId); ok {
			return a.WithZone(z.(string))
		}
		return a.WithZone(strconv.FormatUint(uint64(sa.ZoneId), 10))
	}
	return netip.Addr{}
}

// withZone gives a (an address parsed from a packet, without zone) the zone
// of ref, the address the packet came from, when a needs one.
func (c *sockConn) withZone(a, ref netip.Addr) netip.Addr {
	if a.Is6() && ref.Zone() != "" && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) {
		return a.WithZone(ref.Zone())
	}
	return a
}

// rememberZone records the scope ID of a zone used in Send.
func (c *sockConn) rememberZone(zone string) {
	if zone == "" {
		return
	}
	if _, seen := c.zoneNames.Load(zone); seen {
		return
	}
	idx, err := strconv.ParseUint(zone, 10, 32)
	if err != nil {
		ifi, err := net.InterfaceByName(zone)
		if err != nil {
			return // sendto will report the bad zone
		}
		idx = uint64(ifi.Index)
	}
	c.zones.LoadOrStore(uint32(idx), zone)
	c.zoneNames.Store(zone, struct{}{})
}
