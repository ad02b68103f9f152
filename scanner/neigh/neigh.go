// Package neigh reads the kernel's neighbour table, the cache of link-layer
// (MAC) addresses that ARP (IPv4) and neighbour discovery (IPv6) filled in
// for hosts this machine recently talked to on its own links.
//
// It asks the kernel over rtnetlink. Where netlink is refused, as in an
// Android app's sandbox, it falls back to /proc/net/arp, which knows IPv4
// only; where that is refused too, it says so with an *UnavailableError.
//
// A MAC address means something only for a host on one of this machine's
// links. Packets to a host behind a router go to the router's MAC, so a
// scanner must not attribute that MAC to the host: Lookup refuses with
// ErrNotOnLink, and RouteTo and OnLink tell the two cases apart.
//
// Nothing here sends packets, but for Reprobe, which asks the kernel to
// check entries again (it then sends its own ARP or neighbour
// solicitations). The table holds a host only after something talked to
// it, such as the scanner's echo requests; look it up after those.
//
// Reader, Snapshot and Confirmed (evidence.go) judge whether an entry
// proves a host there during a scan, for the devices that answer nothing
// but ARP.
//
// Every function works in the network namespace of the calling thread, so
// it can be used from inside a namespace entered with setns on a locked
// thread.
package neigh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Entry is one resolved neighbour.
type Entry struct {
	MAC       net.HardwareAddr
	Interface string // the link it was seen on, such as "wlan0"
	State     State
}

// State is how fresh the kernel considers an entry.
type State uint8

// The states of a resolved entry. Entries still being resolved, or that
// failed to resolve, are never reported.
const (
	// Resolved: the source does not say how fresh (/proc/net/arp only
	// says "complete").
	Resolved State = iota
	// Reachable: confirmed recently.
	Reachable
	// Stale: known, not confirmed lately; the kernel checks it on next use.
	Stale
	// Delay: in use and about to be checked.
	Delay
	// Probe: being checked right now.
	Probe
	// Permanent: configured by hand, never expires.
	Permanent
)

