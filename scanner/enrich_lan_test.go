package scanner_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/names"
	"netscanner/scanner/targets"
)

// The LAN of TestEnrichLAN: devices of real makers on one bridge, as at
// home. The Raspberry Pi serves names (DNS for the LAN, mDNS and NetBIOS
// for itself), the Mac has one open port, the Ubiquiti box is the
// gateway with a host behind it, and two hosts have nothing but IPv6
// link-local addresses, one of them a phone with a randomized MAC.
var lanSpecs = []testnet.BridgedSpec{
	{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10", Addr6: "2001:db8:100::10"},
	{Label: "mac", MAC: "f0:b4:79:00:00:0b", Addr4: "198.18.100.11", Addr6: "2001:db8:100::11"},
	{Label: "hp", MAC: "9c:7b:ef:00:00:0c", Addr4: "198.18.100.12"},
	{Label: "vm", MAC: "00:50:56:00:00:0d", Addr4: "198.18.100.13", Addr6: "2001:db8:100::13"},
	{Label: "ubnt", MAC: "74:83:c2:00:00:0e", Addr4: "198.18.100.254", Addr6: "2001:db8:100::fe",
		Behind: []string{"198.18.101.5"}, Default: true},
	{Label: "ll", MAC: "a4:c3:61:00:00:0f"},
	{Label: "phone", MAC: "3a:00:00:00:00:10"},
}

// makers are what the IEEE registry says about the hosts' MACs.
var makers = map[string]string{
	"pi": "Raspberry Pi Foundation", "mac": "Apple, Inc.", "hp": "Hewlett Packard", "vm": "VMware, Inc.",
	"ubnt": "Ubiquiti Networks Inc.", "ll": "Apple, Inc.", "phone": "private address (randomized)",
}

// behindRouter is the host behind ubnt.
var behindRouter = netip.MustParseAddr("198.18.101.5")

// scanHost is one line of `netscanner scan --json`.
type scanHost struct {
	IP        string   `json:"ip"`
	Reason    string   `json:"reason"`
	Reasons   []string `json:"reasons"`
	Hostname  string   `json:"hostname"`
	Names     []string `json:"names"`
	MAC       string   `json:"mac"`
	MACSource string   `json:"mac_source"`
	Vendor    string   `json:"vendor"`
	Ports     []struct {
		Port    uint16 `json:"port"`
		Service string `json:"service"`
	} `json:"ports"`
	Self    bool   `json:"self"`
	Gateway bool   `json:"gateway"`
	Note    string `json:"note"`
	line    string
}

// TestEnrichLAN scans a bridged LAN with the real binary, as root (raw
// sockets) and as nobody (ICMP datagram sockets), and checks that every
// host says what it is: exact MAC and maker, names from DNS, mDNS and
// NetBIOS, the open port, this machine and the gateway, no MAC for the
// host behind the router, and the IPv6 link-local hosts found through
// ff02::1.
func TestEnrichLAN(t *testing.T) {
	lan := testnet.NewBridged(t, lanSpecs...)
	lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	pi, mac := lan.Host("pi"), lan.Host("mac")

	// The Pi is the LAN's DNS server, with a PTR record for the printer.
	hp := lan.Host("hp")
	startDNS(t, pi.NS, netip.AddrPortFrom(pi.Addr4, 53), map[string]string{reverse(t, hp.Addr4): "printer.test."})
	lan.Scanner.UseNameserver(pi.Addr4)
	// It answers mDNS for itself, and tries to name every other host
	// too: those answers come from its address, not theirs, and must
	// not stick to anyone.
	startMDNS(t, pi, "raspberrypi.local.", "impostor.local.")
	startNetBIOS(t, pi, "PI-NAS")
	// The Mac listens on one port.
	listenTCP(t, mac.NS, "[::]:8080")

	bin := buildNetscanner(t)
	for _, u := range []testnet.User{testnet.Root, testnet.Nobody} {
		t.Run(u.String(), func(t *testing.T) {
			// Each run starts from empty neighbour tables.
			lan.Scanner.Run("ip", "neigh", "flush", "all")
			for _, h := range lan.Hosts {
				h.NS.Run("ip", "neigh", "flush", "all")
			}
			// Root is entitled to raw sockets; nobody gets ICMP datagram
			// sockets from ping_group_range. Both can send to ff02::1.
			method := map[testnet.User]string{testnet.Root: "raw", testnet.Nobody: "dgram"}[u]
			hosts, stderr := runScan(t, lan.Scanner, u, bin, "--json", "--method", method,
				testnet.BridgedPrefix4.String(), "2001:db8:100::/120", behindRouter.String())
			checkLAN(t, lan, hosts, stderr)
		})
	}

	// The table, without names and with one port: every host's row says
	// what it is; this machine and the gateway are marked.
	t.Run("table", func(t *testing.T) {
		var out, errb bytes.Buffer
		cmd := lan.Scanner.Command(testnet.Root, bin, "scan", "--method", "raw", "--no-names", "--ports", "8080",
			testnet.BridgedPrefix4.String())
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, errb.String())
		}
		t.Logf("\n%s%s", out.String(), errb.String())
		rows := map[string]string{}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		for _, l := range lines[1:] {
			rows[strings.Fields(l)[0]] = l
		}
		head := strings.Fields(lines[0])
		if !slices.Equal(head, []string{"IP", "RTT", "TTL", "REASON", "MAC", "VENDOR", "KIND", "MODEL/NAME", "NAME", "PORTS"}) {
			t.Errorf("header %q", lines[0])
		}
		for _, lh := range lan.Hosts {
			if !lh.Addr4.IsValid() {
				continue
			}
			row := rows[lh.Addr4.String()]
			if !strings.Contains(row, lh.HW.String()+"  "+makers[lh.Label]) {
				t.Errorf("%s: row %q lacks its MAC and maker", lh.Label, row)
			}
			if lh.Label == "mac" != strings.Contains(row, " 8080/http-alt") || lh.Default != strings.HasSuffix(row, "[gateway]") {
				t.Errorf("%s: row %q", lh.Label, row)
			}
		}
		if row := rows[testnet.BridgedScanner4.String()]; !strings.HasSuffix(row, "[this machine]") {
			t.Errorf("this machine: %q", row)
		}
		if strings.Contains(out.String(), "raspberrypi") || strings.Contains(out.String(), "printer.test") {
			t.Error("names looked up despite --no-names")
		}
		// Only the scanned LAN gets the ff02::1 probe: one host of it
		// is not a scan of it.
		hosts, stderr := runScan(t, lan.Scanner, testnet.Root, bin, "--json", "--method", "raw", pi.Addr4.String())
		if len(hosts) != 1 || strings.Contains(stderr, "link-local") {
			t.Errorf("scan of one host: %d hosts, stderr:\n%s", len(hosts), stderr)
		}
	})

	// Scan called in this process, with its Conn opened inside the
	// scanner's namespace and Enrich.InNet entering it, as any program
	// scanning another namespace would: enrichment must look and send
	// from there, not from this process's namespace.
	t.Run("in process", func(t *testing.T) {
		lan.Scanner.Run("ip", "neigh", "flush", "all")
		var (
			sum   scanner.Summary
			err   error
			hosts = map[netip.Addr]scanner.Host{}
		)
		e := scanner.DefaultEnrich()
		// The Pi's DNS server, dialled from wherever the resolver runs:
		// enrichment must run it inside the namespace for it to work.
		e.Resolver = &names.Resolver{DNS: &net.Resolver{PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, netip.AddrPortFrom(pi.Addr4, 53).String())
			}}}
		var entered atomic.Int64
		e.InNet = func(fn func()) error {
			entered.Add(1)
			return testnet.Do(lan.Scanner.Name, fn)
		}
		cfg := scanner.DefaultConfig()
		cfg.Enrich = e
		lan.Scanner.Do(func() {
			conn, oerr := probe.OpenRaw(probe.Options{})
			if oerr != nil {
				err = oerr
				return
			}
			defer conn.Close()
			targets, perr := targets.Parse(t.Context(), []string{testnet.BridgedPrefix4.String()}, targets.Options{})
			if perr != nil {
				err = perr
				return
			}
			sum, err = scanner.Scan(t.Context(), conn, targets, cfg, func(ev scanner.Event) {
				if ev.Kind == scanner.HostUpdated && ev.Host.Enriched {
					hosts[ev.Host.Addr] = ev.Host
				}
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if entered.Load() == 0 {
			t.Fatal("enrichment never went through Enrich.InNet")
		}
		t.Logf("%+v", sum)
		for _, lh := range lan.Hosts {
			for _, a := range []netip.Addr{lh.Addr4, lh.LinkLocal.WithZone(lan.ScannerIf)} {
				if !a.IsValid() {
					continue
				}
				h, ok := hosts[a]
				if !ok || h.MAC.String() != lh.HW.String() || h.Vendor != makers[lh.Label] {
					t.Errorf("%s (%s): %+v", a, lh.Label, h)
				}
			}
		}
		piHost, hpHost, macHost := hosts[pi.Addr4], hosts[hp.Addr4], hosts[mac.Addr4]
		if !slices.Equal(piHost.Names, []string{"raspberrypi.local", "PI-NAS"}) || hpHost.Hostname != "printer.test" ||
			len(macHost.Ports) != 1 || macHost.Ports[0] != (scanner.Port{Number: 8080, Service: "http-alt"}) {
			t.Errorf("names and ports: pi %q, hp %q, mac %v", piHost.Names, hpHost.Hostname, macHost.Ports)
		}
		if self := hosts[testnet.BridgedScanner4]; !self.Self || self.MAC.String() != lan.ScannerMAC.String() {
			t.Errorf("this machine: %+v", self)
		}
		if gw := hosts[lan.Host("ubnt").Addr4]; !gw.Gateway {
			t.Errorf("gateway: %+v", gw)
		}
		if sum.Alive != 6 || sum.Neighbours != 7 {
			t.Errorf("summary %+v, want 6 alive and 7 neighbours", sum)
		}
	})
}

func checkLAN(t *testing.T, lan *testnet.Bridged, hosts map[string]scanHost, stderr string) {
	t.Helper()
	for _, h := range hosts {
		t.Logf("%s", h.line)
	}
	byAddr := func(a netip.Addr) (scanHost, bool) {
		h, ok := hosts[a.String()]
		if !ok {
			t.Errorf("%s not found", a)
		}
		return h, ok
	}

	// This machine.
	for _, a := range []netip.Addr{testnet.BridgedScanner4, testnet.BridgedScanner6} {
		if h, ok := byAddr(a); ok {
			if !h.Self || h.MAC != lan.ScannerMAC.String() || h.MACSource != "interface" || h.Gateway {
				t.Errorf("scanner at %s: %s", a, h.line)
			}
		}
	}
	for _, lh := range lan.Hosts {
		addrs := []netip.Addr{lh.LinkLocal.WithZone(lan.ScannerIf)}
		for _, a := range []netip.Addr{lh.Addr4, lh.Addr6} {
			if a.IsValid() {
				addrs = append(addrs, a)
			}
		}
		for _, a := range addrs {
			h, ok := byAddr(a)
			if !ok {
				continue
			}
			if h.MAC != lh.HW.String() || h.Vendor != makers[lh.Label] || h.MACSource != "neighbour" || h.Self {
				t.Errorf("%s (%s): mac %q %q from %q, want %s %q from the neighbour table: %s",
					a, lh.Label, h.MAC, h.Vendor, h.MACSource, lh.HW, makers[lh.Label], h.line)
			}
			if h.Gateway != (lh.Default && !a.IsLinkLocalUnicast()) {
				t.Errorf("%s (%s): gateway %v, want %v", a, lh.Label, h.Gateway, lh.Default)
			}
			if !slices.Contains(h.Reasons, "neighbour") || h.Reasons[0] != h.Reason || h.Reason != "echo-reply" {
				t.Errorf("%s (%s): reasons %q", a, lh.Label, h.Reasons)
			}
			if slices.Contains(h.Names, "impostor.local") {
				t.Errorf("%s (%s) took the name another host claimed for it: %s", a, lh.Label, h.line)
			}
			switch {
			case lh.Label == "pi" && a.Is4():
				if h.Hostname != "raspberrypi.local" || !slices.Equal(h.Names, []string{"raspberrypi.local", "PI-NAS"}) ||
					!slices.Contains(h.Reasons, "mdns") || !slices.Contains(h.Reasons, "netbios") {
					t.Errorf("pi: names %q (hostname %q), reasons %q; want raspberrypi.local by mDNS and PI-NAS by NetBIOS",
						h.Names, h.Hostname, h.Reasons)
				}
			case lh.Label == "pi":
				if h.Hostname != "raspberrypi.local" {
					t.Errorf("pi at %s: hostname %q, want raspberrypi.local by mDNS", a, h.Hostname)
				}
			case lh.Label == "hp" && a.Is4():
				if h.Hostname != "printer.test" {
					t.Errorf("hp: hostname %q, want printer.test from the PTR record", h.Hostname)
				}
			case lh.Label != "pi" && h.Hostname != "":
				t.Errorf("%s (%s) has a name it was never given: %s", a, lh.Label, h.line)
			}
			wantPorts := 0
			if lh.Label == "mac" {
				wantPorts = 1
				if len(h.Ports) != 1 || h.Ports[0].Port != 8080 || h.Ports[0].Service != "http-alt" ||
					!slices.Contains(h.Reasons, "tcp-open") {
					t.Errorf("mac: ports %+v, reasons %q; want 8080 http-alt", h.Ports, h.Reasons)
				}
			}
			if len(h.Ports) != wantPorts {
				t.Errorf("%s (%s): ports %+v", a, lh.Label, h.Ports)
			}
			if wantPorts == 0 && !slices.Contains(h.Reasons, "tcp-rst") {
				t.Errorf("%s (%s): closed ports answered with resets, yet reasons are %q", a, lh.Label, h.Reasons)
			}
		}
	}

	// Behind the router: up, but no MAC, and the result says why.
	if h, ok := byAddr(behindRouter); ok {
		if h.MAC != "" || h.Vendor != "" || !strings.Contains(h.Note, "behind router 198.18.100.254") {
			t.Errorf("host behind the router: %s", h.line)
		}
	}

	// Nobody else: every line is a host above, and the two link-local
	// hosts came through ff02::1.
	want := 3 // the scanner (IPv4 and IPv6), the host behind the router
	for _, lh := range lan.Hosts {
		want++ // link-local
		for _, a := range []netip.Addr{lh.Addr4, lh.Addr6} {
			if a.IsValid() {
				want++
			}
		}
	}
	if len(hosts) != want {
		t.Errorf("%d hosts reported, want %d", len(hosts), want)
	}
	for _, label := range []string{"ll", "phone"} {
		ll := lan.Host(label).LinkLocal.WithZone(lan.ScannerIf)
		if h := hosts[ll.String()]; !strings.Contains(h.Note, "ff02::1") {
			t.Errorf("%s: %s not reported as found through ff02::1: %+v", label, ll, h)
		}
	}
	// 254 + 256 + 1 targets; 6 live in IPv4, 5 in IPv6, 1 behind the router.
	if !strings.Contains(stderr, "found 12 of 511, and 7 IPv6 link-local neighbours") {
		t.Errorf("summary line:\n%s", stderr)
	}
}

// runScan runs the binary in ns as u and returns its hosts by address.
func runScan(t *testing.T, ns *testnet.NS, u testnet.User, bin string, args ...string) (map[string]scanHost, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := ns.Command(u, append([]string{bin, "scan"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("netscanner scan as %s: %v\nstderr:\n%s", u, err, errb.String())
	}
	hosts := map[string]scanHost{}
	for line := range strings.Lines(out.String()) {
		var h scanHost
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, line)
		}
		h.line = strings.TrimSpace(line)
		if _, dup := hosts[h.IP]; dup {
			t.Errorf("%s reported twice", h.IP)
		}
		hosts[h.IP] = h
	}
	t.Logf("stderr:\n%s", errb.String())
	return hosts, errb.String()
}

// buildNetscanner builds the binary into a directory every user may
// enter, so that nobody can run it.
func buildNetscanner(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "netscanner-enrich-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "netscanner")
	cmd := exec.Command("go", "build", "-tags", "migrated_fynedo", "-o", bin, "netscanner")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func reverse(t *testing.T, a netip.Addr) string {
	t.Helper()
	n, err := dns.ReverseAddr(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// startDNS serves PTR records (owner: target) at addr in ns; other names
// get NXDOMAIN.
func startDNS(t *testing.T, ns *testnet.NS, addr netip.AddrPort, zone map[string]string) {
	t.Helper()
	var pc net.PacketConn
	var err error
	ns.Do(func() { pc, err = net.ListenPacket("udp4", addr.String()) })
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{
		PacketConn:        pc,
		NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(req)
			m.Rcode = dns.RcodeNameError
			if len(req.Question) == 1 && req.Question[0].Qtype == dns.TypePTR {
				q := req.Question[0]
				if target, ok := zone[strings.ToLower(q.Name)]; ok {
					m.Rcode = dns.RcodeSuccess
					m.Answer = []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60}, Ptr: target}}
				}
			}
			_ = w.WriteMsg(m)
		}),
	}
	served := make(chan error, 1)
	go func() { served <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-served:
		t.Fatalf("DNS server: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-served
	})
}

