package scanner

// Enrichment: what a scan learns about each host besides the fact that it
// answered.
//
// A host's enrichment starts the moment the sweep finds it, as two jobs
// that run beside the sweep, each on a worker goroutine of its own:
//
//  1. the link job: its MAC address, from the kernel's neighbour table,
//     which the sweep's own request has just filled in (nothing is sent;
//     refused for hosts behind a router, whose frames carry the router's
//     MAC), then its open TCP ports;
//  2. the names job (package names: DNS PTR records, multicast DNS,
//     NetBIOS), which starts once the MAC lookup is over and runs beside
//     the port probes.
//
// Each fact goes back to the goroutine that called Scan as a small
// function that applies it to the host's record there, which then emits
// a HostUpdated carrying everything known so far. Workers never touch a
// Host themselves, and a fact carries the address it was learned for, so
// an answer about one host cannot end up on another. A host's enrichment
// is over when both its jobs are.
//
// Beside them, one more worker sends an echo request to ff02::1 on the
// scanned LAN (neighbours6.go); every IPv6 host that answers from a
// link-local address joins the scan as a found host with jobs of its own.
//
// Bounds: a sweep can find hundreds of hosts in a second, and a worker,
// its stack and its sockets cost memory however little they do, so the
// scan's goroutine starts at most enrichHosts link jobs and nameLookups
// names jobs at once; the jobs of the hosts found beyond that wait in a
// line (lineUp) as bare addresses, and start, oldest first, as others
// end. A host waiting in line has been reported as found all the same.
// TCP connects, each a goroutine and a socket, are capped scan-wide by a
// semaphore, taken before the goroutine starts. So the memory of a scan
// of a /16 stays that of a few hundred workers, whatever it finds, while
// a home /24, with its tens of hosts, is enriched all at once. After the
// sweep ends, Finished waits at most Enrich.Wait for the jobs still
// running or waiting, then cancels them, drops those not started, and
// reports what had been learned.
//
// Everything enrichment opens or reads happens in the network namespace
// of the thread that called Scan (enrich_netns_linux.go), wherever its
// workers' threads are.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"netscanner/icmpsock"
	"netscanner/scanner/names"
	"netscanner/scanner/neigh"
	"netscanner/scanner/oui"
)

// Where a Host's MAC address came from.
const (
	// MACFromNeighbours: the kernel's neighbour table (ARP, IPv6
	// neighbour discovery), for hosts on this machine's links.
	MACFromNeighbours = "neighbour"
	// MACFromNetBIOS: the host's own NetBIOS node status reply; used
	// only where the neighbour table cannot be read, as in an Android
	// app.
	MACFromNetBIOS = "netbios"
	// MACFromInterface: one of this machine's own interfaces.
	MACFromInterface = "interface"
)

// Defaults for an Enrich's zero fields, and the scan-wide bounds (which
// Enrich's doc names).
const (
	// DefaultEnrichWait is how long Finished waits, after the sweep,
	// for enrichment still running. Most of it ran during the sweep:
	// a host found at the sweep's start is done before the sweep ends.
	DefaultEnrichWait = 1500 * time.Millisecond
	// DefaultNameTimeout bounds one host's name lookups: an mDNS or
	// NetBIOS answer on a LAN takes milliseconds, and a host that does
	// not answer costs exactly this long.
	DefaultNameTimeout = time.Second
	// enrichHosts caps the link jobs (MAC lookup, then port probes) run
	// at once: enough for every live host of a home /24 at once, few
	// enough that the workers of a big sweep's hundreds of hosts, and
	// their stacks, never all exist together. A link job takes
	// milliseconds on a host that answers connects, and a few
	// PortTimeouts at most on one that drops them, so the line moves.
	enrichHosts = 128
	// nameLookups caps the hosts whose names are looked up at once. A
	// /24 at home has dozens of live hosts, most of them silent to
	// NetBIOS; at 32 at a time (names.DefaultLimit) their one-second
	// silences would queue up past the sweep's end. Each lookup holds
	// up to three sockets and four goroutines for up to a second, which
	// is why the hundreds of hosts of a big sweep wait in line for it.
	nameLookups = 128
	// portConnects caps the TCP connects in flight across the scan.
	portConnects = 256
	// macRetries and macRetryGap give the neighbour table a moment
	// when a host's entry is not there the instant its reply is.
	macRetries  = 2
	macRetryGap = 50 * time.Millisecond
)

