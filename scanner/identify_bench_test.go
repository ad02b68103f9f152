package scanner_test

import (
	"fmt"
	"testing"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// BenchmarkIdentifySilentLAN times a default scan (names, ports,
// link-local, and identification on or off) of a LAN where no device
// answers DNS-SD or SSDP: the /24 of BenchmarkSilentLAN, and one of its
// hosts alone. Identification may cost at most its one round of each
// (about 1.3 s, tailMinRound), and on the /24, whose sweep lasts longer
// than the rounds, nothing. It reports the hosts found per scan.
//
//	CI=true go test -tags migrated_fynedo -run '^$' -bench BenchmarkIdentifySilentLAN -benchtime 5x ./scanner/
func BenchmarkIdentifySilentLAN(b *testing.B) {
	lan := testnet.NewBridged(b, benchLANSpecs()...)
	inNet := func(fn func()) error { return testnet.Do(lan.Scanner.Name, fn) }
	for _, target := range []string{testnet.BridgedPrefix4.String(), "198.18.100.40"} {
		tg, err := targets.Parse(b.Context(), []string{target}, targets.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, identify := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/identify=%v", target, identify), func(b *testing.B) {
				cfg := scanner.DefaultConfig()
				cfg.Enrich = scanner.DefaultEnrich()
				cfg.Enrich.Identify = identify
				cfg.Enrich.InNet = inNet
				var found int
				lan.Scanner.Do(func() {
					conn, err := probe.OpenRaw(probe.Options{})
					if err != nil {
						b.Fatal(err)
					}
					defer conn.Close()
					for b.Loop() {
						sum, err := scanner.Scan(b.Context(), conn, tg, cfg, func(scanner.Event) {})
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
}
