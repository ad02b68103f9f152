// Package wol wakes sleeping machines: it builds Wake-on-LAN magic packets
// and sends them to a network's broadcast address over UDP.
package wol

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"netscanner/scanner/targets"
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

// Broadcast returns where a magic packet for a host on network p goes:
// its directed broadcast address (targets.Broadcast, which scans skip).
// IPv6 has no broadcast, and a /31 or /32 no broadcast address.
func Broadcast(p netip.Prefix) (netip.Addr, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return netip.Addr{}, errors.New("wake-on-LAN needs an IPv4 network")
	}
	b, ok := targets.Broadcast(p)
	if !ok {
		return netip.Addr{}, fmt.Errorf("wake-on-LAN needs a network with a broadcast address; %s has none", p.Masked())
	}
	return b, nil
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
