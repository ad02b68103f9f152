package testnet

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLinkLocalOf(t *testing.T) {
	for mac, want := range map[string]string{
		"b8:27:eb:00:00:0a": "fe80::ba27:ebff:fe00:a",
		"3a:00:00:00:00:10": "fe80::3800:ff:fe00:10", // the local bit flips off
		"00:50:56:aa:bb:cc": "fe80::250:56ff:feaa:bbcc",
	} {
		hw, _ := net.ParseMAC(mac)
		if got := linkLocalOf(hw); got != netip.MustParseAddr(want) {
			t.Errorf("linkLocalOf(%s) = %s, want %s", mac, got, want)
		}
	}
}

func TestParseBridgedSpecRefuses(t *testing.T) {
	for _, sp := range []BridgedSpec{
		{MAC: "nonsense"},
		{MAC: "01:00:5e:00:00:01"}, // multicast
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.101.2"},
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.1"}, // the scanner's
		{MAC: "b8:27:eb:00:00:0a", Addr6: "2001:db8:101::2"},
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.2", Behind: []string{"192.0.2.1"}},     // outside the test ranges
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.2", Behind: []string{"198.18.100.9"}},  // on the LAN itself
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.2", Behind: []string{"2001:db8:9::1"}}, // no IPv6 to route by
		{MAC: "b8:27:eb:00:00:0a", Default: true},
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.2", Silence: OnlyResolves, Listen: []uint16{80}},
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.2", Silence: Silence(7)},
		{MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.2", Listen: []uint16{0}},
	} {
		if _, err := parseBridgedSpec(sp); err == nil {
			t.Errorf("spec %+v accepted", sp)
		}
	}
}

// TestNewBridged builds a small LAN and checks that every host is where
// its spec says, with its MAC and link-local address, behind one bridge
// that answers nothing itself.
func TestNewBridged(t *testing.T) {
	b := NewBridged(t,
		BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10", Addr6: "2001:db8:100::10",
			Behind: []string{"198.18.101.5"}, Default: true},
		BridgedSpec{Label: "ll", MAC: "3a:00:00:00:00:10"},
	)
	pi, ll := b.Host("pi"), b.Host("ll")
	if pi == nil || ll == nil || b.Host("nobody") != nil {
		t.Fatal("Host by label")
	}
	for _, h := range b.Hosts {
		link := h.NS.Run("ip", "-br", "link", "show", h.If)
		if !strings.Contains(link, h.HW.String()) {
			t.Errorf("%s: %s lacks %s", h.Label, link, h.HW)
		}
		addrs := h.NS.Run("ip", "-br", "addr", "show", h.If)
		if !strings.Contains(addrs, h.LinkLocal.String()) {
			t.Errorf("%s: %s lacks %s", h.Label, addrs, h.LinkLocal)
		}
	}
	// The LAN works both ways and the routes are in place; the tables
	// the set-up filled are empty again.
	for _, dst := range []string{"198.18.100.10", "2001:db8:100::10", "198.18.101.5", ll.LinkLocal.WithZone(b.ScannerIf).String()} {
		if err := b.Scanner.Command(Root, "ping", "-n", "-q", "-c", "1", "-W", "2", dst).Run(); err != nil {
			t.Errorf("ping %s: %v", dst, err)
		}
	}
	if r := b.Scanner.Run("ip", "route", "show", "default"); !strings.Contains(r, "via 198.18.100.10") {
		t.Errorf("default route: %q", r)
	}
	// Nothing in the switch namespace has an address to answer from.
	if a := b.Switch.Run("ip", "-br", "addr"); strings.Contains(a, "fe80") || strings.Contains(a, "198.18") {
		t.Errorf("the switch has addresses:\n%s", a)
	}
}

// TestBridgedSilence checks the silent hosts: one ignores pings but
// accepts on a port, one answers nothing but ARP and neighbour
// discovery; both still resolve, an absent address does not, and an
// unplugged host stops answering while the scanner's link stays up.
func TestBridgedSilence(t *testing.T) {
	b := NewBridged(t,
		BridgedSpec{Label: "win", MAC: "00:15:5d:00:00:21", Addr4: "198.18.100.21", Addr6: "2001:db8:100::21",
			Silence: IgnoresPing, Listen: []uint16{8080}},
		BridgedSpec{Label: "iot", MAC: "24:0a:c4:00:00:22", Addr4: "198.18.100.22", Addr6: "2001:db8:100::22",
			Silence: OnlyResolves},
		BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:23", Addr4: "198.18.100.23"},
	)
	ping := func(dst string) bool {
		return b.Scanner.Command(Root, "ping", "-n", "-q", "-c", "1", "-W", "1", dst).Run() == nil
	}
	connect := func(dst string) error {
		var err error
		b.Scanner.Do(func() {
			var c net.Conn
			if c, err = net.DialTimeout("tcp", dst, 500*time.Millisecond); err == nil {
				c.Close()
			}
		})
		return err
	}
	win, iot, pi := b.Host("win"), b.Host("iot"), b.Host("pi")
	for _, h := range []*BridgedHost{win, iot} {
		for _, a := range []netip.Addr{h.Addr4, h.Addr6, h.LinkLocal.WithZone(b.ScannerIf)} {
			if ping(a.String()) {
				t.Errorf("%s answers a ping at %s", h.Label, a)
			}
			// Its kernel resolved it all the same.
			n := b.Scanner.Run("ip", "neigh", "show", a.WithZone("").String(), "dev", b.ScannerIf)
			if !strings.Contains(n, "lladdr "+h.HW.String()) || !strings.Contains(n, "REACHABLE") {
				t.Errorf("%s at %s: neighbour entry %q, want %s REACHABLE", h.Label, a, n, h.HW)
			}
		}
	}
	if !ping(pi.Addr4.String()) {
		t.Error("pi does not answer")
	}
	for _, a := range []netip.Addr{win.Addr4, win.Addr6} {
		if err := connect(netip.AddrPortFrom(a, 8080).String()); err != nil {
			t.Errorf("win's port 8080 at %s: %v", a, err)
		}
		// A closed port answers with a reset.
		if err := connect(netip.AddrPortFrom(a, 81).String()); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("win's closed port 81 at %s: %v, want refused", a, err)
		}
	}
	for _, a := range []netip.Addr{iot.Addr4, iot.Addr6} {
		// Neither an accept nor a reset: silence.
		var ne net.Error
		if err := connect(netip.AddrPortFrom(a, 80).String()); !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("iot's port 80 at %s: %v, want a timeout", a, err)
		}
	}
	// An absent address never resolves.
	absent := "198.18.100.99"
	ping(absent)
	if n := b.Scanner.Run("ip", "neigh", "show", absent); strings.Contains(n, "lladdr") {
		t.Errorf("absent address: %q", n)
	}

	// Unplugged, the iot device is gone, and the entry the scanner
	// had stays as it was.
	iot.Unplug()
	if n := b.Scanner.Run("ip", "neigh", "show", iot.Addr4.String()); !strings.Contains(n, "lladdr "+iot.HW.String()) {
		t.Errorf("after unplugging: neighbour entry %q, want the old one kept", n)
	}
	b.Scanner.Run("ip", "neigh", "flush", "all")
	ping(iot.Addr4.String())
	if n := b.Scanner.Run("ip", "neigh", "show", iot.Addr4.String()); strings.Contains(n, "lladdr") {
		t.Errorf("unplugged host still resolves: %q", n)
	}
	if !ping(pi.Addr4.String()) {
		t.Error("the LAN stopped working after unplugging a host")
	}
}
