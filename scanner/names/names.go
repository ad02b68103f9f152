// Package names finds what a host on the local network calls itself, for
// the scanner's enrichment: the PTR records of the system's DNS, a
// multicast DNS (Bonjour, Avahi) reverse lookup, and a NetBIOS node status
// query (Windows, Samba), which also tells the host's MAC address.
//
// Every answer comes from the network and may be hostile. A reply is taken
// only from the queried address and port, only if it answers exactly the
// question asked (its id, its question, and for mDNS the PTR owner name
// must match), and only if it fits in one datagram of at most 9000 bytes.
// Names are cleaned before they are returned: control and formatting
// characters (bidirectional overrides included) are dropped, invalid UTF-8
// is replaced, and the length is capped at MaxNameLen bytes, so that a UI
// may show them as they are.
//
// Sockets are opened in the network namespace of the calling thread.
package names

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sources of a Name, in the order Lookup reports them.
const (
	SourceDNS     = "dns"     // PTR record from the system's resolver
	SourceMDNS    = "mdns"    // multicast DNS reverse lookup
	SourceNetBIOS = "netbios" // NetBIOS node status
)

// Defaults for a Resolver's zero fields.
const (
	DefaultTimeout     = time.Second
	DefaultMDNSAddr4   = "224.0.0.251:5353"
	DefaultMDNSAddr6   = "[ff02::fb]:5353"
	DefaultNetBIOSPort = 137
	// DefaultLimit is LookupAll's concurrency when given none: each lookup
	// holds up to three sockets for at most the Timeout.
	DefaultLimit = 32
)

// MaxNameLen caps a returned name, in bytes: the longest DNS name in
// presentation form. Longer names are cut at a character boundary.
const MaxNameLen = 253

// maxDatagram is the largest reply read. A longer datagram is rejected
// whole: no honest name reply comes near a jumbo frame.
const maxDatagram = 9000

// Name is one name a host goes by.
type Name struct {
	Name   string // cleaned, without a trailing dot: "printer.local"
	Source string // SourceDNS, SourceMDNS or SourceNetBIOS
}

// Result is everything Lookup learned about one host.
type Result struct {
	// Names in the order DNS, mDNS, NetBIOS, without duplicates (compared
	// case-insensitively; the first source keeps the name). Names[0],
	// if any, is the best name.
	Names []Name
	// MAC is the unit ID of a NetBIOS node status reply, nil if none or
	// all zeros (as Samba sends). The host reports it about itself, so
	// it is a hint, not proof: prefer the neighbour table's where it has
	// one.
	MAC net.HardwareAddr
}

// ErrNoName is matched by errors that mean the host answered but gave no
// name: a DNS NXDOMAIN or empty answer, or a NetBIOS name table without a
// workstation name.
var ErrNoName = errors.New("names: host has no name")

// TimeoutError reports that no acceptable answer came before the deadline.
// It is what a silent host produces. errors.Is(err,
// context.DeadlineExceeded) is true for it.
type TimeoutError struct {
	Source string // SourceDNS, SourceMDNS or SourceNetBIOS
	Addr   netip.Addr
	// Rejected counts replies that arrived but were refused: from
	// another address, malformed, oversized, or answering something else.
	Rejected int
	// LastReject is why the last refused reply was refused; nil if none.
	LastReject error
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("names: %s %s: no answer in time", e.Source, e.Addr)
	if e.Rejected > 0 {
		msg += fmt.Sprintf(" (%d replies rejected, last: %v)", e.Rejected, e.LastReject)
	}
	return msg
}

// Timeout reports true, as net.Error's Timeout does.
func (e *TimeoutError) Timeout() bool { return true }

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Resolver looks up the names of hosts. The zero value is ready to use;
// zero fields take the defaults above. A Resolver is safe for concurrent
// use and must not be changed while in use.
type Resolver struct {
	// Timeout is the budget of one call, applied unless the context ends
	// sooner: Lookup runs its three queries side by side within it.
	Timeout time.Duration
	// DNS answers Reverse; nil means net.DefaultResolver.
	DNS *net.Resolver
	// MDNSAddr4 and MDNSAddr6 are the multicast DNS groups and port, as
	// host:port. The port is also where the direct unicast query goes.
	MDNSAddr4, MDNSAddr6 string
	// NetBIOSPort is the NetBIOS name service port.
	NetBIOSPort int

	// InNet, when set, runs fn, which opens a socket (DNS's included) or
	// reads the interface list, in the network the queries belong in,
	// such as another network namespace; nil runs fn as is, in the
	// network of the calling thread. (See scanner.Enrich.InNet.)
	InNet func(fn func()) error
}

func (r *Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

// budget bounds ctx by the Resolver's Timeout.
func (r *Resolver) budget(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout())
}

// setup runs fn, which opens sockets, where InNet says.
func (r *Resolver) setup(fn func() error) error {
	if r.InNet == nil {
		return fn()
	}
	var err error
	if nerr := r.InNet(func() { err = fn() }); nerr != nil {
		return nerr
	}
	return err
}

