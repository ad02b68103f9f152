package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"netscanner/icmpsock"
	"netscanner/scanner"
)

// Limits on scan's flags. They keep a typo from turning into a flood, a
// scan of a continent, or one that never ends.
const (
	maxScanTimeout   = 60 * time.Second
	minRetryInterval = time.Millisecond
	maxScanRate      = 1_000_000 // requests per second, ever
	fastScanRate     = 100_000   // above this, --i-know-rate must be given
	maxScanHosts     = 1 << 24   // --max-hosts: a /8
)

// scanPrefix starts every line scan writes to stderr.
const scanPrefix = "netscanner scan: "

// scanConfig is a validated `netscanner scan` command line.
type scanConfig struct {
	method  icmpsock.Method
	engine  scanner.Config
	json    bool
	targets []string // as typed; parsed later
}

// parseScanArgs parses and validates scan's flags. It returns flag.ErrHelp
// for -h, a *usageError for bad input. Targets are only checked for flags
// in the wrong place here; scanner.ParseTargets judges the rest.
func parseScanArgs(args []string, stderr io.Writer) (scanConfig, error) {
	var (
		c        scanConfig
		method   string
		iKnow    bool
		maxHosts int
	)
	def := scanner.DefaultConfig()
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors come back to us, to print on one line
	fs.Usage = func() {}
	fs.BoolVar(&c.json, "json", false, "print one JSON object per live host")
	fs.DurationVar(&c.engine.Timeout, "timeout", def.Timeout, "how long to wait for a host after its last request (at most 1m)")
	fs.IntVar(&c.engine.Retries, "retries", def.Retries, fmt.Sprintf("more requests for a silent host (0 to %d)", scanner.MaxRetries))
	fs.DurationVar(&c.engine.RetryInterval, "retry-interval", def.RetryInterval, "time between requests to one host (at most --timeout is used)")
	fs.Float64Var(&c.engine.Rate, "rate", def.Rate, fmt.Sprintf("requests per second across the scan; %d suits a home network, above %d needs --i-know-rate", scanner.DefaultRate, fastScanRate))
	fs.BoolVar(&iKnow, "i-know-rate", false, fmt.Sprintf("allow --rate above %d, up to %d", fastScanRate, maxScanRate))
	fs.StringVar(&method, "method", "auto", "how to ping: auto, dgram, raw, exec or tcp")
	fs.IntVar(&maxHosts, "max-hosts", scanner.DefaultMaxHosts, "refuse to scan more addresses than this")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printFlagUsage(stderr, fs, "scan [flags] [TARGET...]",
				"Sweep targets for live hosts: addresses (198.18.0.7), prefixes (198.18.0.0/24),\n"+
					"ranges (198.18.0.10-50) and host names. Without targets, scan this machine's\n"+
					"IPv4 networks. Live hosts go to stdout as they answer.")
			return c, err
		}
		return c, &usageError{err.Error()}
	}

	m, err := icmpsock.ParseMethod(method)
	if err != nil || method == "" {
		return c, usagef("--method: unknown method %q (want auto, dgram, raw, exec or tcp)", method)
	}
	c.method = m
	e := &c.engine
	switch {
	case e.Timeout <= 0 || e.Timeout > maxScanTimeout:
		return c, usagef("--timeout %v: want more than 0 and at most %v", e.Timeout, maxScanTimeout)
	case e.Retries < 0 || e.Retries > scanner.MaxRetries:
		return c, usagef("--retries %d: want 0 to %d", e.Retries, scanner.MaxRetries)
	case e.RetryInterval < minRetryInterval || e.RetryInterval > maxScanTimeout:
		return c, usagef("--retry-interval %v: want %v to %v", e.RetryInterval, minRetryInterval, maxScanTimeout)
	case !(e.Rate > 0) || e.Rate > maxScanRate: // !(> 0) also catches NaN
		return c, usagef("--rate %v: want more than 0 and at most %d requests per second", e.Rate, maxScanRate)
	case e.Rate > fastScanRate && !iKnow:
		return c, usagef("--rate %v: above %d requests per second floods most networks; add --i-know-rate if this one can take it", e.Rate, fastScanRate)
	case maxHosts < 1 || maxHosts > maxScanHosts:
		return c, usagef("--max-hosts %d: want 1 to %d", maxHosts, maxScanHosts)
	}
	e.MaxHosts = maxHosts
	for _, a := range fs.Args() {
		if len(a) > 1 && a[0] == '-' {
			return c, usagef("%q is not a target (flags go before the targets)", a)
		}
	}
	c.targets = fs.Args()
	return c, nil
}

