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

	"golang.org/x/net/ipv4"
)

// This file holds what Responder and Hostile share: taking echo handling
// over from a namespace's kernel, and on IPv4 a raw socket that sees echo
// requests, the loop that reads them, and the building and sending of whole
// IPv4 datagrams carrying ICMP.

// takeOverEcho sets each of the kernel's echo_ignore_all sysctls to 1 in
// the namespace called nsName, so the kernel stops answering echo requests
// there, then runs open (which opens the caller's sockets) on a thread
// inside that namespace. Errors begin with who.
func takeOverEcho(who, nsName string, sysctls []string, open func() error) error {
	// sysctl through `ip netns exec` rather than /proc/sys from a thread in
	// the namespace: it cannot touch this machine's own namespace by mistake.
	argv := []string{"netns", "exec", nsName, "sysctl", "-q", "-w"}
	for _, s := range sysctls {
		argv = append(argv, s+"=1")
	}
	out, err := exec.Command("ip", argv...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: silence the kernel in %s: %w: %s", who, nsName, err, strings.TrimSpace(string(out)))
	}
	var openErr error
	if err := Do(nsName, func() { openErr = open() }); err != nil {
		return fmt.Errorf("%s: enter %s: %w", who, nsName, err)
	}
	if openErr != nil {
		return fmt.Errorf("%s in %s: %w", who, nsName, openErr)
	}
	return nil
}

// openEcho4 opens a raw ICMPv4 socket that receives echo requests only and
// sends datagrams whose IP header the caller builds (IP_HDRINCL). It runs on
// a thread inside the target namespace; the socket stays there afterwards.
func openEcho4() (*ipv4.RawConn, error) {
	l, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("raw ICMPv4 socket: %w", err)
	}
	c, err := ipv4.NewRawConn(l) // sets IP_HDRINCL
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("IP_HDRINCL: %w", err)
	}
	var f ipv4.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv4.ICMPTypeEcho)
	if err := c.SetICMPFilter(&f); err != nil {
		c.Close()
		return nil, fmt.Errorf("ICMPv4 filter: %w", err)
	}
	forceRcvBuf(l)
	return c, nil
}

// serveEcho4 reads from c until c is closed (or fails once ctx has ended)
// and hands every intact echo request to answer, with the address it was
// sent to and the address it came from. req is only valid during the call.
func serveEcho4(ctx context.Context, c *ipv4.RawConn, answer func(probed, from netip.Addr, req []byte)) {
	buf := make([]byte, 1<<16)
	for {
		h, p, _, err := c.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			continue // a malformed packet; the socket is fine
		}
		// The kernel does not verify ICMP checksums for raw sockets; a
		// real host drops a corrupted request, and so do we.
		if len(p) < 8 || p[0] != byte(ipv4.ICMPTypeEcho) || p[1] != 0 || checksum(p) != 0 {
			continue
		}
		probed, ok1 := netip.AddrFromSlice(h.Dst.To4())
		from, ok2 := netip.AddrFromSlice(h.Src.To4())
		if !ok1 || !ok2 {
			continue
		}
		answer(probed, from, p)
	}
}

// icmp4Packet builds an IPv4 datagram from src to dst, with identification
// id, carrying the ICMP message msg.
func icmp4Packet(src, dst netip.Addr, id uint16, msg []byte) []byte {
	b := make([]byte, ipv4.HeaderLen+len(msg))
	ipHeader(b, src, dst, 1, len(msg), id)
	copy(b[ipv4.HeaderLen:], msg)
	return b
}

// writeIP4 sends the IPv4 datagram b, header and all, through c.
func writeIP4(c *ipv4.RawConn, b []byte) error {
	hdr, err := ipv4.ParseHeader(b)
	if err != nil {
		return err
	}
	return c.WriteTo(hdr, b[ipv4.HeaderLen:], nil)
}

// ipHeader writes a 20-byte IPv4 header into b. Linux fills in the header
// checksum of IP_HDRINCL packets anyway; it is computed here so that the
// packet is right as written.
func ipHeader(b []byte, src, dst netip.Addr, proto, payload int, id uint16) {
	b[0] = 0x45
	b[1] = 0
	binary.BigEndian.PutUint16(b[2:], uint16(ipv4.HeaderLen+payload))
	binary.BigEndian.PutUint16(b[4:], id)
	b[6], b[7] = 0, 0
	b[8] = 64
	b[9] = byte(proto)
	b[10], b[11] = 0, 0
	s, d := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b[:ipv4.HeaderLen]))
}

// echoReply turns a copy of an ICMPv4 echo request into the reply a real
// host sends: same identifier, sequence number and payload.
func echoReply(req []byte) []byte {
	r := append([]byte(nil), req...)
	r[0], r[1] = byte(ipv4.ICMPTypeEchoReply), 0
	fixChecksum(r)
	return r
}

// fixChecksum sets the checksum of the ICMPv4 message m.
func fixChecksum(m []byte) {
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[2:], checksum(m))
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
