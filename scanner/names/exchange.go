package names

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// Reasons a reply is rejected. They end up in TimeoutError.LastReject.
var (
	errOversized = fmt.Errorf("reply longer than %d bytes", maxDatagram)
	errTruncated = errors.New("reply truncated")
	errNotReply  = errors.New("not a response")
	errWrongID   = errors.New("wrong transaction id")
	errQuestion  = errors.New("reply to another question")
)

// exchange is one UDP query and the wait for its answer.
type exchange struct {
	conn  *net.UDPConn     // unconnected, so one socket serves every destination
	query []byte           // the message sent
	dsts  []netip.AddrPort // where it is sent, each once, then again once
	from  netip.AddrPort   // the only source an answer is taken from
	// accept parses one reply from the right source, keeps what it needs
	// and returns nil, or says why the reply does not answer the query.
	accept func([]byte) error
}

// aLongTimeAgo is a read deadline that makes a blocked read return at once.
var aLongTimeAgo = time.Unix(1, 0)

// run sends the query and reads replies until one is accepted or ctx ends.
// The query goes out again a third of the way to the deadline, since UDP,
// and multicast on Wi-Fi above all, loses packets. ctx must have a deadline.
//
// It returns nil when a reply was accepted; otherwise ctx.Err() when ctx
// ended (context.DeadlineExceeded for a plain timeout), or why nothing
// could be sent or read. rejected counts the replies refused on the way,
// and last is why the last one was.
func (x *exchange) run(ctx context.Context) (rejected int, last, err error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0, nil, errors.New("names: internal error: exchange without deadline")
	}
	if err := x.conn.SetReadDeadline(deadline); err != nil {
		return 0, nil, err
	}
	// Cancellation before the deadline interrupts the read as well.
	stop := context.AfterFunc(ctx, func() { _ = x.conn.SetReadDeadline(aLongTimeAgo) })
	defer stop()

	if err := x.send(); err != nil {
		return 0, nil, err
	}
	resend := time.AfterFunc(time.Until(deadline)/3, func() { _ = x.send() })
	defer resend.Stop()

	// failed turns a failed wait or read into run's error.
	failed := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The socket's deadline is ctx's; it may fire first.
			return context.DeadlineExceeded
		}
		return err
	}
	// Most hosts stay silent to one query or another, and a scan has
	// hundreds of queries waiting at once: the buffer is made when the
	// first datagram is there to read, not before.
	if err := awaitDatagram(x.conn); err != nil {
		return 0, nil, failed(err)
	}
	// One byte more than allowed, to tell a datagram of exactly
	// maxDatagram bytes from a longer one the kernel cut to fit.
	buf := make([]byte, maxDatagram+1)
	for {
		n, src, err := x.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return rejected, last, failed(err)
		}
		switch {
		case !sameEndpoint(src, x.from):
			last = fmt.Errorf("reply from %s, not %s", src, x.from)
		case n > maxDatagram:
			last = errOversized
		default:
			last = x.accept(buf[:n])
		}
		if last == nil {
			return rejected, nil, nil
		}
		rejected++
	}
}

// send sends the query to every destination. It fails only if no
// destination took it: a multicast group without a route is no reason to
// give up on the direct query.
func (x *exchange) send() error {
	var errs []error
	for _, dst := range x.dsts {
		if _, err := x.conn.WriteToUDPAddrPort(x.query, dst); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == len(x.dsts) {
		return fmt.Errorf("send: %w", errors.Join(errs...))
	}
	return nil
}

// sameEndpoint compares address and port, ignoring the zone (the kernel
// and the caller may name the same interface differently) and IPv4-mapping.
func sameEndpoint(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap().WithZone("") == b.Addr().Unmap().WithZone("")
}

// timeoutOr turns the outcome of an exchange into a method's error.
func timeoutOr(source string, addr netip.Addr, rejected int, last, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{Source: source, Addr: addr, Rejected: rejected, LastReject: last}
	}
	return fmt.Errorf("names: %s %s: %w", source, addr, err)
}
