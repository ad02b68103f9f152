package scanner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"netscanner/probe"
)

// fakeHost is how one address behaves behind a fakeConn. The zero value is
// a host that answers every request at once.
type fakeHost struct {
	Delay     time.Duration // each answer comes this long after its request
	DropFirst int           // the first DropFirst requests go unanswered
	Answers   int           // answer only this many requests (0: all)
	Dup       int           // extra copies of every answer
	ICMPErr   bool          // answer with "host unreachable" from a router
	Refuse    bool          // Send fails with a *probe.SendError
	Fail      bool          // Send fails with a plain error (a broken Conn)
	Reason    string        // Reply.Reason of the answers; "" leaves it to the engine
	TTL       int
	SeqOffset uint16 // answers carry the request's sequence number plus this
}

// fakeConn is an probe.Conn that sends nothing. Addresses in hosts
// answer as their fakeHost says; all others stay silent. One goroutine
// delivers every answer at its time, so a /16 of answers costs one
// goroutine, as a socket's reader would.
//
// With a pool (newFakeConn's poolSize > 0) Send behaves like the exec and
// tcp methods: it blocks while poolSize requests are unsettled, and a
// request is settled only once its answers were delivered, or after hold
// if it gets none, like a ping process waiting out its timeout.
type fakeConn struct {
	method  probe.Method
	hosts   map[netip.Addr]fakeHost
	pool    chan struct{} // nil: Send never blocks
	hold    time.Duration // how long an unanswered request holds its slot
	replies chan probe.Reply
	wake    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup

	mu        sync.Mutex
	queue     schedule
	requests  map[netip.Addr][]uint16 // sequence numbers sent, per address
	sends     int
	inSend    int                // Sends running now
	blocked   int                // Sends that found the pool full
	delivered map[netip.Addr]int // replies taken off Replies, per address
	closed    bool
	onSend    func(n int) // called after the nth Send, outside mu
	lean      bool        // keep no per-address records (benchmarks)
	closeOnce sync.Once
}

// newFakeConn starts a fakeConn. replyBuffer is the capacity of Replies
// (0: every answer waits for the reader, the hardest case).
func newFakeConn(hosts map[netip.Addr]fakeHost, replyBuffer, poolSize int, hold time.Duration) *fakeConn {
	c := &fakeConn{
		method:    probe.Raw,
		hosts:     hosts,
		hold:      hold,
		replies:   make(chan probe.Reply, replyBuffer),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		requests:  make(map[netip.Addr][]uint16),
		delivered: make(map[netip.Addr]int),
	}
	if poolSize > 0 {
		c.pool = make(chan struct{}, poolSize)
	}
	c.wg.Add(1)
	go c.deliver()
	return c
}

func (c *fakeConn) Method() probe.Method        { return c.method }
func (c *fakeConn) Replies() <-chan probe.Reply { return c.replies }

// Send records the request and schedules what the host makes of it.
func (c *fakeConn) Send(ctx context.Context, dst netip.Addr, seq uint16) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.inSend++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inSend--
		c.mu.Unlock()
	}()
	if c.pool != nil {
		c.mu.Lock()
		if len(c.pool) == cap(c.pool) {
			c.blocked++
		}
		c.mu.Unlock()
		select {
		case c.pool <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("fake send to %s: %w", dst, errClosed)
		}
	}

	h, known := c.hosts[dst]
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("fake send to %s: %w", dst, errClosed)
	}
	c.sends++
	n := c.sends
	onSend := c.onSend
	nth := 1 // this request's number for dst, from 1
	if !c.lean {
		c.requests[dst] = append(c.requests[dst], seq)
		nth = len(c.requests[dst])
	}
	now := time.Now()
	switch {
	case known && h.Fail:
		c.release()
		c.mu.Unlock()
		return errors.New("fake: the socket broke")
	case known && h.Refuse:
		c.release()
		c.mu.Unlock()
		return &probe.SendError{Addr: dst, Err: syscall.EHOSTUNREACH}
	case known && nth > h.DropFirst && (h.Answers == 0 || nth <= h.DropFirst+h.Answers):
		r := probe.Reply{Addr: dst, From: dst, Seq: seq + h.SeqOffset, RTT: h.Delay, TTL: h.TTL, Method: c.method, Reason: h.Reason}
		if h.ICMPErr {
			r.From = netip.MustParseAddr("198.18.0.2")
			r.Reason = ""
			r.Err = &probe.ICMPError{From: r.From, Type: 3, Code: 1, Text: "host unreachable"}
		}
		for i := 0; i <= h.Dup; i++ {
			// The slot is freed with the last copy.
			c.schedule(now.Add(h.Delay), r, i == h.Dup)
		}
	case c.pool != nil:
		c.schedule(now.Add(c.hold), probe.Reply{}, true)
	}
	c.mu.Unlock()
	if onSend != nil {
		onSend(n)
	}
	return nil
}

