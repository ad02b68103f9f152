package testnet

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// LAN is a scanner namespace in front of a router namespace that owns whole
// prefixes, for sweeps. The addressing is Routed's, so the same scanner
// routes apply:
//
//	Scanner 198.18.0.1/30, 2001:db8::1/64  --veth--  198.18.0.2/30, 2001:db8::2/64 Router
//	Scanner routes 198.18.0.0/15 and 2001:db8::/32 via Router.
//
// Prefixes must lie inside those routes and outside the link's own subnets;
// 198.18.4.0/24 and 2001:db8:4::/120 suit a LAN, 198.19.0.0/16 a big sweep.
// They must not overlap Routed's (198.18.1.0/24, 198.18.3.0/24,
// 2001:db8:1::/64) if a test builds both.
type LAN struct {
	Scanner *NS
	Router  *NS
	// ScannerIf and RouterIf name the two ends of the veth link, for tools
	// that want an interface or a gateway's MAC address.
	ScannerIf, RouterIf string
	// Prefixes are the address ranges the Router owns.
	Prefixes []netip.Prefix
	// Live lists the addresses the Router's kernel answers for
	// (NewKernelLAN only; with NewResponderLAN a Responder decides).
	Live []netip.Addr
}

// NewResponderLAN builds a LAN whose Router takes every packet for prefix4
// and prefix6 as its own (a local route over each prefix), so that every
// echo request there reaches a raw socket in the Router, where a Responder
// (started separately, in n.Router) decides who answers. Pass a zero
// netip.Prefix to leave a family out.
//
// Everything else stays silent, as absent hosts are: the Router's kernel
// answers no echo requests, drops TCP and UDP for the prefixes, and sends
// no ICMP errors or timestamp replies at all. Otherwise a scan that adds TCP
// or timestamp probes (nmap's defaults) would find every address alive.
func NewResponderLAN(t testing.TB, prefix4, prefix6 netip.Prefix) *LAN {
	t.Helper()
	var ps []netip.Prefix
	for _, p := range []netip.Prefix{prefix4, prefix6} {
		if p == (netip.Prefix{}) {
			continue
		}
		if err := checkLANPrefix(p); err != nil {
			t.Fatalf("NewResponderLAN: %v", err)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		t.Fatal("NewResponderLAN: no prefix given")
	}
	if prefix4.IsValid() && !prefix4.Addr().Is4() || prefix6.IsValid() && !prefix6.Addr().Is6() {
		t.Fatalf("NewResponderLAN: want an IPv4 then an IPv6 prefix, got %s and %s", prefix4, prefix6)
	}
	n := newLANPair(t)
	n.Prefixes = ps
	r := n.Router
	for _, p := range ps {
		fam := "-4"
		if p.Addr().Is6() {
			fam = "-6"
		}
		// A local route goes to table local by default, whose rule comes
		// first; in table main the blackhole rules below are seen first.
		r.Run("ip", fam, "route", "add", "local", p.String(), "dev", "lo", "table", "main")
		for _, proto := range []string{"tcp", "udp"} {
			r.Run("ip", fam, "rule", "add", "to", p.String(), "ipproto", proto, "blackhole")
		}
	}
	// Silence the kernel's ICMP. Echo is the Responder's job. Timestamp
	// replies (type 14) and the error messages of icmp_ratemask's default
	// (6168) all pass the global token bucket, which gets no tokens. IPv6
	// errors share that bucket; IPv6 has no timestamps.
	r.Sysctl("net.ipv4.icmp_echo_ignore_all", "1")
	r.Sysctl("net.ipv6.icmp.echo_ignore_all", "1")
	r.Sysctl("net.ipv4.icmp_ratemask", strconv.Itoa(6168|1<<14))
	r.Sysctl("net.ipv4.icmp_msgs_per_sec", "0")
	r.Sysctl("net.ipv4.icmp_msgs_burst", "0")
	return n
}

// NewKernelLAN builds a LAN whose Router's kernel answers echo (and TCP) for
// the live addresses, each a host route on its loopback, while the rest of
// prefix is a blackhole: silent, as absent hosts are. Thousands of live
// addresses are fine; the routes go in through one `ip -batch`.
func NewKernelLAN(t testing.TB, prefix netip.Prefix, live []netip.Addr) *LAN {
	t.Helper()
	if err := checkLANPrefix(prefix); err != nil {
		t.Fatalf("NewKernelLAN: %v", err)
	}
	var batch strings.Builder
	for _, a := range live {
		if !prefix.Contains(a) {
			t.Fatalf("NewKernelLAN: live address %s lies outside %s", a, prefix)
		}
		fmt.Fprintf(&batch, "route add local %s dev lo\n", netip.PrefixFrom(a, a.BitLen()))
	}
	// Host routes are more specific, so they win over the blackhole.
	fmt.Fprintf(&batch, "route add blackhole %s\n", prefix)

	n := newLANPair(t)
	n.Prefixes = []netip.Prefix{prefix}
	n.Live = append([]netip.Addr(nil), live...)
	n.Router.batch(batch.String())
	return n
}

// newLANPair builds the two namespaces, the link and the scanner's routes,
// and lifts the Router's ICMP rate limits so a fast sweep sees every answer.
func newLANPair(t testing.TB) *LAN {
	t.Helper()
	s, r := NewNS(t, "scan"), NewNS(t, "lan")
	sIf, rIf := Link(t, s, r, "198.18.0.1/30", "198.18.0.2/30", "2001:db8::1/64", "2001:db8::2/64")
	s.Run("ip", "route", "add", "198.18.0.0/15", "via", "198.18.0.2")
	s.Run("ip", "-6", "route", "add", "2001:db8::/32", "via", "2001:db8::2")

	// Echo replies escape the per-destination limit (icmp_ratemask) but not
	// necessarily the global token bucket, whose default is 1000/s.
	r.Sysctl("net.ipv4.icmp_ratelimit", "0")
	r.Sysctl("net.ipv4.icmp_msgs_per_sec", "1000000")
	r.Sysctl("net.ipv4.icmp_msgs_burst", "1000000")
	r.Sysctl("net.ipv6.icmp.ratelimit", "0")
	return &LAN{Scanner: s, Router: r, ScannerIf: sIf, RouterIf: rIf}
}

// Where a LAN may put its prefixes, and what it must stay clear of.
var (
	lanOK4   = netip.MustParsePrefix("198.18.0.0/15")
	lanOK6   = netip.MustParsePrefix("2001:db8::/32")
	lanLink4 = netip.MustParsePrefix("198.18.0.0/30")
	lanLink6 = netip.MustParsePrefix("2001:db8::/64")
)

// checkLANPrefix keeps a LAN inside the scanner's routes (so no packet can
// leave the namespaces) and off the link between them.
func checkLANPrefix(p netip.Prefix) error {
	switch {
	case !p.IsValid():
		return fmt.Errorf("invalid prefix %s", p)
	case p != p.Masked():
		return fmt.Errorf("prefix %s has host bits set (want %s)", p, p.Masked())
	case p.Addr().Is4() && (!lanOK4.Contains(p.Addr()) || p.Bits() < lanOK4.Bits()):
		return fmt.Errorf("prefix %s lies outside %s", p, lanOK4)
	case p.Addr().Is6() && (!lanOK6.Contains(p.Addr()) || p.Bits() < lanOK6.Bits()):
		return fmt.Errorf("prefix %s lies outside %s", p, lanOK6)
	case p.Overlaps(lanLink4) || p.Overlaps(lanLink6):
		return fmt.Errorf("prefix %s overlaps the scanner-router link", p)
	}
	return nil
}

// batch feeds commands to one `ip -batch` process in the namespace: one
// process for thousands of routes instead of one each.
func (ns *NS) batch(cmds string) {
	ns.t.Helper()
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(cmds)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		ns.t.Fatalf("ip -n %s -batch: %v\n%s", ns.Name, err, out.String())
	}
}
