package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"netscanner/icmpsock"
)

// Limits on ping's flags. They keep a typo from turning into a flood or a
// run that never ends.
const (
	maxPingCount   = 1_000_000
	maxPingWait    = time.Hour
	minInterval    = 10 * time.Millisecond
	resolveTimeout = 10 * time.Second // for all host names together
)

// pingConfig is a validated `netscanner ping` command line.
type pingConfig struct {
	method   icmpsock.Method
	count    int
	timeout  time.Duration
	interval time.Duration
	json     bool
	hosts    []string // as typed; resolved later
}

// parsePingArgs parses and validates ping's flags and hosts. It returns
// flag.ErrHelp for -h, a *usageError for bad input.
func parsePingArgs(args []string, stderr io.Writer) (pingConfig, error) {
	var c pingConfig
	fs := newCmdFlags("ping", "ping [flags] HOST...", "Ping hosts by the best method this machine allows.")
	fs.methodVar(&c.method)
	fs.IntVar(&c.count, "count", 4, "echo requests per host (1 to 1000000)")
	fs.DurationVar(&c.timeout, "timeout", time.Second, "how long to wait for each reply")
	fs.DurationVar(&c.interval, "interval", time.Second, "time between requests to one host")
	fs.BoolVar(&c.json, "json", false, "print one JSON object per reply")
	if err := fs.parse(args, stderr); err != nil {
		return c, err
	}
	switch {
	case c.count < 1 || c.count > maxPingCount:
		return c, usagef("--count %d: want 1 to %d", c.count, maxPingCount)
	case c.timeout <= 0 || c.timeout > maxPingWait:
		return c, usagef("--timeout %v: want more than 0 and at most %v", c.timeout, maxPingWait)
	case c.interval < minInterval || c.interval > maxPingWait:
		return c, usagef("--interval %v: want %v to %v", c.interval, minInterval, maxPingWait)
	case fs.NArg() == 0:
		return c, usagef("no host given")
	}
	for _, h := range fs.Args() {
		if err := checkHost(h); err != nil {
			return c, err
		}
	}
	c.hosts = fs.Args()
	return c, nil
}

// checkHost rejects what cannot be a host before anything touches the
// network: flags in the wrong place, networks, and malformed names. Names
// that pass are looked up later.
func checkHost(h string) error {
	switch {
	case strings.TrimSpace(h) == "":
		return usagef("empty host")
	case strings.HasPrefix(h, "-"):
		return usagef("%s is not a host (flags go before the hosts)", quoteInput(h))
	}
	if _, err := netip.ParsePrefix(h); err == nil {
		return usagef("%s is a network; ping takes single hosts (netscanner scan sweeps networks)", quoteInput(h))
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return checkAddr(h, a)
	}
	if !validHostname(h) {
		return usagef("%s is neither an IP address nor a host name", quoteInput(h))
	}
	return nil
}

func checkAddr(h string, a netip.Addr) error {
	switch {
	case a.IsUnspecified():
		return usagef("%s is the unspecified address, not a host", quoteInput(h))
	case a.IsMulticast():
		return usagef("%s is a multicast address; ping takes single hosts", quoteInput(h))
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return usagef("%s is the broadcast address; ping takes single hosts", quoteInput(h))
	case a.Zone() != "" && !validZone(a.Zone()):
		return usagef("%s: %s is not an interface name", quoteInput(h), quoteInput(a.Zone()))
	case a.Zone() != "" && (!a.Is6() || a.Is4In6() || !a.IsLinkLocalUnicast()):
		// A zone picks the link for a link-local address; anywhere else
		// the kernel ignores it and routes as usual, out of whichever
		// interface that is, which is not what the user asked for.
		return usagef("%s: a zone (%%%s) goes only on a link-local address (fe80::/10)", quoteInput(h), a.Zone())
	}
	return nil
}