// dns is the resolver Reverse asks. With InNet set it is Go's own (the
// cgo one would query from a thread of its own), and its connections are
// dialled through InNet, with DNS.Dial if there is one.
func (r *Resolver) dns() *net.Resolver {
	res := r.DNS
	if r.InNet == nil {
		if res == nil {
			res = net.DefaultResolver
		}
		return res
	}
	dial := (&net.Dialer{}).DialContext
	if res != nil && res.Dial != nil {
		dial = res.Dial
	}
	out := &net.Resolver{PreferGo: true, StrictErrors: res != nil && res.StrictErrors}
	out.Dial = func(ctx context.Context, network, address string) (c net.Conn, err error) {
		if nerr := r.InNet(func() { c, err = dial(ctx, network, address) }); nerr != nil {
			return nil, nerr
		}
		return c, err
	}
	return out
}

// Reverse returns the names the DNS resolver's PTR records give addr,
// cleaned and without trailing dots. A host with no PTR record yields an
// error matching ErrNoName; a resolver that does not answer in time, a
// *TimeoutError. Names the resolver returns alongside an error (Go's
// resolver drops malformed records and says so) are returned without it.
func (r *Resolver) Reverse(ctx context.Context, addr netip.Addr) ([]string, error) {
	if !addr.IsValid() {
		return nil, errors.New("names: dns: invalid address")
	}
	addr = addr.Unmap()
	ctx, cancel := r.budget(ctx)
	defer cancel()
	res := r.dns()
	raw, err := res.LookupAddr(ctx, addr.WithZone("").String())
	var names []string
	for _, n := range raw {
		if n = clean(n); n != "" && !containsFold(names, n) {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		return names, nil
	}
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return nil, fmt.Errorf("%w: dns %s: empty answer", ErrNoName, addr)
	case errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return nil, &TimeoutError{Source: SourceDNS, Addr: addr}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return nil, fmt.Errorf("%w: dns %s: %w", ErrNoName, addr, err)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("names: dns %s: %w", addr, ctx.Err())
	}
	return nil, fmt.Errorf("names: dns %s: %w", addr, err)
}

// Lookup asks DNS, mDNS and (for IPv4) NetBIOS about addr at once, within
// the Resolver's Timeout, and merges what they say. Failures are not
// reported: a host without a name is the common case, and a silent one
// costs exactly the Timeout.
func (r *Resolver) Lookup(ctx context.Context, addr netip.Addr) Result {
	ctx, cancel := r.budget(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		dnsNames []string
		mdnsName string
		nbName   string
		mac      net.HardwareAddr
	)
	wg.Go(func() { dnsNames, _ = r.Reverse(ctx, addr) })
	wg.Go(func() { mdnsName, _ = r.MDNS(ctx, addr) })
	if addr.Unmap().Is4() {
		wg.Go(func() { nbName, mac, _ = r.NetBIOS(ctx, addr) })
	}
	wg.Wait()

	var res Result
	seen := make([]string, 0, len(dnsNames)+2)
	add := func(name, source string) {
		if name != "" && !containsFold(seen, name) {
			seen = append(seen, name)
			res.Names = append(res.Names, Name{Name: name, Source: source})
		}
	}
	for _, n := range dnsNames {
		add(n, SourceDNS)
	}
	add(mdnsName, SourceMDNS)
	add(nbName, SourceNetBIOS)
	res.MAC = mac
	return res
}

// LookupAll runs Lookup for every address received from addrs, at most
// limit at a time (DefaultLimit if limit <= 0), and calls fn with each
// result. Calls to fn never overlap, so fn needs no lock of its own, but a
// slow fn holds up the other lookups' reports.
//
// LookupAll returns nil once addrs is closed and every lookup is reported,
// or ctx.Err() once ctx ends; lookups already started then finish at once
// with what they have, and are reported, before it returns.
func (r *Resolver) LookupAll(ctx context.Context, addrs <-chan netip.Addr, limit int, fn func(netip.Addr, Result)) error {
	if limit <= 0 {
		limit = DefaultLimit
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sem = make(chan struct{}, limit)
	)
	defer wg.Wait()
	for {
		var addr netip.Addr
		select {
		case <-ctx.Done():
			return ctx.Err()
		case a, ok := <-addrs:
			if !ok {
				return nil
			}
			addr = a
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case sem <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-sem }()
			res := r.Lookup(ctx, addr)
			mu.Lock()
			defer mu.Unlock()
			fn(addr, res)
		})
	}
}

// clean makes a name from the network fit to show: invalid UTF-8 becomes
// U+FFFD; control characters, formatting characters (such as bidirectional
// overrides, which could make a name display as another) and line or
// paragraph separators are dropped; surrounding spaces and trailing dots
// go; and the result is cut to MaxNameLen bytes at a character boundary.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	s = strings.TrimRightFunc(s, dotOrSpace)
	if len(s) > MaxNameLen {
		cut := MaxNameLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRightFunc(s[:cut], dotOrSpace)
	}
	return s
}

func dotOrSpace(r rune) bool { return r == '.' || unicode.IsSpace(r) }

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
