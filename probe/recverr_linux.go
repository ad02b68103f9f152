package probe

import (
	"encoding/binary"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Linux-specific socket options: the error queue of datagram ICMP sockets
// and a forced receive buffer.

// setRecvErr turns on IP_RECVERR (or IPV6_RECVERR): the kernel then queues
// each ICMP error that quotes one of the socket's requests on its error
// queue, where recvmsg(MSG_ERRQUEUE) finds it with the router's address.
func setRecvErr(rc syscall.RawConn, v6 bool) error {
	level, opt := unix.IPPROTO_IP, unix.IP_RECVERR
	if v6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), level, opt, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("setsockopt", serr)
	}
	return nil
}

// raiseBuffers asks for a receive and a send buffer of size bytes each:
// beyond the net.core.rmem_max and wmem_max limits if we may
// (SO_RCVBUFFORCE and SO_SNDBUFFORCE need CAP_NET_ADMIN), else up to them.
// Failure only means smaller buffers, so it is ignored.
//
// The receive buffer holds thousands of replies arriving together. The
// send buffer matters on a LAN: a request to an address nobody holds
// waits in the kernel's ARP (or neighbour discovery) queue, still charged
// to our socket, until resolution fails three seconds later. With the
// default 208 KiB, a /24 sweep with its retries fills the buffer with
// requests to empty addresses, and the next sendto blocks for those
// three seconds.
func raiseBuffers(rc syscall.RawConn, size int) {
	_ = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, size)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, size)
		}
	})
}

// setTimestamps asks the kernel to stamp every datagram it queues with the
// time it arrived (SO_TIMESTAMPNS), which kernelTime reads back. Without
// it round trips are timed when the reader wakes, a little late; so
// failure is ignored.
func setTimestamps(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	})
}

// kernelTime returns the arrival time in a datagram's control data oob,
// if setTimestamps put one there.
func kernelTime(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_TIMESTAMPNS {
			continue
		}
		// A struct timespec of the machine's own word size.
		switch d := m.Data; len(d) {
		case 16:
			sec, nsec := int64(binary.NativeEndian.Uint64(d)), int64(binary.NativeEndian.Uint64(d[8:]))
			return time.Unix(sec, nsec), true
		case 8:
			sec, nsec := int32(binary.NativeEndian.Uint32(d)), int32(binary.NativeEndian.Uint32(d[4:]))
			return time.Unix(int64(sec), int64(nsec)), true
		}
	}
	return time.Time{}, false
}

// parseExtendedErr finds the IP_RECVERR (or IPV6_RECVERR) control message
// in oob, as read with MSG_ERRQUEUE, and returns its struct
// sock_extended_err and the offender: the address of the router or host
// that sent the ICMP error (invalid when there is none).
func parseExtendedErr(v6 bool, oob []byte) (ee unix.SockExtendedErr, offender netip.Addr, ok bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return ee, offender, false
	}
	level, typ := int32(unix.IPPROTO_IP), int32(unix.IP_RECVERR)
	if v6 {
		level, typ = unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	const eeLen = 16 // sizeof(struct sock_extended_err)
	for _, m := range msgs {
		if m.Header.Level != level || m.Header.Type != typ || len(m.Data) < eeLen {
			continue
		}
		d := m.Data
		ee = unix.SockExtendedErr{
			Errno:  binary.NativeEndian.Uint32(d[0:4]),
			Origin: d[4],
			Type:   d[5],
			Code:   d[6],
			Pad:    d[7],
			Info:   binary.NativeEndian.Uint32(d[8:12]),
			Data:   binary.NativeEndian.Uint32(d[12:16]),
		}
		// SO_EE_OFFENDER: a sockaddr right after the struct.
		sa := d[eeLen:]
		if len(sa) >= 2 {
			switch binary.NativeEndian.Uint16(sa[0:2]) {
			case unix.AF_INET:
				if len(sa) >= 8 {
					offender = netip.AddrFrom4([4]byte(sa[4:8]))
				}
			case unix.AF_INET6:
				if len(sa) >= 24 {
					offender = netip.AddrFrom16([16]byte(sa[8:24]))
				}
			}
		}
		return ee, offender, true
	}
	return ee, offender, false
}
