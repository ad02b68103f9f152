package cli

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

	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
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
	method   probe.Method
	count    int
	timeout  time.Duration
	interval time.Duration
	json     bool
	hosts    []string // as typed; resolved later
	// targets are the rules hosts are checked by: this machine's
	// networks and --allow-broadcast.
	targets targets.Options
}

// parsePingArgs parses and validates ping's flags and hosts. It returns
// flag.ErrHelp for -h, a *usageError for bad input. nets are this
// machine's networks, whose broadcast addresses ping refuses without
// --allow-broadcast.
func parsePingArgs(args []string, stderr io.Writer, nets []netip.Prefix) (pingConfig, error) {
	var c pingConfig
	fs := newCmdFlags("ping", "ping [flags] HOST...", "Ping hosts by the best method this machine allows.")
	fs.methodVar(&c.method)
	fs.IntVar(&c.count, "count", 4, "echo requests per host (1 to 1000000)")
	fs.DurationVar(&c.timeout, "timeout", time.Second, "how long to wait for each reply")
	fs.DurationVar(&c.interval, "interval", time.Second, "time between requests to one host")
	fs.BoolVar(&c.json, "json", false, "print one JSON object per reply")
	fs.BoolVar(&c.targets.AllowBroadcast, "allow-broadcast", false,
		"allow a broadcast or multicast host (every host there answers, so replies come from others)")
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
	c.targets.Networks = nets
	for _, h := range fs.Args() {
		if err := checkHost(h, c.targets); err != nil {
			return c, err
		}
	}
	c.hosts = fs.Args()
	return c, nil
}

// checkHost rejects what cannot be a host before anything touches the
// network, by the rules of targets.ParseHost: flags in the wrong place,
// networks, ranges, special addresses and malformed names. Names that
// pass are looked up later.
func checkHost(h string, opt targets.Options) error {
	if strings.HasPrefix(h, "-") {
		return usagef("%s is not a host (flags go before the hosts)", quoteInput(h))
	}
	if _, _, err := targets.ParseHost(h, opt); err != nil {
		return &usageError{err.Error()}
	}
	return nil
}

// resolveHosts turns the validated hosts into addresses. Names are looked
// up with the system's resolver, bounded by ctx; an IPv4 answer is
// preferred because every method supports IPv4. The address a name
// resolves to is held to the rules a typed one is.
func resolveHosts(ctx context.Context, hosts []string, opt targets.Options) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs := make([]netip.Addr, 0, len(hosts))
	for _, h := range hosts {
		a, name, err := targets.ParseHost(h, opt)
		if err != nil {
			return nil, &usageError{err.Error()}
		}
		if name == "" {
			addrs = append(addrs, a)
			continue
		}
		found, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
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
		if _, _, err := targets.ParseHost(best.String(), opt); err != nil {
			return nil, usagef("%s resolves to %v", quoteInput(h), err)
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

func newPingLine(dst netip.Addr, seq int, r probe.Reply, method probe.Method, err error) pingLine {
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
	case errors.Is(err, probe.ErrTimeout):
		return "timeout"
	case errors.Is(err, probe.ErrUnreachable) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH):
		if !strings.Contains(strings.ToLower(msg), "unreachable") {
			return "unreachable: " + msg
		}
	case errors.Is(err, probe.ErrTimeExceeded):
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

// runPingCmd is `netscanner ping`.
func runPingCmd(ctx context.Context, e Env, args []string, stdout, stderr io.Writer) int {
	cfg, err := parsePingArgs(args, stderr, localPrefixes())
	if err != nil {
		return parseFailed(stderr, "ping", err)
	}
	addrs, err := resolveHosts(ctx, cfg.hosts, cfg.targets)
	if err != nil {
		fmt.Fprintf(stderr, "netscanner ping: %s\n", clip(err.Error()))
		return exitUsage
	}

	conn, report, err := e.open(ctx, probe.Options{Method: cfg.method, Timeout: cfg.timeout})
	if err != nil {
		fmt.Fprintf(stderr, "netscanner ping: %v\n", err)
		return exitFail
	}
	announceMethod(stderr, report)

	p := probe.NewPinger(conn)
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
func announceMethod(stderr io.Writer, r *probe.Report) {
	st, _ := r.Status(r.Chosen)
	fmt.Fprintf(stderr, "netscanner ping: method %s (%s)\n", r.Chosen, st.Reason)
	if r.Forced || r.Chosen == probe.Dgram {
		return
	}
	if dg, ok := r.Status(probe.Dgram); ok && !dg.OK {
		hint := "hint: " + dg.Reason
		if dg.Fix != "" {
			hint += "; enable with: " + dg.Fix
		}
		fmt.Fprintf(stderr, "netscanner ping: %s\n", hint)
	}
}

// pingHost sends cfg.count requests to dst, one every cfg.interval, and
// emits a line for each. It reports whether any reply came back.
func pingHost(ctx context.Context, p *probe.Pinger, dst netip.Addr, cfg pingConfig, emit func(pingLine)) bool {
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

// localPrefixes are this machine's networks, whose broadcast addresses
// ping and scan treat as broadcast addresses; none when they cannot be
// listed (then only 255.255.255.255 and multicast are known).
func localPrefixes() []netip.Prefix {
	nets, err := scanner.LocalNetworks()
	if err != nil {
		return nil
	}
	return scanner.Prefixes(nets)
}
