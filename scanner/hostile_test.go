package scanner_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"netscanner/icmpsock"
	"netscanner/internal/testnet"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// TestReliabilityHostileScan sweeps a /24 through the raw and dgram Conns,
// scan after scan, while a hostile router answers every dead address with
// every kind of garbage (truncated, corrupted, foreign, spoofed, late and
// duplicated replies, errors about other packets) and floods the scanner
// with unsolicited ICMP. Each scan must report exactly the live hosts.
func TestReliabilityHostileScan(t *testing.T) {
	testnet.Require(t)
	for _, m := range []icmpsock.Method{icmpsock.Raw, icmpsock.Dgram} {
		t.Run(string(m), func(t *testing.T) { hostileScan(t, m) })
	}
}

func hostileScan(t *testing.T, method icmpsock.Method) {
	const (
		floodRate = 100_000
		floodFor  = 3 * time.Second
		minScans  = 2
	)
	prefix := netip.MustParsePrefix("198.18.6.0/24")
	n := testnet.NewResponderLAN(t, prefix, netip.Prefix{})
	n.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")

	live := map[netip.Addr]bool{}
	var liveList []netip.Addr
	for i, a := 1, prefix.Addr().Next(); i < 255; i, a = i+1, a.Next() {
		if i%25 == 0 {
			live[a] = true
			liveList = append(liveList, a)
		}
	}
	// The scan gives up on a host 300 ms after its last request, which
	// goes out 100 ms after its first: 400 ms, more if the sender falls
	// behind. Late answers come 1.5 s after each request, well past that,
	// and the scan sends for 2.5 s (254 addresses at 100 a second), so
	// late answers to the first addresses land while it still runs.
	cfg := scanner.Config{Timeout: 300 * time.Millisecond, Retries: 1, RetryInterval: 100 * time.Millisecond,
		Rate: 100, MaxHosts: 1024}
	h := testnet.StartHostile(t, n.Router, testnet.HostileConfig{Live: liveList, Duplicate: 1, LateDelay: 1500 * time.Millisecond})

	targets, err := targets.Parse(context.Background(), []string{prefix.String()}, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var conn icmpsock.Conn
	n.Scanner.Do(func() {
		if method == icmpsock.Raw {
			conn, err = icmpsock.OpenRaw(icmpsock.Options{})
		} else {
			conn, err = icmpsock.OpenDgram(icmpsock.Options{})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	mem := testnet.SampleMem(50 * time.Millisecond)
	floodDone := make(chan testnet.FloodStats, 1)
	go func() {
		st, err := h.Flood(context.Background(), netip.MustParseAddr("198.18.0.1"), floodRate, floodFor)
		if err != nil {
			t.Error(err)
		}
		floodDone <- st
	}()

	var (
		scans, falsePos, missed, found, panics int
		flood                                  testnet.FloodStats
		flooding                               = true
	)
	for scans < minScans || flooding {
		select {
		case flood = <-floodDone:
			flooding = false
		default:
		}
		scans++
		seen := map[netip.Addr]int{}
		sum, err := func() (sum scanner.Summary, err error) {
			defer func() {
				if r := recover(); r != nil {
					panics++
					err = fmt.Errorf("Scan panicked: %v", r)
				}
			}()
			return scanner.Scan(context.Background(), conn, targets, cfg, func(e scanner.Event) {
				if e.Kind == scanner.HostFound {
					seen[e.Host.Addr]++
				}
			})
		}()
		if err != nil {
			t.Fatalf("scan %d: %v", scans, err)
		}
		for a, c := range seen {
			found++
			if !live[a] {
				falsePos++
				t.Errorf("scan %d: false positive %s", scans, a)
			}
			if c > 1 {
				t.Errorf("scan %d: %s reported %d times", scans, a, c)
			}
		}
		for a := range live {
			if seen[a] == 0 {
				missed++
				t.Logf("scan %d: live %s missed (under flood)", scans, a)
			}
		}
		if sum.Alive != len(seen) || sum.Total != targets.Len() {
			t.Errorf("scan %d: summary says %d of %d alive; %d hosts were reported of %d", scans, sum.Alive, sum.Total, len(seen), targets.Len())
		}
	}
	heapMB, hwmMB := mem.Stop()
	st := h.Stats()
	t.Logf("%d scans of %d addresses (%d live): %d found, %d live missed", scans, targets.Len(), len(live), found, missed)
	t.Logf("hostile router: %v", st)
	t.Logf("flood sent %d in %v (%.0f/s)", flood.Sent, flood.Elapsed.Round(time.Millisecond), flood.Rate())
	// A live host may lose its answers in a flood; it must not lose them
	// in every scan.
	if missed > scans*len(live)/2 {
		t.Errorf("%d of %d live answers missed", missed, scans*len(live))
	}
	if st.GarbageTotal() == 0 || flood.Sent == 0 {
		t.Errorf("the hostile router sent nothing: %v", st)
	}
	line := fmt.Sprintf("reliability: hostile/scan-%s packets=%d false_positives=%d panics=%d peak_heap_mb=%.1f vmhwm_mb=%.1f flood_pps=%.0f scans=%d live_found=%d/%d",
		method, st.Packets(), falsePos, panics, heapMB, hwmMB, flood.Rate(), scans, found-falsePos, scans*len(live))
	t.Log(line)
	fmt.Println(line)
}
