package scanner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"netscanner/probe"
	"netscanner/scanner/names"
	"netscanner/scanner/neigh"
	"netscanner/scanner/oui"
)

// fakeNet is the machine and network enrichment asks, made up: nothing
// here opens a socket.
type fakeNet struct {
	ifs    []localIface
	nets   []Network
	routes map[netip.Addr]neigh.Route // others: not on link

	macs   map[netip.Addr]net.HardwareAddr
	macErr map[netip.Addr]error // others without a MAC: neigh.ErrNotFound
	closed bool                 // the neighbour table is closed (as in an app sandbox)

	names     map[netip.Addr]names.Result
	nameDelay func(netip.Addr) time.Duration
	silent    bool // name lookups wait until cancelled

	open map[netip.AddrPort]bool // accepted connects
	up   map[netip.Addr]bool     // other ports refuse; addresses not up time out

	group map[string][]netip.Addr // link-local hosts answering ff02::1, by interface index

	macLookups, nameLookups, allNodesOpened atomic.Int64
}

func (f *fakeNet) env() *enrichEnv {
	return &enrichEnv{
		interfaces: func() ([]localIface, error) { return f.ifs, nil },
		networks:   func() ([]Network, error) { return f.nets, nil },
		route: func(_ context.Context, a netip.Addr) (neigh.Route, error) {
			if r, ok := f.routes[a]; ok {
				return r, nil
			}
			return neigh.Route{}, fmt.Errorf("%w: %s", neigh.ErrNotOnLink, a)
		},
		lookupMAC: func(_ context.Context, a netip.Addr) (net.HardwareAddr, error) {
			f.macLookups.Add(1)
			if f.closed {
				return nil, &neigh.UnavailableError{Netlink: syscall.EACCES, Proc: os.ErrPermission}
			}
			if err, ok := f.macErr[a]; ok {
				return nil, err
			}
			if m, ok := f.macs[a]; ok {
				return slices.Clone(m), nil
			}
			return nil, fmt.Errorf("%w: %s", neigh.ErrNotFound, a)
		},
		lookupNames: func(ctx context.Context, a netip.Addr) names.Result {
			f.nameLookups.Add(1)
			if f.silent {
				<-ctx.Done()
				return names.Result{}
			}
			if f.nameDelay != nil {
				select {
				case <-time.After(f.nameDelay(a)):
				case <-ctx.Done():
					return names.Result{}
				}
			}
			return f.names[a]
		},
		dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			ap := netip.MustParseAddrPort(address)
			switch {
			case f.open[ap]:
				c, s := net.Pipe()
				s.Close()
				return c, nil
			case f.up[ap.Addr()]:
				return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
			}
			<-ctx.Done()
			return nil, ctx.Err()
		},
		openAllNodes: func(m probe.Method) (probe.Conn, error) {
			f.allNodesOpened.Add(1)
			return newGroupConn(m, f.group), nil
		},
	}
}

// groupConn answers echo requests to ff02::1%zone from each member of the
// zone's group, as the hosts on a link do. Zones are interface indexes, as
// the probe sends them.
type groupConn struct {
	method  probe.Method
	group   map[string][]netip.Addr
	replies chan probe.Reply
	once    sync.Once
	mu      sync.Mutex
	closed  bool
	sends   []netip.Addr
	strays  bool // add an ICMP error and an answer to another request
}

func newGroupConn(m probe.Method, group map[string][]netip.Addr) *groupConn {
	return &groupConn{method: m, group: group, replies: make(chan probe.Reply, 256)}
}

func (c *groupConn) Method() probe.Method        { return c.method }
func (c *groupConn) Replies() <-chan probe.Reply { return c.replies }

func (c *groupConn) Send(_ context.Context, dst netip.Addr, seq uint16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.sends = append(c.sends, dst)
	if dst.WithZone("") != allNodes {
		return nil
	}
	if c.strays {
		c.replies <- probe.Reply{Addr: netip.MustParseAddr("fe80::d").WithZone(dst.Zone()), Seq: seq, Err: errors.New("unreachable")}
		c.replies <- probe.Reply{Addr: netip.MustParseAddr("fe80::e").WithZone(dst.Zone()), Seq: seq + 100}
	}
	for _, a := range c.group[dst.Zone()] {
		c.replies <- probe.Reply{Addr: a.WithZone(dst.Zone()), From: a.WithZone(dst.Zone()), Seq: seq,
			RTT: time.Millisecond, TTL: 64, Method: c.method, Reason: "echo-reply"}
	}
	return nil
}

