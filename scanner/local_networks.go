package scanner

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"netscanner/scanner/targets"
)

// Network is one IPv4 network this machine sits on, and what a default
// scan makes of it.
type Network struct {
	Interface string       // interface name, such as wlan0
	Addr      netip.Addr   // this machine's address on it
	Prefix    netip.Prefix // the network, masked: 192.0.2.0/24
	Gateway   netip.Addr   // default gateway through this interface; zero if none
	// Scan is what a default scan covers: Prefix itself, the /24 around
	// Addr when Prefix is wider than that, or the zero Prefix when the
	// network is not worth sweeping (Note says why).
	Scan netip.Prefix
	Note string // why Scan differs from Prefix; empty when it does not
}

// widestDefaultScan is the largest network a default scan sweeps whole.
// A home or office LAN is a /24; a wider one (a campus, a carrier's
// shared address space) is narrowed to the /24 around this machine.
const widestDefaultScan = 24

// LocalNetworks lists the IPv4 networks of this machine's interfaces that
// are up, not loopback, and have a carrier, with each one's default
// gateway from the kernel's routing table.
//
// It reads the network namespace of the calling thread: the interfaces
// through a netlink socket the call opens, the routes from
// /proc/thread-self/net/route (/proc/self/net/route would show the main
// thread's namespace instead). A routing table that cannot be read, as on
// Android, which hides it from apps, only leaves Gateway unset.
func LocalNetworks() ([]Network, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	infos := make([]ifaceInfo, 0, len(ifs))
	for _, ifc := range ifs {
		info := ifaceInfo{Name: ifc.Name, Flags: ifc.Flags}
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 {
			addrs, err := ifc.Addrs()
			if err != nil {
				return nil, fmt.Errorf("listing addresses of %s: %w", ifc.Name, err)
			}
			for _, a := range addrs {
				if p, ok := ipNetPrefix(a); ok {
					info.Addrs = append(info.Addrs, p)
				}
			}
		}
		infos = append(infos, info)
	}
	routes, err := os.ReadFile("/proc/thread-self/net/route")
	if errors.Is(err, os.ErrNotExist) { // Linux before 3.17
		routes, _ = os.ReadFile("/proc/net/route")
	}
	return localNetworks(infos, routes), nil
}

// ipNetPrefix turns an interface address into a prefix that keeps the
// host's own address: 192.0.2.10/24.
func ipNetPrefix(a net.Addr) (netip.Prefix, bool) {
	ipn, ok := a.(*net.IPNet)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(ipn.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := ipn.Mask.Size()
	ip = ip.Unmap()
	if ip.Is4() && ones > 32 { // a 16-byte mask on an IPv4 address
		ones -= 96
	}
	p := netip.PrefixFrom(ip, ones)
	return p, p.IsValid()
}

// ifaceInfo is what localNetworks needs to know about an interface, so
// that tests can describe machines that do not exist.
type ifaceInfo struct {
	Name  string
	Flags net.Flags
	Addrs []netip.Prefix // each address with its prefix length
}

// localNetworks is LocalNetworks without the machine: interfaces in the
// kernel's order and the text of /proc/net/route (nil if unreadable).
func localNetworks(ifaces []ifaceInfo, routeTable []byte) []Network {
	gateways := defaultGateways(routeTable)
	var out []Network
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		first := len(out)
		for _, p := range ifc.Addrs {
			if !p.Addr().Is4() || !p.IsValid() {
				continue // an IPv6 /64 cannot be swept
			}
			n := Network{Interface: ifc.Name, Addr: p.Addr(), Prefix: p.Masked()}
			if dup(out[first:], n.Prefix) {
				continue // a second address on the same network
			}
			n.Scan, n.Note = defaultScan(ifc.Flags, p)
			out = append(out, n)
		}
		// The gateway belongs to the network that holds it; failing that
		// (an on-link route to an outside address), to the interface's
		// first network.
		if gw, ok := gateways[ifc.Name]; ok && len(out) > first {
			i := first
			for j := first; j < len(out); j++ {
				if out[j].Prefix.Contains(gw) {
					i = j
					break
				}
			}
			out[i].Gateway = gw
		}
	}
	return out
}

func dup(nets []Network, p netip.Prefix) bool {
	for _, n := range nets {
		if n.Prefix == p {
			return true
		}
	}
	return false
}