// Enrich says what a scan learns about each live host. The zero value
// learns only what costs no packet: the MAC address and its maker, and
// whether a host is this machine or the gateway. DefaultEnrich turns on
// everything.
//
// A host's enrichment starts the moment it is found, as long as fewer
// than 128 hosts are being enriched: every host of a home network is
// enriched at once. The hosts a big sweep finds beyond that wait their
// turn, in the order found (already reported by HostFound), so that a
// scan's memory stays bounded however many hosts answer; the same goes
// for name lookups (128 hosts at once) and TCP connects (256 at once
// across the scan).
type Enrich struct {
	// Names looks up each host's names: DNS PTR records, multicast DNS
	// and NetBIOS, through Resolver.
	Names bool
	// Resolver does the name lookups; nil means one with
	// DefaultNameTimeout and the system's DNS.
	Resolver *names.Resolver
	// Ports are the TCP ports tried on each host, such as DefaultPorts();
	// none when empty. A port counts as open only if the connect is
	// accepted; a refused one is closed (and proves the host up).
	Ports []uint16
	// PortTimeout bounds one connect; 0 means DefaultPortTimeout.
	PortTimeout time.Duration
	// LinkLocal sends one echo request to ff02::1, the all-nodes group,
	// on each interface whose network the targets cover, and adds every
	// IPv6 host that answers from a link-local address: hosts no sweep
	// can enumerate. It needs a Conn of the dgram or raw method.
	LinkLocal bool
	// Wait bounds how long Scan waits after the sweep for enrichment
	// still running or waiting its turn before it reports Finished; 0
	// means DefaultEnrichWait. Work still running then is cut short,
	// work still waiting never starts, and what had been learned is
	// reported.
	Wait time.Duration

	// env is the machine enrichment asks; nil means this one. Tests
	// substitute fakes.
	env *enrichEnv
}

// DefaultEnrich returns the enrichment a user expects from a LAN scan:
// names, the default ports and the IPv6 link-local neighbours.
func DefaultEnrich() *Enrich {
	return &Enrich{Names: true, Ports: DefaultPorts(), LinkLocal: true}
}

// enrichEnv is everything enrichment asks of the machine and the network.
// A nil function stands for a source that is not there.
type enrichEnv struct {
	interfaces   func() ([]localIface, error)
	networks     func() ([]Network, error)
	route        func(context.Context, netip.Addr) (neigh.Route, error)
	lookupMAC    func(context.Context, netip.Addr) (net.HardwareAddr, error)
	lookupNames  func(context.Context, netip.Addr) names.Result
	dial         dialFunc
	openAllNodes func(icmpsock.Method) (icmpsock.Conn, error)
}

// systemEnv is this machine, in the network namespace f follows (see
// netFollower; nil for the process's own).
func systemEnv(res *names.Resolver, f *netFollower) *enrichEnv {
	if res == nil {
		res = &names.Resolver{Timeout: DefaultNameTimeout}
	}
	if f != nil && res.DNS == nil {
		// The cgo resolver would query from a thread of its own, in the
		// process's namespace; Go's queries from the calling one.
		r := *res
		r.DNS = &net.Resolver{PreferGo: true}
		res = &r
	}
	dialer := &net.Dialer{}
	return &enrichEnv{
		interfaces: func() ([]localIface, error) { return within(f, localInterfaces) },
		networks:   func() ([]Network, error) { return within(f, LocalNetworks) },
		route: func(ctx context.Context, a netip.Addr) (neigh.Route, error) {
			return within(f, func() (neigh.Route, error) { return neigh.RouteTo(ctx, a) })
		},
		lookupMAC: func(ctx context.Context, a netip.Addr) (net.HardwareAddr, error) {
			return within(f, func() (net.HardwareAddr, error) { return neigh.Lookup(ctx, a) })
		},
		lookupNames: func(ctx context.Context, a netip.Addr) names.Result { return lookupNames(ctx, res, a, f) },
		dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return within(f, func() (net.Conn, error) { return dialer.DialContext(ctx, network, address) })
		},
		openAllNodes: func(m icmpsock.Method) (icmpsock.Conn, error) {
			return within(f, func() (icmpsock.Conn, error) { return openAllNodesConn(m) })
		},
	}
}

