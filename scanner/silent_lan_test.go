package scanner_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// silentSpecs is a LAN with devices that ignore ping: a Windows PC whose
// firewall drops echo requests but serves one port, and two IoT devices
// that answer nothing but ARP and neighbour discovery, beside a Pi that
// answers everything. Every other address of the LAN is absent.
var silentSpecs = []testnet.BridgedSpec{
	{Label: "win", MAC: "00:15:5d:00:00:21", Addr4: "198.18.100.21", Addr6: "2001:db8:100::21",
		Silence: testnet.IgnoresPing, Listen: []uint16{8080}},
	{Label: "iot", MAC: "24:0a:c4:00:00:22", Addr4: "198.18.100.22", Addr6: "2001:db8:100::22", Silence: testnet.OnlyResolves},
	{Label: "cam", MAC: "24:0a:c4:00:00:24", Addr4: "198.18.100.24", Silence: testnet.OnlyResolves},
	{Label: "pi", MAC: "b8:27:eb:00:00:23", Addr4: "198.18.100.23", Addr6: "2001:db8:100::23"},
}

// silentTargets are the whole IPv4 LAN and the start of the IPv6 one;
// narrowTargets the 32 addresses around the devices, for the methods
// that wait out each silent address with a process or a connect (exec
// and tcp: a sweep of 510 takes them 20 s and 130 s).
var (
	silentTargets = []string{testnet.BridgedPrefix4.String(), "2001:db8:100::/120"}
	narrowTargets = []string{"198.18.100.16/28", "2001:db8:100::20/124"}
)

// silentHost is one line of TestSilentHelper's output.
type silentHost struct {
	IP      string   `json:"ip"`
	Reason  string   `json:"reason"`
	Reasons []string `json:"reasons"`
	MAC     string   `json:"mac"`
	Source  string   `json:"mac_source"`
	Vendor  string   `json:"vendor"`
	Ports   []uint16 `json:"ports"`
	Method  string   `json:"method"`
}

// silentSummary is its last line.
type silentSummary struct {
	Summary    bool   `json:"summary"`
	Method     string `json:"method"`
	Alive      int    `json:"alive"`
	Silent     int    `json:"silent"`
	OffLink    int    `json:"off_link"`
	SilentNote string `json:"silent_note"`
}

