package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"netscanner/internal/testnet"
	"netscanner/probe"
)

// These tests scan real networks built from namespaces (root only; see
// testnet.Require). Every address lies in 198.18.0.0/15 or 2001:db8::/32
// inside namespaces the test made.

// scanRouted sweeps a Routed network through a Conn opened inside its
// scanner namespace and checks that exactly the live hosts are found.
func scanRouted(t *testing.T, n *testnet.Routed, open func(probe.Options) (probe.Conn, error), method probe.Method) {
	t.Helper()
	var (
		c   probe.Conn
		err error
	)
	n.Scanner.Do(func() { c, err = open(probe.Options{}) })
	if err != nil {
		t.Fatalf("open %s: %v", method, err)
	}
	defer c.Close()

	// The /27 holds the live IPv4 hosts and silent ones; the unreachable
	// ones answer with ICMP errors; the IPv6 ones are live and dead.
	spec := []string{"198.18.1.0/27"}
	for _, list := range [][]netip.Addr{n.Unreachable, n.LiveV6, n.DeadV6} {
		for _, a := range list {
			spec = append(spec, a.String())
		}
	}
	tg := mustTargets(t, spec...)
	want := map[netip.Addr]bool{}
	for _, a := range append(append([]netip.Addr{}, n.Live...), n.LiveV6...) {
		want[a] = true
	}

	ev := &events{t: t}
	cfg := Config{Timeout: time.Second, Retries: 1, RetryInterval: 250 * time.Millisecond, Rate: 1000}
	sum, err := Scan(context.Background(), c, tg, cfg, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	found := ev.check(sum, err, tg.Len())
	for a := range want {
		if _, ok := found[a]; !ok {
			t.Errorf("live host %s not found", a)
		}
	}
	for a, h := range found {
		if !want[a] {
			t.Errorf("found %s, which is not live", a)
		}
		if h.Method != method || h.Reason != "echo-reply" || h.TTL <= 0 || h.RTT <= 0 || h.RTT > cfg.Timeout {
			t.Errorf("%s reported as %+v", a, h)
		}
	}
	t.Logf("%s: %d of %d alive in %v", method, sum.Alive, sum.Total, sum.Elapsed.Round(time.Millisecond))
}

func TestScanRoutedRaw(t *testing.T) {
	n := testnet.NewRouted(t)
	scanRouted(t, n, probe.OpenRaw, probe.Raw)
}

func TestScanRoutedDgram(t *testing.T) {
	n := testnet.NewRouted(t)
	n.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	scanRouted(t, n, probe.OpenDgram, probe.Dgram)
}

// TestScanSlowHosts sweeps hosts that answer after up to 900 ms and drop
// their first request, as sleeping phones do: with a 1 s timeout and one
// retry 250 ms after the first request, every one of them must be found,
// and nothing else.
func TestScanSlowHosts(t *testing.T) {
	p4, p6 := netip.MustParsePrefix("198.18.4.0/24"), netip.MustParsePrefix("2001:db8:4::/120")
	n := testnet.NewResponderLAN(t, p4, p6)

	hosts := map[netip.Addr]testnet.Behavior{}
	delays := []time.Duration{1, 40, 100, 200, 240, 260, 400, 550, 700, 800, 850, 900} // ms
	for i, d := range delays {
		b := testnet.Behavior{Delay: d * time.Millisecond, DropFirst: i % 2}
		hosts[netip.MustParseAddr(fmt.Sprintf("198.18.4.%d", 3*i+1))] = b
		if i%3 == 0 {
			hosts[netip.MustParseAddr(fmt.Sprintf("2001:db8:4::%x", 3*i+1))] = b
		}
	}
	// The slowest of all: dropped first request, 900 ms to answer the
	// retry. Given up at 250 ms + 1 s; answered at 250 + 900 ms.
	slowest := netip.MustParseAddr("198.18.4.60")
	hosts[slowest] = testnet.Behavior{Delay: 900 * time.Millisecond, DropFirst: 1}
	r := testnet.StartResponder(t, n.Router, hosts)

	var (
		c   probe.Conn
		err error
	)
	n.Scanner.Do(func() { c, err = probe.OpenRaw(probe.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	tg := mustTargets(t, "198.18.4.0/26", "2001:db8:4::/122")
	ev := &events{t: t}
	cfg := Config{Timeout: time.Second, Retries: 1, RetryInterval: 250 * time.Millisecond, Rate: 1000}
	sum, err := Scan(context.Background(), c, tg, cfg, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	found := ev.check(sum, err, tg.Len())
	for a, b := range hosts {
		if _, ok := found[a]; !ok {
			t.Errorf("host %s (delay %v, drop first %d) not found; responder saw %+v", a, b.Delay, b.DropFirst, r.Counts(a))
		}
	}
	for a := range found {
		if _, ok := hosts[a]; !ok {
			t.Errorf("found %s, which is not simulated", a)
		}
	}
	for a, b := range hosts {
		got := r.Counts(a).Requests
		if got > 1+cfg.Retries || b.DropFirst > 0 && got != 2 {
			t.Errorf("%s (drop first %d) got %d requests", a, b.DropFirst, got)
		}
	}
	if err := r.Err(); err != nil {
		t.Errorf("responder: %v", err)
	}
	t.Logf("%d of %d alive in %v", sum.Alive, sum.Total, sum.Elapsed.Round(time.Millisecond))
}
