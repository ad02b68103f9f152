package dnssd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// ErrNoLinks is returned by Start when no interface of the Config has an
// address to browse from, or no query socket could be opened on any.
var ErrNoLinks = errors.New("dnssd: no link to browse")

// maxErrors caps Stats.Errors.
const maxErrors = 8

// Browser is one browse round. Its methods are safe for concurrent use.
type Browser struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	results map[netip.Addr][]Service
	stats   Stats

	dropped atomic.Int64 // datagrams dropped because the loop was behind
}

// Start opens the sockets on the calling thread (or through cfg.InNet), sends
// the first queries and returns while the round runs; it ends by itself
// (see Config.Duration and Config.Quiet), when ctx ends, or on Close.
func Start(ctx context.Context, cfg Config) (*Browser, error) {
	if cfg.Scanned == nil {
		return nil, errors.New("dnssd: Config.Scanned is required")
	}
	if cfg.Duration <= 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = DefaultQuiet
	}
	if cfg.Resend <= 0 {
		cfg.Resend = DefaultResend
	}
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = DefaultMaxHosts
	}
	for _, t := range cfg.Types {
		if _, ok := serviceType(t + "." + localDomain); !ok {
			return nil, fmt.Errorf("dnssd: service type %q: want the form _name._tcp or _name._udp", t)
		}
	}
	b := &Browser{cfg: cfg, done: make(chan struct{}), results: make(map[netip.Addr][]Service)}
	eps, errs := b.open(ctx)
	b.stats.Errors = errs
	queries := 0
	for _, ep := range eps {
		queries++
		if ep.shared {
			b.stats.Listening = true
		}
	}
	if queries == 0 {
		for _, ep := range eps {
			ep.sock.Close()
		}
		return nil, fmt.Errorf("%w: %w", ErrNoLinks, errors.Join(errs...))
	}
	ctx, b.cancel = context.WithTimeout(ctx, cfg.Duration)
	s := newSession(&b.cfg, dns.Id())
	pkts := make(chan packet, 64)
	var readers sync.WaitGroup
	for _, ep := range eps {
		readers.Go(func() { b.read(ep, pkts) })
	}
	go func() {
		defer close(b.done)
		b.run(ctx, s, eps, pkts)
		for _, ep := range eps {
			ep.sock.Close()
		}
		readers.Wait()
		b.mu.Lock()
		b.stats.Capped += int(b.dropped.Load())
		b.mu.Unlock()
	}()
	return b, nil
}

// groupQuery is a set of questions due to go to every link's group.
type groupQuery struct {
	at time.Time
	qs []dns.Question
	qu bool // ask for unicast answers
}

// run is the round: it sends what is due and reads what comes until the
// round is over.
func (b *Browser) run(ctx context.Context, s *session, eps []*endpoint, pkts <-chan packet) {
	start := time.Now()
	last := start // last datagram sent, or answer that told something new
	first := s.takeQueued(true)
	// The first query asks for unicast answers, which a responder sends
	// even for records it multicast less than a second ago (RFC 6762
	// section 5.4), as it does when it has just announced them; the
	// second asks for multicast ones, in case unicast ones to port 5353
	// went to another socket sharing it.
	pending := []groupQuery{{start, first, true}, {start.Add(b.cfg.Resend), first, false}}
	due := make(map[*source]struct{})
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		// The group questions that are due.
		keep := pending[:0]
		for _, m := range pending {
			if now.Before(m.at) {
				keep = append(keep, m)
				continue
			}
			for _, ep := range eps {
				b.sendGroup(s, ep, m.qs, m.qu)
			}
			last = now
		}
		pending = keep
		// Direct questions to hosts whose answers left something out.
		for src := range due {
			if now.Before(src.next) {
				continue
			}
			qs := src.questions()
			if len(qs) == 0 || src.tries >= maxTries {
				delete(due, src)
				continue
			}
			if src.ep != nil {
				b.sendDirect(s, src, qs)
				last = now
			}
			src.tries++
			src.next = now.Add(b.cfg.Resend)
		}
		b.mu.Lock()
		b.stats.Sent, b.stats.Received, b.stats.Accepted = s.stats.Sent, s.stats.Received, s.stats.Accepted
		b.stats.NotScanned, b.stats.Rejected, b.stats.Capped = s.stats.NotScanned, s.stats.Rejected, s.stats.Capped
		b.stats.Truncated, b.stats.LastReject = s.stats.Truncated, s.stats.LastReject
		for _, err := range s.stats.Errors {
			if len(b.stats.Errors) < maxErrors {
				b.stats.Errors = append(b.stats.Errors, err)
			}
		}
		s.stats.Errors = nil
		b.stats.Elapsed = now.Sub(start)
		b.mu.Unlock()

		// When to look again: the next send, or the end of the quiet.
		wake := last.Add(b.cfg.Quiet)
		if len(pending) == 0 && len(due) == 0 && !now.Before(wake) {
			b.finish(s, start)
			return
		}
		for _, m := range pending {
			if m.at.Before(wake) {
				wake = m.at
			}
		}
		for src := range due {
			if src.next.Before(wake) {
				wake = src.next
			}
		}
		timer.Reset(max(time.Until(wake), 0))
		select {
		case <-ctx.Done():
			b.finish(s, start)
			return
		case <-timer.C:
		case p := <-pkts:
			// Only news keeps the round going: a responder repeating
			// its announcements, or answering someone else's queries
			// with what it told us already, does not.
			src := s.handle(p)
			if len(s.queued) > 0 {
				last = time.Now()
				q := s.takeQueued(false)
				pending = append(pending, groupQuery{last, q, true}, groupQuery{last.Add(b.cfg.Resend), q, false})
			}
			if src == nil {
				continue
			}
			last = time.Now()
			b.publish(src)
			if src.tries < maxTries && len(src.questions()) > 0 {
				if _, ok := due[src]; !ok {
					src.next = last.Add(followDelay)
					due[src] = struct{}{}
				}
			}
		}
	}
}