// udpResponder reads datagrams on one socket until the test ends and
// answers each with the replies handle returns, to the sender.
func udpResponder(t *testing.T, pc net.PacketConn, handle func([]byte) [][]byte) {
	var wg sync.WaitGroup
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, src, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, b := range handle(buf[:n]) {
				_, _ = pc.WriteTo(b, src)
			}
		}
	})
}

// startMDNS answers mDNS PTR queries in h's namespace, over IPv4 and
// IPv6, to the group and directly: with own for the host's own addresses
// and with other for any other address asked about, as a lying neighbour
// would.
func startMDNS(t *testing.T, h *testnet.BridgedHost, own, other string) {
	t.Helper()
	mine := map[string]bool{}
	for _, a := range []netip.Addr{h.Addr4, h.Addr6, h.LinkLocal} {
		if a.IsValid() {
			mine[reverse(t, a)] = true
		}
	}
	answer := func(req []byte) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(req) != nil || q.Response || len(q.Question) != 1 || q.Question[0].Qtype != dns.TypePTR {
			return nil
		}
		target := other
		if mine[strings.ToLower(q.Question[0].Name)] {
			target = own
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		m.Answer = []dns.RR{&dns.PTR{
			Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 10},
			Ptr: target,
		}}
		b, err := m.Pack()
		if err != nil {
			return nil
		}
		return [][]byte{b}
	}
	var err error
	h.NS.Do(func() {
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(h.If); err != nil {
			return
		}
		var pc4, pc6 net.PacketConn
		if pc4, err = net.ListenPacket("udp4", "0.0.0.0:5353"); err != nil {
			return
		}
		udpResponder(t, pc4, answer)
		if err = ipv4.NewPacketConn(pc4).JoinGroup(ifi, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251)}); err != nil {
			return
		}
		if pc6, err = net.ListenPacket("udp6", "[::]:5353"); err != nil {
			return
		}
		udpResponder(t, pc6, answer)
		err = ipv6.NewPacketConn(pc6).JoinGroup(ifi, &net.UDPAddr{IP: net.ParseIP("ff02::fb")})
	})
	if err != nil {
		t.Fatalf("mDNS responder: %v", err)
	}
}