// validZone accepts what can name a network interface: at most 15
// characters (IFNAMSIZ less its NUL) of letters, digits, '.', '_' and '-'.
func validZone(z string) bool {
	if len(z) > 15 {
		return false
	}
	for _, r := range z {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// validHostname checks RFC 1123 syntax, and that the last label is not
// all digits: "1.2.3.4.5" and "300.1.1.1" are mistyped addresses, not
// names to send to DNS.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil
}

// resolveHosts turns the validated hosts into addresses. Names are looked
// up with the system's resolver, bounded by ctx; an IPv4 answer is
// preferred because every method supports IPv4.
func resolveHosts(ctx context.Context, hosts []string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs := make([]netip.Addr, 0, len(hosts))
	for _, h := range hosts {
		if a, err := netip.ParseAddr(h); err == nil {
			addrs = append(addrs, a.Unmap())
			continue
		}
		found, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
		if err != nil || len(found) == 0 {
			if ctx.Err() != nil {
				return nil, usagef("cannot resolve %q: %v", h, ctx.Err())
			}
			return nil, usagef("cannot resolve %q: %v", h, err)
		}
		best := found[0].Unmap()
		for _, a := range found {
			if a.Unmap().Is4() {
				best = a.Unmap()
				break
			}
		}
		if err := checkAddr(h, best); err != nil {
			return nil, err
		}
		addrs = append(addrs, best)
	}
	return addrs, nil
}

// pingLine is one reply, timeout or error, in the shape --json prints.
type pingLine struct {
	IP     string   `json:"ip"`
	Seq    int      `json:"seq"`
	RTTms  *float64 `json:"rtt_ms"` // null without a reply
	TTL    *int     `json:"ttl"`    // null when unknown
	Method string   `json:"method"`
	Error  *string  `json:"error"` // null for a reply
}

func newPingLine(dst netip.Addr, seq int, r icmpsock.Reply, method icmpsock.Method, err error) pingLine {
	l := pingLine{IP: dst.String(), Seq: seq, Method: string(method)}
	if err == nil {
		err = r.Err
	}
	if err != nil {
		s := describePingError(err)
		l.Error = &s
		return l
	}
	ms := float64(r.RTT.Microseconds()) / 1000
	l.RTTms = &ms
	if r.TTL > 0 {
		l.TTL = &r.TTL
	}
	if r.Method != "" {
		l.Method = string(r.Method)
	}
	return l
}

// describePingError words an error so that a script can branch on its
// start: "timeout", or a message containing "unreachable" or "time
// exceeded".
func describePingError(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, icmpsock.ErrTimeout):
		return "timeout"
	case errors.Is(err, icmpsock.ErrUnreachable) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH):
		if !strings.Contains(strings.ToLower(msg), "unreachable") {
			return "unreachable: " + msg
		}
	case errors.Is(err, icmpsock.ErrTimeExceeded):
		if !strings.Contains(strings.ToLower(msg), "time exceeded") {
			return "time exceeded: " + msg
		}
	}
	return msg
}

// text renders l for a terminal:
// "198.18.1.1  seq=1  rtt=0.05 ms  ttl=64  method=raw".
func (l pingLine) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  seq=%d  ", l.IP, l.Seq)
	if l.Error != nil {
		b.WriteString(*l.Error)
	} else {
		b.WriteString("rtt=" + formatMs(*l.RTTms) + " ms")
		if l.TTL != nil {
			fmt.Fprintf(&b, "  ttl=%d", *l.TTL)
		}
	}
	b.WriteString("  method=" + l.Method)
	return b.String()
}

// formatMs keeps about three significant digits, as ping does.
func formatMs(ms float64) string {
	switch {
	case ms < 1:
		return strconv.FormatFloat(ms, 'f', 3, 64)
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 2, 64)
	case ms < 100:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}

