//go:build !unix

package names

import "net"

// awaitDatagram returns at once where a socket cannot be peeked at: the
// read that follows does the waiting, with its buffer made beforehand.
func awaitDatagram(*net.UDPConn) error { return nil }
