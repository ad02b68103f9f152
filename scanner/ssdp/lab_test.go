package ssdp

import (
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/testnet"
	"netscanner/scanner/mcast"
)

// lanScanned is a scan of the whole bridged LAN.
func lanScanned(lan *testnet.Bridged) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		if a.Is6() && a.IsLinkLocalUnicast() {
			return a.Zone() == lan.ScannerIf
		}
		return testnet.BridgedPrefix4.Contains(a) || testnet.BridgedPrefix6.Contains(a)
	}
}

// searchIn runs one round from ns, its sockets opened through InNet, to
// its end.
func searchIn(t *testing.T, ns *testnet.NS, cfg Config) *Browser {
	t.Helper()
	var err error
	if cfg.Links == nil {
		ns.Do(func() { cfg.Links, err = mcast.LocalLinks(nil) })
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg.InNet = func(fn func()) error { return testnet.Do(ns.Name, fn) }
	b, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	return b
}

// wantDLNA checks the minidlna device as the scan sees it.
func wantDLNA(t *testing.T, d Device, ok bool) {
	t.Helper()
	if !ok || len(d.Descriptions) != 1 {
		t.Fatalf("minidlna: %+v (answered %v)", d, ok)
	}
	desc := d.Descriptions[0]
	if desc.FriendlyName != "Living Room NAS" || desc.ModelName != "HarnessDLNA" || desc.ModelNumber != "42" ||
		desc.DeviceType != "urn:schemas-upnp-org:device:MediaServer:1" || desc.Manufacturer == "" {
		t.Errorf("minidlna description: %+v", desc)
	}
	if !strings.Contains(d.Server, "MiniDLNA") || len(d.Types) < 3 || !strings.HasPrefix(d.Locations[0], "http://198.18.100.40:8200/") {
		t.Errorf("minidlna answers: %+v", d)
	}
}

// TestMiniDLNALAN searches a LAN with the real minidlnad, as root in this
// process, and as nobody and as a confined user (no capabilities) in a
// child process.
func TestMiniDLNALAN(t *testing.T) {
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "dlna", MAC: "00:11:32:00:00:40", Addr4: "198.18.100.40"},
		testnet.BridgedSpec{Label: "quiet", MAC: "b8:27:eb:00:00:41", Addr4: "198.18.100.41"},
	)
	h := lan.Host("dlna")
	daemons.StartMiniDLNA(t, h.NS, daemons.MiniDLNASpec{Interface: h.If, Addr: h.Addr4,
		FriendlyName: "Living Room NAS", ModelName: "HarnessDLNA", ModelNumber: "42", Serial: "12345"})

	t.Run("root", func(t *testing.T) {
		start := time.Now()
		b := searchIn(t, lan.Scanner, Config{Scanned: lanScanned(lan)})
		st := b.Stats()
		t.Logf("round %v, stats %+v", time.Since(start), st)
		d, ok := b.Device(h.Addr4)
		wantDLNA(t, d, ok)
		if len(b.All()) != 1 || st.Fetched != 1 || len(st.Errors) > 0 {
			t.Errorf("all %+v, stats %+v", b.All(), st)
		}
	})

	bin := testnet.WorldExecutableCopy(t)
	for _, u := range []testnet.User{testnet.Nobody, testnet.Confined} {
		t.Run(u.String(), func(t *testing.T) { unprivileged(t, lan, h, bin, u) })
	}
}

// unprivileged runs the helper test as u and checks what it found.
func unprivileged(t *testing.T, lan *testnet.Bridged, h *testnet.BridgedHost, bin string, u testnet.User) {
	t.Helper()
	cmd := lan.Scanner.Command(u, bin, "-test.run=^TestSearchHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "SSDP_HELPER_IF="+lan.ScannerIf, "SSDP_HELPER_ADDR="+h.Addr4.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as %s: %v\n%s", u, err, out)
	}
	_, res, ok := strings.Cut(string(out), "RESULT ")
	if !ok {
		t.Fatalf("no result:\n%s", out)
	}
	res, _, _ = strings.Cut(res, "\n")
	var got struct {
		UID    int
		Device Device
		OK     bool
	}
	if err := json.Unmarshal([]byte(res), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.UID != 65534 {
		t.Errorf("helper ran as uid %d", got.UID)
	}
	wantDLNA(t, got.Device, got.OK)
}

// TestSearchHelper is the part of TestMiniDLNALAN that runs unprivileged.
// Run directly, it has nothing to do.
func TestSearchHelper(t *testing.T) {
	ifname := os.Getenv("SSDP_HELPER_IF")
	if ifname == "" {
		t.Skip("run by TestMiniDLNALAN")
	}
	links, err := mcast.LocalLinks(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Start(t.Context(), Config{Links: links, Scanned: func(a netip.Addr) bool {
		return testnet.BridgedPrefix4.Contains(a)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, ok := b.Device(netip.MustParseAddr(os.Getenv("SSDP_HELPER_ADDR")))
	d.Errs = nil
	out, err := json.Marshal(struct {
		UID    int
		Device Device
		OK     bool
	}{os.Geteuid(), d, ok})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats %+v", b.Stats())
	os.Stdout.Write(append(append([]byte("RESULT "), out...), '\n'))
}

// TestSilentLAN measures a round where nobody answers.
func TestSilentLAN(t *testing.T) {
	lan := testnet.NewBridged(t, testnet.BridgedSpec{Label: "quiet", MAC: "b8:27:eb:00:00:41", Addr4: "198.18.100.41"})
	start := time.Now()
	b := searchIn(t, lan.Scanner, Config{Scanned: lanScanned(lan)})
	took := time.Since(start)
	st := b.Stats()
	t.Logf("silent LAN: round took %v, stats %+v", took, st)
	if st.Sent != 4 || len(b.All()) != 0 {
		t.Errorf("sent %d (want 2 per family), found %v", st.Sent, b.All())
	}
	if want := DefaultMX + listenMargin; took < want || took > want+300*time.Millisecond {
		t.Errorf("a silent round took %v, want about %v", took, want)
	}
}
