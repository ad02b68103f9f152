package testnet

import (
	"net"
	"net/netip"
	"strings"
	"testing"
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
