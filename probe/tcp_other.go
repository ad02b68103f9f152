//go:build !linux

package probe

import (
	"context"
	"net"
	"net/netip"
	"strconv"
)

// systemDial connects with the standard dialer. Outside Linux no error
// queue tells who sent an ICMP error, so the errno alone classifies the
// answer.
func systemDial(ctx context.Context, dst netip.Addr, port uint16) (*ICMPError, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(dst.String(), strconv.Itoa(int(port))))
	if err != nil {
		return nil, err
	}
	conn.Close()
	return nil, nil
}
