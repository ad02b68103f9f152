package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// WakePort is the UDP port Wake-on-LAN packets go to by convention (the
// "discard" port, which nothing answers on).
const WakePort = 9

// MagicPacket builds a Wake-on-LAN packet for mac: six bytes of 0xFF, then
// the MAC sixteen times. A sleeping network card that sees its own address
// repeated so wakes its machine.
func MagicPacket(mac net.HardwareAddr) ([]byte, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("wake-on-LAN needs a 6-byte MAC address, not %d bytes", len(mac))
	}
	p := make([]byte, 0, 6+16*6)
	p = append(p, bytes.Repeat([]byte{0xff}, 6)...)
	for range 16 {
		p = append(p, mac...)
	}
	return p, nil
}

// Broadcast returns the directed broadcast address of an IPv4 prefix:
// every host bit set. IPv6 has no broadcast.
func Broadcast(p netip.Prefix) (netip.Addr, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return netip.Addr{}, errors.New("wake-on-LAN needs an IPv4 network")
	}
	a := p.Masked().Addr().As4()
	bits := p.Bits()
	for i := range 4 {
		for b := 0; b < 8; b++ {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	return netip.AddrFrom4(a), nil
}

// SendMagic sends a Wake-on-LAN packet for mac to dst over UDP, with
// broadcasting allowed on the socket.
func SendMagic(ctx context.Context, mac net.HardwareAddr, dst netip.AddrPort) error {
	pkt, err := MagicPacket(mac)
	if err != nil {
		return err
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = setBroadcast(fd) }); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.DialContext(ctx, "udp4", dst.String())
	if err != nil {
		return fmt.Errorf("wake-on-LAN: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write(pkt); err != nil {
		return fmt.Errorf("wake-on-LAN: %w", err)
	}
	return nil
}