// openConn is icmpsock.Open; tests pass one that proves nothing is sent.
type openConn func(context.Context, icmpsock.Options) (icmpsock.Conn, *icmpsock.Report, error)

// cmdScan is `netscanner scan`.
func cmdScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runScan(ctx, args, stdout, stderr, icmpsock.Open)
}

// runScan is `netscanner scan`: everything the user typed is checked
// before the first packet; then one scan, with live hosts on stdout as
// they answer.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer, open openConn) int {
	cfg, err := parseScanArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s%v (try: netscanner scan -h)\n", scanPrefix, err)
		return exitUsage
	}

	targets, code := scanTargets(ctx, cfg, stderr)
	if targets == nil {
		return code
	}
	for _, n := range targets.Notes() {
		fmt.Fprintf(stderr, "%snote: %s\n", scanPrefix, n)
	}

	conn, report, err := open(ctx, icmpsock.Options{Method: cfg.method, Timeout: cfg.engine.Timeout})
	if err != nil {
		fmt.Fprintf(stderr, "%s%v\n", scanPrefix, err)
		return exitFail
	}
	defer conn.Close()
	announceScanMethod(stderr, report)
	fmt.Fprintf(stderr, "%sscanning %s (%d addresses) at up to %s requests a second\n",
		scanPrefix, targets, targets.Len(), strconv.FormatFloat(cfg.engine.Rate, 'f', -1, 64))

	out := newScanOutput(stdout, stderr, cfg.json, targets)
	sum, err := scanner.Scan(ctx, conn, targets, cfg.engine, out.emit)
	out.close()

	state := ""
	if sum.Cancelled {
		state = " (interrupted)"
	}
	fmt.Fprintf(stderr, "%sfound %d of %d in %.1f s by %s%s\n",
		scanPrefix, sum.Alive, sum.Total, sum.Elapsed.Seconds(), sum.Method, state)
	if err != nil && !sum.Cancelled {
		fmt.Fprintf(stderr, "%s%v\n", scanPrefix, err)
		return exitFail
	}
	if sum.Alive == 0 {
		return exitFail
	}
	return exitOK
}

// scanTargets parses the targets, or picks this machine's networks when
// there are none. On failure it prints one line and returns nil and the
// exit code: bad input is a usage error, a machine with no network to
// default to is not.
func scanTargets(ctx context.Context, cfg scanConfig, stderr io.Writer) (*scanner.Targets, int) {
	if len(cfg.targets) == 0 {
		nets, err := scanner.LocalNetworks()
		if err != nil {
			fmt.Fprintf(stderr, "%s%v\n", scanPrefix, err)
			return nil, exitFail
		}
		t, err := scanner.DefaultTargets(nets)
		if err != nil {
			for _, n := range nets {
				if n.Note != "" {
					fmt.Fprintf(stderr, "%snote: %s: %s\n", scanPrefix, n.Interface, n.Note)
				}
			}
			fmt.Fprintf(stderr, "%s%v\n", scanPrefix, err)
			return nil, exitFail
		}
		return t, exitOK // DefaultTargets keeps the networks' notes
	}

	rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	t, err := scanner.ParseTargets(rctx, cfg.targets, scanner.TargetOptions{MaxHosts: cfg.engine.MaxHosts})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "%s%v\n", scanPrefix, ctx.Err())
			return nil, exitFail
		}
		fmt.Fprintf(stderr, "%s%v (try: netscanner scan -h)\n", scanPrefix, err)
		return nil, exitUsage
	}
	return t, exitOK
}

