package scanner

// The scan engine.
//
// A sweep has two goroutines and no more, however many addresses it covers:
//
//   - The sender walks the targets lazily, one address at a time, and paces
//     every request through one token bucket (golang.org/x/time/rate). A
//     retry that has come due takes the next token before any new address,
//     so a slow link delays new hosts rather than starving old ones.
//   - The receiver, which is the goroutine that called Scan, reads the
//     Conn's Replies, gives up on silent hosts when their time is up, and
//     calls emit. Keeping the two apart is what lets exec and tcp Conns,
//     whose Send blocks while their pool is full, keep streaming: the pool
//     drains only when someone reads the answers.
//
// No goroutine waits out a host's timeout. Each host with a request out
// has a few bytes of state in a map (and leaves it the moment it has a
// verdict), and its next step sits in one of two FIFO queues:
//
//   - retries: (address, due) where due = send time + RetryInterval;
//   - expiries: (address, due) where due = send time + Timeout, pushed
//     after a host's last request.
//
// Each queue has one fixed delay and only the sender pushes onto it, in
// the order it sends, so due times rise along the queue: the head is
// always the next to come due, and no heap is needed. (One queue for both
// would not do: a retry pushed later can be due before an expiry pushed
// earlier.)
//
// A host's requests carry sequence numbers base+0, base+1, ... for its
// first request and each retry, where base is random per scan, so that two
// scans sharing a process (or a Conn) do not take each other's answers.
// A reply counts only if its address has a request out and its sequence
// number is one already sent to that address: replies from addresses never
// probed, duplicates, answers arriving after the host was found or given
// up on, and ICMP errors about other addresses all fall through the map.
//
// The scan is over when every address has been handed to Send and none
// is waiting any more; a retry still queued for a host that has answered
// meanwhile is dropped, not waited for.
//
// One mutex guards the map, the queues and the counters. It is never held
// across Send, emit or a channel operation, so neither side can stall the
// other through it.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"netscanner/probe"
	"netscanner/scanner/targets"
)

// progressEvery is the most often Progress events are emitted while a scan
// runs: often enough for a smooth bar, rarely enough to cost nothing.
const progressEvery = 50 * time.Millisecond

// slack is how far the engine lets a timer's work drift so that it can do
// it in batches: hosts are given up on, and retries sent, up to this much
// late (retries: early) rather than each on a timer of its own. At 100,000
// requests a second one timer per host would wake a goroutine every 10 µs;
// a millisecond is nothing next to a one-second timeout.
const slack = time.Millisecond

// execSlack extends the wait for Conns of the exec method: their clock
// starts when the ping process has started, some milliseconds (on a phone,
// a good part of a second) after Send returned.
const execSlack = 250 * time.Millisecond

// noTargets is Scan's error for an empty target set, as targets.Parse
// words it.
func noTargets() error {
	return &targets.Error{Reason: "no targets given", Err: targets.ErrNoTargets}
}

// ErrConnClosed reports that the Conn's Replies channel closed while the
// scan was still waiting for answers: someone closed the Conn under it.
var ErrConnClosed = errors.New("scanner: connection closed during the scan")

