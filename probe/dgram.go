package probe

// OpenDgram opens a Conn that uses the Dgram method: unprivileged ICMP
// datagram sockets ("ping sockets"), one for IPv4 and one for IPv6. The
// kernel picks each socket's echo identifier, fills in checksums and hands
// the socket only the echo replies carrying its identifier; ICMP errors
// about its requests come through the socket's error queue.
//
// Linux allows these sockets to processes whose group lies inside
// net.ipv4.ping_group_range (which governs IPv6 too); otherwise socket
// creation fails and the error matches syscall.EACCES with errors.Is. If
// only IPv6 is missing, the Conn works for IPv4 and Send returns a
// *SendError wrapping ErrNoIPv6 for IPv6 destinations.
//
// The Dgram method has no options: opts is accepted for symmetry with the
// other constructors.
func OpenDgram(opts Options) (Conn, error) {
	return openSock(Dgram, 0)
}
