//go:build linux

package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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
//
// The sockets stay outside Go's network poller (see detach): Send calls
// sendto itself, and each reader blocks in recvmsg on a thread of its own.

const (
	// replyBuffer is the capacity of the Replies channel: room for a burst
	// of answers while the caller is busy.
	replyBuffer = 1024
	// bufSize is the socket receive and send buffer we ask for; see
	// raiseBuffers.
	bufSize = 4 << 20
	// readBufSize holds any answer of ours: echo replies are 44 bytes and
	// routers quote at most 576 bytes of an IPv4 datagram or 1232 of IPv6.
	readBufSize = 2048
	// sendTries bounds how often Send retries a datagram socket's sendto
	// that failed with a stale error (see Send).
	sendTries = 3
	// blockFor bounds each blocking sendto and recvmsg (SO_SNDTIMEO,
	// SO_RCVTIMEO), so that Send notices a cancelled context while the
	// send buffer is full, and a reader notices Close.
	blockFor = 100 * time.Millisecond
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
	fdMu      sync.RWMutex  // Send holds it shared; Close, to close the sockets
	closed    bool          // the sockets are closed; guarded by fdMu
	readers   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// zones maps IPv6 scope IDs seen in Send back to the zone names the
	// caller used, so that a reply from fe80::1%eth0 matches its request.
	zones   sync.Map // uint32 -> string
	zoneIDs sync.Map // string -> uint32: zones already in zones

	// groups are the multicast groups Send has pinged, without zone:
	// their members' answers carry a group's tag. Copied on write (a
	// scan pings a group or two), read by every decode.
	groups   atomic.Pointer[[]netip.Addr]
	groupsMu sync.Mutex // serialises writers of groups
}

// family is one socket of a sockConn.
type family struct {
	v6      bool
	raw     bool
	fd      int      // the socket, in blocking mode; see detach
	me      identity // identifier on the wire and the key of our tags
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
	me := identity{id: rawID, key: newTagKey()}

	var err error
	if c.v4, err = openFamily(m == Raw, false, me); err != nil {
		return nil, fmt.Errorf("probe: %s: open IPv4 socket: %w", m, err)
	}
	if c.v6, err = openFamily(m == Raw, true, me); err != nil {
		if !ipv6Absent(err) {
			unix.Close(c.v4.fd)
			return nil, fmt.Errorf("probe: %s: open IPv6 socket: %w", m, err)
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
	defer pc.Close() // detach made the copy we keep
	// The ipv4 and ipv6 wrappers hold the net.PacketConn that
	// icmp.ListenPacket made; its SyscallConn reaches the descriptor.
	var nc net.PacketConn
	if v6 {
		nc = pc.IPv6PacketConn().PacketConn
	} else {
		nc = pc.IPv4PacketConn().PacketConn
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no SyscallConn", nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	f := &family{v6: v6, raw: raw, me: me}
	if err := f.configure(pc, rc); err != nil {
		return nil, err
	}
	if f.fd, err = detach(rc); err != nil {
		return nil, err
	}
	return f, nil
}

// detach returns a duplicate of rc's socket in blocking mode, with
// blocking calls bounded by blockFor; closing the original then takes the
// socket out of Go's network poller.
//
// Why: the poller watches every socket for writability too, and the kernel
// wakes it each time a packet we sent leaves the send buffer. At 100,000
// requests a second those wakeups cost a third of the sender's time (and
// tens of thousands of context switches), while a plain blocking sendto
// costs nothing extra. The price is one thread per socket blocked in
// recvmsg, which a scanner gladly pays.
func detach(rc syscall.RawConn) (int, error) {
	fd, serr := -1, error(nil)
	if err := rc.Control(func(s uintptr) {
		if fd, serr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0); serr != nil {
			return
		}
		// O_NONBLOCK belongs to the open file, which the copy shares:
		// clearing it here makes both blocking, and only ours lives on.
		if serr = unix.SetNonblock(fd, false); serr != nil {
			return
		}
		tv := unix.NsecToTimeval(blockFor.Nanoseconds())
		if serr = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); serr != nil {
			return
		}
		serr = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	}); err != nil {
		return -1, err
	}
	if serr != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, os.NewSyscallError("detach socket", serr)
	}
	return fd, nil
}