func (c *groupConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.replies)
		c.mu.Unlock()
	})
	return nil
}

// recorder collects a scan's events and checks their order as they come:
// never two emits at once, a host's updates after its HostFound, nothing
// after Finished.
type recorder struct {
	t       *testing.T
	busy    atomic.Bool
	found   map[netip.Addr]int // HostFound count
	last    map[netip.Addr]Host
	done    map[netip.Addr]bool // an Enriched update came
	updates int
	finish  int
	order   []EventKind
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, found: map[netip.Addr]int{}, last: map[netip.Addr]Host{}, done: map[netip.Addr]bool{}}
}

func (r *recorder) emit(ev Event) {
	if !r.busy.CompareAndSwap(false, true) {
		r.t.Error("emit called while another emit runs")
	}
	defer r.busy.Store(false)
	if r.finish > 0 {
		r.t.Errorf("event %v after Finished", ev.Kind)
	}
	r.order = append(r.order, ev.Kind)
	a := ev.Host.Addr
	switch ev.Kind {
	case HostFound:
		r.found[a]++
		r.last[a] = ev.Host
	case HostUpdated:
		r.updates++
		if r.found[a] == 0 {
			r.t.Errorf("HostUpdated for %s before its HostFound", a)
		}
		if r.done[a] {
			r.t.Errorf("HostUpdated for %s after its last one", a)
		}
		r.done[a] = ev.Host.Enriched
		r.last[a] = ev.Host
	case Finished:
		r.finish++
	}
}

// check verifies what every scan must end with, and returns the hosts.
func (r *recorder) check(sum Summary, err error) map[netip.Addr]Host {
	r.t.Helper()
	if err != nil {
		r.t.Fatalf("Scan: %v", err)
	}
	if r.finish != 1 || r.order[len(r.order)-1] != Finished {
		r.t.Fatalf("Finished %d times, last event %v", r.finish, r.order[len(r.order)-1])
	}
	for a, n := range r.found {
		if n != 1 {
			r.t.Errorf("%s found %d times", a, n)
		}
		if !r.done[a] {
			r.t.Errorf("%s: no update closed its enrichment", a)
		}
	}
	if len(r.found) != sum.Alive+sum.Neighbours {
		r.t.Errorf("%d hosts found, summary says %d + %d", len(r.found), sum.Alive, sum.Neighbours)
	}
	return r.last
}

var (
	macPi   = net.HardwareAddr{0xb8, 0x27, 0xeb, 0, 0, 2}
	macVM   = net.HardwareAddr{0x00, 0x50, 0x56, 0, 0, 4}
	macUbnt = net.HardwareAddr{0x74, 0x83, 0xc2, 0, 0, 0xfe}
	macLL   = net.HardwareAddr{0xa4, 0xc3, 0x61, 0, 0, 0x0a}
	macSelf = net.HardwareAddr{0x02, 0, 0, 0, 0, 1} // locally administered
	macNB   = net.HardwareAddr{0x00, 0x50, 0x56, 0xaa, 0xbb, 0xcc}
)

