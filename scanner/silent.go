package scanner

// Silent hosts: the devices on this machine's own links that answer
// nothing the sweep sends, such as a Windows PC whose firewall drops
// echo requests, or a camera that drops everything but ARP.
//
// Every packet to an address on one of this machine's links makes the
// kernel resolve the address first, and a device that drops every ping
// still answers ARP (IPv4) or neighbour discovery (IPv6): its kernel must,
// or nothing could reach it. So after the sweep's requests to a silent
// on-link address, the kernel's neighbour table says whether a device
// holds it, with its MAC address, and the sweep reports it with
// ReasonNeighbour. No packet beyond the sweep's own is needed, and no
// privilege: reading the table is open to every process.
//
// What counts is package neigh's rule (neigh.Confirmed): an entry the
// kernel resolved or confirmed after a snapshot taken before the first
// request. An entry an earlier scan left (REACHABLE for up to 45 s, STALE
// for minutes) proves nothing about now, and the sweep's own packet only
// moves it to DELAY. Run with CAP_NET_ADMIN, the scan asks the kernel to
// check such entries again at once (neigh.Reader.Reprobe); without it the
// kernel checks by itself only delay_first_probe_time (5 s) after the
// sweep used the entry, which is past the scan's end, so the TCP probes
// below are tried on them instead.
//
// When: an address is judged when its echo deadline has passed, but no
// sooner than the kernel can have heard the host. The kernel sends its
// first solicitation with the sweep's first request and, unanswered, more
// of them retrans_time apart (1 s). A device that answers ARP at all
// answers the first within a round trip, which the one-second echo
// timeout covers many times over; the only extra chance worth waiting
// for is the one a lost solicitation gets, as a lost echo request gets a
// retry: so with Retries > 0 an address is judged no sooner than
// RetryInterval after the kernel's second solicitation (first request +
// retrans_time + RetryInterval). With the defaults (retry at 250 ms,
// timeout 1 s, retrans_time 1 s) that is exactly the echo deadline:
// finding silent hosts costs no extra wait, only the table reads, batched
// at most one per judgeEvery. Waiting until an unanswered entry FAILS
// (mcast_solicit x retrans_time, 3 s) is never needed: an entry still
// INCOMPLETE when judged is a device that answered none of the
// solicitations it was given.
//
// Off-link: an address behind a router is never resolved (the kernel
// resolves the router), so nothing can be inferred for it, and a device
// there that drops pings and TCP is invisible from here; Summary.OffLink
// counts such addresses so that the result can say so.
//
// Where the table cannot be read at all (a sandbox that refuses netlink
// and hides /proc/net/arp, as Android does to apps), and for the old
// entries above when they cannot be re-checked, enrichment's TCP probes
// (Enrich.Ports) go to the silent on-link addresses instead: an accepted
// or refused connect proves a host (ReasonTCPOpen, ReasonTCPReset). Such
// a scan finds the devices that ignore ping but answer TCP; a device
// that answers only ARP stays unseen, and Summary.SilentNote says so.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"netscanner/probe"
	"netscanner/scanner/neigh"
	"netscanner/scanner/targets"
)

// judgeEvery is the least time between two table reads while silent
// addresses are being judged: a dump of a full table (1,024 entries, the
// kernel's default gc_thresh3) takes about a millisecond, and a /16 has
// hundreds of expiry batches.
const judgeEvery = 10 * time.Millisecond

// neighTable is the neighbour table as the finder reads it; a
// *neigh.Reader, or a fake in tests.
type neighTable interface {
	Snapshot(context.Context) (neigh.Snapshot, error)
	Reprobe(context.Context, []neigh.Observation) (int, error)
	Close()
}

// silentEnv is what the finder asks of the machine; nil functions stand
// for sources that are not there. Tests substitute fakes.
type silentEnv struct {
	interfaces func() ([]localIface, error)
	open       func() (neighTable, error)
	params     func(iface string, v6 bool) (neigh.Params, error)
}

// systemSilentEnv is this machine, through inNet (Enrich.InNet) when set.
func systemSilentEnv(inNet func(func()) error) *silentEnv {
	return &silentEnv{
		interfaces: func() ([]localIface, error) { return within(inNet, localInterfaces) },
		open: func() (neighTable, error) {
			return within(inNet, func() (neighTable, error) {
				r, err := neigh.Open()
				if err != nil {
					return nil, err
				}
				return r, nil
			})
		},
		params: func(iface string, v6 bool) (neigh.Params, error) {
			return within(inNet, func() (neigh.Params, error) { return neigh.ParamsOf(iface, v6) })
		},
	}
}

// silentLink is one network on one of this machine's links.
type silentLink struct {
	prefix netip.Prefix // masked, without zone
	zone   string       // for a link-local prefix, the interface its targets name
	iface  string
	params neigh.Params
}