func (s State) String() string {
	switch s {
	case Resolved:
		return "resolved"
	case Reachable:
		return "reachable"
	case Stale:
		return "stale"
	case Delay:
		return "delay"
	case Probe:
		return "probe"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Errors callers branch on; test with errors.Is.
var (
	// ErrNotFound: the address is on-link but has no resolved entry,
	// usually because nothing talked to it yet or it did not answer.
	ErrNotFound = errors.New("neigh: address not in the neighbour table")
	// ErrNotOnLink: packets to the address go through a router (or
	// nowhere), so no MAC address belongs to it from here.
	ErrNotOnLink = errors.New("neigh: address is not on a local link")
	// ErrLocal: the address belongs to this machine.
	ErrLocal = errors.New("neigh: address belongs to this machine")
	// ErrUnavailable is matched by every *UnavailableError.
	ErrUnavailable = errors.New("neigh: neighbour table unavailable")
)

// UnavailableError reports that neither netlink nor /proc/net/arp could be
// read (or, for IPv6 and routes, that netlink could not, since /proc/net/arp
// does not help there). It matches ErrUnavailable, and its causes: for
// example errors.Is(err, fs.ErrPermission).
type UnavailableError struct {
	Netlink error // why netlink failed
	Proc    error // why /proc/net/arp failed; nil when it was not tried
}

func (e *UnavailableError) Error() string {
	msg := "neigh: neighbour table unavailable: netlink: " + e.Netlink.Error()
	if e.Proc != nil {
		msg += "; /proc/net/arp: " + e.Proc.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the causes.
func (e *UnavailableError) Unwrap() []error {
	if e.Proc == nil {
		return []error{e.Netlink}
	}
	return []error{e.Netlink, e.Proc}
}

// Table returns every resolved neighbour, IPv4 and IPv6. IPv6 link-local
// addresses carry their interface as zone (fe80::1%eth0), since the same
// one may live on several links. If an address has entries on several
// interfaces, the first the kernel lists wins.
//
// When netlink is refused, Table falls back to /proc/net/arp and returns
// IPv4 entries only, all in state Resolved or Permanent.
func Table(ctx context.Context) (map[netip.Addr]Entry, error) {
	return system().table(ctx)
}

// Lookup returns the MAC address of addr, which must be on one of this
// machine's links. It fails with ErrNotOnLink for an address reached
// through a router, ErrLocal for one of this machine's own, and ErrNotFound
// when the kernel has no resolved entry.
//
// Without netlink, IPv4 addresses are looked up in /proc/net/arp without the
// route check (the kernel resolves on-link addresses only, so an entry there
// is on-link or was when it was made); IPv6 addresses fail with an
// *UnavailableError.
func Lookup(ctx context.Context, addr netip.Addr) (net.HardwareAddr, error) {
	return system().lookup(ctx, addr)
}

// Route is how this machine reaches an address.
type Route struct {
	// Interface is the link packets leave by ("lo" for a local address).
	Interface string
	// Gateway is the router packets go through; invalid when they go
	// straight to the destination.
	Gateway netip.Addr
	// Local is true when the address belongs to this machine.
	Local bool
	// Direct is true when the address is a unicast host on one of this
	// machine's links: the only case in which its MAC address is its own.
	Direct bool
}

// RouteTo asks the kernel how packets to addr leave this machine. An
// address with no route at all fails with ErrNotOnLink.
func RouteTo(ctx context.Context, addr netip.Addr) (Route, error) {
	return system().route(ctx, addr)
}

// OnLink reports whether addr is a unicast host on one of this machine's
// links, and which; when it is not, a MAC address seen for it is a router's
// and must not be attributed to it.
func OnLink(ctx context.Context, addr netip.Addr) (iface string, ok bool, err error) {
	r, err := RouteTo(ctx, addr)
	if errors.Is(err, ErrNotOnLink) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return r.Interface, r.Direct, nil
}

// source is where the table comes from; tests replace parts of it.
type source struct {
	// dial opens a netlink handle in the calling thread's namespace.
	dial func() (*netlink.Handle, error)
	// arp reads /proc/net/arp as the calling thread sees it.
	arp func() ([]byte, error)
}

func system() source {
	return source{
		dial: func() (*netlink.Handle, error) { return netlink.NewHandle(unix.NETLINK_ROUTE) },
		arp:  readProcARP,
	}
}

// readProcARP reads the thread's view of the ARP table. /proc/net is
// /proc/self/net, which shows the namespace of the process's main thread,
// not of this one; /proc/thread-self (Linux 3.17 and later) gets it right.
func readProcARP() ([]byte, error) {
	b, err := os.ReadFile("/proc/thread-self/net/arp")
	if errors.Is(err, os.ErrNotExist) {
		b, err = os.ReadFile("/proc/net/arp")
	}
	return b, err
}

// open dials netlink with the socket timeout set from ctx's deadline: the
// netlink calls take no context, and one kernel round trip is all they do.
func (s source) open(ctx context.Context) (*netlink.Handle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := s.dial()
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := h.SetSocketTimeout(max(time.Until(dl), time.Millisecond)); err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

func (s source) table(ctx context.Context) (map[netip.Addr]Entry, error) {
	h, err := s.open(ctx)
	if err == nil {
		var t map[netip.Addr]Entry
		t, err = netlinkTable(h)
		h.Close()
		if err == nil {
			return t, nil
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	t, perr := s.procTable()
	if perr != nil {
		return nil, &UnavailableError{Netlink: err, Proc: perr}
	}
	return t, nil
}

func (s source) procTable() (map[netip.Addr]Entry, error) {
	b, err := s.arp()
	if err != nil {
		return nil, err
	}
	return parseProcARP(b)
}

func (s source) lookup(ctx context.Context, addr netip.Addr) (net.HardwareAddr, error) {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return nil, errors.New("neigh: invalid address")
	}
	h, err := s.open(ctx)
	if err == nil {
		var mac net.HardwareAddr
		mac, err = netlinkLookup(h, addr)
		h.Close()
		if err == nil || !isNetlinkErr(err) {
			return mac, err
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if addr.Is6() {
		return nil, &UnavailableError{Netlink: err}
	}
	t, perr := s.procTable()
	if perr != nil {
		return nil, &UnavailableError{Netlink: err, Proc: perr}
	}
	if e, ok := t[addr.WithZone("")]; ok && (addr.Zone() == "" || addr.Zone() == e.Interface) {
		return e.MAC, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, addr)
}

func (s source) route(ctx context.Context, addr netip.Addr) (Route, error) {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return Route{}, errors.New("neigh: invalid address")
	}
	h, err := s.open(ctx)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return Route{}, cerr
		}
		return Route{}, &UnavailableError{Netlink: err}
	}
	defer h.Close()
	r, _, err := routeTo(h, addr)
	if isNetlinkErr(err) {
		if cerr := ctx.Err(); cerr != nil {
			return Route{}, cerr
		}
		return Route{}, &UnavailableError{Netlink: err}
	}
	return r, err
}

// netlinkError is a netlink request that failed (as opposed to one that
// answered, say, "no route"); after it the /proc fallback is worth trying.
type netlinkError struct {
	op  string
	err error
}

func (e *netlinkError) Error() string { return e.op + ": " + e.err.Error() }
func (e *netlinkError) Unwrap() error { return e.err }

func isNetlinkErr(err error) bool {
	var ne *netlinkError
	return errors.As(err, &ne)
}

// routeTo asks the kernel for the route it would use, like `ip route get`,
// and returns it with the outgoing link's index.
func routeTo(h *netlink.Handle, addr netip.Addr) (Route, int, error) {
	var opts *netlink.RouteGetOptions
	if z := addr.Zone(); z != "" {
		// A zone names the link, or gives its index.
		opts = &netlink.RouteGetOptions{Oif: z}
		if i, err := strconv.Atoi(z); err == nil {
			opts = &netlink.RouteGetOptions{OifIndex: i}
		}
	}
	routes, err := h.RouteGetWithOptions(net.IP(addr.WithZone("").AsSlice()), opts)
	switch {
	case errors.Is(err, syscall.ENETUNREACH), // no route, or a throw route
		errors.Is(err, syscall.EHOSTUNREACH), // an unreachable route
		errors.Is(err, syscall.EINVAL),       // a blackhole route
		errors.Is(err, syscall.EACCES):       // a prohibit route
		// Sandboxes that forbid netlink do so when the socket is
		// bound, before any request. Should one refuse this request
		// instead, calling the address off-link is the safe mistake:
		// a MAC goes missing, none is misattributed.
		return Route{}, 0, fmt.Errorf("%w: %s: %w", ErrNotOnLink, addr, err)
	}
	if err != nil {
		return Route{}, 0, &netlinkError{"route get", err}
	}
	if len(routes) == 0 {
		return Route{}, 0, fmt.Errorf("%w: %s: no route", ErrNotOnLink, addr)
	}
	rt := routes[0]
	r := Route{Local: rt.Type == unix.RTN_LOCAL}
	l, err := h.LinkByIndex(rt.LinkIndex)
	if err != nil {
		return Route{}, 0, &netlinkError{"link by index", err}
	}
	r.Interface = l.Attrs().Name
	gw := rt.Gw
	if gw == nil && len(rt.MultiPath) > 0 {
		gw = rt.MultiPath[0].Gw
	}
	if g, ok := netip.AddrFromSlice(gw); ok {
		r.Gateway = g.Unmap()
	}
	if rt.Via != nil || len(rt.MultiPath) > 0 && !r.Gateway.IsValid() {
		// A gateway of the other family (RFC 5549) or one we could not
		// read: still a router.
		r.Gateway = netip.IPv6Unspecified()
	}
	r.Direct = rt.Type == unix.RTN_UNICAST && !r.Gateway.IsValid()
	return r, rt.LinkIndex, nil
}

// netlinkLookup checks that addr is on-link, then finds its entry on the
// link the route leaves by.
func netlinkLookup(h *netlink.Handle, addr netip.Addr) (net.HardwareAddr, error) {
	r, index, err := routeTo(h, addr)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Local:
		return nil, fmt.Errorf("%w: %s", ErrLocal, addr)
	case !r.Direct:
		return nil, fmt.Errorf("%w: %s is reached via %s", ErrNotOnLink, addr, r.Gateway)
	}
	family := unix.AF_INET
	if addr.Is6() {
		family = unix.AF_INET6
	}
	list, err := neighList(h, index, family)
	if err != nil {
		return nil, err
	}
	want := addr.WithZone("")
	for _, n := range list {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == want {
			if _, ok := state(n); ok && !zeroMAC(n.HardwareAddr) {
				return n.HardwareAddr, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s on %s", ErrNotFound, addr, r.Interface)
}

func netlinkTable(h *netlink.Handle) (map[netip.Addr]Entry, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, &netlinkError{"link list", err}
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	t := map[netip.Addr]Entry{}
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		list, err := neighList(h, 0, family)
		if err != nil {
			return nil, err
		}
		for _, n := range list {
			st, ok := state(n)
			a, aok := netip.AddrFromSlice(n.IP)
			if !ok || !aok || zeroMAC(n.HardwareAddr) {
				continue
			}
			e := Entry{MAC: n.HardwareAddr, Interface: names[n.LinkIndex], State: st}
			a = a.Unmap()
			if a.Is6() && a.IsLinkLocalUnicast() {
				a = a.WithZone(e.Interface)
			}
			if _, dup := t[a]; !dup {
				t[a] = e
			}
		}
	}
	return t, nil
}

// neighList dumps the table, again if it changed during the dump.
func neighList(h *netlink.Handle, index, family int) ([]netlink.Neigh, error) {
	for try := 1; ; try++ {
		list, err := h.NeighList(index, family)
		if errors.Is(err, netlink.ErrDumpInterrupted) && try < 3 {
			continue
		}
		if err != nil {
			return nil, &netlinkError{"neighbour list", err}
		}
		return list, nil
	}
}

// state maps a kernel entry's state, and says whether the entry is
// resolved: entries being resolved, failed ones and those on links without
// link-layer addresses (NOARP) carry no MAC worth reporting.
func state(n netlink.Neigh) (State, bool) {
	switch {
	case n.State&netlink.NUD_PERMANENT != 0:
		return Permanent, true
	case n.State&netlink.NUD_REACHABLE != 0:
		return Reachable, true
	case n.State&netlink.NUD_STALE != 0:
		return Stale, true
	case n.State&netlink.NUD_DELAY != 0:
		return Delay, true
	case n.State&netlink.NUD_PROBE != 0:
		return Probe, true
	}
	return 0, false // NONE, INCOMPLETE, FAILED, NOARP
}

func zeroMAC(m net.HardwareAddr) bool {
	return strings.Trim(string(m), "\x00") == ""
}
