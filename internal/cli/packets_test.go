package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"netscanner/internal/testnet"
)

// packetClass is one kind of packet a scan may send, as docs/packets.md
// lists them: its name there, the switch that silences it ("" for the
// sweep itself and for what the kernel sends on its own), and how to
// recognise it on the wire. A new kind of traffic is one more row here
// and in the document; a new switch, one more case in switchCases.
type packetClass struct {
	name  string
	off   string // the scan flag that silences it
	match func(p testnet.Packet) bool
}

var (
	allNodes = netip.MustParseAddr("ff02::1")
	llNet    = netip.MustParsePrefix("fe80::/10")
)

// The ICMPv6 types the kernel sends on its own: neighbour discovery
// (133-137) and multicast listener reports (131, 143).
func kernelICMPv6(t int) bool { return t >= 133 && t <= 137 || t == 131 || t == 143 }

// reverseQuery tells whether a DNS message asks for a reverse name (the
// PTR queries of name lookups), as opposed to DNS-SD's service names.
func reverseQuery(payload []byte) bool {
	var m dns.Msg
	if m.Unpack(payload) != nil {
		return false
	}
	for _, q := range m.Question {
		if strings.HasSuffix(q.Name, ".in-addr.arpa.") || strings.HasSuffix(q.Name, ".ip6.arpa.") {
			return true
		}
	}
	return false
}

// packetClasses sorts every packet a default scan sends. Classes are tried
// in order; the first that matches takes the packet.
var packetClasses = []packetClass{
	{"ff02::1 echo", "--no-link-local", func(p testnet.Packet) bool {
		return p.Proto == 58 && p.ICMPType == 128 && p.Dst == allNodes
	}},
	{"link-local follow-ups", "--no-link-local", func(p testnet.Packet) bool {
		return llNet.Contains(p.Dst) && !(p.Proto == 58 && kernelICMPv6(p.ICMPType))
	}},
	{"sweep echo", "", func(p testnet.Packet) bool {
		return p.Proto == 1 && p.ICMPType == 8 || p.Proto == 58 && p.ICMPType == 128
	}},
	{"mDNS name query", "--no-names", func(p testnet.Packet) bool {
		return p.Proto == 17 && p.DstPort == 5353 && reverseQuery(p.Payload)
	}},
	{"DNS-SD browse", "--no-identify", func(p testnet.Packet) bool {
		return p.Proto == 17 && p.DstPort == 5353
	}},
	{"SSDP search", "--no-identify", func(p testnet.Packet) bool {
		return p.Proto == 17 && p.DstPort == 1900
	}},
	{"DNS PTR", "--no-names", func(p testnet.Packet) bool {
		// UDP only: a TCP SYN to port 53 is the port probes'.
		return p.Proto == 17 && p.DstPort == 53
	}},
	{"NetBIOS", "--no-names", func(p testnet.Packet) bool {
		return p.Proto == 17 && p.DstPort == 137
	}},
	{"TCP SYN", "--ports none", func(p testnet.Packet) bool {
		return p.Proto == 6 && p.TCPFlags&(testnet.TCPFlagSYN|testnet.TCPFlagACK) == testnet.TCPFlagSYN
	}},
	{"TCP after the SYN", "--ports none", func(p testnet.Packet) bool { return p.Proto == 6 }},
	{"kernel: ARP, neighbour discovery, MLD, IGMP", "", func(p testnet.Packet) bool {
		return p.Proto == 0 || p.Proto == 2 || p.Proto == 58 && kernelICMPv6(p.ICMPType)
	}},
	{"kernel: ICMP errors", "", func(p testnet.Packet) bool {
		return p.Proto == 1 && p.ICMPType == 3 || p.Proto == 58 && p.ICMPType == 1
	}},
}

// switchCases are the off switches under test: each case's flags, and
// the switches (packetClass.off) they turn off. The last turns all off at
// once, which must leave only the sweep and the kernel's own packets.
var switchCases = []struct {
	name  string
	flags []string
	offs  []string
}{
	{"--no-link-local", []string{"--no-link-local"}, []string{"--no-link-local"}},
	{"--no-names", []string{"--no-names"}, []string{"--no-names"}},
	{"--ports none", []string{"--ports=none"}, []string{"--ports none"}},
	{"--no-identify", []string{"--no-identify"}, []string{"--no-identify"}},
	{"all", []string{"--no-link-local", "--no-names", "--ports=none", "--no-identify"},
		[]string{"--no-link-local", "--no-names", "--ports none", "--no-identify"}},
}

// countClasses sorts packets into packetClasses; what no class takes
// goes under "".
func countClasses(packets []testnet.Packet) (map[string]int, []testnet.Packet) {
	counts := map[string]int{}
	var unknown []testnet.Packet
	for _, p := range packets {
		found := false
		for _, c := range packetClasses {
			if c.match(p) {
				counts[c.name]++
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, p)
		}
	}
	return counts, unknown
}

