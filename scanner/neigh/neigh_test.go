package neigh

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"

	"netscanner/internal/testnet"
)

const peerMAC = "b8:27:eb:12:34:56"

// lan is a scanner namespace with one peer on a /24 (and a /64), plus
// routes through that peer to 198.18.9.0/24 and 2001:db8:9::/64, and a few
// hand-made neighbour entries that must never be reported.
type lan struct {
	scan  *testnet.NS
	iface string // the scanner's end of the link
}

var (
	peer4    = netip.MustParseAddr("198.18.5.2")
	peer6    = netip.MustParseAddr("2001:db8:5::2")
	self4    = netip.MustParseAddr("198.18.5.1")
	silent4  = netip.MustParseAddr("198.18.5.99") // on-link, nobody there
	perm4    = netip.MustParseAddr("198.18.5.60") // permanent entry
	routed4  = netip.MustParseAddr("198.18.9.7")  // behind the peer, with a planted entry
	routed6  = netip.MustParseAddr("2001:db8:9::7")
	nowhere4 = netip.MustParseAddr("198.19.200.1") // no route at all
	// A link-local neighbour, entered by hand: the tests send packets
	// only to 198.18.0.0/15 and 2001:db8::/32.
	linkLocal    = netip.MustParseAddr("fe80::99")
	linkLocalMAC = "02:00:00:00:00:98"
	// Routes that lead nowhere, each refused by RTM_GETROUTE with its own
	// error.
	deadEnds = map[string]string{
		"blackhole":   "198.18.20.0/24",
		"prohibit":    "198.18.21.0/24",
		"unreachable": "198.18.22.0/24",
		"throw":       "198.18.23.0/24",
	}
	ignored = map[string]string{ // address: how `ip neigh` adds it
		"198.18.5.50": "incomplete",
		"198.18.5.51": "zero MAC",
		"198.18.5.52": "noarp",
		"198.18.5.53": "failed",
	}
)

func newLAN(t *testing.T) *lan {
	t.Helper()
	s, p := testnet.NewNS(t, "nbr"), testnet.NewNS(t, "peer")
	aIf, bIf := testnet.Link(t, s, p, "198.18.5.1/24", "198.18.5.2/24", "2001:db8:5::1/64", "2001:db8:5::2/64")
	// Link resolved the peer under its random MAC already: give it a known
	// one and make the scanner learn it afresh.
	p.Run("ip", "link", "set", "dev", bIf, "address", peerMAC)
	s.Run("ip", "neigh", "flush", "dev", aIf)
	for _, a := range []netip.Addr{peer4, peer6} {
		if out, err := s.Command(testnet.Root, "ping", "-n", "-c1", "-W1", a.String()).CombinedOutput(); err != nil {
			t.Fatalf("ping %s: %v\n%s", a, err, out)
		}
	}
	s.Run("ip", "route", "add", "198.18.9.0/24", "via", peer4.String())
	for kind, prefix := range deadEnds {
		s.Run("ip", "route", "add", kind, prefix)
	}
	s.Run("ip", "-6", "route", "add", "2001:db8:9::/64", "via", peer6.String())
	// A stale or forged entry for a routed address: present in the
	// table, but its MAC must never be given to that address.
	s.Run("ip", "neigh", "add", routed4.String(), "lladdr", "02:00:00:00:00:99", "dev", aIf, "nud", "permanent")
	s.Run("ip", "neigh", "add", perm4.String(), "lladdr", "dc:a6:32:00:00:01", "dev", aIf, "nud", "permanent")
	s.Run("ip", "neigh", "add", linkLocal.String(), "lladdr", linkLocalMAC, "dev", aIf, "nud", "permanent")
	s.Run("ip", "neigh", "add", "198.18.5.50", "dev", aIf, "nud", "incomplete")
	s.Run("ip", "neigh", "add", "198.18.5.51", "lladdr", "00:00:00:00:00:00", "dev", aIf, "nud", "permanent")
	s.Run("ip", "neigh", "add", "198.18.5.52", "lladdr", "02:00:00:00:00:52", "dev", aIf, "nud", "noarp")
	s.Run("ip", "neigh", "add", "198.18.5.53", "lladdr", "02:00:00:00:00:53", "dev", aIf, "nud", "failed")
	return &lan{scan: s, iface: aIf}
}