func cmdPing(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parsePingArgs(args, stderr)
	if err != nil {
		return parseFailed(stderr, "ping", err)
	}
	addrs, err := resolveHosts(ctx, cfg.hosts)
	if err != nil {
		fmt.Fprintf(stderr, "netscanner ping: %s\n", clip(err.Error()))
		return exitUsage
	}

	conn, report, err := icmpsock.Open(ctx, icmpsock.Options{Method: cfg.method, Timeout: cfg.timeout})
	if err != nil {
		fmt.Fprintf(stderr, "netscanner ping: %v\n", err)
		return exitFail
	}
	announceMethod(stderr, report)

	p := icmpsock.NewPinger(conn)
	defer p.Close()

	var (
		outMu    sync.Mutex // one line at a time from many goroutines
		answered atomic.Int64
		enc      = json.NewEncoder(stdout)
	)
	emit := func(l pingLine) {
		outMu.Lock()
		defer outMu.Unlock()
		if cfg.json {
			_ = enc.Encode(l) // a closed stdout leaves nothing useful to do
		} else {
			fmt.Fprintln(stdout, l.text())
		}
	}
	var wg sync.WaitGroup
	for _, dst := range addrs {
		wg.Go(func() {
			if pingHost(ctx, p, dst, cfg, emit) {
				answered.Add(1)
			}
		})
	}
	wg.Wait()

	fmt.Fprintf(stderr, "netscanner ping: %d of %d hosts answered\n", answered.Load(), len(addrs))
	if answered.Load() == 0 {
		return exitFail
	}
	return exitOK
}

// announceMethod says on stderr which method is in use and, when Auto had
// to fall below dgram, how to enable the unprivileged one.
func announceMethod(stderr io.Writer, r *icmpsock.Report) {
	st, _ := r.Status(r.Chosen)
	fmt.Fprintf(stderr, "netscanner ping: method %s (%s)\n", r.Chosen, st.Reason)
	if r.Forced || r.Chosen == icmpsock.Dgram {
		return
	}
	if dg, ok := r.Status(icmpsock.Dgram); ok && !dg.OK {
		hint := "hint: " + dg.Reason
		if dg.Fix != "" {
			hint += "; enable with: " + dg.Fix
		}
		fmt.Fprintf(stderr, "netscanner ping: %s\n", hint)
	}
}

// pingHost sends cfg.count requests to dst, one every cfg.interval, and
// emits a line for each. It reports whether any reply came back.
func pingHost(ctx context.Context, p *icmpsock.Pinger, dst netip.Addr, cfg pingConfig, emit func(pingLine)) bool {
	answered := false
	next := time.Now()
	for seq := 1; seq <= cfg.count; seq++ {
		if seq > 1 {
			next = next.Add(cfg.interval)
			t := time.NewTimer(time.Until(next))
			select {
			case <-ctx.Done():
				t.Stop()
				return answered
			case <-t.C:
			}
		}
		pctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		r, err := p.Ping(pctx, dst)
		cancel()
		if ctx.Err() != nil {
			return answered // interrupted: the missing reply is no timeout
		}
		l := newPingLine(dst, seq, r, p.Method(), err)
		answered = answered || l.Error == nil
		emit(l)
	}
	return answered
}

// cmdDoctor tells which ping methods work here, which one would be used,
// and how to enable the others.
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var asJSON bool
	fs := newCmdFlags("doctor", "doctor [--json]", "Say which ping methods work here and how to enable the others.")
	fs.BoolVar(&asJSON, "json", false, "print the verdicts as one JSON object")
	if err := fs.parse(args, stderr); err != nil {
		return parseFailed(stderr, "doctor", err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "netscanner doctor: %s\n", clip(fmt.Sprintf("unexpected argument %q (doctor takes no hosts)", fs.Arg(0))))
		return exitUsage
	}

	r := icmpsock.Diagnose(ctx, icmpsock.Options{})
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "netscanner doctor: %v\n", ctx.Err())
		return exitFail
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(newDoctorJSON(r)); err != nil {
			fmt.Fprintf(stderr, "netscanner doctor: %v\n", err)
			return exitFail
		}
	} else {
		fmt.Fprint(stdout, r.String())
		var v6 []string
		for _, st := range r.Methods {
			if st.IPv6 {
				v6 = append(v6, string(st.Method))
			}
		}
		fmt.Fprintf(stdout, "IPv6 works with: %s\n", orNone(strings.Join(v6, ", ")))
		fmt.Fprint(stdout, describeFacts(r.Facts))
	}
	if r.Chosen == "" {
		return exitFail
	}
	return exitOK
}

