package probe

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// systemDial connects from this process's network namespace.
func systemDial(ctx context.Context, dst netip.Addr, port uint16) (*ICMPError, error) {
	return socketDial(ctx, streamSocket, dst, port)
}

// streamSocket creates a non-blocking TCP socket of the family.
func streamSocket(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

// socketDial connects a fresh socket, made by socket, to dst:port and
// reports how that ended: nil when the connection was accepted, else the
// connect error, and the ICMP error that caused it if the socket's error
// queue holds one.
//
// It works at the system call level rather than through net.Dialer for
// two reasons: tests create the socket inside a network namespace (a
// socket keeps the namespace it was made in), and after a failed connect
// the error queue (IP_RECVERR) must still be read to learn who sent the
// ICMP error, while net.Dialer closes the socket first.
func socketDial(ctx context.Context, socket func(family int) (int, error), dst netip.Addr, port uint16) (*ICMPError, error) {
	sa, err := tcpSockaddr(dst, port)
	if err != nil {
		return nil, err
	}
	family, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_RECVERR
	if dst.Is6() {
		family, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	fd, err := socket(family)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// Ask for ICMP errors on the error queue, with the sender's address.
	if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setsockopt", err)
	}
	err = unix.Connect(fd, sa)
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		// Refused at once: no route here, or no such family.
		unix.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	// A non-blocking descriptor joins the runtime's poller, so waiting for
	// the connect to finish costs no thread, and deadlines work.
	f := os.NewFile(uintptr(fd), "tcp-probe")
	defer f.Close()
	if err == nil {
		return nil, nil // connected at once (loopback may do that)
	}
	stop := context.AfterFunc(ctx, func() {
		// A deadline in the past wakes the waiting Write below.
		_ = f.SetWriteDeadline(time.Unix(1, 0))
	})
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var connErr error
	werr := rc.Write(func(fd uintptr) bool {
		// Called once at first and again each time the socket turns
		// writable, which is when the connect has finished either way.
		n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			connErr = os.NewSyscallError("getsockopt", err)
		case n != 0:
			connErr = os.NewSyscallError("connect", syscall.Errno(n))
		default:
			if _, err := unix.Getpeername(int(fd)); err != nil {
				return false // still in progress
			}
		}
		return true
	})
	if werr != nil {
		return nil, werr // timed out or cancelled
	}
	if connErr == nil {
		return nil, nil
	}
	var icmpErr *ICMPError
	_ = rc.Control(func(fd uintptr) { icmpErr = readICMPError(int(fd), dst.Is6()) })
	return icmpErr, connErr
}

// tcpSockaddr converts dst:port; a zone becomes the interface index.
func tcpSockaddr(dst netip.Addr, port uint16) (unix.Sockaddr, error) {
	if dst.Is4() {
		return &unix.SockaddrInet4{Port: int(port), Addr: dst.As4()}, nil
	}
	zone, err := zoneIndex(dst)
	if err != nil {
		return nil, err
	}
	return &unix.SockaddrInet6{Port: int(port), Addr: dst.As16(), ZoneId: zone}, nil
}

// readICMPError takes one entry off the socket's error queue and returns
// it if it is an ICMP error, with the address of the router or host that
// sent it.
func readICMPError(fd int, v6 bool) *ICMPError {
	var data [64]byte
	oob := make([]byte, unix.CmsgSpace(512))
	_, oobn, _, _, err := unix.Recvmsg(fd, data[:], oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err != nil {
		return nil
	}
	ee, from, ok := parseExtendedErr(v6, oob[:oobn])
	if !ok || !from.IsValid() || (ee.Origin != unix.SO_EE_ORIGIN_ICMP && ee.Origin != unix.SO_EE_ORIGIN_ICMP6) {
		return nil // a local error: connect's errno already says it all
	}
	from = from.Unmap()
	typ, code := int(ee.Type), int(ee.Code)
	return &ICMPError{From: from, Type: typ, Code: code, Text: icmpErrorText(ee.Origin == unix.SO_EE_ORIGIN_ICMP6, typ, code)}
}