// within runs fn in the namespace f follows.
func within[T any](f *netFollower, fn func() (T, error)) (v T, err error) {
	if ferr := f.do(func() { v, err = fn() }); ferr != nil {
		return v, ferr
	}
	return v, err
}

// lookupNames is r.Lookup(ctx, addr), with each query's socket opened in
// the namespace f follows. Lookup runs its three queries on goroutines of
// its own, so a followed namespace needs them run one by one through f,
// side by side, and merged as Lookup merges them.
func lookupNames(ctx context.Context, r *names.Resolver, addr netip.Addr, f *netFollower) names.Result {
	if f == nil {
		return r.Lookup(ctx, addr)
	}
	var (
		wg            sync.WaitGroup
		dns           []string
		mdns, netbios string
		mac           net.HardwareAddr
	)
	wg.Go(func() { _ = f.do(func() { dns, _ = r.Reverse(ctx, addr) }) })
	wg.Go(func() { _ = f.do(func() { mdns, _ = r.MDNS(ctx, addr) }) })
	if addr.Unmap().Is4() {
		wg.Go(func() { _ = f.do(func() { netbios, mac, _ = r.NetBIOS(ctx, addr) }) })
	}
	wg.Wait()
	res := names.Result{MAC: mac}
	add := func(name, source string) {
		if name != "" && !slices.ContainsFunc(res.Names, func(n names.Name) bool { return strings.EqualFold(n.Name, name) }) {
			res.Names = append(res.Names, names.Name{Name: name, Source: source})
		}
	}
	for _, n := range dns {
		add(n, names.SourceDNS)
	}
	add(mdns, names.SourceMDNS)
	add(netbios, names.SourceNetBIOS)
	return res
}

// defaultRouteProbes are addresses whose route is the default route on
// almost any machine (a documentation address and an unassigned global
// one), so asking the kernel how it would reach them names the default
// gateways. Only the routing table is asked; nothing is sent.
var defaultRouteProbes = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2000::1")}

// localView is what enrichment knows about this machine before the scan.
type localView struct {
	self     map[netip.Addr]net.HardwareAddr // own addresses (no zone) and their interface's MAC
	gateways map[netip.Addr]bool             // default gateways (no zone)
	allNodes []localIface                    // interfaces for the ff02::1 probe
}

func newLocalView(ctx context.Context, env *enrichEnv, t *Targets, linkLocal bool) localView {
	v := localView{self: map[netip.Addr]net.HardwareAddr{}, gateways: map[netip.Addr]bool{}}
	if env.interfaces != nil {
		// Without the interface list, no host is marked as this machine:
		// a poorer result, not a failed scan.
		if ifs, err := env.interfaces(); err == nil {
			for _, ifc := range ifs {
				for _, p := range ifc.Prefixes {
					v.self[p.Addr().WithZone("")] = ifc.MAC
				}
			}
			if linkLocal {
				v.allNodes = allNodesInterfaces(ifs, t)
			}
		}
	}
	if env.networks != nil {
		if nets, err := env.networks(); err == nil {
			for _, n := range nets {
				if n.Gateway.IsValid() {
					v.gateways[n.Gateway.WithZone("")] = true
				}
			}
		}
	}
	if env.route != nil {
		for _, a := range defaultRouteProbes {
			if r, err := env.route(ctx, a); err == nil && r.Gateway.IsValid() && !r.Gateway.IsUnspecified() {
				v.gateways[r.Gateway.WithZone("")] = true
			}
		}
	}
	return v
}

