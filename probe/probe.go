// Package probe asks addresses whether they are up, by whichever method
// this machine allows, and reports what came back.
//
// A probe is an ICMP echo request where the machine lets us send one, and
// the nearest thing where it does not: the system ping, or a TCP connect.
// (The package was called icmpsock until two of its four methods had
// nothing to do with ICMP sockets.)
//
// Four methods reach the same result with different privileges:
//
//   - Dgram: unprivileged ICMP datagram sockets. The kernel owns the echo
//     identifier and checksum. Allowed when the process's group lies inside
//     the sysctl net.ipv4.ping_group_range.
//   - Raw: raw ICMP sockets, for root or a process holding CAP_NET_RAW.
//   - Exec: the system ping binary (setuid or with file capabilities).
//   - TCP: no ICMP at all; a TCP connect that is accepted or refused proves
//     the host is up.
//
// Open probes the methods from least to most privilege needed, returns a Conn
// for the first that works and a Report that explains, in words a user can
// act on, why the others did not.
//
// A Conn is asynchronous: Send puts one request on the wire and returns, and
// every answer arrives on Replies. That lets one socket per address family
// carry thousands of probes in flight. Pinger wraps a Conn for callers that
// want one blocking round trip at a time.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Method names a way of sending echo requests.
type Method string

// The methods, in the order Open tries them.
const (
	Auto  Method = "auto"  // let Open choose
	Dgram Method = "dgram" // unprivileged ICMP datagram socket
	Raw   Method = "raw"   // raw ICMP socket (root or CAP_NET_RAW)
	Exec  Method = "exec"  // the system ping binary
	TCP   Method = "tcp"   // TCP connect probes, no ICMP at all
)

// Methods lists the concrete methods in the order Open tries them:
// least privilege first.
func Methods() []Method { return []Method{Dgram, Raw, Exec, TCP} }

// ParseMethod turns a user's word into a Method.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case Auto, Dgram, Raw, Exec, TCP:
		return m, nil
	case "":
		return Auto, nil
	}
	return "", fmt.Errorf("unknown method %q (want auto, dgram, raw, exec or tcp)", s)
}

// Reply is what came back for one request sent through a Conn.
//
// A Reply with a nil Err is proof that Addr is up. A Reply with an Err is an
// early, definite failure (an ICMP error such as destination unreachable);
// silence is not reported by a Conn at all, because only the caller knows how
// long it is willing to wait.
type Reply struct {
	Addr   netip.Addr    // the address that was probed
	From   netip.Addr    // who answered: Addr itself, or a router for ICMP errors
	Seq    uint16        // sequence number of the request this answers
	RTT    time.Duration // round-trip time; zero when unknown
	TTL    int           // TTL or hop limit of the reply; zero when unknown
	Method Method        // method that produced the reply
	Reason string        // what proved the host up: "echo-reply", "tcp-open", "tcp-rst"
	Err    error         // nil for an echo reply; an *ICMPError or other failure
}

// A Conn sends echo requests by one method and delivers what comes back.
// All methods are safe for concurrent use.
type Conn interface {
	// Method reports how this Conn reaches the network.
	Method() Method
	// Send emits one echo request to dst carrying seq and returns without
	// waiting for the answer. Conns that work through a bounded pool (exec,
	// tcp) may block while the pool is full; ctx bounds that wait. An error
	// means the request was not sent; a *SendError marks one that the kernel
	// refused for this destination (for example no route), which the caller
	// may treat as that host's answer.
	Send(ctx context.Context, dst netip.Addr, seq uint16) error
	// Replies delivers the answers to requests sent through this Conn:
	// echo replies that carry this Conn's identity, and ICMP errors that
	// quote one of its requests. Unsolicited or foreign packets never appear
	// here, but late and duplicate answers do: the caller matches Addr and
	// Seq against what it is still waiting for. The channel is closed by
	// Close.
	Replies() <-chan Reply
	// Close releases the sockets or processes and closes Replies.
	Close() error
}

// ErrTimeout reports that no answer arrived before the caller's deadline.
var ErrTimeout = errors.New("no reply before the deadline")

// ErrUnreachable matches, with errors.Is, every ICMP destination unreachable
// answer and every local refusal to route to the destination.
var ErrUnreachable = errors.New("destination unreachable")

// ErrTimeExceeded matches, with errors.Is, ICMP time exceeded answers.
var ErrTimeExceeded = errors.New("time exceeded")

// ICMPError is an ICMP error message that quotes one of our requests.
type ICMPError struct {
	From netip.Addr // router or host that sent the error
	Type int        // ICMP type (IPv4 or IPv6 numbering, by From's family)
	Code int        // ICMP code
	Text string     // what the error means, e.g. "host unreachable"
}

func (e *ICMPError) Error() string {
	return fmt.Sprintf("%s (from %s)", e.Text, e.From)
}

// Is lets errors.Is match ErrUnreachable and ErrTimeExceeded.
func (e *ICMPError) Is(target error) bool {
	v6 := e.From.Is6() && !e.From.Is4In6()
	switch target {
	case ErrUnreachable:
		return (!v6 && e.Type == 3) || (v6 && e.Type == 1)
	case ErrTimeExceeded:
		return (!v6 && e.Type == 11) || (v6 && e.Type == 3)
	}
	return false
}

// SendError reports that the local kernel refused to send a request to Addr,
// for example because the route to it is unreachable.
type SendError struct {
	Addr netip.Addr
	Err  error
}

func (e *SendError) Error() string { return fmt.Sprintf("send to %s: %v", e.Addr, e.Err) }

// Unwrap returns the underlying system error.
func (e *SendError) Unwrap() error { return e.Err }

// MethodError reports that a method cannot be used here, why, and how to
// enable it.
type MethodError struct {
	Method Method
	Reason string // what is missing, in plain words
	Fix    string // a command or step that would enable the method; may be empty
	Err    error  // the underlying error, if any
}

func (e *MethodError) Error() string {
	s := fmt.Sprintf("%s: %s", e.Method, e.Reason)
	if e.Fix != "" {
		s += "; enable with: " + e.Fix
	}
	return s
}

// Unwrap returns the underlying error.
func (e *MethodError) Unwrap() error { return e.Err }
