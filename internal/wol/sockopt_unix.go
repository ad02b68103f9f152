//go:build unix

package wol

import "syscall"

// setBroadcast lets a UDP socket send to a broadcast address.
func setBroadcast(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
}
