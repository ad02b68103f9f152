//go:build !linux

package probe

import (
	"errors"
	"fmt"
)

// ErrNoIPv6 reports that a Conn has no IPv6 socket because this machine
// (or network namespace) has no IPv6.
var ErrNoIPv6 = errors.New("no IPv6 socket")

// openSock is where Linux opens ICMP sockets. Elsewhere the socket methods
// are not available; the exec and tcp methods still are.
func openSock(m Method, rawID uint16) (Conn, error) {
	return nil, fmt.Errorf("probe: %s sockets: %w", m, errors.ErrUnsupported)
}