// finish records the round's final figures.
func (b *Browser) finish(s *session, start time.Time) {
	foreign := 0
	for _, src := range s.sources {
		foreign += src.foreign
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Foreign = foreign
	b.stats.Elapsed = time.Since(start)
}

// publish stores src's services if they changed, and tells OnUpdate.
func (b *Browser) publish(src *source) {
	svcs := src.services()
	if slices.EqualFunc(svcs, src.shown, sameService) {
		return
	}
	src.shown = svcs
	b.mu.Lock()
	if len(svcs) == 0 {
		delete(b.results, src.addr)
	} else {
		b.results[src.addr] = svcs
	}
	b.mu.Unlock()
	if b.cfg.OnUpdate != nil {
		b.cfg.OnUpdate(src.addr, cloneServices(svcs))
	}
}

func sameService(a, b Service) bool {
	return a.Type == b.Type && a.Instance == b.Instance && a.Host == b.Host && a.Port == b.Port && maps.Equal(a.TXT, b.TXT)
}

func cloneServices(svcs []Service) []Service {
	out := slices.Clone(svcs)
	for i := range out {
		out[i].TXT = maps.Clone(out[i].TXT)
	}
	return out
}

// Done is closed when the round is over and its sockets are closed.
func (b *Browser) Done() <-chan struct{} { return b.done }

// Wait waits until the round is over, or ctx ends.
func (b *Browser) Wait(ctx context.Context) error {
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends the round now and waits until its sockets are closed. What
// was learnt stays available.
func (b *Browser) Close() {
	b.cancel()
	<-b.done
}

// Services returns the services credited to addr so far: the final list
// once Done is closed. A link-local address needs its zone (the interface
// name, or its index); one without zone matches on any link only if it is
// there on exactly one.
func (b *Browser) Services(addr netip.Addr) []Service {
	b.mu.Lock()
	defer b.mu.Unlock()
	addr = addr.Unmap()
	if !(addr.Is6() && addr.IsLinkLocalUnicast()) {
		return cloneServices(b.results[addr.WithZone("")])
	}
	if z := addr.Zone(); z != "" {
		for _, l := range b.cfg.Links {
			if z == l.Name || z == strconv.Itoa(l.Index) {
				return cloneServices(b.results[addr.WithZone(l.Name)])
			}
		}
		return nil
	}
	var found []Service
	n := 0
	for _, l := range b.cfg.Links {
		if svcs, ok := b.results[addr.WithZone(l.Name)]; ok {
			found, n = svcs, n+1
		}
	}
	if n != 1 {
		return nil
	}
	return cloneServices(found)
}

// Lookup waits until the round is over (or ctx ends) and returns the
// services credited to addr, as Services does.
func (b *Browser) Lookup(ctx context.Context, addr netip.Addr) []Service {
	_ = b.Wait(ctx)
	return b.Services(addr)
}

// All returns every address credited with services so far, and its
// services.
func (b *Browser) All() map[netip.Addr][]Service {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[netip.Addr][]Service, len(b.results))
	for a, svcs := range b.results {
		out[a] = cloneServices(svcs)
	}
	return out
}

// Stats returns the round's figures so far.
func (b *Browser) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.stats
	st.Errors = slices.Clone(st.Errors)
	return st
}
