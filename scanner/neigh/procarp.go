package neigh

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Flags in /proc/net/arp's third column (linux/if_arp.h).
const (
	atfCom  = 0x02 // completed: the MAC is known
	atfPerm = 0x04 // permanent
	atfPubl = 0x08 // published: this machine answers for the address (proxy ARP)
)

// parseProcARP parses /proc/net/arp:
//
//	IP address       HW type     Flags       HW address            Mask     Device
//	198.18.5.2       0x1         0x2         b8:27:eb:12:34:56     *        veth0
//
// It keeps completed entries with a non-zero MAC and drops incomplete ones
// (flags 0) and published proxy entries, whose MAC is this machine's.
func parseProcARP(b []byte) (map[netip.Addr]Entry, error) {
	lines := strings.Split(string(b), "\n")
	if !strings.HasPrefix(lines[0], "IP address") {
		return nil, errors.New("neigh: /proc/net/arp: missing header")
	}
	t := map[netip.Addr]Entry{}
	for i, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func(what string) error {
			return fmt.Errorf("neigh: /proc/net/arp line %d: bad %s in %q", i+2, what, line)
		}
		if len(f) != 6 {
			return nil, bad("column count")
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || !a.Is4() {
			return nil, bad("IP address")
		}
		flags, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 32)
		if err != nil || !strings.HasPrefix(f[2], "0x") {
			return nil, bad("flags")
		}
		mac, err := net.ParseMAC(f[3])
		if err != nil {
			// Links whose addresses are no MAC (FireWire's are 16
			// bytes, for one) list them in forms ParseMAC rejects;
			// they are not what this package reports.
			continue
		}
		if flags&atfCom == 0 || flags&atfPubl != 0 || len(bytes.Trim(mac, "\x00")) == 0 {
			continue
		}
		e := Entry{MAC: mac, Interface: f[5], State: Resolved}
		if flags&atfPerm != 0 {
			e.State = Permanent
		}
		if _, dup := t[a]; !dup {
			t[a] = e
		}
	}
	return t, nil
}