// describeFacts renders what the verdicts were based on.
func describeFacts(f icmpsock.Facts) string {
	var b strings.Builder
	b.WriteString("based on:\n")
	groups := make([]string, len(f.Groups))
	for i, g := range f.Groups {
		groups[i] = strconv.Itoa(g)
	}
	fmt.Fprintf(&b, "  user      uid %d, euid %d, egid %d, groups %s\n", f.UID, f.EUID, f.EGID, orNone(strings.Join(groups, ",")))
	if f.RangeErr != nil {
		fmt.Fprintf(&b, "  net.ipv4.ping_group_range  unknown: %v\n", f.RangeErr)
	} else {
		fmt.Fprintf(&b, "  net.ipv4.ping_group_range  %d %d\n", f.PingGroupRange[0], f.PingGroupRange[1])
	}
	fmt.Fprintf(&b, "  CAP_NET_RAW  effective %s, bounding set %s; no_new_privs %s\n",
		yesNo(f.CapNetRaw), yesNo(f.CapNetRawBounding), yesNo(f.NoNewPrivs))
	switch {
	case f.PingPath == "":
		b.WriteString("  ping      not found\n")
	default:
		var how []string
		if f.PingSetuid {
			how = append(how, "setuid root")
		}
		if f.PingCapRaw {
			how = append(how, "cap_net_raw")
		}
		fmt.Fprintf(&b, "  ping      %s (%s)\n", f.PingPath, orNone(strings.Join(how, ", ")))
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// doctorJSON is the --json shape of a Report.
type doctorJSON struct {
	Chosen  string             `json:"chosen"` // empty when nothing works
	Methods []doctorMethodJSON `json:"methods"`
	Facts   doctorFactsJSON    `json:"facts"`
}

type doctorMethodJSON struct {
	Method string `json:"method"`
	OK     bool   `json:"ok"`
	IPv6   bool   `json:"ipv6"`
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
}

type doctorFactsJSON struct {
	UID               int       `json:"uid"`
	EUID              int       `json:"euid"`
	EGID              int       `json:"egid"`
	Groups            []int     `json:"groups"`
	PingGroupRange    *[2]int64 `json:"ping_group_range"` // null when unreadable
	RangeError        string    `json:"ping_group_range_error,omitempty"`
	CapNetRaw         bool      `json:"cap_net_raw"`
	CapNetRawBounding bool      `json:"cap_net_raw_bounding"`
	NoNewPrivs        bool      `json:"no_new_privs"`
	PingPath          string    `json:"ping_path"`
	PingSetuid        bool      `json:"ping_setuid"`
	PingCapNetRaw     bool      `json:"ping_cap_net_raw"`
}

func newDoctorJSON(r *icmpsock.Report) doctorJSON {
	f := r.Facts
	d := doctorJSON{
		Chosen: string(r.Chosen),
		Facts: doctorFactsJSON{
			UID: f.UID, EUID: f.EUID, EGID: f.EGID, Groups: append([]int{}, f.Groups...),
			CapNetRaw: f.CapNetRaw, CapNetRawBounding: f.CapNetRawBounding, NoNewPrivs: f.NoNewPrivs,
			PingPath: f.PingPath, PingSetuid: f.PingSetuid, PingCapNetRaw: f.PingCapRaw,
		},
	}
	if f.RangeErr != nil {
		d.Facts.RangeError = f.RangeErr.Error()
	} else {
		rng := f.PingGroupRange
		d.Facts.PingGroupRange = &rng
	}
	for _, s := range r.Methods {
		d.Methods = append(d.Methods, doctorMethodJSON{
			Method: string(s.Method), OK: s.OK, IPv6: s.IPv6, Reason: s.Reason, Fix: s.Fix,
		})
	}
	return d
}