var errClosed = errors.New("fake conn closed")

// release frees a pool slot at once. Callers hold c.mu.
func (c *fakeConn) release() {
	if c.pool != nil {
		<-c.pool
	}
}

// inject schedules a reply that answers no request of this Conn's caller,
// as a stray from another scan or a router would.
func (c *fakeConn) inject(after time.Duration, r probe.Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue.push(scheduled{at: time.Now().Add(after), r: r})
	c.poke()
}

// schedule queues one delivery. A zero Reply only frees a slot. Callers
// hold c.mu.
func (c *fakeConn) schedule(at time.Time, r probe.Reply, release bool) {
	c.queue.push(scheduled{at: at, r: r, release: release && c.pool != nil})
	c.poke()
}

func (c *fakeConn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// deliver hands out scheduled answers at their time, in time order.
func (c *fakeConn) deliver() {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		var (
			next  scheduled
			ready bool
			wait  = time.Hour
		)
		if len(c.queue.items) > 0 {
			if d := time.Until(c.queue.items[0].at); d <= 0 {
				next, ready = c.queue.pop(), true
			} else {
				wait = d
			}
		}
		c.mu.Unlock()
		if !ready {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.wake:
			case <-c.done:
				return
			}
			continue
		}
		if next.r.Addr.IsValid() {
			select {
			case c.replies <- next.r:
				if !c.lean {
					c.mu.Lock()
					c.delivered[next.r.Addr]++
					c.mu.Unlock()
				}
			case <-c.done:
				return
			}
		}
		if next.release {
			<-c.pool
		}
	}
}

// Close stops deliveries and closes Replies.
func (c *fakeConn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.done)
		c.wg.Wait()
		close(c.replies)
	})
	return nil
}

// sent returns the sequence numbers sent to a.
func (c *fakeConn) sent(a netip.Addr) []uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint16(nil), c.requests[a]...)
}

// deliveredTo returns how many replies for a were taken off Replies. With
// a Replies buffer of 0 that is how many the scan read.
func (c *fakeConn) deliveredTo(a netip.Addr) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.delivered[a]
}

// counts returns the number of Sends so far and of those running now.
func (c *fakeConn) counts() (sends, inSend int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends, c.inSend
}

// scheduled is one delivery: a reply, a freed pool slot, or both.
type scheduled struct {
	at      time.Time
	r       probe.Reply
	release bool
	seq     int // keeps equal times in scheduling order
}

// schedule is a min-heap of deliveries by time, typed so that a push
// allocates nothing once the slice has grown (container/heap would box
// every item).
type schedule struct {
	items []scheduled
	n     int // deliveries ever pushed: the seq of the next one
}

func (s *schedule) less(i, j int) bool {
	a, b := &s.items[i], &s.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}

func (s *schedule) push(x scheduled) {
	x.seq = s.n
	s.n++
	s.items = append(s.items, x)
	for i := len(s.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s.items[i], s.items[parent] = s.items[parent], s.items[i]
		i = parent
	}
}

func (s *schedule) pop() scheduled {
	top := s.items[0]
	last := len(s.items) - 1
	s.items[0] = s.items[last]
	s.items[last] = scheduled{}
	s.items = s.items[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < last && s.less(l, small) {
			small = l
		}
		if r < last && s.less(r, small) {
			small = r
		}
		if small == i {
			return top
		}
		s.items[i], s.items[small] = s.items[small], s.items[i]
		i = small
	}
}