// TestSilentLAN scans a LAN of devices that ignore ping with every
// method, as the user each serves (root: raw; nobody with ping sockets:
// dgram; nobody without: exec through a ping with file capabilities; a
// confined user without any: tcp), each scan from empty neighbour tables
// as after a reboot. Each finds the device that drops pings and the ones
// that answer only ARP, with their MACs, makers and the evidence that
// found them, and never an absent address.
func TestSilentLAN(t *testing.T) {
	lan := testnet.NewBridged(t, silentSpecs...)
	bin := silentHelperBinary(t)
	for _, tc := range []struct {
		user        testnet.User
		method      probe.Method
		pingSockets bool
		targets     []string
	}{
		{testnet.Root, probe.Raw, false, silentTargets},
		{testnet.Nobody, probe.Dgram, true, silentTargets},
		{testnet.Nobody, probe.Exec, false, narrowTargets},
		{testnet.Confined, probe.TCP, false, narrowTargets},
	} {
		t.Run(fmt.Sprintf("%s-%s", tc.user, tc.method), func(t *testing.T) {
			flushAll(lan)
			lan.Scanner.Sysctl("net.ipv4.ping_group_range", map[bool]string{true: "0 2147483647", false: "1 0"}[tc.pingSockets])
			hosts, sum := runSilentHelper(t, lan.Scanner, tc.user, bin, tc.method, tc.targets...)
			checkSilent(t, lan, hosts, sum, tc.method, "win", "iot", "cam")
		})
	}

	// The command line, as nobody with the method it picks (dgram): the
	// same devices, the same evidence, on its JSON lines.
	t.Run("cli", func(t *testing.T) {
		flushAll(lan)
		lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
		hosts, stderr := runScan(t, lan.Scanner, testnet.Nobody, buildNetscanner(t), "--json", "--no-names", silentTargets[0], silentTargets[1])
		for _, label := range []string{"win", "iot", "cam", "pi"} {
			lh := lan.Host(label)
			for _, a := range []netip.Addr{lh.Addr4, lh.Addr6} {
				if !a.IsValid() {
					continue
				}
				h := hosts[a.String()]
				want := "neighbour"
				if label == "pi" {
					want = "echo-reply"
				}
				if h.Reason != want || h.MAC != lh.HW.String() || h.MACSource != "neighbour" {
					t.Errorf("%s (%s): %s, want reason %s and MAC %s", a, label, h.line, want, lh.HW)
				}
			}
		}
		for a, h := range hosts {
			if addr := netip.MustParseAddr(a); testnet.BridgedPrefix4.Contains(addr) || testnet.BridgedPrefix6.Contains(addr) {
				if lanHost(lan, addr) == nil && addr != testnet.BridgedScanner4 && addr != testnet.BridgedScanner6 {
					t.Errorf("absent address reported: %s", h.line)
				}
			}
		}
		if !strings.Contains(stderr, "by dgram") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
}

// lanHost returns the device holding a, or nil.
func lanHost(lan *testnet.Bridged, a netip.Addr) *testnet.BridgedHost {
	for _, h := range lan.Hosts {
		if h.Addr4 == a || h.Addr6 == a {
			return h
		}
	}
	return nil
}

// TestSilentRescan runs scans back to back on one LAN, unplugging a
// device between them: the device gone is never reported from the entry
// the earlier scan left, as root (whose scan has the kernel check old
// entries at once) or as nobody (whose scan cannot).
func TestSilentRescan(t *testing.T) {
	lan := testnet.NewBridged(t, silentSpecs...)
	lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	bin := silentHelperBinary(t)
	flushAll(lan)

	hosts, sum := runSilentHelper(t, lan.Scanner, testnet.Nobody, bin, probe.Dgram)
	checkSilent(t, lan, hosts, sum, probe.Dgram, "win", "iot", "cam")

	// The camera leaves; the scanner's table still says REACHABLE.
	cam := lan.Host("cam")
	cam.Unplug()
	if n := lan.Scanner.Run("ip", "neigh", "show", cam.Addr4.String()); !strings.Contains(n, cam.HW.String()) {
		t.Fatalf("the first scan left no entry for the camera: %q", n)
	}
	hosts, sum = runSilentHelper(t, lan.Scanner, testnet.Nobody, bin, probe.Dgram)
	if h, ok := hosts[cam.Addr4.String()]; ok {
		t.Errorf("nobody's rescan reports the unplugged camera: %+v", h)
	}
	if sum.Silent < 2 { // the PC, IPv4 and IPv6
		t.Errorf("nobody's rescan: summary %+v", sum)
	}
	// The PC's old entry cannot be checked again without privilege, but
	// its open port answers the TCP probes.
	if h := hosts[lan.Host("win").Addr4.String()]; h.Reason != "tcp-open" || h.MAC != lan.Host("win").HW.String() {
		t.Errorf("nobody's rescan: win %+v, want found by its open port, with its MAC", h)
	}
	if h, ok := hosts[lan.Host("iot").Addr4.String()]; ok {
		t.Logf("nobody's rescan found the ARP-only device too: %+v", h)
	} else {
		t.Logf("nobody's rescan did not see the ARP-only device, whose old entry the kernel had no reason to check yet")
	}
	checkNoAbsent(t, lan, hosts, "cam")

	// As root, the old entries are checked at once: the ARP-only device
	// that is still there is found, the one gone is not.
	hosts, sum = runSilentHelper(t, lan.Scanner, testnet.Root, bin, probe.Raw)
	if h, ok := hosts[cam.Addr4.String()]; ok {
		t.Errorf("root's rescan reports the unplugged camera: %+v", h)
	}
	iot := lan.Host("iot")
	for _, a := range []netip.Addr{iot.Addr4, iot.Addr6} {
		if h := hosts[a.String()]; h.Reason != "neighbour" || h.MAC != iot.HW.String() {
			t.Errorf("root's rescan: iot at %s %+v, want found by the neighbour table", a, h)
		}
	}
	checkNoAbsent(t, lan, hosts, "cam")
	t.Logf("summary %+v", sum)
}

// flushAll empties every neighbour table of the LAN.
func flushAll(lan *testnet.Bridged) {
	lan.Scanner.Run("ip", "neigh", "flush", "all")
	for _, h := range lan.Hosts {
		h.NS.Run("ip", "neigh", "flush", "all")
	}
}

// checkSilent checks a scan of the whole LAN: every device present is
// found with its MAC and maker, by the evidence it gives with method;
// nothing else is.
func checkSilent(t *testing.T, lan *testnet.Bridged, hosts map[string]silentHost, sum silentSummary, method probe.Method, silent ...string) {
	t.Helper()
	makers := map[string]string{"win": "Microsoft Corporation", "iot": "Espressif Inc.", "cam": "Espressif Inc.", "pi": "Raspberry Pi Foundation"}
	for _, lh := range lan.Hosts {
		for _, a := range []netip.Addr{lh.Addr4, lh.Addr6} {
			if !a.IsValid() {
				continue
			}
			h, ok := hosts[a.String()]
			if !ok {
				t.Errorf("%s (%s) not found", a, lh.Label)
				continue
			}
			if h.MAC != lh.HW.String() || h.Vendor != makers[lh.Label] || h.Source != "neighbour" {
				t.Errorf("%s (%s): MAC %q %q from %q, want %s %q from the neighbour table", a, lh.Label, h.MAC, h.Vendor, h.Source, lh.HW, makers[lh.Label])
			}
			want := []string{"echo-reply"}
			switch {
			case lh.Label == "win" && method == probe.TCP:
				// The tcp method's own connects: whichever of 8080's
				// accept and another port's reset came first.
				want = []string{"tcp-open", "tcp-rst"}
			case lh.Label == "pi" && method == probe.TCP:
				want = []string{"tcp-rst"}
			case slices.Contains(silent, lh.Label):
				want = []string{"neighbour"}
			}
			if !slices.Contains(want, h.Reason) || h.Reasons[0] != h.Reason {
				t.Errorf("%s (%s): reason %q (reasons %q), want %q", a, lh.Label, h.Reason, h.Reasons, want)
			}
			if lh.Label == "win" && (!slices.Equal(h.Ports, []uint16{8080}) || !slices.Contains(h.Reasons, "tcp-open")) {
				t.Errorf("%s (win): ports %v, reasons %q", a, h.Ports, h.Reasons)
			}
			if lh.Silence == testnet.OnlyResolves && !slices.Equal(h.Reasons, []string{"neighbour"}) {
				t.Errorf("%s (%s) answered something: reasons %q", a, lh.Label, h.Reasons)
			}
		}
	}
	checkNoAbsent(t, lan, hosts)
	wantSilent := 0
	for _, lh := range lan.Hosts {
		if slices.Contains(silent, lh.Label) && !(method == probe.TCP && lh.Label == "win") {
			for _, a := range []netip.Addr{lh.Addr4, lh.Addr6} {
				if a.IsValid() {
					wantSilent++
				}
			}
		}
	}
	if sum.Silent != wantSilent || sum.OffLink != 0 || sum.SilentNote != "" || sum.Method != string(method) {
		t.Errorf("summary %+v, want %d silent hosts by %s", sum, wantSilent, method)
	}
}

// checkNoAbsent fails for every reported address no device holds (the
// scanner's own, which it reports as itself, aside), or that belongs to
// an unplugged device.
func checkNoAbsent(t *testing.T, lan *testnet.Bridged, hosts map[string]silentHost, gone ...string) {
	t.Helper()
	present := map[string]bool{testnet.BridgedScanner4.String(): true, testnet.BridgedScanner6.String(): true}
	for _, lh := range lan.Hosts {
		if slices.Contains(gone, lh.Label) {
			continue
		}
		for _, a := range []netip.Addr{lh.Addr4, lh.Addr6} {
			present[a.String()] = a.IsValid()
		}
	}
	for a, h := range hosts {
		if !present[a] {
			t.Errorf("absent address reported: %+v", h)
		}
	}
}

// runSilentHelper runs TestSilentHelper in bin as u in ns, scanning
// targets (silentTargets if none) with method, and returns the hosts it reported by
// address and its summary.
func runSilentHelper(t *testing.T, ns *testnet.NS, u testnet.User, bin string, method probe.Method, targets ...string) (map[string]silentHost, silentSummary) {
	t.Helper()
	if len(targets) == 0 {
		targets = silentTargets
	}
	cmd := ns.Command(u, bin, "-test.run=^TestSilentHelper$")
	cmd.Env = append(os.Environ(), "SILENT_HELPER_METHOD="+string(method), "SILENT_HELPER_TARGETS="+strings.Join(targets, ","))
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper as %s: %v\n%s\n%s", u, err, out, errb.String())
	}
	hosts := map[string]silentHost{}
	var sum silentSummary
	for line := range strings.Lines(string(out)) {
		if !strings.HasPrefix(line, "{") {
			continue // the test framework's own lines
		}
		if strings.Contains(line, `"summary":true`) {
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var h silentHost
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		t.Logf("%s", strings.TrimSpace(line))
		hosts[h.IP] = h
	}
	if !sum.Summary {
		t.Fatalf("helper as %s printed no summary:\n%s\n%s", u, out, errb.String())
	}
	t.Logf("summary %+v", sum)
	return hosts, sum
}

// TestSilentHelper is the scan of runSilentHelper, run in a copy of this
// binary as the user under test: Scan with the given method, ports and
// no names, one JSON line per enriched host, then the summary. Run
// directly, it has nothing to do.
func TestSilentHelper(t *testing.T) {
	method := os.Getenv("SILENT_HELPER_METHOD")
	if method == "" {
		t.Skip("run by TestSilentLAN and TestSilentRescan")
	}
	conn, _, err := probe.Open(t.Context(), probe.Options{Method: probe.Method(method)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tg, err := targets.Parse(t.Context(), strings.Split(os.Getenv("SILENT_HELPER_TARGETS"), ","), targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := scanner.DefaultConfig()
	cfg.Enrich = &scanner.Enrich{Ports: scanner.DefaultPorts()}
	enc := json.NewEncoder(os.Stdout)
	sum, err := scanner.Scan(t.Context(), conn, tg, cfg, func(ev scanner.Event) {
		if ev.Kind != scanner.HostUpdated || !ev.Host.Enriched {
			return
		}
		h := ev.Host
		out := silentHost{IP: h.Addr.String(), Reason: string(h.Reason), MAC: h.MAC.String(), Source: string(h.MACSource),
			Vendor: h.Vendor, Method: string(h.Method)}
		for _, r := range h.Reasons {
			out.Reasons = append(out.Reasons, string(r))
		}
		for _, p := range h.Ports {
			out.Ports = append(out.Ports, p.Number)
		}
		_ = enc.Encode(out)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = enc.Encode(silentSummary{Summary: true, Method: string(sum.Method), Alive: sum.Alive, Silent: sum.Silent,
		OffLink: sum.OffLink, SilentNote: sum.SilentNote})
}

// silentHelperBinary copies this test binary where every user may run it.
func silentHelperBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parent is private to root: a directory of our own.
	pub, err := os.MkdirTemp("", "scanner-silent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pub) })
	if err := os.Chmod(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(pub, "scanner.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
