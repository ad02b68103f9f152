package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sync/semaphore"

	"netscanner/icmpsock"
	"netscanner/scanner/targets"
)

// jobKind tells a worker's job.
type jobKind int

const (
	linkJob     jobKind = iota + 1 // MAC address, then ports
	namesJob                       // names
	allNodesJob                    // the ff02::1 probe
	probeJob                       // TCP probes of a silent on-link address (silent.go)
)

// probeCandidate is the Event kind, never emitted, by which the sweep
// hands enrichment a silent on-link address for its TCP probes.
const probeCandidate EventKind = -1

// enrichMsg is what a worker sends the scan's goroutine.
type enrichMsg struct {
	addr  netip.Addr
	apply func(*Host) bool // applies a fact; reports whether anything changed
	found *neighbour6      // a host the all-nodes probe found
	ports *portResult      // a probe job's outcome
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
	portsDone   bool // found by TCP probes: its link job need not probe again
}

// enricher is the state of one scan's enrichment.
type enricher struct {
	cfg         Enrich
	ports       []uint16
	portTimeout time.Duration
	env         *enrichEnv
	view        localView
	method      icmpsock.Method
	targets     *targets.Set
	connSem     *semaphore.Weighted // TCP connects in flight
	msgs        chan enrichMsg
}

// newEnricher checks e and learns what it needs about this machine.
func newEnricher(ctx context.Context, e Enrich, method icmpsock.Method, t *targets.Set) (*enricher, error) {
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
		x.env = systemEnv(e.Resolver, e.InNet)
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
func scanEnriched(ctx context.Context, method icmpsock.Method, targets *targets.Set, e Enrich, emit func(Event),
	sweep func(emit func(Event)) (Summary, error)) (Summary, error) {
	start := time.Now()
	x, err := newEnricher(ctx, e, method, targets)
	if err != nil {
		sum := Summary{Total: targets.Len(), Method: method}
		emit(Event{Kind: Finished, Summary: &sum})
		return sum, err
	}
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
	if e.silent != nil && len(x.ports) > 0 && x.env.dial != nil {
		e.silent.probe = func(a netip.Addr) { events <- Event{Kind: probeCandidate, Host: Host{Addr: a}} }
	}
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
	probes := &lineUp{limit: enrichHosts}
	probeFound := 0 // hosts the probes found
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
			go x.link(ectx, a, rec.Self, !rec.portsDone)
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
	found := func(h Host, portsDone bool) {
		x.mark(&h)
		rec := &enrolled{Host: h, portsDone: portsDone}
		hosts[h.Addr] = rec
		// Reported before its jobs are lined up: however long the line,
		// a host is streamed the moment it is found.
		emit(Event{Kind: HostFound, Host: h.clone()})
		if h.Implausible {
			// No device to learn about (plausible.go): closed at once.
			rec.jobs = 1
			jobDone(rec)
			return
		}
		enqueue(links, linkJob, rec)
	}
	handle := func(ev Event) {
		switch ev.Kind {
		case HostFound:
			found(ev.Host, false)
		case probeCandidate:
			if ectx.Err() == nil && probes.add(ev.Host.Addr) {
				go x.discover(ectx, ev.Host.Addr)
			}
		default:
			emit(ev)
		}
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
		probes.drop()
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
	// startWait starts Wait once the sweep is over and no TCP probe
	// still looks for a host: those are discovery, which Wait does not
	// cut short.
	waiting := false
	startWait := func() {
		if waiting && !probes.busy() {
			waiting = false
			wait.Reset(x.cfg.Wait)
			deadline = wait.C
		}
	}
	for sweeping || allNodes || links.busy() || lookups.busy() || probes.busy() {
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
				waiting = true
				startWait()
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
			case m.done == probeJob:
				if ectx.Err() != nil {
					probes.drop()
				}
				if next, ok := probes.done(); ok {
					go x.discover(ectx, next)
				}
				if r := m.ports; r != nil && (len(r.Open) > 0 || r.Refused) {
					if _, dup := hosts[m.addr]; !dup {
						probeFound++
						h := Host{Addr: m.addr, Method: method, Reason: ReasonTCPReset, Ports: r.Open}
						if len(r.Open) > 0 {
							h.Reason = ReasonTCPOpen
						}
						if r.Refused {
							addReason(&h, ReasonTCPReset)
						}
						found(h, true)
					}
				}
				startWait()
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
						Reason: ReasonEchoReply, Note: "answered a ping to ff02::1 (all IPv6 hosts on the link)",
					}, false)
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
	sum.Alive += probeFound
	sum.Silent += probeFound
	sum.Elapsed = time.Since(start)
	emit(Event{Kind: Finished, Summary: &sum})
	return sum, res.err
}

// lineUp admits enrichment jobs, one per host, at most limit at a time, in
// the order they come; the rest wait in line as bare addresses, holding no
// goroutine, no socket and no stack. It belongs to the scan's goroutine,
// which alone starts and ends jobs, so it needs no lock: a semaphore would
// make that goroutine block, and it must keep streaming events.
type lineUp struct {
	limit   int
	running int
	waiting []netip.Addr
}

// add lines up a job for addr and reports whether it may start now; if
// so, it counts as running until done.
func (q *lineUp) add(addr netip.Addr) bool {
	if q.running < q.limit {
		q.running++
		return true
	}
	q.waiting = append(q.waiting, addr)
	return false
}

// done ends a running job and returns the next in line, which now counts
// as running, if one is waiting.
func (q *lineUp) done() (netip.Addr, bool) {
	if len(q.waiting) == 0 {
		q.running--
		return netip.Addr{}, false
	}
	next := q.waiting[0]
	q.waiting = q.waiting[1:]
	return next, true
}

// drop empties the line and returns the jobs that were waiting in it,
// oldest first; running jobs still end through done.
func (q *lineUp) drop() []netip.Addr {
	w := q.waiting
	q.waiting = nil
	return w
}

// busy reports whether any job is running or waiting.
func (q *lineUp) busy() bool { return q.running > 0 || len(q.waiting) > 0 }