// announceScanMethod says on stderr which method is in use and, when Auto
// had to fall below dgram, how to enable the unprivileged one.
func announceScanMethod(stderr io.Writer, r *icmpsock.Report) {
	if r == nil {
		return
	}
	st, _ := r.Status(r.Chosen)
	fmt.Fprintf(stderr, "%smethod %s (%s)\n", scanPrefix, r.Chosen, st.Reason)
	if r.Forced || r.Chosen == icmpsock.Dgram {
		return
	}
	if dg, ok := r.Status(icmpsock.Dgram); ok && !dg.OK && dg.Fix != "" {
		fmt.Fprintf(stderr, "%shint: %s; enable with: %s\n", scanPrefix, dg.Reason, dg.Fix)
	}
}

// scanOutput prints a scan's events: live hosts on stdout, as a table or
// as JSON lines, and a progress bar on stderr when stderr is a terminal.
// Scan calls emit from one goroutine, so it needs no lock.
type scanOutput struct {
	stdout  io.Writer
	json    *json.Encoder // nil for the table
	bar     *progressbar.ProgressBar
	ipWidth int
	header  bool // the table's header is out
}

func newScanOutput(stdout, stderr io.Writer, asJSON bool, targets *scanner.Targets) *scanOutput {
	o := &scanOutput{stdout: stdout, ipWidth: len("255.255.255.255")}
	if asJSON {
		o.json = json.NewEncoder(stdout)
	}
	// Targets sort IPv4 first, so the last range tells whether any IPv6
	// address is in the scan.
	if rs := targets.Ranges(); len(rs) > 0 && rs[len(rs)-1].Last.Is6() {
		o.ipWidth = len("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.bar = progressbar.NewOptions(targets.Len(),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	return o
}

func (o *scanOutput) emit(e scanner.Event) {
	switch e.Kind {
	case scanner.HostFound:
		if o.bar != nil {
			_ = o.bar.Clear() // the row goes where the bar was; the bar comes back
		}
		o.host(e.Host)
	case scanner.Progress:
		if o.bar != nil {
			_ = o.bar.Set(e.Done)
		}
	}
}

// host prints one live host. Write errors (a closed pipe) are ignored:
// the scan's result is in the exit code either way.
func (o *scanOutput) host(h scanner.Host) {
	if o.json != nil {
		_ = o.json.Encode(newScanHostJSON(h))
		return
	}
	if !o.header {
		fmt.Fprintf(o.stdout, "%-*s  %10s  %4s  %s\n", o.ipWidth, "IP", "RTT", "TTL", "REASON")
		o.header = true
	}
	ttl := "-"
	if h.TTL > 0 {
		ttl = fmt.Sprint(h.TTL)
	}
	line := fmt.Sprintf("%-*s  %7s ms  %4s  %s", o.ipWidth, h.Addr, formatMs(millis(h.RTT)), ttl, h.Reason)
	if h.Hostname != "" {
		line += "  " + h.Hostname
	}
	fmt.Fprintln(o.stdout, line)
}

func (o *scanOutput) close() {
	if o.bar != nil {
		_ = o.bar.Finish()
	}
}

// scanHostJSON is the --json shape of a live host: the same fields the
// app knows, empty where enrichment has not filled them in.
type scanHostJSON struct {
	IP       string         `json:"ip"`
	Alive    bool           `json:"alive"`
	RTTms    float64        `json:"rtt_ms"`
	TTL      *int           `json:"ttl"` // null when unknown
	Method   string         `json:"method"`
	Reason   string         `json:"reason"`
	Hostname string         `json:"hostname"`
	MAC      string         `json:"mac"`
	Vendor   string         `json:"vendor"`
	Ports    []scanPortJSON `json:"ports"` // [] when none known
}

type scanPortJSON struct {
	Port    uint16 `json:"port"`
	Service string `json:"service"`
}

func newScanHostJSON(h scanner.Host) scanHostJSON {
	j := scanHostJSON{
		IP: h.Addr.String(), Alive: true, RTTms: millis(h.RTT), Method: string(h.Method),
		Reason: h.Reason, Hostname: h.Hostname, Vendor: h.Vendor, Ports: []scanPortJSON{},
	}
	if h.TTL > 0 {
		ttl := h.TTL
		j.TTL = &ttl
	}
	if h.MAC != nil {
		j.MAC = h.MAC.String()
	}
	for _, p := range h.Ports {
		j.Ports = append(j.Ports, scanPortJSON{Port: p.Number, Service: p.Service})
	}
	return j
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