// Scan sends echo requests to every address in targets through conn and
// reports what it learns through emit, until every address has answered,
// been refused, or stayed silent for cfg.Timeout after its last request.
// A silent host gets cfg.Retries more requests, cfg.RetryInterval apart
// (at most cfg.Timeout), and all requests together keep to cfg.Rate per
// second. A zero Config means DefaultConfig; in any other, zero Timeout,
// RetryInterval and Rate take the defaults while zero Retries means none.
// cfg.MaxHosts is for targets.Parse: Scan scans what it is given. Conns of
// the exec method get a little longer than cfg.Timeout, as their clock
// starts with a ping process.
//
// Events arrive in order, all on the goroutine that called Scan: a
// HostFound the moment a host's first echo reply (or TCP answer) lands,
// its Hostname the name typed as its target, if it was one; Progress
// at most every 50 ms while the count of finished addresses
// moves, a last Progress when the scan ends (Done equals Total exactly
// then, and only then, for a scan that ran to the end), and Finished,
// always last, always exactly once, even when Scan fails. While emit runs,
// replies wait in the Conn's buffer, so emit should return quickly.
//
// A host that answers with an ICMP error, or that the local kernel refuses
// to send to (a *probe.SendError), is finished but not alive.
//
// When ctx ends, Scan stops sending at once and returns without waiting
// for answers still on their way: the Summary has Cancelled set, and the
// error is ctx.Err(). Any other error means the scan could not go on: an
// invalid cfg, a Send that failed for a reason other than the destination
// (such as a closed Conn), or Replies closing under the scan
// (ErrConnClosed).
//
// Scan does not close conn, and it leaves late answers unread in it: a
// Conn may serve several scans one after another.
//
// With cfg.Enrich set, each host's enrichment starts when it is found
// (past 128 hosts at once, when its turn comes; see Enrich) and runs
// beside the sweep; what it learns arrives as HostUpdated events (the
// last with Host.Enriched set), still on the caller's goroutine, and
// Finished waits for it at most Enrich.Wait after the sweep (see Enrich).
// Enrichment works in the network namespace of the calling thread.
func Scan(ctx context.Context, conn probe.Conn, targets *targets.Set, cfg Config, emit func(Event)) (Summary, error) {
	if targets.Len() == 0 {
		sum := Summary{Method: conn.Method()}
		emit(Event{Kind: Finished, Summary: &sum})
		return sum, noTargets()
	}
	withName := func(e Event) {
		if e.Kind == HostFound {
			e.Host.Hostname = targets.Name(e.Host.Addr)
		}
		emit(e)
	}
	// The neighbour table is opened here, on the caller's goroutine, so
	// that it is the table of the caller's network (or InNet's).
	var inNet func(func()) error
	if cfg.Enrich != nil {
		inNet = cfg.Enrich.InNet
	}
	env := cfg.silent
	if env == nil {
		env = systemSilentEnv(inNet)
	}
	silent, offLink := newSilentFinder(ctx, conn.Method(), targets, cfg, env)
	defer silent.close()
	if cfg.Enrich != nil {
		e := *cfg.Enrich
		e.silent = silent
		return scanEnriched(ctx, conn.Method(), targets, e, withName, func(emit func(Event)) (Summary, error) {
			return sweep(ctx, conn, targets.All(), targets.Len(), cfg, silent, offLink, emit)
		})
	}
	return sweep(ctx, conn, targets.All(), targets.Len(), cfg, silent, offLink, withName)
}

// withDefaults fills in what cfg leaves zero and refuses what makes no
// sense. A zero Config is DefaultConfig; otherwise Timeout, RetryInterval
// and Rate are filled in one by one when zero, while a zero Retries stays
// zero (no retries). A RetryInterval longer than Timeout is cut to
// Timeout: a retry then goes out as the previous request times out.
func (cfg Config) withDefaults() (Config, error) {
	def := DefaultConfig()
	if cfg == (Config{}) {
		return def, nil
	}
	switch {
	case cfg.Timeout < 0:
		return cfg, fmt.Errorf("scanner: Config.Timeout %v is negative", cfg.Timeout)
	case cfg.Retries < 0 || cfg.Retries > targets.MaxRetries:
		return cfg, fmt.Errorf("scanner: Config.Retries %d: want 0 to %d", cfg.Retries, targets.MaxRetries)
	case cfg.RetryInterval < 0:
		return cfg, fmt.Errorf("scanner: Config.RetryInterval %v is negative", cfg.RetryInterval)
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate):
		return cfg, fmt.Errorf("scanner: Config.Rate %v: want a positive rate", cfg.Rate)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = def.Timeout
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = def.RetryInterval
	}
	cfg.RetryInterval = min(cfg.RetryInterval, cfg.Timeout)
	if cfg.Rate == 0 {
		cfg.Rate = def.Rate
	}
	return cfg, nil
}

// pending is a host with a request out and no verdict yet.
type pending struct {
	sent     int       // requests sent so far: 1 + retries
	last     time.Time // when the latest was handed to Send
	deadline time.Time // when the host is given up on; zero until its last request is out
	first    time.Time // when the first was handed to Send
	// seen: the neighbour table proved the host before any answer
	// (silent.go); it is reported, and waits only for an echo reply
	// to add its round trip.
	seen bool
}

// due is a queue entry: what to do for addr, and when.
type due struct {
	addr netip.Addr
	at   time.Time
}

// fifo is a queue of due entries, oldest first.
type fifo struct {
	items []due
	head  int
}

func (q *fifo) push(d due) { q.items = append(q.items, d) }

func (q *fifo) peek() (due, bool) {
	if q.head == len(q.items) {
		return due{}, false
	}
	return q.items[q.head], true
}

