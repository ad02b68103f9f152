package scanner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"netscanner/internal/testnet"
	"netscanner/scanner/targets"
)

// lnRoute is one line of /proc/net/route as this machine's kernel would
// print it: each address is the %08X of a 32-bit word in memory order.
func lnRoute(ifname, dst, gw, mask string, flags, metric int) string {
	word := func(s string) uint32 {
		b := netip.MustParseAddr(s).As4()
		return binary.NativeEndian.Uint32(b[:])
	}
	return fmt.Sprintf("%s\t%08X\t%08X\t%04X\t0\t0\t%d\t%08X\t0\t0\t0\n",
		ifname, word(dst), word(gw), flags, metric, word(mask))
}

const lnRouteHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

const (
	lnLAN = net.FlagUp | net.FlagBroadcast | net.FlagMulticast | net.FlagRunning
	lnUG  = 0x3
	lnU   = 0x1
)

func lnPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func lnAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }

func TestLocalNetworks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ifaces []ifaceInfo
		routes string
		want   []Network
	}{{
		name: "laptop",
		ifaces: []ifaceInfo{
			{Name: "lo", Flags: net.FlagUp | net.FlagLoopback | net.FlagRunning, Addrs: []netip.Prefix{lnPrefix("127.0.0.1/8"), lnPrefix("::1/128")}},
			{Name: "eth0", Flags: net.FlagBroadcast | net.FlagMulticast, Addrs: []netip.Prefix{lnPrefix("198.18.9.2/24")}},
			{Name: "wlan0", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("192.0.2.10/24"), lnPrefix("2001:db8::10/64"), lnPrefix("fe80::10/64")}},
			{Name: "docker0", Flags: net.FlagUp | net.FlagBroadcast | net.FlagMulticast, Addrs: []netip.Prefix{lnPrefix("198.18.64.1/16")}},
			{Name: "wg0", Flags: net.FlagUp | net.FlagPointToPoint | net.FlagRunning, Addrs: []netip.Prefix{lnPrefix("203.0.113.2/24")}},
		},
		routes: lnRouteHeader +
			lnRoute("wlan0", "0.0.0.0", "192.0.2.1", "0.0.0.0", lnUG, 600) +
			lnRoute("wlan0", "192.0.2.0", "0.0.0.0", "255.255.255.0", lnU, 600) +
			lnRoute("eth0", "0.0.0.0", "198.18.9.1", "0.0.0.0", lnUG, 100),
		want: []Network{
			{Interface: "wlan0", Addr: lnAddr("192.0.2.10"), Prefix: lnPrefix("192.0.2.0/24"), Gateway: lnAddr("192.0.2.1"), Scan: lnPrefix("192.0.2.0/24")},
			{Interface: "docker0", Addr: lnAddr("198.18.64.1"), Prefix: lnPrefix("198.18.0.0/16"),
				Note: "198.18.0.0/16 is not scanned: the link has no carrier (unplugged, or nothing attached)"},
			{Interface: "wg0", Addr: lnAddr("203.0.113.2"), Prefix: lnPrefix("203.0.113.0/24"),
				Note: "203.0.113.0/24 is not scanned: a point-to-point link (VPN or tunnel) has only its peer on it; pass the peer as a target to probe it"},
		},
	}, {
		name:   "wide network narrowed to a /24",
		ifaces: []ifaceInfo{{Name: "eth0", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("192.0.2.77/20")}}},
		routes: lnRouteHeader + lnRoute("eth0", "0.0.0.0", "192.0.0.1", "0.0.0.0", lnUG, 0),
		want: []Network{{Interface: "eth0", Addr: lnAddr("192.0.2.77"), Prefix: lnPrefix("192.0.0.0/20"), Gateway: lnAddr("192.0.0.1"), Scan: lnPrefix("192.0.2.0/24"),
			Note: "192.0.0.0/20 is large; scanning only 192.0.2.0/24, the /24 around this machine's address; pass 192.0.0.0/20 as a target to scan all of it"}},
	}, {
		name:   "wider than --max-hosts",
		ifaces: []ifaceInfo{{Name: "eth0", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("198.18.200.3/15")}}},
		want: []Network{{Interface: "eth0", Addr: lnAddr("198.18.200.3"), Prefix: lnPrefix("198.18.0.0/15"), Scan: lnPrefix("198.18.200.0/24"),
			Note: "198.18.0.0/15 is large; scanning only 198.18.200.0/24, the /24 around this machine's address; pass 198.18.0.0/15 as a target to scan all of it (it has 131,070 addresses, so add --max-hosts)"}},
	}, {
		name: "/31 scanned, /32 and tunnel without broadcast skipped",
		ifaces: []ifaceInfo{
			{Name: "p31", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("198.18.0.1/31")}},
			{Name: "p32", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("198.18.1.1/32")}},
			{Name: "ipip0", Flags: net.FlagUp | net.FlagRunning, Addrs: []netip.Prefix{lnPrefix("198.18.2.1/24")}},
		},
		want: []Network{
			{Interface: "p31", Addr: lnAddr("198.18.0.1"), Prefix: lnPrefix("198.18.0.0/31"), Scan: lnPrefix("198.18.0.0/31")},
			{Interface: "p32", Addr: lnAddr("198.18.1.1"), Prefix: lnPrefix("198.18.1.1/32"), Note: "198.18.1.1/32 is not scanned: a /32 holds only this machine"},
			{Interface: "ipip0", Addr: lnAddr("198.18.2.1"), Prefix: lnPrefix("198.18.2.0/24"),
				Note: "198.18.2.0/24 is not scanned: a link without broadcast is a tunnel, not a LAN; pass its addresses as targets to probe them"},
		},
	}, {
		name: "two networks on one interface; the gateway goes to its own",
		ifaces: []ifaceInfo{{Name: "eth0", Flags: lnLAN, Addrs: []netip.Prefix{
			lnPrefix("198.18.0.5/24"), lnPrefix("198.18.0.6/24"), lnPrefix("198.18.1.5/24"),
		}}},
		routes: lnRouteHeader +
			lnRoute("eth0", "0.0.0.0", "198.18.1.1", "0.0.0.0", lnUG, 200) +
			lnRoute("eth0", "0.0.0.0", "198.18.0.1", "0.0.0.0", lnUG, 300),
		want: []Network{
			{Interface: "eth0", Addr: lnAddr("198.18.0.5"), Prefix: lnPrefix("198.18.0.0/24"), Scan: lnPrefix("198.18.0.0/24")},
			{Interface: "eth0", Addr: lnAddr("198.18.1.5"), Prefix: lnPrefix("198.18.1.0/24"), Gateway: lnAddr("198.18.1.1"), Scan: lnPrefix("198.18.1.0/24")},
		},
	}, {
		name:   "on-link gateway outside the network",
		ifaces: []ifaceInfo{{Name: "eth0", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("198.18.0.5/24")}}},
		routes: lnRouteHeader + lnRoute("eth0", "0.0.0.0", "198.19.0.1", "0.0.0.0", lnUG, 0),
		want: []Network{
			{Interface: "eth0", Addr: lnAddr("198.18.0.5"), Prefix: lnPrefix("198.18.0.0/24"), Gateway: lnAddr("198.19.0.1"), Scan: lnPrefix("198.18.0.0/24")},
		},
	}, {
		name:   "unreadable or garbled route table",
		ifaces: []ifaceInfo{{Name: "eth0", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("198.18.0.5/24")}}},
		routes: lnRouteHeader + "eth0\tzz\t0100A8C0\t0003\n" + "eth0\t00000000\tnothex\t0003\t0\t0\t0\t00000000\n" +
			lnRoute("eth0", "0.0.0.0", "198.18.0.1", "0.0.0.0", lnU, 0), // a default route that is not UG
		want: []Network{
			{Interface: "eth0", Addr: lnAddr("198.18.0.5"), Prefix: lnPrefix("198.18.0.0/24"), Scan: lnPrefix("198.18.0.0/24")},
		},
	}, {
		name:   "nothing but loopback",
		ifaces: []ifaceInfo{{Name: "lo", Flags: net.FlagUp | net.FlagLoopback | net.FlagRunning, Addrs: []netip.Prefix{lnPrefix("127.0.0.1/8")}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := localNetworks(tc.ifaces, []byte(tc.routes))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("localNetworks:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDefaultTargets(t *testing.T) {
	nets := localNetworks([]ifaceInfo{
		{Name: "eth0", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("198.18.0.5/24")}},
		{Name: "wlan0", Flags: lnLAN, Addrs: []netip.Prefix{lnPrefix("198.18.0.9/24"), lnPrefix("198.18.16.77/20")}},
		{Name: "wg0", Flags: net.FlagUp | net.FlagPointToPoint | net.FlagRunning, Addrs: []netip.Prefix{lnPrefix("203.0.113.2/24")}},
	}, nil)
	ts, err := DefaultTargets(nets)
	if err != nil {
		t.Fatal(err)
	}
	// eth0 and wlan0 share a /24, scanned once.
	if got, want := ts.String(), "198.18.0.0/24, 198.18.16.0/24"; got != want {
		t.Errorf("targets %s, want %s", got, want)
	}
	if ts.Len() != 2*254 {
		t.Errorf("Len = %d, want %d", ts.Len(), 2*254)
	}
	notes := strings.Join(ts.Notes(), "\n")
	for _, want := range []string{"wlan0: 198.18.16.0/20 is large", "wg0: 203.0.113.0/24 is not scanned"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}

	_, err = DefaultTargets(nets[len(nets)-1:])
	if !errors.Is(err, targets.ErrNoTargets) {
		t.Errorf("only a tunnel: error %v, want targets.ErrNoTargets", err)
	}
}

// TestLocalNetworksNamespace runs LocalNetworks in a namespace holding one
// LAN with a default route, interfaces that are down, and loopback: it
// must find exactly the LAN and its gateway. The test thread enters the
// namespace with setns, so this also checks that interfaces and routes are
// read from the calling thread's namespace. (On Linux, /proc/self/net would
// show the main thread's; under gVisor both paths follow the thread.)
func TestLocalNetworksNamespace(t *testing.T) {
	host, gw := testnet.NewNS(t, "host"), testnet.NewNS(t, "gw")
	hostIf, _ := testnet.Link(t, host, gw, "198.18.5.10/24", "198.18.5.1/24")
	host.Run("ip", "route", "add", "default", "via", "198.18.5.1")
	// A veth pair left down, with an address: not a network to scan.
	host.Run("ip", "link", "add", "lnt-a", "type", "veth", "peer", "name", "lnt-b")
	host.Run("ip", "addr", "add", "198.18.9.1/24", "dev", "lnt-a")

	var nets []Network
	var err error
	host.Do(func() { nets, err = LocalNetworks() })
	if err != nil {
		t.Fatal(err)
	}
	want := []Network{{
		Interface: hostIf,
		Addr:      lnAddr("198.18.5.10"),
		Prefix:    lnPrefix("198.18.5.0/24"),
		Gateway:   lnAddr("198.18.5.1"),
		Scan:      lnPrefix("198.18.5.0/24"),
	}}
	if !reflect.DeepEqual(nets, want) {
		t.Fatalf("LocalNetworks in the namespace:\n got %+v\nwant %+v", nets, want)
	}
	ts, err := DefaultTargets(nets)
	if err != nil {
		t.Fatal(err)
	}
	if ts.String() != "198.18.5.0/24" || ts.Len() != 254 {
		t.Errorf("DefaultTargets = %s (%d addresses), want 198.18.5.0/24 (254)", ts, ts.Len())
	}
}
