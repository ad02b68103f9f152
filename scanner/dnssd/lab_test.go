package dnssd

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/testnet"
	"netscanner/scanner/mcast"
)

// The avahi host's services: a printer and a Chromecast-like streamer.
var (
	printerTXT = []string{"txtvers=1", "ty=Brother HL-L2350DW series", "product=(Brother HL-L2350DW series)",
		"usb_MFG=Brother", "usb_MDL=HL-L2350DW series", "note=Upstairs office", "rp=ipp/print", "pdl=application/pdf"}
	castTXT = []string{"id=1a2b3c4d5e6f", "cd=0123ABCD", "md=Chromecast Ultra", "fn=Living Room TV", "ca=201221", "st=0", "rs="}
)

// avahiLAN is a bridged LAN with avahi-daemon on two hosts: one with
// IPv4 and global IPv6 addresses publishing a printer and a streamer,
// one with IPv4 and only its link-local IPv6 address publishing an
// AirPlay speaker; and a silent host beside them.
func avahiLAN(t *testing.T) (*testnet.Bridged, *testnet.BridgedHost) {
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "avahi", MAC: "00:80:77:00:00:10", Addr4: "198.18.100.10", Addr6: "2001:db8:100::10"},
		testnet.BridgedSpec{Label: "quiet", MAC: "b8:27:eb:00:00:11", Addr4: "198.18.100.11"},
		testnet.BridgedSpec{Label: "speaker", MAC: "f0:b3:ec:00:00:12", Addr4: "198.18.100.12"},
	)
	h := lan.Host("avahi")
	daemons.StartAvahi(t, h.NS, daemons.AvahiSpec{HostName: "brother-hl", Interfaces: []string{h.If}, Services: []daemons.AvahiService{
		{Name: "Brother HL-L2350DW series", Type: "_ipp._tcp", Port: 631, TXT: printerTXT},
		{Name: "Chromecast-Ultra-1a2b3c", Type: "_googlecast._tcp", Port: 8009, TXT: castTXT},
	}})
	sp := lan.Host("speaker")
	daemons.StartAvahi(t, sp.NS, daemons.AvahiSpec{HostName: "homepod", Interfaces: []string{sp.If}, Services: []daemons.AvahiService{
		{Name: "F0B3EC000012@Kitchen", Type: "_raop._tcp", Port: 7000, TXT: []string{"am=AudioAccessory5,1", "cn=0,1,2,3", "md=0,1,2"}},
	}})
	return lan, h
}

// wantSpeaker checks the link-local-only avahi host's one service on
// each of its addresses.
func wantSpeaker(t *testing.T, lan *testnet.Bridged, all map[netip.Addr][]Service) []netip.Addr {
	t.Helper()
	sp := lan.Host("speaker")
	addrs := []netip.Addr{sp.Addr4, sp.LinkLocal.WithZone(lan.ScannerIf)}
	for _, a := range addrs {
		svcs := all[a]
		if len(svcs) != 1 || svcs[0].Type != "_raop._tcp" || svcs[0].Instance != "F0B3EC000012@Kitchen" || svcs[0].Host != "homepod.local" ||
			svcs[0].TXT["am"] != "AudioAccessory5,1" || svcs[0].TXT["md"] != "0,1,2" {
			t.Errorf("speaker %s: %+v", a, svcs)
		}
		delete(all, a)
	}
	return addrs
}

// lanScanned is a scan of the whole bridged LAN: its prefixes and the
// link-local addresses on the scanner's link.
func lanScanned(lan *testnet.Bridged) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		if a.Is6() && a.IsLinkLocalUnicast() {
			return a.Zone() == lan.ScannerIf
		}
		return testnet.BridgedPrefix4.Contains(a) || testnet.BridgedPrefix6.Contains(a)
	}
}

