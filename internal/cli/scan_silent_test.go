package cli

import (
	"net/netip"
	"strings"
	"testing"

	"netscanner/internal/testnet"
	"netscanner/scanner"
)

func TestReasonLabel(t *testing.T) {
	for _, tt := range []struct {
		h    scanner.Host
		want string
	}{
		{scanner.Host{Addr: netip.MustParseAddr("198.18.100.22"), Reason: scanner.ReasonNeighbour}, "arp"},
		{scanner.Host{Addr: netip.MustParseAddr("::ffff:198.18.100.22"), Reason: scanner.ReasonNeighbour}, "arp"},
		{scanner.Host{Addr: netip.MustParseAddr("2001:db8:100::22"), Reason: scanner.ReasonNeighbour}, "ndp"},
		{scanner.Host{Addr: netip.MustParseAddr("198.18.100.23"), Reason: scanner.ReasonEchoReply}, "echo-reply"},
	} {
		if got := reasonLabel(tt.h); got != tt.want {
			t.Errorf("reasonLabel(%s %s) = %q, want %q", tt.h.Addr, tt.h.Reason, got, tt.want)
		}
	}
}

// TestScanSilentLAN: the table names the neighbour table's evidence by
// protocol (arp, ndp), and a scan of addresses behind a router says why a
// device there that ignores ping cannot be seen.
func TestScanSilentLAN(t *testing.T) {
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "iot", MAC: "24:0a:c4:00:00:22", Addr4: "198.18.100.22", Addr6: "2001:db8:100::22",
			Silence: testnet.OnlyResolves},
		testnet.BridgedSpec{Label: "gw", MAC: "74:83:c2:00:00:0e", Addr4: "198.18.100.254", Behind: []string{"198.18.101.5"}},
	)
	code, out, errOut := scanIn(t, lan.Scanner, "--method", "raw", "--no-names", "--ports", "none",
		"198.18.100.16-198.18.100.31", "2001:db8:100::20-2001:db8:100::2f", "198.18.101.5")
	t.Logf("\n%s%s", out, errOut)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	iot := lan.Host("iot")
	for a, want := range map[netip.Addr]string{iot.Addr4: "arp", iot.Addr6: "ndp"} {
		r := rows[a.String()]
		if len(r) < 6 || r[4] != want || r[5] != iot.HW.String() {
			t.Errorf("%s: row %q, want reason %s and MAC %s", a, r, want, iot.HW)
		}
	}
	if _, ok := rows["198.18.101.5"]; !ok {
		t.Error("the host behind the router, which answers pings, is missing")
	}
	if len(rows) != 3 {
		t.Errorf("%d rows, want 3", len(rows))
	}
	if !strings.Contains(errOut, "note: 1 address lies behind a router") || !strings.Contains(errOut, "cannot be seen") {
		t.Errorf("no note on the routed address:\n%s", errOut)
	}
}