// silentFinder judges the sweep's silent on-link addresses. It is made on
// the caller's goroutine and used by the sweep's receiver only.
type silentFinder struct {
	table  neighTable // nil when the table cannot be read
	closed error      // why it cannot; nil when it can
	links  []silentLink
	self   map[netip.Addr]bool

	retries       int
	retryInterval time.Duration
	lookAfter     time.Duration // from a first request to the early look in the table
	startSlack    time.Duration // how late after Send the method's first request leaves

	before  neigh.Snapshot // taken before the sweep's first request
	last    time.Time      // when the table was last read
	failed  bool           // a read failed during the sweep: judge by TCP from then on
	onLink  int            // targets on this machine's links, this machine excluded
	offLink int            // targets behind a router (or with no route)
	checked int            // old entries Reprobe had the kernel check again
	// probe, set by the enrichment that will run them, is where the
	// addresses TCP probes are to judge go; nil when there is none.
	probe func(netip.Addr)
	// enriched, set by enrichment, makes the sweep report hosts its
	// early look found as foundEarly, and their deadlines as
	// sweepSettled, so that enrichment keeps them open for an echo
	// answer that may still come.
	enriched bool
}

// newSilentFinder learns this machine's links and, when the scan covers
// any of them, reads the neighbour table before the sweep and, with
// CAP_NET_ADMIN, has the kernel check again the entries that targets
// already have. It returns nil when the scan covers no link of this
// machine (then off counts every target) or the config turns it off.
func newSilentFinder(ctx context.Context, method probe.Method, t *targets.Set, cfg Config, env *silentEnv) (f *silentFinder, off int) {
	if cfg.IgnoreNeighbours || env == nil || env.interfaces == nil {
		return nil, 0
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, 0 // the sweep reports it
	}
	ifs, err := env.interfaces()
	if err != nil {
		return nil, 0 // nothing known about the links: count nothing either way
	}
	f = &silentFinder{self: map[netip.Addr]bool{}, retries: cfg.Retries, retryInterval: cfg.RetryInterval,
		lookAfter: min(cfg.RetryInterval, cfg.Timeout)}
	if method == probe.Exec {
		// A ping process reports its answer some time after Send:
		// look later, or every host would look silent at first.
		f.startSlack = execSlack
		f.lookAfter += execSlack
	}
	seen := map[string]bool{}
	for _, ifc := range ifs {
		for _, p := range ifc.Prefixes {
			f.self[p.Addr().WithZone("")] = true
		}
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&(net.FlagLoopback|net.FlagPointToPoint) != 0 {
			continue // a point-to-point link has no neighbour table to speak of
		}
		for _, p := range ifc.Prefixes {
			m := p.Masked()
			l := silentLink{prefix: m, iface: ifc.Name, params: neigh.DefaultParams}
			if m.Addr().Is6() && m.Addr().IsLinkLocalUnicast() {
				l.zone = ifc.Name
			}
			key := l.zone + "%" + m.String()
			if seen[key] || p.IsSingleIP() {
				continue
			}
			seen[key] = true
			if env.params != nil {
				// Unreadable settings keep Linux's defaults.
				l.params, _ = env.params(ifc.Name, m.Addr().Is6())
			}
			f.links = append(f.links, l)
		}
	}
	for _, r := range t.Ranges() {
		if r.First.Zone() != "" {
			if f.linkOf(r.First) != nil {
				f.onLink += int(min(r.Size(), uint64(t.Len())))
			}
			continue
		}
		for _, l := range f.links {
			if l.zone == "" {
				lr := targets.Range{First: l.prefix.Addr(), Last: lastOf(l.prefix)}
				f.onLink += int(countIn(r, lr))
			}
		}
	}
	for a := range f.self {
		if t.Contains(a) && f.linkOf(a) != nil {
			f.onLink--
		}
	}
	f.onLink = max(f.onLink, 0)
	off = max(t.Len()-f.onLink-f.selfTargets(t), 0)
	if f.onLink == 0 {
		return nil, off
	}
	f.offLink = off

	if env.open == nil {
		f.closed = errors.New("no neighbour table here")
		return f, off
	}
	table, err := env.open()
	if err != nil {
		f.closed = err
		return f, off
	}
	f.before, err = table.Snapshot(ctx)
	if err != nil {
		table.Close()
		f.closed = err
		return f, off
	}
	f.table = table
	var old []neigh.Observation
	for a, o := range f.before.Entries {
		if o.Resolved() && t.Contains(a) && f.covers(a) {
			old = append(old, o)
		}
	}
	if len(old) > 0 {
		// Without CAP_NET_ADMIN this fails, and TCP probes try them.
		f.checked, _ = table.Reprobe(ctx, old)
	}
	return f, off
}

