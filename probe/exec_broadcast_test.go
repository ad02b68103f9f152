//go:build linux

package probe

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// TestReliabilityExecBroadcast pings a LAN's broadcast address
// (busybox sets SO_BROADCAST), the all-hosts group 224.0.0.1 and the
// all-nodes group ff02::1 (iputils pings groups) through the exec method,
// on a LAN whose hosts answer broadcasts and groups. Every host's answer
// comes "from" the host, not from the address pinged, and none may make
// that address count as up. A unicast ping in the same batch still
// counts, so the test can tell silence from a broken ping.
func TestReliabilityExecBroadcast(t *testing.T) {
	b := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "h1", MAC: "02:00:5e:10:00:02", Addr4: "198.18.100.2", Addr6: "2001:db8:100::2"},
		testnet.BridgedSpec{Label: "h2", MAC: "02:00:5e:10:00:03", Addr4: "198.18.100.3", Addr6: "2001:db8:100::3"},
	)
	for _, h := range b.Hosts {
		h.NS.Sysctl("net.ipv4.icmp_echo_ignore_broadcasts", "0")
	}
	// Multicast needs a route out of the LAN interface; no packet leaves
	// the namespaces.
	b.Scanner.Run("ip", "route", "add", "224.0.0.0/4", "dev", b.ScannerIf)
	host := b.Hosts[0].Addr4
	var memberAnswers, credited int

	cases := []struct {
		name, ping string
		dst        netip.Addr
	}{
		{"busybox-broadcast", testnet.Applet(t, "busybox", "ping"), netip.MustParseAddr("198.18.100.255")},
		{"iputils-group4", "", netip.MustParseAddr("224.0.0.1")},
		{"iputils-group6", "", netip.MustParseAddr("ff02::1").WithZone(b.ScannerIf)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := openExec(Options{PingPath: tc.ping, Timeout: time.Second}, b.Scanner.Prefix(testnet.Root))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()

			// The ping itself prints the members' answers: this is the
			// output that used to prove tc.dst up.
			out, errOut, _ := runPing(context.Background(), c.wrap, pingArgv(c.ping, c.style, tc.dst, time.Second))
			lines, _ := ParsePingOutput(append(out, errOut...))
			var members []netip.Addr
			for _, l := range lines {
				if l.Kind == PingEcho && !sameHost(l.From, tc.dst) {
					members = append(members, l.From)
				}
			}
			if len(members) == 0 {
				t.Fatalf("%s printed no answers from members; the test proves nothing:\n%s%s", tc.dst, out, errOut)
			}
			memberAnswers += len(members)

			if err := c.Send(context.Background(), tc.dst, 1); err != nil {
				t.Fatal(err)
			}
			if err := c.Send(context.Background(), host, 2); err != nil {
				t.Fatal(err)
			}
			got := collect(t, c, 2500*time.Millisecond)
			for a, rs := range got {
				for _, r := range rs {
					if r.Err == nil && a != host {
						credited++
						t.Errorf("%s credited with an echo reply from %s (members that answered: %v)", a, r.From, members)
					}
				}
			}
			if !slices.ContainsFunc(got[host], func(r Reply) bool { return r.Err == nil && r.From == host }) {
				t.Errorf("unicast %s not found alongside: %+v", host, got[host])
			}
		})
	}
	line := fmt.Sprintf("reliability: exec-broadcast cases=%d member_answers=%d credited_to_group=%d", len(cases), memberAnswers, credited)
	t.Log(line)
	fmt.Println(line)
}