// jobKind tells a worker's job.
type jobKind int

const (
	linkJob     jobKind = iota + 1 // MAC address, then ports
	namesJob                       // names
	allNodesJob                    // the ff02::1 probe
)

// enrichMsg is what a worker sends the scan's goroutine.
type enrichMsg struct {
	addr  netip.Addr
	apply func(*Host) bool // applies a fact; reports whether anything changed
	found *neighbour6      // a host the all-nodes probe found
	// linked says the link job's MAC lookup is over, so the host's
	// names may be looked up; tableClosed is what it found out.
	linked, tableClosed bool
	done                jobKind // the worker has finished this job (addr's, or the all-nodes probe)
}

// enrolled is a found host's record on the scan's goroutine.
type enrolled struct {
	Host
	jobs        int  // the host's jobs waiting or running
	tableClosed bool // from its link job, for its names job
}

// enricher is the state of one scan's enrichment.
type enricher struct {
	cfg         Enrich
	ports       []uint16
	portTimeout time.Duration
	env         *enrichEnv
	view        localView
	method      icmpsock.Method
	targets     *Targets
	connSem     *semaphore.Weighted // TCP connects in flight
	msgs        chan enrichMsg
	follow      *netFollower // nil unless the caller is in another namespace than the process
}

// newEnricher checks e and learns what it needs about this machine. It
// must run on the goroutine that called Scan, whose network namespace
// enrichment follows.
func newEnricher(ctx context.Context, e Enrich, method icmpsock.Method, t *Targets) (*enricher, error) {
	switch {
	case e.PortTimeout < 0:
		return nil, fmt.Errorf("scanner: Enrich.PortTimeout %v is negative", e.PortTimeout)
	case e.Wait < 0:
		return nil, fmt.Errorf("scanner: Enrich.Wait %v is negative", e.Wait)
	}
	ports, err := checkPorts(e.Ports)
	if err != nil {
		return nil, err
	}
	if e.Wait == 0 {
		e.Wait = DefaultEnrichWait
	}
	x := &enricher{
		cfg:         e,
		ports:       ports,
		portTimeout: e.PortTimeout,
		env:         e.env,
		method:      method,
		targets:     t,
		connSem:     semaphore.NewWeighted(portConnects),
		msgs:        make(chan enrichMsg, 64),
	}
	if x.portTimeout == 0 {
		x.portTimeout = DefaultPortTimeout
	}
	if x.env == nil {
		f, err := followCallerNet()
		if err != nil {
			return nil, err
		}
		x.follow = f
		x.env = systemEnv(e.Resolver, f)
	}
	x.view = newLocalView(ctx, x.env, t, e.LinkLocal)
	return x, nil
}

