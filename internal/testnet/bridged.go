package testnet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Bridged is one Ethernet segment, as a home network's devices share an
// access point: a switch namespace holds a bridge, and the scanner's
// namespace and every host's namespace each hang off it by a veth pair.
// Each host's interface carries the MAC address its spec gives, so that a
// scanner sees real makers, and IPv6 link-local addresses come with the
// links, as on any LAN.
//
//	Scanner 198.18.100.1/24 2001:db8:100::1/64 ──┐
//	Host    198.18.100.x/24 2001:db8:100::x/64 ──┼── br0 (Switch namespace)
//	Host    fe80:: only                        ──┘
//
// The switch namespace has IPv6 turned off and no IPv4 address, so the
// bridge itself never answers anything: only the hosts are on the LAN.
type Bridged struct {
	Scanner    *NS
	Switch     *NS
	ScannerIf  string           // the scanner's interface on the LAN
	ScannerLL  netip.Addr       // its link-local address, without zone
	Hosts      []*BridgedHost   // in the order of the specs
	ScannerMAC net.HardwareAddr // the scanner interface's MAC
}

// The LAN's prefixes and the scanner's addresses on it.
var (
	BridgedPrefix4  = netip.MustParsePrefix("198.18.100.0/24")
	BridgedPrefix6  = netip.MustParsePrefix("2001:db8:100::/64")
	BridgedScanner4 = netip.MustParseAddr("198.18.100.1")
	BridgedScanner6 = netip.MustParseAddr("2001:db8:100::1")
)

// BridgedSpec describes one host of a Bridged LAN.
type BridgedSpec struct {
	// Label names the host's namespace (shortened) and, in tests, the
	// host.
	Label string
	// MAC is the host interface's address, such as "b8:27:eb:00:00:0a".
	MAC string
	// Addr4 and Addr6 are the host's addresses on the LAN, inside
	// BridgedPrefix4 and BridgedPrefix6; empty for none. A host with
	// neither has only its link-local IPv6 address.
	Addr4, Addr6 string
	// Behind lists addresses outside the LAN that the host answers for
	// as a router would for the hosts behind it: the host's kernel owns
	// them (a local route on its loopback), and the scanner routes each
	// via the host's Addr4 or Addr6. Seen from the scanner, their
	// packets come from the host's MAC address, which is not theirs.
	Behind []string
	// Default makes the host the scanner's default gateway, by whichever
	// of Addr4 and Addr6 it has. Packets the scanner sends anywhere else
	// then end in this namespace, which routes nothing further.
	Default bool
	// Silence is what the host ignores, as firewalled devices do; the
	// zero value answers whatever its kernel answers.
	Silence Silence
	// Listen lists TCP ports the host accepts connections on, IPv4 and
	// IPv6: a listener this process runs in the host's namespace
	// accepts and closes each connection. Not with OnlyResolves.
	Listen []uint16
}

// Silence is what a Bridged host ignores.
type Silence int

const (
	// Answers: the host's kernel answers as it does by default: echo
	// requests, TCP resets from closed ports, and so on.
	Answers Silence = iota
	// IgnoresPing: the host drops every ICMP echo request, IPv4 and IPv6
	// (net.ipv4.icmp_echo_ignore_all and net.ipv6.icmp.echo_ignore_all),
	// as Windows' firewall does by default; TCP and UDP work as usual.
	IgnoresPing
	// OnlyResolves: the host answers ARP and IPv6 neighbour solicitations
	// and nothing else. Policy rules ahead of the local table blackhole
	// (drop without a word) every ICMP, TCP and UDP packet to it, IPv4
	// and IPv6; ARP requests, which are no IP packets, and neighbour
	// solicitations (ICMPv6, which is left alone, with echo requests
	// ignored by sysctl instead) still get their answers.
	OnlyResolves
)

func (s Silence) String() string {
	switch s {
	case Answers:
		return "answers"
	case IgnoresPing:
		return "ignores ping"
	case OnlyResolves:
		return "only resolves"
	}
	return fmt.Sprintf("Silence(%d)", int(s))
}