func TestTable(t *testing.T) {
	n := newLAN(t)
	var tab map[netip.Addr]Entry
	var err error
	n.scan.Do(func() { tab, err = Table(t.Context()) })
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []netip.Addr{peer4, peer6} {
		e, ok := tab[a]
		if !ok || e.MAC.String() != peerMAC || e.Interface != n.iface || e.State != Reachable {
			t.Errorf("%s: got %+v (present %v), want %s on %s, reachable", a, e, ok, peerMAC, n.iface)
		}
	}
	if e := tab[perm4]; e.State != Permanent || e.MAC.String() != "dc:a6:32:00:00:01" {
		t.Errorf("%s: got %+v, want the permanent entry", perm4, e)
	}
	for a, why := range ignored {
		if e, ok := tab[netip.MustParseAddr(a)]; ok {
			t.Errorf("%s (%s) reported: %+v", a, why, e)
		}
	}
	// Link-local neighbours carry their link as zone.
	if e := tab[linkLocal.WithZone(n.iface)]; e.MAC.String() != linkLocalMAC {
		t.Errorf("%s%%%s: got %+v, want %s", linkLocal, n.iface, e, linkLocalMAC)
	}
	for a, e := range tab {
		if a.Is6() && a.IsLinkLocalUnicast() && a.Zone() != e.Interface {
			t.Errorf("%s on %s: zone missing", a, e.Interface)
		}
	}

	// Outside the namespace the peer is unknown: the table really is the
	// calling thread's namespace's.
	root, err := Table(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := root[peer4]; ok && e.MAC.String() == peerMAC {
		t.Error("the root namespace's table holds the test peer")
	}
}

func TestLookup(t *testing.T) {
	n := newLAN(t)
	type lookupCase struct {
		addr    netip.Addr
		want    string
		wantErr error
	}
	ifindex := strings.TrimSpace(n.scan.Run("cat", "/sys/class/net/"+n.iface+"/ifindex"))
	tests := []lookupCase{
		{peer4, peerMAC, nil},
		{linkLocal.WithZone(n.iface), linkLocalMAC, nil},
		{linkLocal.WithZone(ifindex), linkLocalMAC, nil},
		{peer6, peerMAC, nil},
		{netip.AddrFrom16(peer4.As16()), peerMAC, nil}, // IPv4-mapped
		{perm4, "dc:a6:32:00:00:01", nil},
		{silent4, "", ErrNotFound},
		{netip.MustParseAddr("198.18.5.50"), "", ErrNotFound}, // incomplete
		{netip.MustParseAddr("198.18.5.51"), "", ErrNotFound}, // zero MAC
		{self4, "", ErrLocal},
		{routed4, "", ErrNotOnLink}, // has an entry, but lies behind the peer
		{routed6, "", ErrNotOnLink},
		{nowhere4, "", ErrNotOnLink},
	}
	for _, p := range deadEnds {
		tests = append(tests, lookupCase{netip.MustParsePrefix(p).Addr().Next(), "", ErrNotOnLink})
	}
	n.scan.Do(func() {
		for _, tt := range tests {
			mac, err := Lookup(t.Context(), tt.addr)
			if mac.String() != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Lookup(%s) = %q, %v; want %q, %v", tt.addr, mac, err, tt.want, tt.wantErr)
			}
		}
	})
	if _, err := Lookup(t.Context(), netip.Addr{}); err == nil {
		t.Error("Lookup of the zero Addr succeeded")
	}
}