// TestReliabilityOffSwitches scans a bridged LAN (two devices on IPv4 and
// IPv6, one IPv6 link-local only) with `netscanner scan`, run as a whole
// process inside the scanner's namespace, while a packet socket records
// every frame leaving the scanner's interface. The default scan must send
// every class of docs/packets.md, and nothing that is not in it; each off
// switch must silence its classes completely, while the scan still runs.
func TestReliabilityOffSwitches(t *testing.T) {
	b := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10", Addr6: "2001:db8:100::10"},
		testnet.BridgedSpec{Label: "nas", MAC: "00:11:32:00:00:0b", Addr4: "198.18.100.11"},
		testnet.BridgedSpec{Label: "llonly", MAC: "3a:00:00:00:00:10"},
	)
	// PTR queries go to a device of the LAN (which has no DNS server:
	// the query leaves all the same), not to this machine's resolver.
	b.Scanner.UseNameserver(netip.MustParseAddr("198.18.100.10"))
	// The pi serves the web, so that connects complete.
	b.Host("pi").NS.Do(func() {
		l, err := net.Listen("tcp", ":80")
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
	})

	run := func(t *testing.T, flags ...string) (map[string]int, []testnet.Packet) {
		t.Helper()
		s := testnet.StartSniffer(t, b.Scanner, b.ScannerIf)
		args := append(append([]string{"scan", "--method", "raw", "--format", "json"}, flags...), testnet.BridgedPrefix4.String())
		cmd := b.Scanner.Command(testnet.Root, os.Args[0], "-test.run=^TestPacketsHelper$")
		cmd.Env = append(os.Environ(), "PACKETS_HELPER_ARGS="+strings.Join(args, "\x1f"))
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("scan %v: %v\n%s\n%s", flags, err, out, errb.String())
		}
		// Late segments of the last connects (their FIN, RST).
		time.Sleep(200 * time.Millisecond)
		s.Stop()
		counts, unknown := countClasses(s.Packets())
		t.Logf("scan %v: %d frames out: %v", flags, s.Frames(), counts)
		return counts, unknown
	}

	var summary []string
	base, unknown := run(t)
	for _, p := range unknown {
		t.Errorf("default scan: a packet docs/packets.md does not list: %v", p)
	}
	for _, c := range packetClasses {
		if base[c.name] == 0 && !strings.HasPrefix(c.name, "kernel:") {
			t.Errorf("default scan sent no %s: the count proves nothing", c.name)
		}
	}
	summary = append(summary, fmt.Sprintf("default=%d", total(base)))

	for _, sw := range switchCases {
		t.Run(sw.name, func(t *testing.T) {
			counts, unknown := run(t, sw.flags...)
			for _, p := range unknown {
				t.Errorf("a packet docs/packets.md does not list: %v", p)
			}
			silenced := 0
			for _, c := range packetClasses {
				off := slices.Contains(sw.offs, c.off)
				switch {
				case off && counts[c.name] != 0:
					t.Errorf("%s: %d packets of class %q went out (%d by default)", sw.name, counts[c.name], c.name, base[c.name])
				case off:
					silenced += base[c.name]
				case c.name == "sweep echo" && counts[c.name] == 0:
					t.Errorf("%s: no sweep at all", sw.name)
				}
			}
			summary = append(summary, fmt.Sprintf("%s=%d(silenced_%d_left_0)", strings.ReplaceAll(strings.TrimPrefix(sw.name, "--"), " ", "-"), total(counts), silenced))
		})
	}
	line := "reliability: off-switches scan_packets " + strings.Join(summary, " ")
	t.Log(line)
	fmt.Println(line)
}

// total counts the scan's own packets: every class but the kernel's,
// whose ARP retries for the empty addresses vary with the scan's length.
func total(counts map[string]int) int {
	n := 0
	for name, v := range counts {
		if !strings.HasPrefix(name, "kernel:") {
			n += v
		}
	}
	return n
}

// TestPacketsHelper is the scan of TestReliabilityOffSwitches, run in a
// copy of this test binary inside the scanner's namespace, so that every
// socket, connect and name lookup of the scan (and /etc/resolv.conf, which
// `ip netns exec` replaces) is the namespace's.
func TestPacketsHelper(t *testing.T) {
	args := os.Getenv("PACKETS_HELPER_ARGS")
	if args == "" {
		t.Skip("run by TestReliabilityOffSwitches")
	}
	var out, errb bytes.Buffer
	code := Env{}.Run(context.Background(), strings.Split(args, "\x1f"), &out, &errb)
	os.Stdout.Write(out.Bytes())
	os.Stderr.Write(errb.Bytes())
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
}