// BridgedHost is one host of a Bridged LAN.
type BridgedHost struct {
	Label     string
	NS        *NS
	If        string           // its interface, in NS
	HW        net.HardwareAddr // parsed MAC
	Addr4     netip.Addr       // invalid when none
	Addr6     netip.Addr       // global; invalid when none
	LinkLocal netip.Addr       // its fe80:: address (EUI-64 from HW), without zone
	Behind    []netip.Addr     // addresses it routes for (BridgedSpec.Behind)
	Default   bool             // the scanner's default gateway
	Silence   Silence          // what it ignores (BridgedSpec.Silence)
	Listen    []uint16         // TCP ports it accepts on (BridgedSpec.Listen)
}

// NewBridged builds the LAN and registers its removal with t.Cleanup. It
// returns once every host answers the scanner, with the neighbour tables
// of all namespaces flushed again, so that a scan starts from an empty
// table as after a reboot. Hosts with a Silence are checked while they
// still answer, and silenced after that.
func NewBridged(t testing.TB, specs ...BridgedSpec) *Bridged {
	t.Helper()
	hosts := make([]*BridgedHost, len(specs))
	for i, sp := range specs {
		h, err := parseBridgedSpec(sp)
		if err != nil {
			t.Fatalf("NewBridged: host %d (%s): %v", i, sp.Label, err)
		}
		hosts[i] = h
	}

	sw := NewNS(t, "switch")
	// Nothing in the switch namespace takes part in IPv6: neither the
	// bridge nor its ports get link-local addresses to answer from.
	sw.Sysctl("net.ipv6.conf.all.disable_ipv6", "1")
	sw.Sysctl("net.ipv6.conf.default.disable_ipv6", "1")
	sw.Run("ip", "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0")
	sw.Run("ip", "link", "set", "br0", "up")

	b := &Bridged{Switch: sw, Hosts: hosts}
	b.Scanner = NewNS(t, "bscan")
	b.ScannerIf = b.plug(t, b.Scanner, "")
	addAddr(b.Scanner, b.ScannerIf, netip.PrefixFrom(BridgedScanner4, BridgedPrefix4.Bits()).String())
	addAddr(b.Scanner, b.ScannerIf, netip.PrefixFrom(BridgedScanner6, BridgedPrefix6.Bits()).String())
	b.Scanner.Run("ip", "link", "set", b.ScannerIf, "up")
	b.ScannerMAC = b.interfaceOf(t, b.Scanner, b.ScannerIf)
	b.ScannerLL = linkLocalOf(b.ScannerMAC)

	for _, h := range hosts {
		label := h.Label
		if len(label) > 8 {
			label = label[:8]
		}
		h.NS = NewNS(t, label)
		h.If = b.plug(t, h.NS, h.HW.String())
		if h.Addr4.IsValid() {
			addAddr(h.NS, h.If, netip.PrefixFrom(h.Addr4, BridgedPrefix4.Bits()).String())
		}
		if h.Addr6.IsValid() {
			addAddr(h.NS, h.If, netip.PrefixFrom(h.Addr6, BridgedPrefix6.Bits()).String())
		}
		h.NS.Run("ip", "link", "set", h.If, "up")
		for _, a := range h.Behind {
			h.NS.Run("ip", "route", "add", "local", netip.PrefixFrom(a, a.BitLen()).String(), "dev", "lo")
			via := h.Addr4
			if a.Is6() {
				via = h.Addr6
			}
			b.Scanner.Run("ip", "route", "add", netip.PrefixFrom(a, a.BitLen()).String(), "via", via.String())
		}
		if h.Default {
			if h.Addr4.IsValid() {
				b.Scanner.Run("ip", "route", "add", "default", "via", h.Addr4.String())
			}
			if h.Addr6.IsValid() {
				b.Scanner.Run("ip", "-6", "route", "add", "default", "via", h.Addr6.String())
			}
		}
	}
	b.settle(t)
	for _, h := range hosts {
		h.silence(t)
		for _, port := range h.Listen {
			h.listen(t, port)
		}
	}
	return b
}

