package neigh

// Evidence: the neighbour table as proof that a host is there.
//
// Every packet to an address on one of this machine's links makes the
// kernel resolve it first (ARP for IPv4, neighbour solicitation for
// IPv6), whatever the packet and whoever sent it, so a scan that pings a
// host that drops every echo request still leaves the host's MAC address
// in the table. An entry proves a host only if the kernel heard from it
// while the scan ran, which rules out four kinds of entries:
//
//   - INCOMPLETE and FAILED entries have heard nothing; NOARP and
//     PERMANENT ones were never resolved by anyone (set by hand or by
//     the link type), so they prove nothing at any time.
//   - An entry left by an earlier scan or earlier traffic can stay
//     REACHABLE for up to 45 s and STALE for minutes after its host has
//     left, and a packet sent to it meanwhile only moves it to DELAY: it
//     still shows a MAC address. Such an entry counts only if it was
//     confirmed again after a snapshot taken before the scan.
//
// "Confirmed" is the kernel's own word: NDA_CACHEINFO's ndm_confirmed,
// which it sets when a reply to its solicitation arrives (or a higher
// layer reports forward progress, as TCP does on an ACK), and nowhere
// else. ndm_updated is no use here: the kernel sets it on every state
// change, including REACHABLE -> STALE by timer and STALE -> DELAY when
// the scan's own packet uses the entry. So the rule is: an entry in a
// resolved state (REACHABLE, STALE, DELAY or PROBE, with a link-layer
// address) counts when it was not resolved at the snapshot (a state
// transition: the kernel resolved it since), when its MAC address changed
// (the kernel heard from a device since), or when its confirmed time
// moved past the snapshot's. Times come as "ticks ago" in USER_HZ (100 a
// second), truncated, and the dump takes a moment, so each is kept as the
// interval it must lie in, and "moved" means the new interval lies wholly
// after the old: an entry nobody confirmed can never pass, however the
// rounding falls.
//
// /proc/net/arp has no times and no states beyond "complete", so from it
// only the transition counts.
//
// Reading: RTM_GETNEIGH dumps need no privilege, and neither does
// /proc/net/arp; sandboxes that forbid netlink (Android since version 10
// refuses to bind a NETLINK_ROUTE socket for apps, and hides
// /proc/net/arp) leave the table unreadable, which Open reports as an
// *UnavailableError. Changing the table (Reprobe) needs CAP_NET_ADMIN.