// countIn is how many addresses ranges a and b share.
func countIn(a, b targets.Range) uint64 {
	if a.First.Is4() != b.First.Is4() {
		return 0
	}
	first, last := a.First, a.Last
	if first.Less(b.First) {
		first = b.First
	}
	if b.Last.Less(last) {
		last = b.Last
	}
	if last.Less(first) {
		return 0
	}
	return targets.Range{First: first, Last: last}.Size()
}

// lastOf is the last address of a masked prefix.
func lastOf(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for i := p.Bits(); i < len(a)*8; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	last, _ := netip.AddrFromSlice(a)
	return last
}

func (f *silentFinder) selfTargets(t *targets.Set) int {
	n := 0
	for a := range f.self {
		if t.Contains(a) {
			n++
		}
	}
	return n
}

// close releases the table.
func (f *silentFinder) close() {
	if f != nil && f.table != nil {
		f.table.Close()
	}
}

// linkOf returns the link a lies on, or nil.
func (f *silentFinder) linkOf(a netip.Addr) *silentLink {
	for i := range f.links {
		l := &f.links[i]
		p := l.prefix
		if l.zone != "" {
			// Link-local: the target names its link by zone (Parse
			// refuses link-local targets without one).
			if a.Zone() == l.zone && p.Contains(a.WithZone("")) {
				return l
			}
			continue
		}
		if a.Zone() == "" && p.Contains(a) {
			return l
		}
	}
	return nil
}

// covers reports whether a is an on-link address the finder judges: on
// one of this machine's links, and not this machine's own.
func (f *silentFinder) covers(a netip.Addr) bool {
	return f != nil && !f.self[a.WithZone("")] && f.linkOf(a) != nil
}

// judgeAt is the soonest a silent on-link address whose first request
// was handed to Send at first may be judged (see the notes above).
func (f *silentFinder) judgeAt(a netip.Addr, first time.Time) time.Time {
	if f.retries == 0 {
		return first
	}
	p := neigh.DefaultParams
	if l := f.linkOf(a); l != nil {
		p = l.params
	}
	if p.McastSolicit < 2 {
		return first // no second solicitation to wait for
	}
	return first.Add(f.startSlack + p.Retrans + f.retryInterval)
}

// silentVerdict is what the table says about one judged address.
type silentVerdict struct {
	addr  netip.Addr
	entry neigh.Observation
	found bool // the kernel heard from it during the scan
	probe bool // unknown: for TCP probes to settle
}

// judge reads the table and judges addrs, each of whose judging time has
// passed.
func (f *silentFinder) judge(ctx context.Context, addrs []netip.Addr) []silentVerdict {
	out := make([]silentVerdict, len(addrs))
	var now neigh.Snapshot
	if f.table != nil && !f.failed {
		var err error
		now, err = f.table.Snapshot(ctx)
		f.last = time.Now()
		if err != nil {
			f.failed = true
			f.closed = err
		}
	}
	for i, a := range addrs {
		v := silentVerdict{addr: a}
		switch {
		case f.table == nil || f.failed:
			v.probe = true
		default:
			if o, ok := neigh.Confirmed(f.before, now, a); ok {
				v.entry, v.found = o, true
			} else if b, had := f.before.Entries[a]; had && b.Resolved() && f.checked == 0 {
				// An old entry nobody could have the kernel check.
				v.probe = true
			}
		}
		out[i] = v
	}
	return out
}

// nextRead is the soonest the table may be read again.
func (f *silentFinder) nextRead() time.Time { return f.last.Add(judgeEvery) }

// note says what the Summary should about silent hosts, or "".
func (f *silentFinder) note(probed bool) string {
	switch {
	case f == nil:
		return ""
	case f.table == nil || f.failed:
		what := "TCP probes found the hosts on this machine's links that ignore ping but answer TCP"
		if !probed {
			what = "hosts on this machine's links that ignore ping were not looked for (no TCP ports to probe)"
		}
		return fmt.Sprintf("the neighbour table cannot be read here (%v): %s; a device that answers nothing but ARP cannot be seen", f.closed, what)
	}
	return ""
}

// offLinkNote explains why silent hosts behind a router stay unseen.
func offLinkNote(n int) string {
	if n == 0 {
		return ""
	}
	what := fmt.Sprintf("%d addresses lie", n)
	if n == 1 {
		what = "1 address lies"
	}
	return what + " behind a router: only hosts that answer count there, since this machine never learns their MAC addresses (ARP stops at the router), so a device there that ignores ping and TCP cannot be seen"
}

// later returns the latest of ts.
func later(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.After(t) {
			t = u
		}
	}
	return t
}