// homeLAN is 198.18.7.0/24 on eth0, seen from 198.18.7.1: a Pi (.2), a
// host behind the router (.3), a NAS with names and open ports (.4), the
// router (.254), and a link-local-only host on IPv6.
func homeLAN() *fakeNet {
	a := netip.MustParseAddr
	return &fakeNet{
		ifs: []localIface{
			{Name: "lo", Index: 1, Flags: net.FlagUp | net.FlagLoopback, Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
			{Name: "eth0", Index: 2, Flags: net.FlagUp | net.FlagBroadcast | net.FlagMulticast | net.FlagRunning, MAC: macSelf,
				Prefixes: []netip.Prefix{netip.MustParsePrefix("198.18.7.1/24"), netip.MustParsePrefix("fe80::1/64")}},
		},
		nets: []Network{{Interface: "eth0", Addr: a("198.18.7.1"), Prefix: netip.MustParsePrefix("198.18.7.0/24"), Gateway: a("198.18.7.254")}},
		routes: map[netip.Addr]neigh.Route{
			a("192.0.2.1"):  {Interface: "eth0", Gateway: a("198.18.7.254")},
			a("198.18.7.3"): {Interface: "eth0", Gateway: a("198.18.7.254")},
		},
		macs: map[netip.Addr]net.HardwareAddr{
			a("198.18.7.2"): macPi, a("198.18.7.4"): macVM, a("198.18.7.254"): macUbnt,
			a("fe80::a%eth0"): macLL,
		},
		macErr: map[netip.Addr]error{a("198.18.7.3"): fmt.Errorf("%w: 198.18.7.3 is reached via 198.18.7.254", neigh.ErrNotOnLink)},
		names: map[netip.Addr]names.Result{
			a("198.18.7.2"): {Names: []names.Name{{Name: "pi.lan", Source: names.SourceDNS}}},
			a("198.18.7.4"): {Names: []names.Name{{Name: "nas.local", Source: names.SourceMDNS}, {Name: "NAS", Source: names.SourceNetBIOS}}, MAC: macNB},
		},
		open: map[netip.AddrPort]bool{netip.MustParseAddrPort("198.18.7.4:22"): true, netip.MustParseAddrPort("198.18.7.4:445"): true},
		up: map[netip.Addr]bool{a("198.18.7.1"): true, a("198.18.7.2"): true, a("198.18.7.3"): true, a("198.18.7.4"): true,
			a("198.18.7.254"): true, a("fe80::a%eth0"): true},
		group: map[string][]netip.Addr{"2": {a("fe80::a"), a("fe80::1")}}, // eth0; fe80::1 is this machine
	}
}

// fastSweep is a Config that finishes a fake sweep in a moment, yet gives
// answers time enough on a loaded machine under the race detector.
func fastSweep(e *Enrich) Config {
	return Config{Timeout: 500 * time.Millisecond, Rate: 10000, Enrich: e}
}

func TestScanEnriched(t *testing.T) {
	f := homeLAN()
	hosts := map[netip.Addr]fakeHost{}
	for _, s := range []string{"198.18.7.1", "198.18.7.2", "198.18.7.3", "198.18.7.4", "198.18.7.254"} {
		hosts[ip(s)] = fakeHost{}
	}
	conn := newFakeConn(hosts, 16, 0, 0)
	defer conn.Close()
	rec := newRecorder(t)
	e := &Enrich{Names: true, Ports: []uint16{22, 445, 8080}, LinkLocal: true, env: f.env()}
	sum, err := Scan(t.Context(), conn, mustTargets(t, "198.18.7.0/24"), fastSweep(e), rec.emit)
	got := rec.check(sum, err)
	if sum.Alive != 5 || sum.Neighbours != 1 {
		t.Errorf("summary %+v, want 5 alive and 1 neighbour", sum)
	}

	self := got[ip("198.18.7.1")]
	if !self.Self || self.Gateway || !slices.Equal(self.MAC, macSelf) || self.MACSource != MACFromInterface ||
		self.Vendor != oui.PrivateName {
		t.Errorf("this machine: %+v", self)
	}
	pi := got[ip("198.18.7.2")]
	if !slices.Equal(pi.MAC, macPi) || pi.Vendor != "Raspberry Pi Foundation" || pi.MACSource != MACFromNeighbours ||
		pi.Hostname != "pi.lan" || !slices.Equal(pi.Names, []string{"pi.lan"}) || len(pi.Ports) != 0 ||
		!slices.Equal(pi.Reasons, []Reason{"echo-reply", "neighbour", "tcp-rst"}) || pi.Self || pi.Gateway || pi.Note != "" {
		t.Errorf("pi: %+v", pi)
	}
	far := got[ip("198.18.7.3")]
	if far.MAC != nil || far.Vendor != "" || far.Note != "behind router 198.18.7.254: no MAC address from here" ||
		!slices.Equal(far.Reasons, []Reason{"echo-reply", "tcp-rst"}) {
		t.Errorf("host behind the router: %+v", far)
	}
	nas := got[ip("198.18.7.4")]
	wantReasons := []Reason{"echo-reply", "mdns", "neighbour", "netbios", "tcp-open", "tcp-rst"}
	reasons := slices.Sorted(slices.Values(nas.Reasons))
	if !slices.Equal(nas.MAC, macVM) || nas.MACSource != MACFromNeighbours || // NetBIOS's MAC is only a fallback
		nas.Hostname != "nas.local" || !slices.Equal(nas.Names, []string{"nas.local", "NAS"}) ||
		!slices.Equal(nas.Ports, []Port{{22, "ssh"}, {445, "microsoft-ds"}}) || !slices.Equal(reasons, wantReasons) ||
		nas.Reasons[0] != "echo-reply" {
		t.Errorf("nas: %+v", nas)
	}
	gw := got[ip("198.18.7.254")]
	if !gw.Gateway || gw.Self || !slices.Equal(gw.MAC, macUbnt) || gw.Vendor != "Ubiquiti Networks Inc." {
		t.Errorf("gateway: %+v", gw)
	}
	ll := got[ip("fe80::a%eth0")]
	if !slices.Equal(ll.MAC, macLL) || ll.Vendor != "Apple, Inc." || ll.Method != probe.Raw || ll.Reason != "echo-reply" ||
		!strings.Contains(ll.Note, "ff02::1") || ll.RTT != time.Millisecond || ll.TTL != 64 {
		t.Errorf("link-local neighbour: %+v", ll)
	}
	if _, ok := got[ip("fe80::1%eth0")]; ok {
		t.Error("this machine's own answer to ff02::1 was reported as a neighbour")
	}
	if n := f.macLookups.Load(); n != 5 { // .2, .3, .4 .254 and fe80::a; never this machine
		t.Errorf("%d MAC lookups, want 5", n)
	}
}

// TestEnrichNamesStayWithTheirHost gives 60 hosts names (and NetBIOS MACs)
// that arrive in random order and checks that each lands on the host it
// was looked up for, and only there.
func TestEnrichNamesStayWithTheirHost(t *testing.T) {
	f := &fakeNet{names: map[netip.Addr]names.Result{}, closed: true}
	hosts := map[netip.Addr]fakeHost{}
	mac := func(i int) net.HardwareAddr { return net.HardwareAddr{0x00, 0x50, 0x56, 0, 0, byte(i)} }
	for i := 1; i <= 60; i++ {
		a := netip.AddrFrom4([4]byte{198, 18, 7, byte(i)})
		hosts[a] = fakeHost{Delay: time.Duration(rand.IntN(20)) * time.Millisecond}
		f.names[a] = names.Result{
			Names: []names.Name{{Name: fmt.Sprintf("host-%d.local", i), Source: names.SourceMDNS}, {Name: fmt.Sprintf("HOST-%d", i), Source: names.SourceNetBIOS}},
			MAC:   mac(i),
		}
	}
	f.nameDelay = func(netip.Addr) time.Duration { return time.Duration(rand.IntN(30)) * time.Millisecond }
	conn := newFakeConn(hosts, 16, 0, 0)
	defer conn.Close()
	rec := newRecorder(t)
	sum, err := Scan(t.Context(), conn, mustTargets(t, "198.18.7.0/24"), fastSweep(&Enrich{Names: true, env: f.env()}), rec.emit)
	got := rec.check(sum, err)
	if len(got) != 60 {
		t.Fatalf("%d hosts, want 60", len(got))
	}
	for a, h := range got {
		i := int(a.As4()[3])
		want := []string{fmt.Sprintf("host-%d.local", i), fmt.Sprintf("HOST-%d", i)}
		if !slices.Equal(h.Names, want) || h.Hostname != want[0] {
			t.Errorf("%s: names %q, want %q", a, h.Names, want)
		}
		// The neighbour table is closed, so the host's own NetBIOS
		// report is the only MAC there is.
		if !slices.Equal(h.MAC, mac(i)) || h.MACSource != MACFromNetBIOS || h.Vendor != "VMware, Inc." {
			t.Errorf("%s: MAC %v from %q", a, h.MAC, h.MACSource)
		}
	}
}

// TestEnrichNetBIOSMACOnlyWhenTableClosed: a host the open table has no
// entry for keeps no MAC, even if NetBIOS reports one.
func TestEnrichNetBIOSMACOnlyWhenTableClosed(t *testing.T) {
	a := ip("198.18.7.9")
	f := &fakeNet{names: map[netip.Addr]names.Result{a: {Names: []names.Name{{Name: "PC", Source: names.SourceNetBIOS}}, MAC: macNB}}}
	conn := newFakeConn(map[netip.Addr]fakeHost{a: {}}, 16, 0, 0)
	defer conn.Close()
	rec := newRecorder(t)
	sum, err := Scan(t.Context(), conn, mustTargets(t, "198.18.7.9"), fastSweep(&Enrich{Names: true, env: f.env()}), rec.emit)
	h := rec.check(sum, err)[a]
	if h.MAC != nil || h.Hostname != "PC" || !slices.Contains(h.Reasons, "netbios") {
		t.Errorf("host: %+v", h)
	}
	if n := f.macLookups.Load(); n != 1+macRetries {
		t.Errorf("%d lookups of a missing entry, want %d", n, 1+macRetries)
	}
}

// TestEnrichWait: enrichment that never ends is cut off Wait after the
// sweep, and every host is still closed and reported with what was known.
func TestEnrichWait(t *testing.T) {
	f := homeLAN()
	f.silent = true
	conn := newFakeConn(map[netip.Addr]fakeHost{ip("198.18.7.2"): {}, ip("198.18.7.3"): {}}, 16, 0, 0)
	defer conn.Close()
	rec := newRecorder(t)
	start := time.Now()
	e := &Enrich{Names: true, Ports: []uint16{9999}, Wait: 100 * time.Millisecond, env: f.env()}
	e.env.dial = func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }
	sum, err := Scan(t.Context(), conn, mustTargets(t, "198.18.7.2-3"), fastSweep(e), rec.emit)
	got := rec.check(sum, err)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Scan took %v with a 100ms sweep and a 100ms Wait", took)
	}
	if !slices.Equal(got[ip("198.18.7.2")].MAC, macPi) || got[ip("198.18.7.3")].Note == "" {
		t.Errorf("what was learnt before the cut is lost: %+v", got)
	}
	if sum.Cancelled {
		t.Error("a scan whose enrichment ran out of time is not a cancelled scan")
	}
}