// configure sets the socket options the reader relies on.
func (f *family) configure(pc *icmp.PacketConn, rc syscall.RawConn) error {

	if f.raw {
		// Go's net package turns SO_BROADCAST on for raw sockets; ping
		// sockets and ping(8) refuse broadcast destinations unless asked,
		// and so do we: a sweep that includes a subnet's broadcast address
		// should not ping every host on it.
		var serr error
		if err := rc.Control(func(fd uintptr) {
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
		if err := pc.IPv6PacketConn().SetICMPFilter(&filt); err != nil {
			return err
		}
	case f.raw:
		var filt ipv4.ICMPFilter
		filt.SetAll(true)
		for _, t := range []ipv4.ICMPType{ipv4.ICMPTypeEchoReply, ipv4.ICMPTypeDestinationUnreachable,
			ipv4.ICMPTypeTimeExceeded, ipv4.ICMPTypeParameterProblem} {
			filt.Accept(t)
		}
		if err := pc.IPv4PacketConn().SetICMPFilter(&filt); err != nil {
			return err
		}
	default:
		// The kernel chose our identifier: it is the socket's port.
		ua, ok := pc.LocalAddr().(*net.UDPAddr)
		if !ok {
			return fmt.Errorf("datagram ICMP socket has local address %v", pc.LocalAddr())
		}
		f.me.id = uint16(ua.Port)
		// ICMP errors about our requests reach a datagram socket only
		// through its error queue.
		if err := setRecvErr(rc, f.v6); err != nil {
			return err
		}
		f.recvErr = true
	}

	// TTL and hop limit come as control messages, except for raw IPv4,
	// whose packets keep their IP header.
	if f.v6 {
		if err := pc.IPv6PacketConn().SetControlMessage(ipv6.FlagHopLimit, true); err != nil {
			return err
		}
	} else if !f.raw {
		if err := pc.IPv4PacketConn().SetControlMessage(ipv4.FlagTTL, true); err != nil {
			return err
		}
	}
	raiseBuffers(rc, bufSize)
	setTimestamps(rc)
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
	if c.closing() {
		return fmt.Errorf("probe: send to %s: %w", dst, net.ErrClosed)
	}
	dst = dst.Unmap()
	var f *family
	var to unix.Sockaddr
	switch {
	case !dst.IsValid():
		return errors.New("probe: send to an invalid address")
	case dst.Is4():
		f, to = c.v4, &unix.SockaddrInet4{Addr: dst.As4()}
	case c.v6 == nil:
		return &SendError{Addr: dst, Err: c.IPv6()}
	default:
		zone, err := c.zoneID(dst.Zone())
		if err != nil {
			return &SendError{Addr: dst, Err: err}
		}
		f, to = c.v6, &unix.SockaddrInet6{Addr: dst.As16(), ZoneId: zone}
	}
	if dst.IsMulticast() {
		c.addGroup(dst)
	}
	b := marshalEcho(f.v6, &f.me, dst, seq, time.Since(c.start))
	var err error

	// Shared, so that Close cannot close the socket (and the kernel hand
	// its number to another file) while sendto runs.
	c.fdMu.RLock()
	defer c.fdMu.RUnlock()
	for try := 1; ; {
		if c.closed {
			return fmt.Errorf("probe: send to %s: %w", dst, net.ErrClosed)
		}
		err = unix.Sendto(f.fd, b, 0, to)
		switch {
		case err == nil:
			return nil
		case c.closing():
			// Close has shut the socket down (sendto then says EPIPE),
			// or waits for this Send to give up on a full buffer.
			return fmt.Errorf("probe: send to %s: %w", dst, net.ErrClosed)
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN || err == unix.ENOBUFS:
			// The send buffer is full. On a LAN that happens when
			// requests to empty addresses wait in ARP queues, charged
			// to the socket until resolution fails (see raiseBuffers).
			// A datagram socket has waited blockFor for room (EAGAIN);
			// a raw one fails at once (ENOBUFS), so pause first. Either
			// way try again, unless the caller has given up.
			wait := time.Duration(0)
			if err == unix.ENOBUFS {
				wait = time.Millisecond
			}
			if err := c.pause(ctx, wait); err != nil {
				return fmt.Errorf("probe: send to %s: %w", dst, err)
			}
			continue
		}
		// With IP_RECVERR every ICMP error also sets the socket's pending
		// error, and the next sendto on the socket fails with it, whatever
		// its destination, without sending. That error is consumed by
		// failing, so a retry tells a stale error from a real refusal.
		if f.recvErr && try < sendTries {
			try++
			continue
		}
		if errno, ok := err.(syscall.Errno); ok {
			if se := sendError(dst, errno); se != nil {
				return se
			}
		}
		return fmt.Errorf("probe: send to %s: %w", dst, os.NewSyscallError("sendto", err))
	}
}

// addGroup records a multicast group that Send pings.
func (c *sockConn) addGroup(g netip.Addr) {
	g = g.WithZone("")
	if old := c.groups.Load(); old != nil && slices.Contains(*old, g) {
		return
	}
	c.groupsMu.Lock()
	defer c.groupsMu.Unlock()
	var gs []netip.Addr
	if old := c.groups.Load(); old != nil {
		if slices.Contains(*old, g) {
			return
		}
		gs = slices.Clone(*old)
	}
	gs = append(gs, g)
	c.groups.Store(&gs)
}

// groupList returns the multicast groups Send has pinged so far.
func (c *sockConn) groupList() []netip.Addr {
	if gs := c.groups.Load(); gs != nil {
		return *gs
	}
	return nil
}

// pause waits d before Send tries a full send buffer again, and returns
// ctx's error, or net.ErrClosed once Close has begun.
func (c *sockConn) pause(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.closing() {
		return net.ErrClosed
	}
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return net.ErrClosed
	case <-t.C:
		return nil
	}
}

// closing reports whether Close has begun.
func (c *sockConn) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
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
		// Shutting a socket down wakes its reader from recvmsg at once;
		// it then sees done. Only when no Send and no reader can touch
		// the sockets any more are they closed.
		for _, f := range []*family{c.v4, c.v6} {
			if f != nil {
				_ = unix.Shutdown(f.fd, unix.SHUT_RDWR) // an unconnected socket says ENOTCONN, and wakes all the same
			}
		}
		c.readers.Wait()
		c.fdMu.Lock()
		c.closed = true
		var errs []error
		for _, f := range []*family{c.v4, c.v6} {
			if f != nil {
				if err := unix.Close(f.fd); err != nil {
					errs = append(errs, os.NewSyscallError("close", err))
				}
			}
		}
		c.fdMu.Unlock()
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
		select {
		case <-c.done:
			return
		default:
		}
		if err == errIdle {
			continue
		}
		if err != nil {
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

// errIdle is recv's report that nothing came for blockFor.
var errIdle = errors.New("nothing to read")

// recv reads one datagram from the socket, or from its error queue,
// waiting in recvmsg at most blockFor while there is none.
func (f *family) recv(buf, oob []byte) (message, error) {
	for tries := 0; tries < 4; tries++ {
		n, oobn, _, from, err := unix.Recvmsg(f.fd, buf, oob, 0)
		switch {
		case err == nil:
			return message{n: n, oobn: oobn, from: from}, nil
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN && !f.recvErr:
			return message{}, os.NewSyscallError("recvmsg", err)
		}
		// Nothing came for blockFor, or err is the pending socket error
		// that IP_RECVERR raises with each queued ICMP error (reading it
		// cleared it). Either way, look in the error queue: a sendto may
		// have eaten the pending error that announced a queued one.
		if f.recvErr {
			n, oobn, _, from, qerr := unix.Recvmsg(f.fd, buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			if qerr == nil {
				return message{n: n, oobn: oobn, from: from, errQueue: true}, nil
			}
		}
		if err == unix.EAGAIN {
			return message{}, errIdle
		}
	}
	return message{}, errors.New("recvmsg: pending socket error with an empty error queue")
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
	// The kernel's receive time leaves out how long the reader took to
	// wake; it is a wall-clock time, so it counts only while it agrees
	// with the monotonic clock (no clock step between send and now).
	arrived, stamped := kernelTime(oob)
	rtt := func(sent time.Duration) time.Duration {
		if stamped {
			if at := arrived.Sub(c.start); at >= sent && at <= now {
				return at - sent
			}
		}
		return max(now-sent, 0)
	}

	if m.errQueue {
		// An ICMP error the kernel matched to our socket: b is our echo
		// request, the message's address its destination, and the
		// offender the router that complained.
		seq, sent, hasSent, err := parseQuotedEcho(f.v6, b, &f.me, from)
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
	p, err := parseReply(family, f.raw, b, &f.me, from, c.groupList())
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
		// An echo reply comes from the address we pinged (its tag says
		// so), except when we pinged a multicast group: then each member
		// answers for itself.
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

// zoneID returns the scope ID of a zone used in Send (0 for none), and
// records it so that replies carry the same zone name.
func (c *sockConn) zoneID(zone string) (uint32, error) {
	if zone == "" {
		return 0, nil
	}
	if id, seen := c.zoneIDs.Load(zone); seen {
		return id.(uint32), nil
	}
	idx, err := strconv.ParseUint(zone, 10, 32)
	if err != nil {
		ifi, err := net.InterfaceByName(zone)
		if err != nil {
			return 0, fmt.Errorf("zone %q: %w", zone, err)
		}
		idx = uint64(ifi.Index)
	}
	c.zones.LoadOrStore(uint32(idx), zone)
	c.zoneIDs.Store(zone, uint32(idx))
	return uint32(idx), nil
}