// scanEnriched is Scan with enrichment: sweep runs the sweep, reporting
// through the emit it is given, on a goroutine of its own, while this
// goroutine, the caller's, hands its events on, lines up each new host's
// jobs and starts them as slots free up, applies the workers' facts and
// emits them, so that every event still reaches emit on the caller's
// goroutine, one at a time.
func scanEnriched(ctx context.Context, method icmpsock.Method, targets *Targets, e Enrich, emit func(Event),
	sweep func(emit func(Event)) (Summary, error)) (Summary, error) {
	start := time.Now()
	x, err := newEnricher(ctx, e, method, targets)
	if err != nil {
		sum := Summary{Total: targets.Len(), Method: method}
		emit(Event{Kind: Finished, Summary: &sum})
		return sum, err
	}
	defer x.follow.close()
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()

	type outcome struct {
		sum Summary
		err error
	}
	// A buffer, so that the sweep's receiver goes back to reading
	// answers while this goroutine applies facts or emit runs.
	events := make(chan Event, 256)
	swept := make(chan outcome, 1)
	go func() {
		sum, err := sweep(func(ev Event) {
			if ev.Kind != Finished { // ours comes once enrichment is done
				events <- ev
			}
		})
		swept <- outcome{sum, err}
	}()

	hosts := make(map[netip.Addr]*enrolled)
	links := &lineUp{limit: enrichHosts}
	lookups := &lineUp{limit: nameLookups}
	allNodes := x.startAllNodes(ectx)

	// jobDone closes one of rec's jobs; the host's enrichment is over
	// with its last.
	jobDone := func(rec *enrolled) {
		if rec.jobs--; rec.jobs == 0 {
			rec.Enriched = true
			emit(Event{Kind: HostUpdated, Host: rec.clone()})
		}
	}
	run := func(kind jobKind, a netip.Addr) {
		switch rec := hosts[a]; kind {
		case linkJob:
			go x.link(ectx, a, rec.Self)
		case namesJob:
			go x.names(ectx, a, rec.tableClosed)
		}
	}
	// enqueue lines up a job for rec's host, which starts it if a slot
	// is free; a job lined up once enrichment is cut off is over at once.
	enqueue := func(q *lineUp, kind jobKind, rec *enrolled) {
		rec.jobs++
		switch {
		case ectx.Err() != nil:
			jobDone(rec)
		case q.add(rec.Addr):
			run(kind, rec.Addr)
		}
	}
	found := func(h Host) {
		x.mark(&h)
		rec := &enrolled{Host: h}
		hosts[h.Addr] = rec
		// Reported before its jobs are lined up: however long the line,
		// a host is streamed the moment it is found.
		emit(Event{Kind: HostFound, Host: h.clone()})
		enqueue(links, linkJob, rec)
	}
	handle := func(ev Event) {
		if ev.Kind == HostFound {
			found(ev.Host)
			return
		}
		emit(ev)
	}

	// cutOff drops the jobs waiting in line once enrichment is cut off
	// (by the caller, a failed sweep or Wait): they never start, and
	// their hosts are closed with what is known. The running ones end
	// soon, their ctx done.
	cutOff := func() {
		for _, a := range links.drop() {
			jobDone(hosts[a])
		}
		for _, a := range lookups.drop() {
			jobDone(hosts[a])
		}
	}

	var (
		res      outcome
		sweeping = true
		extra    int // hosts the sweep did not find
		deadline <-chan time.Time
		cut      = ectx.Done() // nil once seen
	)
	wait := time.NewTimer(x.cfg.Wait)
	wait.Stop()
	defer wait.Stop()
	for sweeping || allNodes || links.busy() || lookups.busy() {
		select {
		case ev := <-events:
			handle(ev)
		case res = <-swept:
			sweeping = false
			// The sweep sent all its events before its outcome; those
			// still buffered come first.
			for len(events) > 0 {
				handle(<-events)
			}
			if res.err != nil || ctx.Err() != nil {
				cancel() // a failed or cancelled scan waits for nothing
			} else {
				wait.Reset(x.cfg.Wait)
				deadline = wait.C
			}
		case <-deadline:
			cancel()
		case <-cut:
			cut = nil
			cutOff()
		case m := <-x.msgs:
			switch {
			case m.done == allNodesJob:
				allNodes = false
			case m.done != 0:
				q := links
				if m.done == namesJob {
					q = lookups
				}
				if ectx.Err() != nil {
					cutOff() // before the cut is seen: no job may start now
				}
				if next, ok := q.done(); ok {
					run(m.done, next)
				}
				jobDone(hosts[m.addr])
			case m.linked:
				if rec := hosts[m.addr]; x.cfg.Names && x.env.lookupNames != nil {
					rec.tableClosed = m.tableClosed
					enqueue(lookups, namesJob, rec)
				}
			case m.found != nil:
				if _, dup := hosts[m.found.Addr]; !dup {
					extra++
					found(Host{
						Addr: m.found.Addr, RTT: m.found.RTT, TTL: m.found.TTL, Method: method,
						Reason: "echo-reply", Note: "answered a ping to ff02::1 (all IPv6 hosts on the link)",
					})
				}
			default:
				if rec := hosts[m.addr]; rec != nil && m.apply(&rec.Host) {
					emit(Event{Kind: HostUpdated, Host: rec.clone()})
				}
			}
		}
	}
	sum := res.sum
	sum.Neighbours = extra
	sum.Elapsed = time.Since(start)
	emit(Event{Kind: Finished, Summary: &sum})
	return sum, res.err
}