// TestEnrichCancel: cancelling the scan ends enrichment at once too.
func TestEnrichCancel(t *testing.T) {
	f := homeLAN()
	f.silent = true
	conn := newFakeConn(map[netip.Addr]fakeHost{ip("198.18.7.2"): {}}, 16, 0, 0)
	defer conn.Close()
	ctx, cancel := context.WithCancel(t.Context())
	rec := newRecorder(t)
	emit := func(ev Event) {
		rec.emit(ev)
		if ev.Kind == HostFound {
			cancel()
		}
	}
	cfg := Config{Timeout: time.Hour, Rate: 1000, Enrich: &Enrich{Names: true, Wait: time.Hour, env: f.env()}}
	sum, err := Scan(ctx, conn, mustTargets(t, "198.18.7.0/24"), cfg, emit)
	if !errors.Is(err, context.Canceled) || !sum.Cancelled || rec.finish != 1 {
		t.Errorf("Scan = %+v, %v; want a cancelled scan, Finished once", sum, err)
	}
}

func TestEnrichBadConfig(t *testing.T) {
	for name, e := range map[string]*Enrich{
		"port 0":           {Ports: []uint16{80, 0}},
		"negative timeout": {PortTimeout: -time.Second},
		"negative wait":    {Wait: -1},
	} {
		t.Run(name, func(t *testing.T) {
			e.env = homeLAN().env()
			conn := newFakeConn(map[netip.Addr]fakeHost{ip("198.18.7.2"): {}}, 16, 0, 0)
			defer conn.Close()
			rec := newRecorder(t)
			_, err := Scan(t.Context(), conn, mustTargets(t, "198.18.7.2"), fastSweep(e), rec.emit)
			if err == nil || rec.finish != 1 || len(rec.order) != 1 {
				t.Errorf("err %v, events %v; want an error and Finished alone", err, rec.order)
			}
			if sends, _ := conn.counts(); sends != 0 {
				t.Errorf("%d requests sent with a bad Enrich", sends)
			}
		})
	}
}