// defaultScan decides what a default scan makes of the network of address
// p on an interface with the given flags.
func defaultScan(flags net.Flags, p netip.Prefix) (netip.Prefix, string) {
	network := p.Masked()
	switch {
	case flags&net.FlagRunning == 0:
		return netip.Prefix{}, fmt.Sprintf("%s is not scanned: the link has no carrier (unplugged, or nothing attached)", network)
	case flags&net.FlagPointToPoint != 0:
		return netip.Prefix{}, fmt.Sprintf("%s is not scanned: a point-to-point link (VPN or tunnel) has only its peer on it; pass the peer as a target to probe it", network)
	case flags&net.FlagBroadcast == 0:
		return netip.Prefix{}, fmt.Sprintf("%s is not scanned: a link without broadcast is a tunnel, not a LAN; pass its addresses as targets to probe them", network)
	case p.Bits() == 32:
		return netip.Prefix{}, fmt.Sprintf("%s is not scanned: a /32 holds only this machine", network)
	case p.Bits() < widestDefaultScan:
		scan := netip.PrefixFrom(p.Addr(), widestDefaultScan).Masked()
		how := "pass " + network.String() + " as a target to scan all of it"
		if hosts := uint64(1)<<(32-p.Bits()) - 2; hosts > targets.DefaultMaxHosts {
			how += fmt.Sprintf(" (it has %s addresses, so add --max-hosts)", targets.GroupDigits(hosts))
		}
		return scan, fmt.Sprintf("%s is large; scanning only %s, the /%d around this machine's address; %s", network, scan, widestDefaultScan, how)
	}
	return network, ""
}

// defaultGateways reads the default IPv4 route of each interface from the
// text of /proc/net/route. Where an interface has several, the lowest
// metric wins, as in the kernel. Lines it does not understand are
// skipped: a missing gateway is better than no scan.
//
// The kernel prints each address as the %08X of a 32-bit word in memory
// order, so the hex reads backwards on little-endian machines; putting the
// number back in native byte order recovers the address bytes either way.
func defaultGateways(table []byte) map[string]netip.Addr {
	const (
		rtfUp      = 0x1
		rtfGateway = 0x2
	)
	type route struct {
		gw     netip.Addr
		metric uint64
	}
	best := map[string]route{}
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		// Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] == "Iface" {
			continue
		}
		dst, err1 := strconv.ParseUint(f[1], 16, 32)
		gw, err2 := strconv.ParseUint(f[2], 16, 32)
		flags, err3 := strconv.ParseUint(f[3], 16, 32)
		metric, err4 := strconv.ParseUint(f[6], 10, 64)
		mask, err5 := strconv.ParseUint(f[7], 16, 32)
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			continue
		}
		if dst != 0 || mask != 0 || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || gw == 0 {
			continue
		}
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], uint32(gw))
		r := route{netip.AddrFrom4(b), metric}
		if old, ok := best[f[0]]; !ok || r.metric < old.metric {
			best[f[0]] = r
		}
	}
	out := make(map[string]netip.Addr, len(best))
	for name, r := range best {
		out[name] = r.gw
	}
	return out
}

// DefaultTargets is what a scan covers when given no targets: the Scan
// prefix of every network, without network and broadcast addresses. The
// networks' notes become the set's notes, prefixed with the interface.
// With nothing to scan it returns a *targets.Error wrapping
// targets.ErrNoTargets.
func DefaultTargets(nets []Network) (*targets.Set, error) {
	var (
		scan  []netip.Prefix
		notes []string
	)
	for _, n := range nets {
		if n.Note != "" {
			notes = append(notes, n.Interface+": "+n.Note)
		}
		if n.Scan.IsValid() && n.Scan.Addr().Is4() {
			scan = append(scan, n.Scan.Masked())
		}
	}
	if len(scan) == 0 {
		return nil, &targets.Error{Reason: "this machine is on no IPv4 network worth scanning; pass targets explicitly", Err: targets.ErrNoTargets}
	}
	return targets.FromPrefixes(scan, notes, targets.Options{Networks: Prefixes(nets)})
}

// Prefixes returns the networks' prefixes, for targets.Options.Networks:
// their broadcast addresses are then never swept.
func Prefixes(nets []Network) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(nets))
	for _, n := range nets {
		if n.Prefix.IsValid() {
			out = append(out, n.Prefix)
		}
	}
	return out
}
