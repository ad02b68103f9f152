package mcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Options say how to open a Socket.
type Options struct {
	// V6 picks the family.
	V6 bool
	// Bind is the local address and port; the zero value binds the
	// family's wildcard address on an ephemeral port.
	Bind netip.AddrPort
	// Links are the links the socket serves: datagrams from others are
	// dropped, and WriteTo names its link by index into Links. Only
	// the links with an address of the family are used.
	Links []Link
	// Group, if valid, is joined on every link; Open fails if it can be
	// joined on none.
	Group netip.Addr
	// Reuse shares the port with other sockets (SO_REUSEADDR and
	// SO_REUSEPORT), as multicast DNS needs.
	Reuse bool
	// InNet, when set, runs fn, which opens the socket, in the network
	// namespace the scan belongs in (as scanner.Enrich.InNet does); nil
	// opens it on the calling thread.
	InNet func(fn func()) error
}

// Socket is a UDP socket that sends multicast out of a chosen link and
// tells on which link each datagram came in.
type Socket struct {
	conn  net.PacketConn
	v6    bool
	links []Link
	p4    *ipv4.PacketConn
	p6    *ipv6.PacketConn
}

// Open opens a Socket: multicast hop limit 255 (what multicast DNS
// demands, and harmless for SSDP, whose routers stop it at the link
// anyway), no multicast loopback, the receiving interface reported with
// every datagram.
func Open(ctx context.Context, o Options) (*Socket, error) {
	network, bind := "udp4", o.Bind
	if o.V6 {
		network = "udp6"
	}
	if !bind.Addr().IsValid() {
		any := netip.IPv4Unspecified()
		if o.V6 {
			any = netip.IPv6Unspecified()
		}
		bind = netip.AddrPortFrom(any, bind.Port())
	}
	lc := &net.ListenConfig{}
	if o.Reuse {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = errors.Join(
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
			}); err != nil {
				return err
			}
			return serr
		}
	}
	conn, err := InNet(o.InNet, func() (net.PacketConn, error) { return lc.ListenPacket(ctx, network, bind.String()) })
	if err != nil {
		return nil, err
	}
	s := &Socket{conn: conn, v6: o.V6}
	for _, l := range o.Links {
		if l.Has(o.V6) {
			s.links = append(s.links, l)
		}
	}
	if o.V6 {
		s.p6 = ipv6.NewPacketConn(conn)
		err = errors.Join(s.p6.SetControlMessage(ipv6.FlagInterface, true), s.p6.SetMulticastHopLimit(255), s.p6.SetMulticastLoopback(false))
	} else {
		s.p4 = ipv4.NewPacketConn(conn)
		err = errors.Join(s.p4.SetControlMessage(ipv4.FlagInterface, true), s.p4.SetMulticastTTL(255), s.p4.SetMulticastLoopback(false))
	}
	if err == nil && o.Group.IsValid() {
		err = s.join(o.Group)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// join joins g on every link; it fails only if no link could join.
func (s *Socket) join(g netip.Addr) error {
	var errs []error
	for _, l := range s.links {
		var err error
		if s.v6 {
			err = s.p6.JoinGroup(l.ifi(), &net.UDPAddr{IP: g.AsSlice()})
		} else {
			err = s.p4.JoinGroup(l.ifi(), &net.UDPAddr{IP: g.AsSlice()})
		}
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("join %s on %s: %w", g, l.Name, err))
	}
	if len(errs) == 0 {
		return fmt.Errorf("join %s: no link of the family", g)
	}
	return errors.Join(errs...)
}

// Links returns the links the socket serves, in the order WriteTo and
// ReadFrom number them.
func (s *Socket) Links() []Link { return s.links }

// V6 reports the socket's family.
func (s *Socket) V6() bool { return s.v6 }

// ReadFrom reads one datagram into buf and says where it came from, on
// which link (an index into Links). A link-local source address carries
// its link's Name as zone (not the kernel's, which names interfaces in
// the reading thread's namespace); others carry none. Datagrams from
// links the socket does not serve are skipped.
func (s *Socket) ReadFrom(buf []byte) (n int, from netip.AddrPort, link int, err error) {
	for {
		var (
			src   net.Addr
			index = -1
		)
		if s.v6 {
			var cm *ipv6.ControlMessage
			n, cm, src, err = s.p6.ReadFrom(buf)
			if cm != nil {
				index = cm.IfIndex
			}
		} else {
			var cm *ipv4.ControlMessage
			n, cm, src, err = s.p4.ReadFrom(buf)
			if cm != nil {
				index = cm.IfIndex
			}
		}
		if err != nil {
			return 0, netip.AddrPort{}, -1, err
		}
		ua, ok := src.(*net.UDPAddr)
		link = s.linkOf(index)
		if !ok || link < 0 {
			continue
		}
		ap := ua.AddrPort()
		a := ap.Addr().Unmap().WithZone("")
		if a.Is6() && a.IsLinkLocalUnicast() {
			a = a.WithZone(s.links[link].Name)
		}
		return n, netip.AddrPortFrom(a, ap.Port()), link, nil
	}
}

func (s *Socket) linkOf(index int) int {
	for i, l := range s.links {
		if l.Index == index {
			return i
		}
	}
	return -1
}

// WriteTo sends b to dst out of link (an index into Links). A link-local
// destination gets the link's zone, by index, which a send from any
// thread understands.
func (s *Socket) WriteTo(b []byte, link int, dst netip.AddrPort) error {
	if link < 0 || link >= len(s.links) {
		return fmt.Errorf("mcast: no link %d", link)
	}
	l := s.links[link]
	a := dst.Addr().WithZone("")
	if a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) {
		a = a.WithZone(strconv.Itoa(l.Index))
	}
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, dst.Port()))
	var err error
	if s.v6 {
		_, err = s.p6.WriteTo(b, &ipv6.ControlMessage{IfIndex: l.Index}, to)
	} else {
		_, err = s.p4.WriteTo(b, &ipv4.ControlMessage{IfIndex: l.Index}, to)
	}
	return err
}

// InNet runs open through inNet (see Options.InNet), or as it is when
// inNet is nil, and returns what open returned.
func InNet[T any](inNet func(fn func()) error, open func() (T, error)) (T, error) {
	if inNet == nil {
		return open()
	}
	var (
		v   T
		err error
	)
	if nerr := inNet(func() { v, err = open() }); nerr != nil {
		var zero T
		return zero, nerr
	}
	return v, err
}

// Close closes the socket; a blocked ReadFrom returns net.ErrClosed.
func (s *Socket) Close() error { return s.conn.Close() }
