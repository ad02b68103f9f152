package scanner_test

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// TestReliabilityHostileScan sweeps a /24 through the raw and dgram Conns,
// scan after scan, while a hostile router answers every dead address with
// every kind of garbage (truncated, corrupted, foreign, spoofed, late and
// duplicated replies, errors about other packets) and floods the scanner
// with unsolicited ICMP. Each scan must report exactly the live hosts:
// no dead one, and every live one.
//
// The one loss accepted is the kernel's: when the flood fills a socket's
// receive buffer while the reader waits for a CPU (two cores shared with
// other builds), the kernel drops what arrives, a live host's answer
// among the flood, and counts it as a drop of that socket. So a live host
// may be missed only in a scan during which the kernel dropped packets of
// the scanner's sockets, at most one host per packet dropped; a miss
// without drops is the scanner's fault, and fails the test.
func TestReliabilityHostileScan(t *testing.T) {
	testnet.Require(t)
	for _, m := range []probe.Method{probe.Raw, probe.Dgram} {
		t.Run(string(m), func(t *testing.T) { hostileScan(t, m) })
	}
}

func hostileScan(t *testing.T, method probe.Method) {
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
	var conn probe.Conn
	n.Scanner.Do(func() {
		if method == probe.Raw {
			conn, err = probe.OpenRaw(probe.Options{})
		} else {
			conn, err = probe.OpenDgram(probe.Options{})
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
		drops                                  int64
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
		drops0 := socketDrops(t, n.Scanner)
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
		dropped := socketDrops(t, n.Scanner) - drops0
		drops += dropped
		lost := 0
		for a := range live {
			if seen[a] == 0 {
				lost++
				t.Logf("scan %d: live %s missed (the kernel dropped %d packets of the scanner's sockets meanwhile)", scans, a, dropped)
			}
		}
		if int64(lost) > dropped {
			t.Errorf("scan %d: %d live hosts missed with %d packets dropped by the kernel: the scanner lost them", scans, lost, dropped)
		}
		missed += lost
		if sum.Alive != len(seen) || sum.Total != targets.Len() {
			t.Errorf("scan %d: summary says %d of %d alive; %d hosts were reported of %d", scans, sum.Alive, sum.Total, len(seen), targets.Len())
		}
	}
	heapMB, hwmMB := mem.Stop()
	st := h.Stats()
	t.Logf("%d scans of %d addresses (%d live): %d found, %d live missed", scans, targets.Len(), len(live), found, missed)
	t.Logf("hostile router: %v", st)
	t.Logf("flood sent %d in %v (%.0f/s)", flood.Sent, flood.Elapsed.Round(time.Millisecond), flood.Rate())
	if st.GarbageTotal() == 0 || flood.Sent == 0 {
		t.Errorf("the hostile router sent nothing: %v", st)
	}
	line := fmt.Sprintf("reliability: hostile/scan-%s packets=%d false_positives=%d panics=%d peak_heap_mb=%.1f vmhwm_mb=%.1f flood_pps=%.0f scans=%d live_found=%d/%d kernel_drops=%d",
		method, st.Packets(), falsePos, panics, heapMB, hwmMB, flood.Rate(), scans, found-falsePos, scans*len(live), drops)
	t.Log(line)
	fmt.Println(line)
}

// socketDrops sums the kernel's drop counters of the raw and ping sockets
// in ns (the last column of /proc/net/raw, raw6, icmp and icmp6, as read
// from inside ns): packets that arrived while a socket's receive buffer
// was full.
func socketDrops(t *testing.T, ns *testnet.NS) int64 {
	t.Helper()
	var total int64
	out := ns.Run("cat", "/proc/net/raw", "/proc/net/raw6", "/proc/net/icmp", "/proc/net/icmp6")
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "sl" {
			continue
		}
		n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err != nil {
			t.Fatalf("socket table line %q: %v", line, err)
		}
		total += n
	}
	return total
}