// TestEnrichAllNodesOnlyOnTheScannedLAN: the ff02::1 probe goes out only
// when the targets cover the interface's network, and only by methods
// that can send to a group.
func TestEnrichAllNodesOnlyOnTheScannedLAN(t *testing.T) {
	cases := []struct {
		targets string
		method  probe.Method
		want    bool
	}{
		{"198.18.7.0/24", probe.Raw, true},
		{"198.18.7.0/24", probe.Dgram, true},
		{"198.18.7.0/24", probe.Exec, false},
		{"198.18.7.0/24", probe.TCP, false},
		{"198.18.7.2", probe.Raw, false},       // one host on the LAN
		{"198.18.7.0/25", probe.Raw, false},    // half of it
		{"198.18.8.0/24", probe.Raw, false},    // another network
		{"198.18.0.0/16", probe.Raw, true},     // all of it and more
		{"198.18.7.1-254", probe.Raw, true},    // every address, typed as a range
		{"2001:db8:7::/120", probe.Raw, false}, // eth0 has no such network
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.targets, c.method), func(t *testing.T) {
			f := homeLAN()
			conn := newFakeConn(nil, 16, 0, 0)
			conn.method = c.method
			defer conn.Close()
			rec := newRecorder(t)
			sum, err := Scan(t.Context(), conn, mustTargets(t, c.targets), Config{Timeout: 10 * time.Millisecond, Rate: 1e9,
				Enrich: &Enrich{LinkLocal: true, env: f.env()}}, rec.emit)
			if err != nil {
				t.Fatal(err)
			}
			if opened := f.allNodesOpened.Load() == 1; opened != c.want || (sum.Neighbours == 1) != c.want {
				t.Errorf("probe opened %v, %d neighbours; want probe %v", opened, sum.Neighbours, c.want)
			}
		})
	}
}