// mark fills in what is known about h without asking anyone: whether it
// is this machine (with its interface's MAC) or a default gateway, and
// the reason and name it was found with.
func (x *enricher) mark(h *Host) {
	bare := h.Addr.WithZone("")
	if mac, ok := x.view.self[bare]; ok {
		h.Self = true
		if len(mac) > 0 {
			setMAC(h, mac, MACFromInterface)
		}
	}
	h.Gateway = h.Gateway || x.view.gateways[bare]
	if h.Hostname != "" && len(h.Names) == 0 {
		h.Names = []string{h.Hostname}
	}
	addReason(h, h.Reason)
}

// link is a host's link job: its MAC address, unless it is this machine,
// then its ports. Between the two it tells the scan's goroutine that the
// host's names may be looked up; its last message says it is done.
func (x *enricher) link(ctx context.Context, addr netip.Addr, self bool) {
	defer func() { x.msgs <- enrichMsg{addr: addr, done: linkJob} }()
	tableClosed := false
	if !self {
		tableClosed = x.linkLayer(ctx, addr)
	}
	x.msgs <- enrichMsg{addr: addr, linked: true, tableClosed: tableClosed}
	if len(x.ports) > 0 && x.env.dial != nil {
		x.portScan(ctx, addr)
	}
}

// update sends one fact about addr to the scan's goroutine.
func (x *enricher) update(addr netip.Addr, apply func(*Host) bool) {
	x.msgs <- enrichMsg{addr: addr, apply: apply}
}

// linkLayer looks up addr's MAC address in the neighbour table. It
// reports whether the table is closed to this process, in which case a
// MAC from NetBIOS is the only one to be had.
func (x *enricher) linkLayer(ctx context.Context, addr netip.Addr) (tableClosed bool) {
	if x.env.lookupMAC == nil {
		return true
	}
	var (
		mac net.HardwareAddr
		err error
	)
	for try := 0; ; try++ {
		mac, err = x.env.lookupMAC(ctx, addr)
		if !errors.Is(err, neigh.ErrNotFound) || try == macRetries || !sleep(ctx, macRetryGap) {
			break
		}
	}
	switch {
	case err == nil:
		mac = slices.Clone(mac)
		x.update(addr, func(h *Host) bool {
			changed := setMAC(h, mac, MACFromNeighbours)
			return addReason(h, "neighbour") || changed
		})
	case errors.Is(err, neigh.ErrUnavailable):
		return true
	case errors.Is(err, neigh.ErrNotOnLink):
		note := "not on a local link: no MAC address from here"
		if x.env.route != nil {
			if r, rerr := x.env.route(ctx, addr); rerr == nil && r.Gateway.IsValid() && !r.Gateway.IsUnspecified() {
				// Its frames arrive with the router's MAC address.
				note = fmt.Sprintf("behind router %s: no MAC address from here", r.Gateway)
			}
		}
		x.update(addr, func(h *Host) bool { return addNote(h, note) })
	case errors.Is(err, neigh.ErrLocal):
		x.update(addr, func(h *Host) bool {
			changed := !h.Self
			h.Self = true
			return changed
		})
	}
	return false
}

