package probe

import "crypto/rand"

// OpenRaw opens a Conn that uses the Raw method: raw ICMP sockets, one for
// IPv4 and one for IPv6, which need root or CAP_NET_RAW (without them the
// error matches syscall.EPERM with errors.Is).
//
// A raw socket receives every ICMP packet that reaches the machine, so the
// Conn picks a random echo identifier, sets a kernel ICMP filter that lets
// through only echo replies and the error types that can quote a request,
// and keeps only packets with its identifier and the tag of their request.
// If only IPv6 is missing, the Conn works for IPv4 and Send returns a
// *SendError wrapping ErrNoIPv6 for IPv6 destinations.
//
// The Raw method has no options: opts is accepted for symmetry with the
// other constructors.
func OpenRaw(opts Options) (Conn, error) {
	var id [2]byte
	rand.Read(id[:]) // never fails
	return openSock(Raw, uint16(id[0])<<8|uint16(id[1]))
}