func (q *fifo) pop() {
	q.items[q.head] = due{}
	q.head++
	// Slide the live part down once the dead part dominates, so the
	// backing array stays as large as the most entries ever waiting.
	if q.head > 64 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// scan is the state of one sweep shared by its sender and receiver.
type scan struct {
	conn   probe.Conn
	method probe.Method
	cfg    Config
	wait   time.Duration // from a host's last request to giving up on it
	base   uint16        // sequence number of every host's first request

	// Owned by the sender.
	limiter *rate.Limiter
	chunk   int // tokens taken from limiter at once
	tokens  int // tokens taken and not yet spent

	mu       sync.Mutex
	live     map[netip.Addr]pending
	retries  fifo // hosts whose next request is a retry
	expiries fifo // hosts whose last request is out
	// judging holds silent on-link hosts past their deadline, waiting
	// for the neighbour table's word (silent.go); judgeTail is the due
	// time of its last entry, which later ones never undercut.
	judging   fifo
	judgeTail time.Time
	// looks holds silent on-link hosts to look up in the table early,
	// RetryInterval after their first request; seenHosts the ones a
	// look found, as reported.
	looks     fifo
	seenHosts map[netip.Addr]Host
	settled   []netip.Addr  // seen hosts past their deadline, for enrichment to hear of
	silent    *silentFinder // nil: no address judged by the table
	started   int           // addresses handed to the sender's first Send
	done      int           // addresses with a verdict: found, refused or given up
	alive     int
	quiet     int // of alive: found by the neighbour table
}

// sweep is Scan on any sequence of total distinct addresses.
func sweep(ctx context.Context, conn probe.Conn, addrs iter.Seq[netip.Addr], total int, cfg Config,
	silent *silentFinder, offLink int, emit func(Event)) (Summary, error) {
	start := time.Now()
	sum := Summary{Total: total, Method: conn.Method(), OffLink: offLink}
	finish := func(err error) (Summary, error) {
		sum.Elapsed = time.Since(start)
		emit(Event{Kind: Finished, Summary: &sum})
		return sum, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return finish(err)
	}

	s := &scan{
		conn:   conn,
		method: conn.Method(),
		cfg:    cfg,
		wait:   cfg.Timeout,
		base:   uint16(rand.Uint32()),
		live:   make(map[netip.Addr]pending),
		silent: silent,
	}
	if s.method == probe.Exec {
		s.wait += execSlack
	}
	judge := newTCPJudge(s.method, total) // plausible.go
	// The bucket holds 10 ms of requests; the sender takes them a
	// millisecond's worth at a time (one token at a time below 1000 a
	// second), so that at high rates it sleeps once per chunk, not once
	// per request.
	if math.IsInf(cfg.Rate, 1) {
		s.limiter, s.chunk = rate.NewLimiter(rate.Inf, 1), 1
	} else {
		burst := max(1, int(min(cfg.Rate/100, 1e6)))
		s.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), burst)
		s.chunk = max(1, min(burst, int(cfg.Rate*slack.Seconds())))
	}

	// The expiry timer starts at one full wait: every expiry the sender
	// pushes later is due no sooner than that, so the timer never sleeps
	// past one (see expire).
	// With silent hosts to look for, it also never sleeps past an early
	// look (lookAfter), which the sender pushes the same way.
	expiry := time.NewTimer(s.timerCap(s.wait))
	defer expiry.Stop()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()

	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	sent := make(chan error, 1)
	go func() { sent <- s.send(sendCtx, addrs) }()
	sending := true

	// end stops the sender, so that no request goes out after Finished,
	// and emits the last Progress and Finished.
	end := func(err error) (Summary, error) {
		if sending {
			stopSending()
			<-sent
		}
		held, implausible, note := judge.finish()
		for _, h := range held {
			emit(Event{Kind: HostFound, Host: h})
		}
		sum.Implausible, sum.ImplausibleNote = implausible, note
		s.mu.Lock()
		done, alive := s.done, s.alive
		s.mu.Unlock()
		sum.Alive = alive - implausible
		s.mu.Lock()
		sum.Silent = s.quiet
		s.mu.Unlock()
		sum.SilentNote = silent.note(silent != nil && silent.probe != nil)
		emit(Event{Kind: Progress, Done: done, Total: total})
		return finish(err)
	}

	replies := conn.Replies()
	lastDone := 0
	for !s.complete(sending, total) {
		select {
		case r, ok := <-replies:
			if !ok {
				return end(ErrConnClosed)
			}
			h, found, late := s.match(r)
			if found {
				for _, h := range judge.admit(h) {
					emit(Event{Kind: HostFound, Host: h})
				}
			}
			if late {
				emit(Event{Kind: HostUpdated, Host: h})
			}
		case <-expiry.C:
			next := s.expire()
			if s.silent != nil {
				for _, ev := range s.judgeDue(ctx) {
					emit(ev)
				}
				if w, ok := s.nextJudge(); ok {
					next = min(next, w)
				}
				next = s.timerCap(next)
			}
			expiry.Reset(max(next, slack))
		case <-tick.C:
			if d := s.doneCount(); d != lastDone && d < total {
				lastDone = d
				emit(Event{Kind: Progress, Done: d, Total: total})
			}
		case err := <-sent:
			sending = false
			if err != nil {
				if ctx.Err() != nil {
					sum.Cancelled = true
					err = ctx.Err()
				}
				return end(err)
			}
		case <-ctx.Done():
			sum.Cancelled = true
			return end(ctx.Err())
		}
	}
	return end(nil)
}

