package scanner_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// benchLANSpecs is a home /24 on one bridge: ten devices that answer
// pings, as on the screenshots' LAN, and two that do not (a PC that
// drops echo requests, a device that answers only ARP). 242 addresses
// are empty, so their requests wait in the kernel's ARP queue.
func benchLANSpecs() []testnet.BridgedSpec {
	specs := []testnet.BridgedSpec{
		{Label: "win", MAC: "00:15:5d:00:00:21", Addr4: "198.18.100.21", Silence: testnet.IgnoresPing, Listen: []uint16{8080}},
		{Label: "iot", MAC: "24:0a:c4:00:00:22", Addr4: "198.18.100.22", Silence: testnet.OnlyResolves},
	}
	for i := range 10 {
		specs = append(specs, testnet.BridgedSpec{Label: fmt.Sprintf("d%d", i),
			MAC: fmt.Sprintf("b8:27:eb:00:01:%02x", i), Addr4: fmt.Sprintf("198.18.100.%d", 40+i*20)})
	}
	return specs
}

// BenchmarkSilentLAN times the sweep of a LAN /24 in process (raw
// socket, root, discovery only: no names, no ports), with the neighbour
// table's evidence off (the engine before it) and on, from empty tables
// ("fresh") and right after another scan ("warm"). It reports the hosts
// found per scan and, with the evidence on, when the last of the silent
// ones was reported.
//
//	CI=true go test -tags migrated_fynedo -run '^$' -bench BenchmarkSilentLAN -benchtime 10x ./scanner/
func BenchmarkSilentLAN(b *testing.B) {
	lan := testnet.NewBridged(b, benchLANSpecs()...)
	tg, err := targets.Parse(b.Context(), []string{testnet.BridgedPrefix4.String()}, targets.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, table := range []string{"fresh", "warm"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/neighbours=%v", table, on), func(b *testing.B) {
				cfg := scanner.DefaultConfig()
				cfg.Enrich = &scanner.Enrich{}
				cfg.IgnoreNeighbours = !on
				var found int
				var latest time.Duration // the last host the neighbour table found, from the scan's start
				lan.Scanner.Do(func() {
					conn, err := probe.OpenRaw(probe.Options{})
					if err != nil {
						b.Fatal(err)
					}
					defer conn.Close()
					for b.Loop() {
						if table == "fresh" {
							b.StopTimer()
							flushAll(lan)
							b.StartTimer()
						}
						start := time.Now()
						sum, err := scanner.Scan(b.Context(), conn, tg, cfg, func(ev scanner.Event) {
							if ev.Kind == scanner.HostFound && ev.Host.Reason == scanner.ReasonNeighbour {
								latest = time.Since(start)
							}
						})
						if err != nil {
							b.Fatal(err)
						}
						found = sum.Alive
					}
				})
				b.ReportMetric(float64(found), "hosts")
				if on {
					b.ReportMetric(float64(latest.Milliseconds()), "ms-to-silent")
				}
			})
		}
	}
}

// BenchmarkSilentLANCLI times `netscanner scan` on the same LAN, as root
// (raw) and as nobody (dgram), for each binary in NETSCANNER_BINS (a
// space-separated list, such as a build from before this change and
// one from after), discovery only and with its defaults (names and
// ports), each from empty neighbour tables. Skipped without it.
//
//	NETSCANNER_BINS="/tmp/before /tmp/after" CI=true go test -tags migrated_fynedo -run '^$' -bench BenchmarkSilentLANCLI -benchtime 10x ./scanner/
func BenchmarkSilentLANCLI(b *testing.B) {
	bins := strings.Fields(os.Getenv("NETSCANNER_BINS"))
	if len(bins) == 0 {
		b.Skip("NETSCANNER_BINS is not set")
	}
	lan := testnet.NewBridged(b, benchLANSpecs()...)
	lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	for i, bin := range bins {
		for _, u := range []testnet.User{testnet.Root, testnet.Nobody} {
			for _, mode := range []string{"discovery", "defaults"} {
				b.Run(fmt.Sprintf("bin%d/%s/%s", i, u, mode), func(b *testing.B) {
					args := []string{bin, "scan", "--json"}
					if mode == "discovery" {
						args = append(args, "--no-names", "--ports", "none")
					}
					args = append(args, testnet.BridgedPrefix4.String())
					var lines int
					for b.Loop() {
						b.StopTimer()
						flushAll(lan)
						cmd := lan.Scanner.Command(u, args...)
						b.StartTimer()
						out, err := cmd.Output()
						if err != nil {
							var ee *exec.ExitError
							if !errors.As(err, &ee) || ee.ExitCode() != 1 {
								b.Fatalf("%s: %v\n%s", bin, err, out)
							}
						}
						lines = strings.Count(string(out), "\n")
					}
					b.ReportMetric(float64(lines), "hosts")
				})
			}
		}
	}
}