func TestAllNodesInterfaces(t *testing.T) {
	p := netip.MustParsePrefix
	lan := net.FlagUp | net.FlagBroadcast | net.FlagMulticast | net.FlagRunning
	ifs := []localIface{
		{Name: "lo", Flags: net.FlagUp | net.FlagLoopback | net.FlagMulticast, Prefixes: []netip.Prefix{p("127.0.0.1/8"), p("::1/128")}},
		{Name: "wlan0", Flags: lan, Prefixes: []netip.Prefix{p("198.18.7.20/24"), p("2001:db8:7::20/64"), p("fe80::20/64")}},
		{Name: "eth0", Flags: lan, Prefixes: []netip.Prefix{p("198.18.9.20/22"), p("fe80::21/64")}},
		{Name: "down0", Flags: net.FlagBroadcast | net.FlagMulticast, Prefixes: []netip.Prefix{p("198.18.7.21/24"), p("fe80::22/64")}},
		{Name: "tun0", Flags: net.FlagUp | net.FlagPointToPoint | net.FlagMulticast, Prefixes: []netip.Prefix{p("198.18.7.22/24"), p("fe80::23/64")}},
		{Name: "nov6", Flags: lan, Prefixes: []netip.Prefix{p("198.18.7.23/24")}},
		{Name: "nomc", Flags: net.FlagUp | net.FlagBroadcast, Prefixes: []netip.Prefix{p("198.18.7.24/24"), p("fe80::24/64")}},
	}
	cases := map[string][]string{
		"198.18.7.0/24":          {"wlan0"},
		"198.18.7.0/25":          nil,
		"2001:db8:7::/120":       {"wlan0"}, // 256 addresses of its /64
		"2001:db8:7::/121":       nil,
		"198.18.9.0/24":          {"eth0"}, // the /24 of a /22 is enough
		"198.18.8.0/23":          {"eth0"},
		"198.18.8.0/24":          {"eth0"},
		"198.18.8.0/25":          nil,
		"198.18.7.5, 198.18.8.5": nil,
		"198.18.0.0/16":          {"wlan0", "eth0"},
	}
	for spec, want := range cases {
		if got := ifNames(allNodesInterfaces(ifs, mustTargets(t, spec))); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", spec, got, want)
		}
	}
	// A /30 link is covered by its two addresses.
	small := []localIface{{Name: "p2p", Flags: lan, Prefixes: []netip.Prefix{p("198.18.0.1/30"), p("fe80::1/64")}}}
	if got := ifNames(allNodesInterfaces(small, mustTargets(t, "198.18.0.0/30"))); !slices.Equal(got, []string{"p2p"}) {
		t.Errorf("/30: %v", got)
	}
}