// silence makes h ignore what its Silence says.
func (h *BridgedHost) silence(t testing.TB) {
	t.Helper()
	if h.Silence == Answers {
		return
	}
	h.NS.Sysctl("net.ipv4.icmp_echo_ignore_all", "1")
	h.NS.Sysctl("net.ipv6.icmp.echo_ignore_all", "1")
	if h.Silence != OnlyResolves {
		return
	}
	// The local table's rule has priority 0, ahead of any rule added:
	// move it behind the blackholes. ARP's own route lookup carries no
	// IP protocol, so the ipproto rules never match it.
	for _, fam := range []string{"-4", "-6"} {
		protos := []string{"tcp", "udp"}
		if fam == "-4" {
			protos = append(protos, "icmp") // ICMPv6 carries neighbour discovery: kept
		}
		for i, p := range protos {
			h.NS.Run("ip", fam, "rule", "add", "pref", fmt.Sprint(10+i), "ipproto", p, "blackhole")
		}
		h.NS.Run("ip", fam, "rule", "del", "pref", "0")
		h.NS.Run("ip", fam, "rule", "add", "pref", "100", "lookup", "local")
	}
}

// listen accepts TCP connections on port in h's namespace until the test
// ends, closing each at once.
func (h *BridgedHost) listen(t testing.TB, port uint16) {
	t.Helper()
	var l net.Listener
	var err error
	h.NS.Do(func() { l, err = net.Listen("tcp", fmt.Sprintf("[::]:%d", port)) })
	if err != nil {
		t.Fatalf("bridged LAN: %s: listen on %d: %v", h.Label, port, err)
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

// Unplug takes h off the LAN for good, as a device that leaves: its
// link is deleted, so its addresses belong to nobody from then on, while
// the scanner's link stays up and its neighbour table keeps whatever it
// had learnt about h.
func (h *BridgedHost) Unplug() {
	h.NS.t.Helper()
	h.NS.Run("ip", "link", "del", h.If)
}

// parseBridgedSpec checks a spec and fills in what follows from it.
func parseBridgedSpec(sp BridgedSpec) (*BridgedHost, error) {
	h := &BridgedHost{Label: sp.Label, Default: sp.Default, Silence: sp.Silence, Listen: sp.Listen}
	switch {
	case sp.Silence < Answers || sp.Silence > OnlyResolves:
		return nil, fmt.Errorf("unknown silence %d", sp.Silence)
	case sp.Silence == OnlyResolves && len(sp.Listen) > 0:
		return nil, fmt.Errorf("a host that only resolves cannot listen on TCP ports")
	case slices.Contains(sp.Listen, 0):
		return nil, fmt.Errorf("listen: port 0")
	}
	hw, err := net.ParseMAC(sp.MAC)
	if err != nil || len(hw) != 6 || hw[0]&1 != 0 {
		return nil, fmt.Errorf("MAC %q: want a unicast EUI-48 address", sp.MAC)
	}
	h.HW = hw
	h.LinkLocal = linkLocalOf(hw)
	if sp.Addr4 != "" {
		if h.Addr4, err = netip.ParseAddr(sp.Addr4); err != nil || !BridgedPrefix4.Contains(h.Addr4) || h.Addr4 == BridgedScanner4 {
			return nil, fmt.Errorf("IPv4 address %q: want a host address in %s other than the scanner's", sp.Addr4, BridgedPrefix4)
		}
	}
	if sp.Addr6 != "" {
		if h.Addr6, err = netip.ParseAddr(sp.Addr6); err != nil || !BridgedPrefix6.Contains(h.Addr6) || h.Addr6 == BridgedScanner6 {
			return nil, fmt.Errorf("IPv6 address %q: want a host address in %s other than the scanner's", sp.Addr6, BridgedPrefix6)
		}
	}
	for _, s := range sp.Behind {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			return nil, fmt.Errorf("routed address %q: %v", s, err)
		case a.Is4() && (!lanOK4.Contains(a) || BridgedPrefix4.Contains(a) || !h.Addr4.IsValid()),
			a.Is6() && (!lanOK6.Contains(a) || BridgedPrefix6.Contains(a) || !h.Addr6.IsValid()):
			return nil, fmt.Errorf("routed address %q: want an address in %s or %s outside the LAN, of a family the host has an address in", s, lanOK4, lanOK6)
		}
		h.Behind = append(h.Behind, a)
	}
	if sp.Default && !h.Addr4.IsValid() && !h.Addr6.IsValid() {
		return nil, fmt.Errorf("a default gateway needs Addr4 or Addr6")
	}
	return h, nil
}

// plug joins ns to the bridge with a veth pair, giving ns's end mac (if
// set), and returns the name of ns's end, which is left down.
func (b *Bridged) plug(t testing.TB, ns *NS, mac string) string {
	t.Helper()
	n := nsSeq.Add(1)
	mine, port := fmt.Sprintf("vl%d", n), fmt.Sprintf("vp%d", n)
	args := []string{"ip", "link", "add", mine}
	if mac != "" {
		args = append(args, "address", mac)
	}
	args = append(args, "type", "veth", "peer", "name", port, "netns", b.Switch.Name)
	ns.Run(args...)
	b.Switch.Run("ip", "link", "set", port, "master", "br0")
	b.Switch.Run("ip", "link", "set", port, "up")
	return mine
}

// interfaceOf returns the MAC address of ifname in ns.
func (b *Bridged) interfaceOf(t testing.TB, ns *NS, ifname string) net.HardwareAddr {
	t.Helper()
	var hw net.HardwareAddr
	var err error
	ns.Do(func() {
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(ifname); err == nil {
			hw = ifi.HardwareAddr
		}
	})
	if err != nil {
		t.Fatalf("interface %s in %s: %v", ifname, ns.Name, err)
	}
	return hw
}

// linkLocalOf is the fe80:: address the kernel derives from a MAC
// address (modified EUI-64, RFC 4291 appendix A).
func linkLocalOf(hw net.HardwareAddr) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10] = hw[0]^0x02, hw[1], hw[2]
	a[11], a[12] = 0xff, 0xfe
	a[13], a[14], a[15] = hw[3], hw[4], hw[5]
	return netip.AddrFrom16(a)
}

