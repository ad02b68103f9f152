//go:build unix

package names

import (
	"errors"
	"net"
	"syscall"
)

// awaitDatagram waits until conn has a datagram to read, within its read
// deadline, and leaves it there: a read that takes nothing.
func awaitDatagram(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Read(func(fd uintptr) bool {
		// An empty peek: it returns at once on the nonblocking socket,
		// with EAGAIN while nothing is queued. Any other outcome, an
		// error included, is for the real read to take.
		_, _, err := syscall.Recvfrom(int(fd), nil, syscall.MSG_PEEK)
		return !errors.Is(err, syscall.EAGAIN)
	})
}
