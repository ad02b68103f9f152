package scanner_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// plausibleHost and plausibleSummary are what TestPlausibleHelper prints.
type plausibleHost struct {
	IP          string `json:"ip"`
	Reason      string `json:"reason"`
	Implausible bool   `json:"implausible"`
	Note        string `json:"note"`
	Enriched    bool   `json:"enriched"`
}

type plausibleSummary struct {
	Summary     bool   `json:"summary"`
	Alive       int    `json:"alive"`
	Implausible int    `json:"implausible"`
	Note        string `json:"note"`
}

// TestReliabilityTCPPlausible sweeps a /26 by the tcp method, as a user
// without ICMP does, through a router namespace whose kernel owns every
// address of it, with one listener per probed port accepting every
// connect: what a captive portal or a transparent proxy does. Every
// address "answers", in the same time: none may be reported as a device,
// and the Summary must say why. The control: the same router owning 10
// addresses only, whose connects are just as alike but a minority, are 10
// devices.
func TestReliabilityTCPPlausible(t *testing.T) {
	prefix := netip.MustParsePrefix("198.18.9.0/26")
	var all []netip.Addr
	for a := prefix.Addr().Next(); prefix.Contains(a.Next()); a = a.Next() {
		all = append(all, a)
	}
	for _, tc := range []struct {
		name  string
		live  []netip.Addr
		proxy bool
	}{
		{"portal", all, true},
		{"ten-servers", all[:10], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := testnet.NewKernelLAN(t, prefix, tc.live)
			// One listener per port on the router's every address.
			n.Router.Do(func() {
				for _, port := range probe.DefaultTCPPorts() {
					l, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { l.Close() })
					go func() {
						for {
							c, err := l.Accept()
							if err != nil {
								return
							}
							c.Close()
						}
					}()
				}
			})
			cmd := n.Scanner.Command(testnet.Root, os.Args[0], "-test.run=^TestPlausibleHelper$")
			cmd.Env = append(os.Environ(), "PLAUSIBLE_HELPER_TARGETS="+prefix.String())
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			hosts := map[string]plausibleHost{}
			var sum plausibleSummary
			for line := range strings.Lines(string(out)) {
				switch {
				case strings.Contains(line, `"summary":true`):
					if err := json.Unmarshal([]byte(line), &sum); err != nil {
						t.Fatal(err)
					}
				case strings.HasPrefix(line, "{"):
					var h plausibleHost
					if err := json.Unmarshal([]byte(line), &h); err != nil {
						t.Fatal(err)
					}
					hosts[h.IP] = h
				}
			}
			if !sum.Summary {
				t.Fatalf("no summary:\n%s", out)
			}
			flagged := 0
			for _, a := range tc.live {
				h, ok := hosts[a.String()]
				switch {
				case !ok:
					t.Errorf("%s not reported", a)
				case h.Reason != "tcp-open":
					t.Errorf("%s: reason %q, want tcp-open", a, h.Reason)
				case h.Implausible != tc.proxy || (h.Note == scanner.ImplausibleHostNote) != tc.proxy:
					t.Errorf("%s: implausible=%v note %q, want implausible=%v", a, h.Implausible, h.Note, tc.proxy)
				}
				if h.Implausible {
					flagged++
				}
			}
			if len(hosts) != len(tc.live) {
				t.Errorf("%d hosts reported, want %d", len(hosts), len(tc.live))
			}
			wantAlive, wantFlagged := len(tc.live), 0
			if tc.proxy {
				wantAlive, wantFlagged = 0, len(tc.live)
			}
			if sum.Alive != wantAlive || sum.Implausible != wantFlagged || (sum.Note != "") != tc.proxy {
				t.Errorf("summary %+v, want alive=%d implausible=%d", sum, wantAlive, wantFlagged)
			}
			line := fmt.Sprintf("reliability: tcp-plausible/%s addresses=%d accepted=%d reported_as_devices=%d flagged=%d",
				tc.name, len(all), len(tc.live), sum.Alive, flagged)
			t.Log(line)
			fmt.Println(line)
			if tc.proxy {
				t.Logf("summary note: %s", sum.Note)
			}
		})
	}
}

// TestPlausibleHelper is TestReliabilityTCPPlausible's scan, run in a
// copy of this test binary inside the scanner's namespace (the tcp
// method's connects run on threads of their own, so the whole process
// must be there): a tcp sweep with enrichment that sends nothing, one
// JSON line per host once enriched, and one for the Summary.
func TestPlausibleHelper(t *testing.T) {
	spec := os.Getenv("PLAUSIBLE_HELPER_TARGETS")
	if spec == "" {
		t.Skip("run by TestReliabilityTCPPlausible")
	}
	// Connects to the empty addresses wait out their timeout; enough of
	// them at once keep the control quick.
	conn, err := probe.OpenTCP(probe.Options{Concurrency: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tg, err := targets.Parse(t.Context(), []string{spec}, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := scanner.DefaultConfig()
	cfg.Enrich = &scanner.Enrich{}
	cfg.IgnoreNeighbours = true
	enc := json.NewEncoder(os.Stdout)
	sum, err := scanner.Scan(t.Context(), conn, tg, cfg, func(ev scanner.Event) {
		if ev.Kind == scanner.HostUpdated && ev.Host.Enriched {
			h := ev.Host
			_ = enc.Encode(plausibleHost{IP: h.Addr.String(), Reason: string(h.Reason), Implausible: h.Implausible, Note: h.Note, Enriched: true})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = enc.Encode(plausibleSummary{Summary: true, Alive: sum.Alive, Implausible: sum.Implausible, Note: sum.ImplausibleNote})
}