// settle waits until every host answers the scanner once, so that links
// are up and the bridge has learnt where everyone is; then it empties
// every neighbour table the pings filled.
func (b *Bridged) settle(t testing.TB) {
	t.Helper()
	for _, h := range b.Hosts {
		var targets []string
		for _, a := range []netip.Addr{h.Addr4, h.Addr6} {
			if a.IsValid() {
				targets = append(targets, a.String())
			}
		}
		targets = append(targets, h.LinkLocal.WithZone(b.ScannerIf).String())
		for _, dst := range targets {
			ok := false
			for try := 0; try < 10 && !ok; try++ {
				ok = b.Scanner.Command(Root, "ping", "-n", "-q", "-c", "1", "-W", "1", dst).Run() == nil
				if !ok {
					time.Sleep(100 * time.Millisecond)
				}
			}
			if !ok {
				t.Fatalf("bridged LAN: %s (%s) does not answer at %s", h.Label, h.NS.Name, dst)
			}
		}
	}
	for _, ns := range append([]*NS{b.Scanner}, b.hostNamespaces()...) {
		ns.Run("ip", "neigh", "flush", "all")
		ns.Run("ip", "-6", "neigh", "flush", "all")
	}
}

func (b *Bridged) hostNamespaces() []*NS {
	out := make([]*NS, len(b.Hosts))
	for i, h := range b.Hosts {
		out[i] = h.NS
	}
	return out
}

// Host returns the host with label, or nil.
func (b *Bridged) Host(label string) *BridgedHost {
	for _, h := range b.Hosts {
		if h.Label == label {
			return h
		}
	}
	return nil
}

// UseNameserver makes programs run in ns through `ip netns exec` (Run,
// Command) resolve names with server only: ip netns exec mounts the files
// of /etc/netns/NAME over /etc, so this writes /etc/netns/NAME/resolv.conf
// and removes it when the test ends. Threads that enter ns with Do are not
// affected; they see this machine's /etc/resolv.conf.
func (ns *NS) UseNameserver(server netip.Addr) {
	ns.t.Helper()
	dir := filepath.Join("/etc/netns", ns.Name)
	_, statErr := os.Stat("/etc/netns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		ns.t.Fatalf("UseNameserver: %v", err)
	}
	ns.t.Cleanup(func() {
		os.RemoveAll(dir)
		if statErr != nil {
			os.Remove("/etc/netns") // ours, and empty unless someone else's appeared
		}
	})
	conf := fmt.Sprintf("# written by a test for namespace %s\nnameserver %s\noptions timeout:1 attempts:1\n", ns.Name, server)
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(conf), 0o644); err != nil {
		ns.t.Fatalf("UseNameserver: %v", err)
	}
	// An empty hosts file, so that only the test's server answers.
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		ns.t.Fatalf("UseNameserver: %v", err)
	}
}