// startNetBIOS answers NetBIOS node status requests in h's namespace with
// a name table holding name, and h's MAC, as Windows does.
func startNetBIOS(t *testing.T, h *testnet.BridgedHost, name string) {
	t.Helper()
	var pc net.PacketConn
	var err error
	h.NS.Do(func() { pc, err = net.ListenPacket("udp4", "0.0.0.0:137") })
	if err != nil {
		t.Fatalf("NetBIOS responder: %v", err)
	}
	udpResponder(t, pc, func(req []byte) [][]byte {
		// A node status request: 12-byte header, the wildcard name,
		// type NBSTAT (0x21), class IN.
		const wildcard = "\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00"
		if len(req) != 50 || string(req[12:46]) != wildcard || req[47] != 0x21 {
			return nil
		}
		return [][]byte{nodeStatus(binary.BigEndian.Uint16(req), name, h.HW)}
	})
}

// nodeStatus encodes a node status response (RFC 1002 4.2.18): the
// workstation and server names, and statistics opening with mac.
func nodeStatus(id uint16, name string, mac net.HardwareAddr) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0) // response, authoritative; one answer
	b = append(b, "\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00"...)
	b = append(b, 0, 0x21, 0, 0x01, 0, 0, 0, 0) // NBSTAT, IN, TTL 0
	stats := make([]byte, 46)
	copy(stats, mac)
	entries := []struct {
		suffix byte
		flags  uint16
	}{{0x00, 0x0400}, {0x20, 0x0400}}
	b = binary.BigEndian.AppendUint16(b, uint16(1+len(entries)*18+len(stats)))
	b = append(b, byte(len(entries)))
	for _, e := range entries {
		b = append(b, []byte(name + strings.Repeat(" ", 15))[:15]...)
		b = append(b, e.suffix)
		b = binary.BigEndian.AppendUint16(b, e.flags)
	}
	return append(b, stats...)
}

// listenTCP accepts and closes connections at addr in ns until the test
// ends.
func listenTCP(t *testing.T, ns *testnet.NS, addr string) {
	t.Helper()
	var l net.Listener
	var err error
	ns.Do(func() { l, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	})
}
