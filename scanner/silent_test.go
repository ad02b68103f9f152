package scanner

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner/neigh"
)

// fakeTable is a neighbour table that shows before at its first read and
// after at every later one.
type fakeTable struct {
	mu        sync.Mutex
	before    neigh.Snapshot
	after     func() neigh.Snapshot
	reads     int
	reprobed  []netip.Addr
	reprobeOK bool
}

func (f *fakeTable) Snapshot(context.Context) (neigh.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.reads == 1 {
		return f.before, nil
	}
	return f.after(), nil
}

func (f *fakeTable) Reprobe(_ context.Context, obs []neigh.Observation) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range obs {
		f.reprobed = append(f.reprobed, o.Addr)
	}
	if !f.reprobeOK {
		return 0, neigh.ErrNotPermitted
	}
	return len(obs), nil
}

func (f *fakeTable) Close() {}

func fakeObs(a string, nud uint16, mac string, confirmed time.Time) neigh.Observation {
	hw, _ := net.ParseMAC(mac)
	return neigh.Observation{Addr: ip(a), MAC: hw, Interface: "lan0", Index: 2, NUD: nud,
		ConfirmedFrom: confirmed.Add(-10 * time.Millisecond), ConfirmedTo: confirmed}
}

func fakeSilentEnv(table *fakeTable, retrans time.Duration) *silentEnv {
	return &silentEnv{
		interfaces: func() ([]localIface, error) {
			return []localIface{
				{Name: "lo", Flags: net.FlagUp | net.FlagLoopback, Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
				{Name: "lan0", Index: 2, Flags: net.FlagUp | net.FlagBroadcast | net.FlagMulticast,
					Prefixes: []netip.Prefix{netip.MustParsePrefix("198.18.50.1/24")}},
			}, nil
		},
		open: func() (neighTable, error) { return table, nil },
		params: func(iface string, v6 bool) (neigh.Params, error) {
			p := neigh.DefaultParams
			p.Retrans = retrans
			return p, nil
		},
	}
}

// TestSilentFake: a silent address whose entry the kernel resolved
// during the scan is a host, found by the neighbour table with its MAC
// and maker, no sooner than the kernel's second solicitation allows; an
// old entry nobody confirmed, an incomplete one and a permanent one are
// not; an address behind a router is counted as such.
func TestSilentFake(t *testing.T) {
	long := time.Now().Add(-20 * time.Second)
	table := &fakeTable{
		before: neigh.Snapshot{Taken: time.Now(), Entries: map[netip.Addr]neigh.Observation{
			ip("198.18.50.5"):  fakeObs("198.18.50.5", netlink.NUD_REACHABLE, "02:00:00:00:00:05", long),
			ip("198.18.50.6"):  fakeObs("198.18.50.6", netlink.NUD_PERMANENT, "02:00:00:00:00:06", long),
			ip("198.18.60.10"): fakeObs("198.18.60.10", netlink.NUD_REACHABLE, "02:00:00:00:00:10", long),
		}},
	}
	start := time.Now()
	const retrans = 300 * time.Millisecond
	table.after = func() neigh.Snapshot {
		now := time.Now()
		// .8 answers only the kernel's second solicitation.
		late := fakeObs("198.18.50.8", netlink.NUD_INCOMPLETE, "", long)
		if now.Sub(start) > retrans+10*time.Millisecond {
			late = fakeObs("198.18.50.8", netlink.NUD_REACHABLE, "b8:27:eb:00:00:08", now)
		}
		return neigh.Snapshot{Taken: now, Entries: map[netip.Addr]neigh.Observation{
			ip("198.18.50.4"): fakeObs("198.18.50.4", netlink.NUD_REACHABLE, "b8:27:eb:00:00:04", now),
			ip("198.18.50.8"): late,
			ip("198.18.50.5"): fakeObs("198.18.50.5", netlink.NUD_DELAY, "02:00:00:00:00:05", long),
			ip("198.18.50.6"): fakeObs("198.18.50.6", netlink.NUD_PERMANENT, "02:00:00:00:00:06", long),
			ip("198.18.50.7"): fakeObs("198.18.50.7", netlink.NUD_REACHABLE, "b8:27:eb:00:00:07", now.Add(-time.Second)),
			ip("198.18.50.9"): fakeObs("198.18.50.9", netlink.NUD_INCOMPLETE, "", long),
			// Resolved meanwhile, but behind a router: never judged.
			ip("198.18.60.11"): fakeObs("198.18.60.11", netlink.NUD_REACHABLE, "02:00:00:00:00:11", now),
		}}
	}
	// .3 answers at once; .4 answers after the early look found it.
	conn := newFakeConn(map[netip.Addr]fakeHost{ip("198.18.50.3"): {}, ip("198.18.50.4"): {Delay: 80 * time.Millisecond}}, 64, 0, 0)
	defer conn.Close()
	cfg := Config{Timeout: 100 * time.Millisecond, Retries: 1, RetryInterval: 50 * time.Millisecond, Rate: 1e6,
		silent: fakeSilentEnv(table, retrans)}
	found := map[netip.Addr]Host{}
	at := map[netip.Addr]time.Duration{}
	var updated []Host
	sum, err := Scan(t.Context(), conn, mustTargets(t, "198.18.50.0/24", "198.18.60.10-11"), cfg, func(ev Event) {
		switch ev.Kind {
		case HostFound:
			if _, dup := found[ev.Host.Addr]; dup {
				t.Errorf("%s found twice", ev.Host.Addr)
			}
			found[ev.Host.Addr] = ev.Host
			at[ev.Host.Addr] = time.Since(start)
		case HostUpdated:
			updated = append(updated, ev.Host)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 4 {
		t.Errorf("found %v, want 198.18.50.3, .4, .7 and .8", slices.Collect(func(yield func(netip.Addr) bool) {
			for a := range found {
				yield(a)
			}
		}))
	}
	// The early look, RetryInterval after the first request, found .4
	// and .7; .4's echo answer came after, adds its round trip and
	// makes echo-reply its reason.
	for _, a := range []netip.Addr{ip("198.18.50.4"), ip("198.18.50.7")} {
		if at[a] < cfg.RetryInterval || at[a] > retrans {
			t.Errorf("%s found %v after the start, want by the early look", a, at[a])
		}
	}
	if len(updated) != 1 || updated[0].Addr != ip("198.18.50.4") || updated[0].RTT < 80*time.Millisecond ||
		updated[0].Reason != ReasonEchoReply || updated[0].MAC.String() != "b8:27:eb:00:00:04" {
		t.Errorf("updates %+v, want .4's late echo answer", updated)
	}
	if h := found[ip("198.18.50.3")]; h.Reason != ReasonEchoReply {
		t.Errorf(".3: %+v", h)
	}
	h := found[ip("198.18.50.7")]
	if h.Reason != ReasonNeighbour || h.MAC.String() != "b8:27:eb:00:00:07" || h.MACSource != MACFromNeighbours ||
		h.Vendor != "Raspberry Pi Foundation" || h.Method != probe.Raw {
		t.Errorf(".7: %+v", h)
	}
	// The kernel's second solicitation goes out retrans after the
	// first request, and gets RetryInterval to be answered: .8 is
	// judged no sooner, long after its echo deadline.
	if h := found[ip("198.18.50.8")]; h.Reason != ReasonNeighbour || at[h.Addr] < retrans+cfg.RetryInterval {
		t.Errorf(".8: %+v judged %v after the start, before its second solicitation could be answered (%v)",
			h, at[h.Addr], retrans+cfg.RetryInterval)
	}
	if sum.Alive != 4 || sum.Silent != 2 || sum.OffLink != 2 || sum.Total != 256 || sum.SilentNote != "" {
		t.Errorf("summary %+v", sum)
	}
	// The old entry of a target was to be checked again; the router's
	// side and the permanent entry were not.
	if !slices.Equal(table.reprobed, []netip.Addr{ip("198.18.50.5")}) {
		t.Errorf("reprobed %v, want 198.18.50.5", table.reprobed)
	}
	if !strings.Contains(OffLinkNote(sum.OffLink), "2 addresses lie behind a router") || OffLinkNote(0) != "" {
		t.Errorf("OffLinkNote: %q", OffLinkNote(sum.OffLink))
	}

	// Turned off, only answers count.
	cfg.IgnoreNeighbours = true
	table.reads = 0
	sum, err = Scan(t.Context(), conn, mustTargets(t, "198.18.50.0/24"), cfg, func(Event) {})
	if err != nil || sum.Alive != 2 || sum.Silent != 0 || table.reads != 0 {
		t.Errorf("IgnoreNeighbours: %+v, %v, %d table reads", sum, err, table.reads)
	}
}

// TestSilentJudgeAt: the extra wait follows the kernel's settings and
// the scan's retries.
func TestSilentJudgeAt(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	a := ip("198.18.50.7")
	f := &silentFinder{links: []silentLink{{prefix: netip.MustParsePrefix("198.18.50.0/24"), iface: "lan0",
		params: neigh.Params{Retrans: time.Second, McastSolicit: 3}}}, retries: 1, retryInterval: 250 * time.Millisecond}
	if got := f.judgeAt(a, t0); got != t0.Add(1250*time.Millisecond) {
		t.Errorf("defaults: %v", got.Sub(t0))
	}
	f.startSlack = execSlack
	if got := f.judgeAt(a, t0); got != t0.Add(1500*time.Millisecond) {
		t.Errorf("exec: %v", got.Sub(t0))
	}
	f.startSlack, f.retries = 0, 0
	if got := f.judgeAt(a, t0); got != t0 {
		t.Errorf("no retries: %v", got.Sub(t0))
	}
	f.retries, f.links[0].params.McastSolicit = 1, 1
	if got := f.judgeAt(a, t0); got != t0 {
		t.Errorf("one solicitation only: %v", got.Sub(t0))
	}
}

// TestSilentTableClosed: on a real LAN, with the neighbour table refused
// as in a sandbox, the TCP probes of enrichment find the silent host that
// answers TCP, not the one that answers only ARP, and never an absent
// address; the summary says why.
func TestSilentTableClosed(t *testing.T) {
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "win", MAC: "00:15:5d:00:00:21", Addr4: "198.18.100.21", Silence: testnet.IgnoresPing, Listen: []uint16{8080}},
		testnet.BridgedSpec{Label: "iot", MAC: "24:0a:c4:00:00:22", Addr4: "198.18.100.22", Silence: testnet.OnlyResolves},
		testnet.BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:23", Addr4: "198.18.100.23"},
	)
	inNet := func(fn func()) error { return testnet.Do(lan.Scanner.Name, fn) }
	env := systemSilentEnv(inNet)
	env.open = func() (neighTable, error) {
		return nil, &neigh.UnavailableError{Netlink: errors.New("bind: permission denied"), Proc: errors.New("open /proc/net/arp: permission denied")}
	}
	e := &Enrich{Ports: DefaultPorts(), InNet: inNet}
	cfg := DefaultConfig()
	cfg.Enrich, cfg.silent = e, env
	var conn probe.Conn
	var err error
	lan.Scanner.Do(func() { conn, err = probe.OpenRaw(probe.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hosts := map[netip.Addr]Host{}
	sum, err := Scan(t.Context(), conn, mustTargets(t, "198.18.100.0/24"), cfg, func(ev Event) {
		if ev.Kind == HostUpdated && ev.Host.Enriched {
			hosts[ev.Host.Addr] = ev.Host
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)
	win := hosts[lan.Host("win").Addr4]
	if win.Reason != ReasonTCPOpen || len(win.Ports) != 1 || win.Ports[0].Number != 8080 {
		t.Errorf("win: %+v", win)
	}
	if _, ok := hosts[lan.Host("iot").Addr4]; ok {
		t.Error("the ARP-only host was found without the neighbour table")
	}
	if h := hosts[lan.Host("pi").Addr4]; h.Reason != ReasonEchoReply {
		t.Errorf("pi: %+v", h)
	}
	if len(hosts) != 3 { // win, pi, the scanner itself
		t.Errorf("%d hosts: %v", len(hosts), hosts)
	}
	if sum.Alive != 3 || sum.Silent != 1 || !strings.Contains(sum.SilentNote, "cannot be read") ||
		!strings.Contains(sum.SilentNote, "TCP probes") {
		t.Errorf("summary %+v", sum)
	}
}