import (
	"bytes"
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

// userHZ is the unit of NDA_CACHEINFO's times: clock_t, USER_HZ ticks,
// which Linux fixes at 100 a second on every architecture it exports
// them from (alpha aside, which Go does not run on).
const userHZ = 100

// tick is one USER_HZ tick.
const tick = time.Second / userHZ

// Observation is one neighbour entry as one Snapshot saw it, in whatever
// state.
type Observation struct {
	Addr      netip.Addr       // zoned for IPv6 link-local addresses
	MAC       net.HardwareAddr // nil when the entry has none
	Interface string
	Index     int    // the interface's index
	NUD       uint16 // the kernel's state bits (netlink.NUD_*); atfCom-derived from /proc
	// ConfirmedFrom and ConfirmedTo bracket when the kernel last
	// confirmed the entry; both zero when the source does not say
	// (/proc/net/arp).
	ConfirmedFrom, ConfirmedTo time.Time
}

// Resolved reports whether the entry holds a link-layer address the
// kernel learned by resolving: REACHABLE, STALE, DELAY or PROBE with a
// non-zero address (complete, from /proc/net/arp). INCOMPLETE, FAILED,
// NOARP and PERMANENT entries are never resolved in this sense.
func (o Observation) Resolved() bool {
	const resolved = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE
	return o.NUD&resolved != 0 && o.NUD&(netlink.NUD_PERMANENT|netlink.NUD_NOARP) == 0 && !zeroMAC(o.MAC)
}

// State returns the entry's state as Entry reports it; ok is false for an
// entry that is not resolved.
func (o Observation) State() (State, bool) {
	if !o.Resolved() {
		return 0, false
	}
	return state(netlink.Neigh{State: int(o.NUD)})
}

// Snapshot is the neighbour table at one moment.
type Snapshot struct {
	// Taken is when the dump was asked for.
	Taken time.Time
	// Entries holds every entry, resolved or not, by address (IPv6
	// link-local ones zoned). Of an address on several links, the
	// first the kernel lists.
	Entries map[netip.Addr]Observation
	// FromProc says the snapshot came from /proc/net/arp: IPv4 only,
	// complete entries only, no times.
	FromProc bool
	// NoIPv6 says the IPv6 dump failed: IPv6 entries are unknown, not
	// absent.
	NoIPv6 bool
}

// Reader reads the neighbour table of the network namespace it was
// opened in, from any goroutine: its netlink socket stays in that
// namespace. It is not safe for concurrent use.
type Reader struct {
	h   *netlink.Handle // nil when netlink was refused and /proc serves
	arp func() ([]byte, error)
}

// Open returns a Reader for the calling thread's network namespace. When
// netlink is refused it falls back to /proc/net/arp (opened by path at
// each read, so only for a process that stays in one namespace); when
// that is unreadable too it fails with an *UnavailableError.
func Open() (*Reader, error) {
	return open(system())
}

func open(s source) (*Reader, error) {
	h, nerr := s.dial()
	if nerr == nil {
		// One probe dump: a sandbox may allow the socket and refuse
		// the request.
		_, err := h.NeighList(0, unix.AF_INET)
		if err == nil || errors.Is(err, netlink.ErrDumpInterrupted) {
			return &Reader{h: h}, nil
		}
		nerr = err
		h.Close()
	}
	if _, perr := s.arp(); perr != nil {
		return nil, &UnavailableError{Netlink: nerr, Proc: perr}
	}
	return &Reader{arp: s.arp}, nil
}

// Close releases the netlink socket.
func (r *Reader) Close() {
	if r != nil && r.h != nil {
		r.h.Close()
	}
}

// Netlink reports whether the Reader reads netlink, with states and
// times, rather than /proc/net/arp.
func (r *Reader) Netlink() bool { return r.h != nil }

// Snapshot dumps the whole table, IPv4 and IPv6 (IPv4 only from
// /proc/net/arp). ctx bounds it through the socket's timeout.
func (r *Reader) Snapshot(ctx context.Context) (Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	if r.h == nil {
		taken := time.Now()
		b, err := r.arp()
		if err != nil {
			return Snapshot{}, &UnavailableError{Netlink: errors.New("refused at open"), Proc: err}
		}
		t, err := parseProcARP(b)
		if err != nil {
			return Snapshot{}, err
		}
		s := Snapshot{Taken: taken, Entries: make(map[netip.Addr]Observation, len(t)), FromProc: true}
		for a, e := range t {
			nud := uint16(netlink.NUD_REACHABLE)
			if e.State == Permanent {
				nud = netlink.NUD_PERMANENT
			}
			s.Entries[a] = Observation{Addr: a, MAC: e.MAC, Interface: e.Interface, NUD: nud}
		}
		return s, nil
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := r.h.SetSocketTimeout(max(time.Until(dl), time.Millisecond)); err != nil {
			return Snapshot{}, err
		}
	}
	links, err := r.h.LinkList()
	if err != nil {
		return Snapshot{}, &netlinkError{"link list", err}
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	s := Snapshot{Entries: map[netip.Addr]Observation{}}
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		// The times are "ticks ago" as of some moment inside the dump:
		// bracket that moment.
		var list []netlink.Neigh
		var before, after time.Time
		for try := 1; ; try++ {
			before = time.Now()
			list, err = r.h.NeighList(0, family)
			after = time.Now()
			if errors.Is(err, netlink.ErrDumpInterrupted) && try < 3 {
				continue
			}
			break
		}
		if err != nil && family == unix.AF_INET6 {
			s.NoIPv6 = true // the IPv4 dump worked: a kernel without IPv6 still has that table
			continue
		}
		if err != nil {
			return Snapshot{}, &netlinkError{"neighbour list", err}
		}
		if s.Taken.IsZero() {
			s.Taken = before
		}
		for _, n := range list {
			a, ok := netip.AddrFromSlice(n.IP)
			if !ok {
				continue
			}
			o := Observation{Addr: a.Unmap(), Interface: names[n.LinkIndex], Index: n.LinkIndex, NUD: uint16(n.State)}
			if len(n.HardwareAddr) > 0 {
				o.MAC = n.HardwareAddr
			}
			if o.Addr.Is6() && o.Addr.IsLinkLocalUnicast() {
				o.Addr = o.Addr.WithZone(o.Interface)
			}
			// ticks ago = floor((now - confirmed)/tick), now in
			// [before, after]: confirmed lies in
			// (before - (ago+1) ticks, after - ago ticks].
			ago := time.Duration(n.Confirmed) * tick
			o.ConfirmedFrom = before.Add(-ago - tick)
			o.ConfirmedTo = after.Add(-ago)
			if _, dup := s.Entries[o.Addr]; !dup {
				s.Entries[o.Addr] = o
			}
		}
	}
	return s, nil
}

// Confirmed reports whether now's entry for addr proves a host at addr
// between the snapshot before and now (see the package's notes on
// evidence): resolved in now, and either not resolved in before, holding
// another MAC address than there, or confirmed by the kernel after
// before's confirmation for certain. It returns now's entry.
func Confirmed(before, now Snapshot, addr netip.Addr) (Observation, bool) {
	o, ok := now.Entries[addr]
	if !ok || !o.Resolved() {
		return Observation{}, false
	}
	b, had := before.Entries[addr]
	switch {
	case !had && addr.Is6() && (before.NoIPv6 || before.FromProc):
		// Before knew nothing of IPv6: only a confirmation after it
		// was taken counts.
		if !o.ConfirmedFrom.IsZero() && o.ConfirmedFrom.After(before.Taken) {
			return o, true
		}
		return Observation{}, false
	case !had || !b.Resolved():
		return o, true // resolved since: the kernel heard from it
	case !bytes.Equal(b.MAC, o.MAC):
		return o, true // another device answers for it now
	case before.FromProc || now.FromProc || b.ConfirmedTo.IsZero() || o.ConfirmedFrom.IsZero():
		return Observation{}, false // no times: cannot tell
	case o.ConfirmedFrom.After(b.ConfirmedTo):
		return o, true
	}
	return Observation{}, false
}

// ErrNotPermitted reports that Reprobe needs CAP_NET_ADMIN, which the
// process lacks; it matches fs.ErrPermission too.
var ErrNotPermitted = fmt.Errorf("neigh: changing the neighbour table needs CAP_NET_ADMIN: %w", os.ErrPermission)

// Reprobe asks the kernel to check again, at once, each resolved entry
// given: it puts the entry in state PROBE (as `ip neigh change ... nud
// probe` does), and the kernel sends unicast solicitations right away,
// ucast_solicit of them retrans_time apart. A host that answers makes its
// entry REACHABLE and confirmed anew; one that is gone leaves it to fail.
// The kernel would do the same by itself, but only delay_first_probe_time
// (5 s) after something used a STALE entry, and not at all for an entry
// still REACHABLE, which an earlier scan leaves for up to 45 s: without
// this, a host that answers nothing but ARP is not seen again by a scan
// repeated within that time. Nothing is confirmed by the request itself:
// PROBE is not a connected state, so the kernel leaves ndm_confirmed be.
//
// It needs CAP_NET_ADMIN (ErrNotPermitted otherwise) and a netlink
// Reader. Entries that are not resolved are skipped; n counts those sent
// to the kernel.
func (r *Reader) Reprobe(ctx context.Context, entries []Observation) (n int, err error) {
	if r.h == nil {
		return 0, &UnavailableError{Netlink: errors.New("refused at open")}
	}
	for _, o := range entries {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if !o.Resolved() || o.Index == 0 {
			continue
		}
		family := unix.AF_INET
		if o.Addr.Is6() {
			family = unix.AF_INET6
		}
		err := r.h.NeighSet(&netlink.Neigh{
			LinkIndex: o.Index, Family: family, State: netlink.NUD_PROBE,
			IP: net.IP(o.Addr.WithZone("").AsSlice()), HardwareAddr: o.MAC,
		})
		switch {
		case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
			return n, ErrNotPermitted
		case errors.Is(err, syscall.ENOENT):
			continue // gone meanwhile
		case err != nil:
			return n, &netlinkError{"neighbour probe", err}
		}
		n++
	}
	return n, nil
}

// Params are the kernel's resolution settings for one interface and
// family (/proc/sys/net/ipv{4,6}/neigh/IFACE).
type Params struct {
	// Retrans is the gap between solicitations (retrans_time_ms).
	Retrans time.Duration
	// McastSolicit is how many broadcast (multicast) solicitations a new
	// entry gets before it fails; UcastSolicit how many unicast ones a
	// PROBE entry gets. An unanswered new entry fails
	// McastSolicit*Retrans after it was made.
	McastSolicit, UcastSolicit int
	// DelayFirstProbe is how long a used STALE entry waits in DELAY
	// before the kernel checks it (delay_first_probe_time).
	DelayFirstProbe time.Duration
}

// DefaultParams are Linux's defaults.
var DefaultParams = Params{Retrans: time.Second, McastSolicit: 3, UcastSolicit: 3, DelayFirstProbe: 5 * time.Second}

// ParamsOf reads iface's settings for IPv4 (v6 false) or IPv6, in the
// calling thread's network namespace (/proc/sys/net shows the opener's).
// Settings it cannot read keep DefaultParams' values, and the error says
// which.
func ParamsOf(iface string, v6 bool) (Params, error) {
	p := DefaultParams
	if iface == "" || strings.ContainsAny(iface, "/\x00") || iface == "." || iface == ".." {
		return p, fmt.Errorf("neigh: bad interface name %q", iface)
	}
	dir := "/proc/sys/net/ipv4/neigh/" + iface + "/"
	if v6 {
		dir = "/proc/sys/net/ipv6/neigh/" + iface + "/"
	}
	var errs []error
	read := func(name string, set func(int)) {
		b, err := os.ReadFile(dir + name)
		if err != nil {
			errs = append(errs, err)
			return
		}
		v, err := parseParam(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("neigh: %s%s: %w", dir, name, err))
			return
		}
		set(v)
	}
	read("retrans_time_ms", func(v int) { p.Retrans = time.Duration(v) * time.Millisecond })
	read("mcast_solicit", func(v int) { p.McastSolicit = v })
	read("ucast_solicit", func(v int) { p.UcastSolicit = v })
	read("delay_first_probe_time", func(v int) { p.DelayFirstProbe = time.Duration(v) * time.Second })
	return p, errors.Join(errs...)
}

// maxParam bounds a setting: the kernel keeps these times in jiffies
// and counts in small integers, so anything above a day's milliseconds is
// nonsense, and would overflow a time.Duration of seconds besides.
const maxParam = 86_400_000

// parseParam parses one neighbour setting as /proc/sys shows it: a
// non-negative decimal number and a newline.
func parseParam(b []byte) (int, error) {
	t := strings.TrimSpace(string(b))
	v, err := strconv.Atoi(t)
	if err != nil || v < 0 || v > maxParam {
		return 0, fmt.Errorf("bad value %q", clip(t))
	}
	return v, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