// browseIn runs one round in ns to its end and returns the Browser: Start
// runs on a thread inside ns, unless cfg.InNet is set.
func browseIn(t *testing.T, ns *testnet.NS, cfg Config) *Browser {
	t.Helper()
	var (
		b   *Browser
		err error
	)
	ns.Do(func() {
		if cfg.Links == nil {
			cfg.Links, err = mcast.LocalLinks(nil)
			if err != nil || cfg.InNet != nil {
				return
			}
		}
		b, err = Start(t.Context(), cfg)
	})
	if err == nil && cfg.InNet != nil {
		b, err = Start(t.Context(), cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	return b
}

// wantAvahi checks that exactly the avahi host's two services are
// credited to each of addrs, and to nothing else.
func wantAvahi(t *testing.T, all map[netip.Addr][]Service, addrs ...netip.Addr) {
	t.Helper()
	for _, a := range addrs {
		svcs := all[a]
		byType := map[string]Service{}
		for _, s := range svcs {
			byType[s.Type] = s
		}
		p, c := byType["_ipp._tcp"], byType["_googlecast._tcp"]
		if len(svcs) != 2 || p.Instance != "Brother HL-L2350DW series" || p.Port != 631 || p.Host != "brother-hl.local" ||
			p.TXT["ty"] != "Brother HL-L2350DW series" || p.TXT["product"] != "(Brother HL-L2350DW series)" ||
			p.TXT["usb_mfg"] != "Brother" || p.TXT["usb_mdl"] != "HL-L2350DW series" || p.TXT["note"] != "Upstairs office" {
			t.Errorf("%s: printer %+v (all: %+v)", a, p, svcs)
		}
		if _, ok := p.TXT["rp"]; ok {
			t.Errorf("%s: a key without identity kept: %+v", a, p.TXT)
		}
		if c.Instance != "Chromecast-Ultra-1a2b3c" || c.Port != 8009 || c.TXT["md"] != "Chromecast Ultra" || c.TXT["fn"] != "Living Room TV" || len(c.TXT) != 2 {
			t.Errorf("%s: cast %+v", a, c)
		}
	}
	for a, svcs := range all {
		if !slices.Contains(addrs, a) {
			t.Errorf("services credited to %s, which announced none: %+v", a, svcs)
		}
	}
}

// TestAvahiLAN browses a LAN with two real avahi-daemons as root in this
// process (shared port 5353, and legacy queries only), and as nobody and
// as a confined user (no capabilities) in a child process: each finds
// the printer and the streamer on the first host's IPv4 and global IPv6
// addresses, the speaker on the second's IPv4 and link-local ones, and
// nothing on the silent host.
func TestAvahiLAN(t *testing.T) {
	lan, h := avahiLAN(t)
	// avahi answers IPv6 queries from its global address, when it has
	// one, and names only that one.
	ll := h.Addr6

	t.Run("root", func(t *testing.T) {
		// Sockets opened through InNet, as the scanner's enrichment does.
		b := browseIn(t, lan.Scanner, Config{Scanned: lanScanned(lan), InNet: func(fn func()) error { return testnet.Do(lan.Scanner.Name, fn) }})
		st := b.Stats()
		t.Logf("stats %+v", st)
		all := b.All()
		wantSpeaker(t, lan, all)
		wantAvahi(t, all, h.Addr4, ll)
		// Lookup takes a link-local address as the scanner has it, zone
		// by name or index, or without one on a single link.
		sp := lan.Host("speaker").LinkLocal
		for _, a := range []netip.Addr{sp.WithZone(lan.ScannerIf), sp, sp.WithZone(fmt.Sprint(b.cfg.Links[0].Index))} {
			if got := b.Lookup(t.Context(), a); len(got) != 1 {
				t.Errorf("Lookup(%s): %+v", a, got)
			}
		}
		if !st.Listening || len(st.Errors) > 0 {
			t.Errorf("listener %v, errors %v", st.Listening, st.Errors)
		}
		if got := b.Services(lan.Host("quiet").Addr4); got != nil {
			t.Errorf("silent host: %+v", got)
		}
	})

	t.Run("unicast only", func(t *testing.T) {
		b := browseIn(t, lan.Scanner, Config{Scanned: lanScanned(lan), NoMulticastListen: true})
		all := b.All()
		wantSpeaker(t, lan, all)
		wantAvahi(t, all, h.Addr4, ll)
	})

	bin := testnet.WorldExecutableCopy(t)
	for _, u := range []testnet.User{testnet.Nobody, testnet.Confined} {
		t.Run(u.String(), func(t *testing.T) { unprivileged(t, lan, h, bin, u) })
	}
}

// unprivileged runs the helper test as u and checks what it found.
func unprivileged(t *testing.T, lan *testnet.Bridged, h *testnet.BridgedHost, bin string, u testnet.User) {
	t.Helper()
	cmd := lan.Scanner.Command(u, bin, "-test.run=^TestBrowseHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "DNSSD_HELPER_IF="+lan.ScannerIf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as %s: %v\n%s", u, err, out)
	}
	_, res, ok := strings.Cut(string(out), "RESULT ")
	if !ok {
		t.Fatalf("no result:\n%s", out)
	}
	res, _, _ = strings.Cut(res, "\n")
	var got helperResult
	if err := json.Unmarshal([]byte(res), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("as uid %d: stats %+v", got.UID, got.Stats)
	if got.UID != 65534 {
		t.Errorf("helper ran as uid %d", got.UID)
	}
	all := map[netip.Addr][]Service{}
	for k, v := range got.Services {
		all[netip.MustParseAddr(k)] = v
	}
	wantSpeaker(t, lan, all)
	wantAvahi(t, all, h.Addr4, h.Addr6)
}

type helperResult struct {
	UID      int
	Services map[string][]Service
	Stats    Stats
}

// TestBrowseHelper is the part of TestAvahiLAN that runs unprivileged. Run
// directly, it has nothing to do.
func TestBrowseHelper(t *testing.T) {
	ifname := os.Getenv("DNSSD_HELPER_IF")
	if ifname == "" {
		t.Skip("run by TestAvahiLAN")
	}
	ifs, err := mcast.LocalLinks(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Start(t.Context(), Config{Links: ifs, Scanned: func(a netip.Addr) bool {
		if a.Is6() && a.IsLinkLocalUnicast() {
			return a.Zone() == ifname
		}
		return testnet.BridgedPrefix4.Contains(a) || testnet.BridgedPrefix6.Contains(a)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := helperResult{UID: os.Geteuid(), Services: map[string][]Service{}, Stats: b.Stats()}
	for a, s := range b.All() {
		res.Services[a.String()] = s
	}
	res.Stats.LastReject, res.Stats.Errors = nil, nil
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("errors: %v", b.Stats().Errors)
	os.Stdout.Write(append(append([]byte("RESULT "), out...), '\n'))
}

// TestSilentLAN measures one round on a LAN where nobody answers: two
// query packets per family, then the quiet period.
func TestSilentLAN(t *testing.T) {
	lan := testnet.NewBridged(t, testnet.BridgedSpec{Label: "quiet", MAC: "b8:27:eb:00:00:11", Addr4: "198.18.100.11"})
	start := time.Now()
	b := browseIn(t, lan.Scanner, Config{Scanned: lanScanned(lan)})
	took := time.Since(start)
	st := b.Stats()
	t.Logf("silent LAN: round took %v, stats %+v", took, st)
	if st.Sent != 4 || len(b.All()) != 0 {
		t.Errorf("sent %d packets (want 2 per family), found %v", st.Sent, b.All())
	}
	if max := DefaultResend + DefaultQuiet + 300*time.Millisecond; took > max {
		t.Errorf("a silent round took %v, more than %v", took, max)
	}
}