// send is the sender goroutine: every address once, then the retries that
// are still owed, each when it comes due. It returns nil when nothing is
// left to send, ctx's error when ctx ended, and any other error when a
// Send failed for a reason other than its destination.
func (s *scan) send(ctx context.Context, addrs iter.Seq[netip.Addr]) error {
	for a := range addrs {
		// Each token goes to a due retry if there is one; the first token
		// with none goes to a.
		for {
			if err := s.token(ctx); err != nil {
				return err
			}
			ra, attempt, ok := s.nextRetry(time.Now(), 0)
			if !ok {
				break
			}
			if err := s.probe(ctx, ra, attempt); err != nil {
				return err
			}
		}
		s.mu.Lock()
		now := time.Now()
		s.live[a] = pending{sent: 1, last: now, first: now}
		s.started++
		s.mu.Unlock()
		if err := s.probe(ctx, a, 0); err != nil {
			return err
		}
	}

	// Every address is out. Retries are all that is left, due in order.
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		d, ok := s.peekRetry()
		if !ok {
			return nil
		}
		if wait := time.Until(d.at); wait > slack {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Send every retry due within the slack, then sleep again.
		for {
			if err := s.token(ctx); err != nil {
				return err
			}
			ra, attempt, ok := s.nextRetry(time.Now(), slack)
			if !ok {
				s.tokens++ // not spent: keep it for the next retry
				break
			}
			if err := s.probe(ctx, ra, attempt); err != nil {
				return err
			}
		}
	}
}

// token takes one request's worth of the rate, waiting for the limiter
// when the chunk in hand is spent. It returns ctx's error once ctx ends.
func (s *scan) token(ctx context.Context) error {
	if s.tokens == 0 {
		if err := s.limiter.WaitN(ctx, s.chunk); err != nil {
			return waitErr(ctx)
		}
		s.tokens = s.chunk
	}
	s.tokens--
	return nil
}

// waitErr turns a failed rate.Limiter.Wait into ctx's error. Wait fails
// early when ctx's deadline would pass before the next token; then the
// sender only waits for that deadline, while answers keep coming in.
func waitErr(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// peekRetry returns the next retry owed, dropping the entries of hosts
// that have answered meanwhile.
func (s *scan) peekRetry() (due, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		d, ok := s.retries.peek()
		if !ok {
			return due{}, false
		}
		if _, live := s.live[d.addr]; live {
			return d, true
		}
		s.retries.pop()
	}
}

// nextRetry takes the first retry due by now+early whose host is still
// waiting, counts the request as sent at now, and returns its address and
// attempt number. Entries of hosts that have answered meanwhile are
// dropped on the way.
func (s *scan) nextRetry(now time.Time, early time.Duration) (netip.Addr, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		d, ok := s.retries.peek()
		if !ok || d.at.After(now.Add(early)) {
			return netip.Addr{}, 0, false
		}
		s.retries.pop()
		p, live := s.live[d.addr]
		if !live {
			continue
		}
		attempt := p.sent
		p.sent++
		p.last = now
		s.live[d.addr] = p
		return d.addr, attempt, true
	}
}

