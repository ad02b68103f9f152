package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/sync/semaphore"

	"netscanner/probe"
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

// Event kinds, never emitted, by which the sweep tells enrichment about
// silent on-link hosts (silent.go).
const (
	// probeCandidate: an address for the TCP probes to settle.
	probeCandidate EventKind = -1 - iota
	// foundEarly: a HostFound the neighbour table made before the
	// sweep gave up waiting for an echo answer, which may still come
	// (as a HostUpdated) or not (sweepSettled). Its enrichment stays
	// open until then.
	foundEarly
	// sweepSettled: a foundEarly host's echo deadline passed unanswered.
	sweepSettled
)

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
	method      probe.Method
	targets     *targets.Set
	connSem     *semaphore.Weighted // TCP connects in flight
	msgs        chan enrichMsg
}

// newEnricher checks e and learns what it needs about this machine.
func newEnricher(ctx context.Context, e Enrich, method probe.Method, t *targets.Set) (*enricher, error) {
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
func scanEnriched(ctx context.Context, method probe.Method, targets *targets.Set, e Enrich, emit func(Event),
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
	if e.silent != nil {
		e.silent.enriched = true
		if len(x.ports) > 0 && x.env.dial != nil {
			e.silent.probe = func(a netip.Addr) { events <- Event{Kind: probeCandidate, Host: Host{Addr: a}} }
		}
	}
	// awaiting holds the foundEarly hosts the sweep may still update.
	awaiting := map[netip.Addr]*enrolled{}
	go func() {
		sum, err := sweep(func(ev Event) {
			if ev.Kind != Finished { // ours comes once enrichment is done
				events <- ev
			}
		})
		swept <- outcome{sum, err}
	}()

	hosts := make(map[netip.Addr]*enrolled)
	clock := newJobClock(e.Wait == 0)
	defer clock.stop()
	links := &lineUp{limit: enrichHosts}
	lookups := &lineUp{limit: nameLookups}
	probes := &lineUp{limit: enrichHosts}
	probeFound := 0 // hosts the probes found
	allNodes := x.startAllNodes(ectx)
	rounds := x.startRounds(ectx)
	defer rounds.close()
	roundsStart := time.Now()

	// jobDone closes one of rec's jobs; the host's enrichment is over
	// with its last.
	jobDone := func(rec *enrolled) {
		if rec.jobs--; rec.jobs == 0 {
			rec.Enriched = true
			identifyHost(&rec.Host)
			emit(Event{Kind: HostUpdated, Host: rec.clone()})
		}
	}
	run := func(kind jobKind, a netip.Addr) {
		jctx := clock.start(ectx, kind, a)
		switch rec := hosts[a]; kind {
		case linkJob:
			go x.link(jctx, a, rec.Self, !rec.portsDone)
		case namesJob:
			go x.names(jctx, a, rec.tableClosed)
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
		if !h.Implausible {
			rounds.apply(&rec.Host)
		}
		identifyHost(&rec.Host)
		// Reported before its jobs are lined up: however long the line,
		// a host is streamed the moment it is found.
		emit(Event{Kind: HostFound, Host: rec.clone()})
		if h.Implausible {
			// No device to learn about (plausible.go): closed at once.
			rec.jobs = 1
			jobDone(rec)
			return
		}
		if !rounds.over {
			// Its enrichment ends with the rounds' too.
			rec.jobs++
			rounds.waiting = append(rounds.waiting, h.Addr)
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
		case foundEarly:
			found(ev.Host, false)
			rec := hosts[ev.Host.Addr]
			rec.jobs++ // the sweep's last word, below
			awaiting[rec.Addr] = rec
		case HostUpdated, sweepSettled:
			// The sweep's last word on a foundEarly host: it answered
			// an echo request after all, or not.
			rec := awaiting[ev.Host.Addr]
			if rec == nil {
				return
			}
			delete(awaiting, rec.Addr)
			if ev.Kind == HostUpdated {
				rec.RTT, rec.TTL, rec.Reason = ev.Host.RTT, ev.Host.TTL, ev.Host.Reason
				// Reason first in Reasons, as always.
				rec.Reasons = append([]Reason{rec.Reason}, slices.DeleteFunc(rec.Reasons, func(r Reason) bool { return r == rec.Reason })...)
				emit(Event{Kind: HostUpdated, Host: rec.clone()})
			}
			jobDone(rec)
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
	for sweeping || allNodes || !rounds.over || links.busy() || lookups.busy() || probes.busy() {
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
			for a, rec := range awaiting { // a sweep cut short says no more
				delete(awaiting, a)
				jobDone(rec)
			}
			if res.err != nil || ctx.Err() != nil {
				cancel() // a failed or cancelled scan waits for nothing
			} else {
				waiting = true
				startWait()
				clock.sweepOver()
				if clock.on {
					// The sweep's sockets and table are gone: the line
					// drains twice as wide, each job on the tail's bound.
					for _, a := range links.grow(2 * enrichHosts) {
						run(linkJob, a)
					}
					for _, a := range lookups.grow(2 * nameLookups) {
						run(namesJob, a)
					}
				}
				if !rounds.over && clock.on {
					// One round of each, whoever answers; after the
					// sweep, no longer than that.
					clock.after(max(time.Until(roundsStart.Add(tailMinRound)), tailAfterSweep), rounds.close)
				}
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
			case m.done == roundsJob:
				rounds.end()
				for _, a := range rounds.waiting {
					rec := hosts[a]
					if rounds.apply(&rec.Host) && rec.jobs > 1 {
						identifyHost(&rec.Host)
						emit(Event{Kind: HostUpdated, Host: rec.clone()})
					}
					jobDone(rec)
				}
				rounds.waiting = nil
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
				clock.done(m.done, m.addr)
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
					identifyHost(&rec.Host)
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

// grow raises the line's limit and returns the jobs that may start now,
// oldest first; they count as running.
func (q *lineUp) grow(limit int) []netip.Addr {
	q.limit = max(q.limit, limit)
	n := min(q.limit-q.running, len(q.waiting))
	if n <= 0 {
		return nil
	}
	start := q.waiting[:n:n]
	q.waiting = q.waiting[n:]
	q.running += n
	return start
}

// busy reports whether any job is running or waiting.
func (q *lineUp) busy() bool { return q.running > 0 || len(q.waiting) > 0 }

// jobClock cuts enrichment jobs short after the sweep (Enrich.Wait 0):
// each running job then ends tailMinJob after it started or
// tailAfterSweep after the sweep ended, whichever is later; jobs started
// after the sweep get the same. Before the sweep ends, jobs run on their
// own bounds (name lookup and connect timeouts). It belongs to the scan's
// goroutine.
type jobClock struct {
	on       bool
	sweepEnd time.Time // zero while sweeping
	running  map[jobID]runningJob
	timers   []*time.Timer
}

type jobID struct {
	kind jobKind
	addr netip.Addr
}

type runningJob struct {
	started time.Time
	cancel  context.CancelFunc
}

func newJobClock(on bool) *jobClock {
	return &jobClock{on: on, running: map[jobID]runningJob{}}
}

// start returns the context a job runs with.
func (c *jobClock) start(ctx context.Context, kind jobKind, addr netip.Addr) context.Context {
	if !c.on {
		return ctx
	}
	jctx, cancel := context.WithCancel(ctx)
	now := time.Now()
	c.running[jobID{kind, addr}] = runningJob{started: now, cancel: cancel}
	if !c.sweepEnd.IsZero() {
		c.after(c.left(now), cancel)
	}
	return jctx
}

// left is how long a job started at started may still run, once the
// sweep is over.
func (c *jobClock) left(started time.Time) time.Duration {
	end := started.Add(tailMinJob)
	if t := c.sweepEnd.Add(tailAfterSweep); t.After(end) {
		end = t
	}
	return time.Until(end)
}

// after runs fn after d (at once if d is not positive).
func (c *jobClock) after(d time.Duration, fn func()) {
	c.timers = append(c.timers, time.AfterFunc(max(d, 0), fn))
}

// sweepOver starts the tail: every running job gets its end.
func (c *jobClock) sweepOver() {
	if !c.on {
		return
	}
	c.sweepEnd = time.Now()
	for _, j := range c.running {
		c.after(c.left(j.started), j.cancel)
	}
}

// done forgets a job that has ended.
func (c *jobClock) done(kind jobKind, addr netip.Addr) {
	if j, ok := c.running[jobID{kind, addr}]; ok {
		j.cancel()
		delete(c.running, jobID{kind, addr})
	}
}

// stop releases the timers and the contexts of jobs still running.
func (c *jobClock) stop() {
	for _, t := range c.timers {
		t.Stop()
	}
	for _, j := range c.running {
		j.cancel()
	}
}