func TestRouteTo(t *testing.T) {
	n := newLAN(t)
	tests := []struct {
		addr netip.Addr
		want Route
	}{
		{peer4, Route{Interface: n.iface, Direct: true}},
		{peer6, Route{Interface: n.iface, Direct: true}},
		{silent4, Route{Interface: n.iface, Direct: true}},
		{routed4, Route{Interface: n.iface, Gateway: peer4}},
		{routed6, Route{Interface: n.iface, Gateway: peer6}},
		{self4, Route{Interface: "lo", Local: true}},
		{netip.MustParseAddr("198.18.5.255"), Route{Interface: n.iface}}, // broadcast
	}
	n.scan.Do(func() {
		for _, tt := range tests {
			got, err := RouteTo(t.Context(), tt.addr)
			if err != nil || got != tt.want {
				t.Errorf("RouteTo(%s) = %+v, %v; want %+v", tt.addr, got, err, tt.want)
			}
			iface, ok, err := OnLink(t.Context(), tt.addr)
			if err != nil || ok != tt.want.Direct || ok && iface != n.iface {
				t.Errorf("OnLink(%s) = %q, %v, %v; want %v", tt.addr, iface, ok, err, tt.want.Direct)
			}
		}
		unrouted := []netip.Addr{nowhere4}
		for _, p := range deadEnds {
			unrouted = append(unrouted, netip.MustParsePrefix(p).Addr().Next())
		}
		for _, a := range unrouted {
			if _, err := RouteTo(t.Context(), a); !errors.Is(err, ErrNotOnLink) {
				t.Errorf("RouteTo(%s): %v, want ErrNotOnLink", a, err)
			}
			if _, ok, err := OnLink(t.Context(), a); ok || err != nil {
				t.Errorf("OnLink(%s) = %v, %v; want false, nil", a, ok, err)
			}
		}
	})
}

// denied stands for a sandbox that refuses netlink, as Android does.
func denied() (*netlink.Handle, error) { return nil, syscall.EACCES }

func TestFallbackToProc(t *testing.T) {
	n := newLAN(t)
	s := source{dial: denied, arp: readProcARP}
	n.scan.Do(func() {
		tab, err := s.table(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if e := tab[peer4]; e.MAC.String() != peerMAC || e.Interface != n.iface || e.State != Resolved {
			t.Errorf("%s: got %+v, want %s on %s", peer4, e, peerMAC, n.iface)
		}
		if e := tab[perm4]; e.State != Permanent {
			t.Errorf("%s: got %+v, want permanent", perm4, e)
		}
		for a := range tab {
			if !a.Is4() {
				t.Errorf("/proc/net/arp gave %s", a)
			}
			if why, ok := ignored[a.String()]; ok {
				t.Errorf("%s (%s) reported", a, why)
			}
		}
		if mac, err := s.lookup(t.Context(), peer4); err != nil || mac.String() != peerMAC {
			t.Errorf("lookup(%s) = %v, %v", peer4, mac, err)
		}
		if _, err := s.lookup(t.Context(), silent4); !errors.Is(err, ErrNotFound) {
			t.Errorf("lookup(%s): %v, want ErrNotFound", silent4, err)
		}
		// /proc/net/arp knows no IPv6, and routes need netlink.
		_, err = s.lookup(t.Context(), peer6)
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("lookup(%s): %v, want ErrUnavailable from a permission error", peer6, err)
		}
		if _, err := s.route(t.Context(), peer4); !errors.Is(err, ErrUnavailable) {
			t.Errorf("route(%s): %v, want ErrUnavailable", peer4, err)
		}
	})
}

func TestUnavailable(t *testing.T) {
	s := source{dial: denied, arp: func() ([]byte, error) { return nil, syscall.EACCES }}
	_, err := s.table(t.Context())
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnavailable) || ue.Proc == nil || ue.Netlink == nil {
		t.Fatalf("table: %v, want an UnavailableError with both causes", err)
	}
	if _, err := s.lookup(t.Context(), netip.MustParseAddr("198.18.5.2")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("lookup: %v, want ErrUnavailable", err)
	}
	t.Log(err)
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Table(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Table: %v, want context.Canceled", err)
	}
	if _, err := Lookup(ctx, peer4); !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup: %v, want context.Canceled", err)
	}
	if _, err := RouteTo(ctx, peer4); !errors.Is(err, context.Canceled) {
		t.Errorf("RouteTo: %v, want context.Canceled", err)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Resolved: "resolved", Reachable: "reachable", Permanent: "permanent", 42: "State(42)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s, want)
		}
	}
}
