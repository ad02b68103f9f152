package scanner

import (
	"errors"
	"fmt"
	"testing"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner/neigh"
)

// BenchmarkSilentTableClosed times a default-ported scan of a LAN /24
// (ten devices that answer, one that ignores ping but serves a port, one
// that answers only ARP) where the neighbour table is refused, as in a
// sandbox, so that the silent on-link addresses go to the TCP probes; and
// the same scan with the table, for comparison. It reports the hosts found.
//
//	CI=true go test -tags migrated_fynedo -run '^$' -bench BenchmarkSilentTableClosed -benchtime 3x ./scanner/
func BenchmarkSilentTableClosed(b *testing.B) {
	specs := []testnet.BridgedSpec{
		{Label: "win", MAC: "00:15:5d:00:00:21", Addr4: "198.18.100.21", Silence: testnet.IgnoresPing, Listen: []uint16{8080}},
		{Label: "iot", MAC: "24:0a:c4:00:00:22", Addr4: "198.18.100.22", Silence: testnet.OnlyResolves},
	}
	for i := range 10 {
		specs = append(specs, testnet.BridgedSpec{Label: fmt.Sprintf("d%d", i),
			MAC: fmt.Sprintf("b8:27:eb:00:01:%02x", i), Addr4: fmt.Sprintf("198.18.100.%d", 40+i*20)})
	}
	lan := testnet.NewBridged(b, specs...)
	inNet := func(fn func()) error { return testnet.Do(lan.Scanner.Name, fn) }
	tg := mustTargets(b, testnet.BridgedPrefix4.String())
	for _, closed := range []bool{false, true} {
		b.Run(fmt.Sprintf("closed=%v", closed), func(b *testing.B) {
			env := systemSilentEnv(inNet)
			if closed {
				env.open = func() (neighTable, error) {
					return nil, &neigh.UnavailableError{Netlink: errors.New("refused"), Proc: errors.New("refused")}
				}
			}
			cfg := DefaultConfig()
			cfg.Enrich, cfg.silent = &Enrich{Ports: DefaultPorts(), InNet: inNet}, env
			var found int
			lan.Scanner.Do(func() {
				conn, err := probe.OpenRaw(probe.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				for b.Loop() {
					b.StopTimer()
					lan.Scanner.Run("ip", "neigh", "flush", "all")
					b.StartTimer()
					sum, err := Scan(b.Context(), conn, tg, cfg, func(Event) {})
					if err != nil {
						b.Fatal(err)
					}
					found = sum.Alive
				}
			})
			b.ReportMetric(float64(found), "hosts")
		})
	}
}