// probe sends request number attempt to a, which is already counted as
// sent in s.live, and queues the host's next step.
func (s *scan) probe(ctx context.Context, a netip.Addr, attempt int) error {
	if err := s.conn.Send(ctx, a, s.base+uint16(attempt)); err != nil {
		return s.sendFailed(ctx, a, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, live := s.live[a]; !live {
		return nil // answered while Send ran
	}
	// The time is read under the lock so that pushes and the receiver's
	// reads of the clock are ordered; see expire.
	now := time.Now()
	if attempt == 0 && s.silent.covers(a) {
		s.looks.push(due{a, now.Add(s.silent.lookAfter)})
	}
	if attempt < s.cfg.Retries {
		s.retries.push(due{a, now.Add(s.cfg.RetryInterval)})
	} else {
		p := s.live[a]
		p.deadline = now.Add(s.wait)
		s.live[a] = p
		s.expiries.push(due{a, p.deadline})
	}
	return nil
}

// sendFailed judges a failed Send. The kernel refusing this destination
// is the host's verdict; anything else ends the scan. (Apart from probe,
// so that the error's address taken by errors.As costs no allocation on
// every successful Send.)
func (s *scan) sendFailed(ctx context.Context, a netip.Addr, err error) error {
	var refused *probe.SendError
	switch {
	case errors.As(err, &refused):
		s.mu.Lock()
		s.finish(a)
		s.mu.Unlock()
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("scanner: %w", err)
}

// finish records a verdict for a live host. Callers hold s.mu.
func (s *scan) finish(a netip.Addr) bool {
	if _, live := s.live[a]; !live {
		return false
	}
	delete(s.live, a)
	s.done++
	return true
}

// match judges one reply. It returns the host to report when the reply
// is the first echo answer of a host still waiting; an ICMP error for such
// a host finishes it quietly; everything else is ignored.
//
// The echo answer of a host the neighbour table proved earlier (seen)
// comes back as late: the host as reported, with the answer's round
// trip and TTL, and ReasonEchoReply, for a HostUpdated.
func (s *scan) match(r probe.Reply) (h Host, found, late bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, live := s.live[r.Addr]; live && p.seen {
		if attempt := int(r.Seq - s.base); attempt >= p.sent || r.Err != nil ||
			!p.deadline.IsZero() && time.Now().After(p.deadline) {
			return Host{}, false, false
		}
		s.finish(r.Addr)
		s.quiet-- // it answers after all
		h := s.seenHosts[r.Addr]
		delete(s.seenHosts, r.Addr)
		// It answers pings after all: the better word on why it is up.
		h.RTT, h.TTL, h.Reason = r.RTT, r.TTL, ReasonEchoReply
		return h, false, true
	}
	h, found = s.matchFirst(r)
	return h, found, false
}

// matchFirst is match for a host not yet reported. Callers hold s.mu.
func (s *scan) matchFirst(r probe.Reply) (Host, bool) {
	p, live := s.live[r.Addr]
	if !live {
		return Host{}, false // never probed, or already finished
	}
	if attempt := int(r.Seq - s.base); attempt >= p.sent {
		return Host{}, false // not a request of ours to this host
	}
	if !p.deadline.IsZero() && time.Now().After(p.deadline) {
		// Too late: expire has only not got to this host yet. Whether
		// an answer counts must not depend on which of two ready
		// channels the receiver happened to read first.
		return Host{}, false
	}
	s.finish(r.Addr)
	if r.Err != nil {
		return Host{}, false
	}
	s.alive++
	h := Host{Addr: r.Addr, RTT: r.RTT, TTL: r.TTL, Method: r.Method, Reason: Reason(r.Reason)}
	if h.RTT <= 0 && r.Seq == s.base+uint16(p.sent-1) {
		h.RTT = time.Since(p.last) // the Conn could not tell; close enough
	}
	if h.Method == "" {
		h.Method = s.method
	}
	if h.Reason == "" {
		h.Reason = ReasonEchoReply
	}
	return h, true
}

// expire gives up on every host whose last request has gone unanswered
// for s.wait, and returns how long until the next one is due.
//
// With nothing queued it returns a full s.wait. That is not too late (but
// for the moment until the caller resets its timer): the sender reads the
// clock under s.mu when it pushes, after this call released it, so
// whatever it pushes is due at least s.wait from now.
func (s *scan) expire() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for {
		d, ok := s.expiries.peek()
		if !ok {
			return s.wait
		}
		if d.at.After(now) {
			return d.at.Sub(now)
		}
		s.expiries.pop()
		if p, live := s.live[d.addr]; live && p.seen {
			s.finish(d.addr) // reported already; no echo answer came
			delete(s.seenHosts, d.addr)
			if s.silent.enriched {
				s.settled = append(s.settled, d.addr)
			}
			continue
		} else if live && s.silent.covers(d.addr) {
			// On-link and silent: the neighbour table decides.
			at := later(s.silent.judgeAt(d.addr, p.first), d.at, s.judgeTail)
			s.judgeTail = at
			s.judging.push(due{d.addr, at})
			continue
		}
		s.finish(d.addr)
	}
}

// timerCap bounds a sleep of the receiver's timer by the early look's
// delay, with silent hosts to look for: looks the sender pushes meanwhile
// are due no sooner than that.
func (s *scan) timerCap(d time.Duration) time.Duration {
	if s.silent == nil {
		return d
	}
	return min(d, s.silent.lookAfter)
}

// nextJudge returns how long until silent hosts are next to be judged,
// if any wait.
func (s *scan) nextJudge() (time.Duration, bool) {
	s.mu.Lock()
	d, ok := s.judging.peek()
	l, lok := s.looks.peek()
	s.mu.Unlock()
	switch {
	case !ok && !lok:
		return 0, false
	case !ok || lok && l.at.Before(d.at):
		d = l
	}
	return time.Until(later(d.at, s.silent.nextRead())), true
}

// judgeDue judges the silent on-link hosts whose time has come, with one
// read of the neighbour table, and returns those it proves alive: the
// early looks' (which stay live, seen, for an echo answer to add its
// round trip) and those past their deadline. Of the latter, those only
// TCP can settle go to the enrichment's probes, if there are any. The
// table is read without s.mu held.
func (s *scan) judgeDue(ctx context.Context) []Event {
	var evs []Event
	s.mu.Lock()
	// Early-found hosts whose deadline passed without an echo answer:
	// enrichment, which held them open for one, may close them.
	for _, a := range s.settled {
		evs = append(evs, Event{Kind: sweepSettled, Host: Host{Addr: a}})
	}
	s.settled = s.settled[:0]
	s.mu.Unlock()
	now := time.Now()
	if now.Before(s.silent.nextRead()) {
		return evs
	}
	var addrs []netip.Addr
	s.mu.Lock()
	for {
		d, ok := s.judging.peek()
		if !ok || d.at.After(now) {
			break
		}
		s.judging.pop()
		if _, live := s.live[d.addr]; live {
			addrs = append(addrs, d.addr)
		}
	}
	judged := len(addrs)
	for {
		d, ok := s.looks.peek()
		if !ok || d.at.After(now) {
			break
		}
		s.looks.pop()
		if p, live := s.live[d.addr]; live && !p.seen {
			addrs = append(addrs, d.addr)
		}
	}
	s.mu.Unlock()
	if len(addrs) == 0 {
		return evs
	}
	verdicts := s.silent.judge(ctx, addrs)
	var probe []netip.Addr
	s.mu.Lock()
	for i, v := range verdicts {
		if i >= judged { // an early look: report it, keep it waiting
			p, live := s.live[v.addr]
			if !v.found || !live || p.seen {
				continue
			}
			p.seen = true
			s.live[v.addr] = p
			s.alive++
			s.quiet++
			h := Host{Addr: v.addr, Method: s.method, Reason: ReasonNeighbour}
			setMAC(&h, slices.Clone(v.entry.MAC), MACFromNeighbours)
			if s.seenHosts == nil {
				s.seenHosts = make(map[netip.Addr]Host)
			}
			s.seenHosts[v.addr] = h
			kind := HostFound
			if s.silent.enriched {
				kind = foundEarly
			}
			evs = append(evs, Event{Kind: kind, Host: h})
			continue
		}
		if !s.finish(v.addr) {
			continue
		}
		switch {
		case v.found:
			s.alive++
			s.quiet++
			h := Host{Addr: v.addr, Method: s.method, Reason: ReasonNeighbour}
			setMAC(&h, slices.Clone(v.entry.MAC), MACFromNeighbours)
			evs = append(evs, Event{Kind: HostFound, Host: h})
		case v.probe && s.silent.probe != nil:
			probe = append(probe, v.addr)
		}
	}
	s.mu.Unlock()
	for _, a := range probe {
		s.silent.probe(a)
	}
	return evs
}

// complete tells whether the scan is over: every address has been handed
// out (or the sender has stopped) and none is waiting for an answer. The
// sender may still be waiting to send a retry the host no longer needs.
func (s *scan) complete(sending bool, total int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return (!sending || s.started >= total) && len(s.live) == 0
}

func (s *scan) doneCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}
