package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// tcpConn probes hosts with TCP connects: a host that accepts or refuses a
// connection (SYN-ACK or RST) is up, whatever its firewall does to ICMP.
type tcpConn struct {
	ports   []uint16
	timeout time.Duration
	// dial connects to dst:port and says how that ended: nil when
	// accepted, else the error, and the ICMP error behind it when the
	// platform can tell. Tests replace it to connect from inside a
	// network namespace.
	dial func(ctx context.Context, dst netip.Addr, port uint16) (*ICMPError, error)
	pool *pool // one slot per connect in flight; closing it aborts them all
}

// OpenTCP opens a Conn that proves hosts up with TCP connects to each of
// opts.TCPPorts, at most opts.Concurrency connects in flight, each given
// opts.Timeout. It needs no privilege.
//
// The first definitive answer for a Send wins and stops the other
// connects: an accepted connection (Reason "tcp-open"), a reset ("tcp-rst"),
// or an ICMP error (Err an *ICMPError; the socket's error queue tells who
// sent it). A local refusal to route gives a *SendError matching
// ErrUnreachable. Timeouts give nothing.
func OpenTCP(opts Options) (Conn, error) {
	return openTCP(opts, systemDial), nil
}

func openTCP(opts Options, dial func(context.Context, netip.Addr, uint16) (*ICMPError, error)) *tcpConn {
	opts = opts.withDefaults()
	opts.Concurrency = fdConcurrency(opts.Concurrency, 1) // one socket per connect
	return &tcpConn{
		ports:   slices.Clone(opts.TCPPorts),
		timeout: opts.Timeout,
		dial:    dial,
		pool:    newPool(TCP, opts.Concurrency),
	}
}

// Method reports TCP.
func (c *tcpConn) Method() Method { return TCP }

// Replies delivers one answer per Send that got one.
func (c *tcpConn) Replies() <-chan Reply { return c.pool.replies }

// tcpProbe is one Send: connects to every port of one address, of which
// the first definitive answer wins.
type tcpProbe struct {
	ctx    context.Context // cancelled by the winner, or by Close
	cancel context.CancelFunc
	won    atomic.Bool
	refs   atomic.Int32 // Send itself plus each connect still running
}

// release drops one reference; the last one frees the probe's context.
func (p *tcpProbe) release() {
	if p.refs.Add(-1) == 0 {
		p.cancel()
	}
}

// Send starts a connect to each port of dst. It returns once all of them
// are on the wire (or one has already answered), blocking while the pool
// of opts.Concurrency connects is full. If ctx ends first, the connects
// already started are cancelled and ctx's error returned: nothing was
// sent. Replies name an IPv4-mapped dst by its IPv4 form.
func (c *tcpConn) Send(ctx context.Context, dst netip.Addr, seq uint16) error {
	dst = dst.Unmap()
	if err := checkTCPTarget(dst); err != nil {
		return err
	}
	pctx, pcancel := context.WithCancel(c.pool.ctx)
	p := &tcpProbe{ctx: pctx, cancel: pcancel}
	p.refs.Store(1)
	defer p.release()

	for _, port := range c.ports {
		if err := c.pool.acquire(ctx, p.ctx.Done()); err != nil {
			p.cancel() // stop the connects already started
			if errors.Is(err, errStopped) {
				return nil // a port already answered: the rest are moot
			}
			return err
		}
		p.refs.Add(1)
		err := c.pool.spawn(func() {
			defer p.release()
			r, ok := c.connect(p.ctx, dst, port, seq)
			// Free the slot before waiting to deliver: a slow reader
			// must not stall further Sends.
			c.pool.release()
			if ok && p.won.CompareAndSwap(false, true) {
				p.cancel()
				c.pool.deliver(r)
			}
		})
		if err != nil {
			p.release() // the reference taken for the job that never ran
			return err
		}
	}
	return nil
}

// connect tries one port and turns the outcome into a Reply; ok is false
// when the outcome proves nothing (timeout, cancellation, odd errors).
func (c *tcpConn) connect(ctx context.Context, dst netip.Addr, port, seq uint16) (Reply, bool) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	icmpErr, err := c.dial(ctx, dst, port)
	for try := 0; icmpErr == nil && shortage(err); try++ {
		if !shortageWait(ctx, try) {
			return Reply{}, false
		}
		start = time.Now()
		icmpErr, err = c.dial(ctx, dst, port)
	}
	r := Reply{Addr: dst, From: dst, Seq: seq, RTT: time.Since(start), Method: TCP}
	switch {
	case icmpErr != nil:
		// Whatever errno the kernel chose, the ICMP error says more.
		r.From, r.Err = icmpErr.From, icmpErr
	case err == nil:
		r.Reason = "tcp-open"
	case errors.Is(err, syscall.ECONNREFUSED):
		r.Reason = "tcp-rst"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		r.From = netip.Addr{}
		r.Err = &SendError{Addr: dst, Err: &noRouteError{err: err}}
	default:
		return Reply{}, false
	}
	return r, true
}

// checkTCPTarget accepts a valid address whose zone, if any, names an
// interface of this machine.
func checkTCPTarget(dst netip.Addr) error {
	if !dst.IsValid() {
		return errors.New("probe: invalid destination address")
	}
	_, err := zoneIndex(dst)
	return err
}

// zoneIndex returns the interface index of dst's zone: 0 for none, the
// number itself for a numeric zone, else the index of the named interface.
func zoneIndex(dst netip.Addr) (uint32, error) {
	z := dst.Zone()
	if z == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(z)
	if err != nil {
		return 0, fmt.Errorf("probe: zone of %s: %w", dst, err)
	}
	return uint32(ifi.Index), nil
}

// Close stops every connect in flight, waits for them and closes Replies.
func (c *tcpConn) Close() error { return c.pool.close() }
