package mcast

import (
	"net/netip"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// TestSocket sends multicast out of a chosen link, from one namespace of
// a bridged LAN to a socket joined in another, over both families, and
// checks what ReadFrom says of the source and the link.
func TestSocket(t *testing.T) {
	lan := testnet.NewBridged(t, testnet.BridgedSpec{Label: "host", MAC: "02:00:00:00:00:10", Addr4: "198.18.100.10"})
	h := lan.Host("host")
	var mine, theirs []Link
	var err error
	lan.Scanner.Do(func() { mine, err = LocalLinks(nil) })
	if err != nil || len(mine) != 1 || mine[0].Name != lan.ScannerIf || mine[0].Addr4 != testnet.BridgedScanner4 || mine[0].Addr6 != lan.ScannerLL {
		t.Fatalf("LocalLinks = %+v, %v", mine, err)
	}
	// covers keeps only the links it accepts.
	var none []Link
	lan.Scanner.Do(func() {
		none, err = LocalLinks(func(p netip.Prefix) bool { return p == netip.MustParsePrefix("198.18.200.0/24") })
	})
	if err != nil || len(none) != 0 {
		t.Errorf("LocalLinks(other prefix) = %+v, %v", none, err)
	}
	h.NS.Do(func() { theirs, err = LocalLinks(nil) })
	if err != nil || len(theirs) != 1 {
		t.Fatalf("host links %+v, %v", theirs, err)
	}
	inScanner := func(fn func()) error { return testnet.Do(lan.Scanner.Name, fn) }
	for _, c := range []struct {
		v6    bool
		group netip.Addr
		from  netip.Addr
	}{
		{false, netip.MustParseAddr("239.255.0.7"), testnet.BridgedScanner4},
		{true, netip.MustParseAddr("ff02::7:7"), lan.ScannerLL.WithZone(theirs[0].Name)},
	} {
		var rx *Socket
		h.NS.Do(func() {
			rx, err = Open(t.Context(), Options{V6: c.v6, Bind: netip.AddrPortFrom(netip.Addr{}, 40007), Links: theirs, Group: c.group, Reuse: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		tx, err := Open(t.Context(), Options{V6: c.v6, Links: mine, InNet: inScanner})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close()
		if err := tx.WriteTo([]byte("hello"), 0, netip.AddrPortFrom(c.group, 40007)); err != nil {
			t.Fatal(err)
		}
		if err := tx.WriteTo([]byte("x"), 1, netip.AddrPortFrom(c.group, 40007)); err == nil {
			t.Error("WriteTo a link that is not there")
		}
		got := make(chan string, 1)
		go func() {
			buf := make([]byte, 64)
			n, from, link, err := rx.ReadFrom(buf)
			if err != nil || from.Addr() != c.from || link != 0 {
				t.Errorf("ReadFrom: %q from %s on %d, %v; want from %s", buf[:n], from, link, err, c.from)
			}
			got <- string(buf[:n])
		}()
		select {
		case s := <-got:
			if s != "hello" {
				t.Errorf("read %q", s)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("v6 %v: nothing arrived", c.v6)
		}
	}
	// A group no link can join fails Open.
	if _, err := Open(t.Context(), Options{V6: true, Links: []Link{{Name: "none", Index: 9999, Addr6: netip.MustParseAddr("fe80::1")}},
		Group: netip.MustParseAddr("ff02::7:7"), InNet: inScanner}); err == nil {
		t.Error("Open joined a group on a link that does not exist")
	}
}