// names is a host's names job: it looks up addr's names; its last
// message says it is done. tableClosed says whether the host's link job
// found the neighbour table closed, leaving NetBIOS the only source of
// its MAC address.
func (x *enricher) names(ctx context.Context, addr netip.Addr, tableClosed bool) {
	defer func() { x.msgs <- enrichMsg{addr: addr, done: namesJob} }()
	res := x.env.lookupNames(ctx, addr)
	if len(res.Names) == 0 && res.MAC == nil {
		return
	}
	x.update(addr, func(h *Host) bool {
		changed := false
		for _, n := range res.Names {
			if n.Name != "" && !containsFold(h.Names, n.Name) {
				h.Names = append(h.Names, n.Name)
				changed = true
			}
			switch n.Source {
			case names.SourceMDNS:
				changed = addReason(h, "mdns") || changed
			case names.SourceNetBIOS:
				changed = addReason(h, "netbios") || changed
			}
		}
		if h.Hostname == "" && len(h.Names) > 0 {
			h.Hostname = h.Names[0]
		}
		if res.MAC != nil {
			changed = addReason(h, "netbios") || changed
			if tableClosed && h.MAC == nil {
				changed = setMAC(h, slices.Clone(res.MAC), MACFromNetBIOS) || changed
			}
		}
		return changed
	})
}

// portScan connects to the scan's ports on addr.
func (x *enricher) portScan(ctx context.Context, addr netip.Addr) {
	res := probePorts(ctx, x.env.dial, addr, x.ports, x.portTimeout, x.connSem)
	if len(res.Open) == 0 && !res.Refused {
		return
	}
	x.update(addr, func(h *Host) bool {
		changed := false
		if len(res.Open) > 0 {
			h.Ports = res.Open
			changed = addReason(h, "tcp-open")
		}
		if res.Refused {
			changed = addReason(h, "tcp-rst") || changed
		}
		return changed
	})
}

// startAllNodes starts the ff02::1 probe as a worker, if the scan wants
// it, some interface qualifies and the method can send to a group.
func (x *enricher) startAllNodes(ctx context.Context) bool {
	if !x.cfg.LinkLocal || len(x.view.allNodes) == 0 || x.env.openAllNodes == nil {
		return false
	}
	if x.method != icmpsock.Dgram && x.method != icmpsock.Raw {
		return false
	}
	go func() {
		defer func() { x.msgs <- enrichMsg{done: allNodesJob} }()
		conn, err := x.env.openAllNodes(x.method)
		if err != nil || conn == nil {
			return // no IPv6 neighbours is a poorer result, not a failed scan
		}
		defer conn.Close()
		skip := func(a netip.Addr) bool {
			_, self := x.view.self[a.WithZone("")]
			return self || x.targets.Contains(a)
		}
		pingAllNodes(ctx, conn, x.view.allNodes, skip, func(n neighbour6) {
			x.msgs <- enrichMsg{found: &n}
		})
	}()
	return true
}

// setMAC gives h a MAC address and its maker.
func setMAC(h *Host, mac net.HardwareAddr, source string) bool {
	if slices.Equal(h.MAC, mac) && h.MACSource == source {
		return false
	}
	h.MAC, h.MACSource = mac, source
	h.Vendor = ""
	if m, ok := oui.Default().Lookup(mac); ok {
		h.Vendor = m.Name // oui.PrivateName for a randomized address
	}
	return true
}

// addReason adds a sign of life to h.Reasons, once.
func addReason(h *Host, reason string) bool {
	if reason == "" || slices.Contains(h.Reasons, reason) {
		return false
	}
	h.Reasons = append(h.Reasons, reason)
	return true
}

// addNote adds a remark to h.Note, once.
func addNote(h *Host, note string) bool {
	if strings.Contains(h.Note, note) {
		return false
	}
	if h.Note != "" {
		h.Note += "; "
	}
	h.Note += note
	return true
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// clone copies h with slices of its own, so that an emitted Host never
// shares memory with the record that later facts change.
func (h Host) clone() Host {
	h.MAC = slices.Clone(h.MAC)
	h.Ports = slices.Clone(h.Ports)
	h.Names = slices.Clone(h.Names)
	h.Reasons = slices.Clone(h.Reasons)
	return h
}

// sleep waits d, or less if ctx ends first, and reports whether it waited
// the full d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