func ifNames(ifs []localIface) []string {
	var out []string
	for _, ifc := range ifs {
		out = append(out, ifc.Name)
	}
	return out
}

// TestPingAllNodes checks the probe on its own: both interfaces asked,
// each answer reported once, this machine and the targets left out, and
// answers to other requests or errors ignored.
func TestPingAllNodes(t *testing.T) {
	a := netip.MustParseAddr
	conn := newGroupConn(probe.Dgram, map[string][]netip.Addr{
		"2": {a("fe80::a"), a("fe80::b"), a("fe80::1")}, // eth0
		"3": {a("fe80::a"), a("fe80::c")},               // wlan0: the same address on another link is another host
	})
	conn.strays = true
	skip := func(x netip.Addr) bool { return x == a("fe80::1%eth0") || x == a("fe80::c%wlan0") }
	var got []netip.Addr
	ctx, cancel := context.WithTimeout(t.Context(), 2*allNodesResend)
	defer cancel()
	ifs := []localIface{{Name: "eth0", Index: 2}, {Name: "wlan0", Index: 3}}
	pingAllNodes(ctx, conn, ifs, skip, func(n neighbour6) { got = append(got, n.Addr) })
	slices.SortFunc(got, netip.Addr.Compare)
	want := []netip.Addr{a("fe80::a%eth0"), a("fe80::a%wlan0"), a("fe80::b%eth0")}
	slices.SortFunc(want, netip.Addr.Compare)
	if !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
	// The group by interface index, twice; then each host found, once,
	// so that the kernel learns its MAC address.
	wantSends := []netip.Addr{a("fe80::a%2"), a("fe80::a%3"), a("fe80::b%2"), a("ff02::1%2"), a("ff02::1%2"), a("ff02::1%3"), a("ff02::1%3")}
	sends := slices.SortedFunc(slices.Values(conn.sends), netip.Addr.Compare)
	if !slices.Equal(sends, wantSends) {
		t.Errorf("sent %v, want %v", sends, wantSends)
	}
}

// TestScanEnrichedKeepsEveryEvent runs enrichment around a sweep that
// emits a burst of events and ends at once: every one of them must still
// reach emit, in order, before Finished.
func TestScanEnrichedKeepsEveryEvent(t *testing.T) {
	const n, alive = 2000, 20
	sweep := func(emit func(Event)) (Summary, error) {
		for i := range alive {
			a := netip.AddrFrom4([4]byte{198, 18, 8, byte(i)})
			emit(Event{Kind: HostFound, Host: Host{Addr: a, Reason: "echo-reply"}})
		}
		// A long tail of progress, while the hosts' workers end.
		for i := range n {
			emit(Event{Kind: Progress, Done: i + 1, Total: n})
		}
		sum := Summary{Total: n, Alive: alive}
		emit(Event{Kind: Finished, Summary: &sum})
		return sum, nil
	}
	rec := newRecorder(t)
	progress := 0
	emit := func(ev Event) {
		rec.emit(ev)
		if ev.Kind == Progress {
			if ev.Done != progress+1 {
				t.Fatalf("Progress %d after %d", ev.Done, progress)
			}
			progress = ev.Done
		}
	}
	// An environment with nothing in it: workers end at once.
	sum, err := scanEnriched(t.Context(), probe.Raw, mustTargets(t, "198.18.8.0/21"), Enrich{env: &enrichEnv{}}, emit, sweep)
	rec.check(sum, err)
	if len(rec.found) != alive || progress != n {
		t.Errorf("%d hosts and %d progress events reached emit, want %d and %d", len(rec.found), progress, alive, n)
	}
}
