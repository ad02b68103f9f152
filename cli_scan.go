package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"netscanner/icmpsock"
	"netscanner/scanner"
	"netscanner/scanner/oui"
)

// Limits on scan's flags. They keep a typo from turning into a flood, a
// scan of a continent, or one that never ends.
const (
	maxScanTimeout   = 60 * time.Second
	minRetryInterval = time.Millisecond
	maxScanRate      = 1_000_000 // requests per second, ever
	fastScanRate     = 100_000   // above this, --i-know-rate must be given
	// localScanRate caps --rate, unless --i-know-rate is given, when no
	// targets are: the scan then covers this machine's own networks, most
	// often a Wi-Fi access point shared with others.
	localScanRate = 10_000
	maxScanHosts  = 1 << 24 // --max-hosts: a /8
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
		iKnow    bool
		maxHosts int
		noNames  bool
		ports    string
	)
	def := scanner.DefaultConfig()
	fs := newCmdFlags("scan", "scan [flags] [TARGET...]",
		"Sweep targets for live hosts: addresses (198.18.0.7), prefixes (198.18.0.0/24),\n"+
			"ranges (198.18.0.10-50) and host names. Without targets, scan this machine's\n"+
			"IPv4 networks. Live hosts go to stdout as they answer.")
	fs.BoolVar(&c.json, "json", false, "print one JSON object per live host")
	fs.DurationVar(&c.engine.Timeout, "timeout", def.Timeout, "how long to wait for a host after its last request (at most 1m)")
	fs.IntVar(&c.engine.Retries, "retries", def.Retries, fmt.Sprintf("more requests for a silent host (0 to %d)", scanner.MaxRetries))
	fs.DurationVar(&c.engine.RetryInterval, "retry-interval", def.RetryInterval, "time between requests to one host (at most --timeout is used)")
	fs.Float64Var(&c.engine.Rate, "rate", def.Rate, fmt.Sprintf("requests per second across the scan; %d suits a home network, above %d needs --i-know-rate", scanner.DefaultRate, fastScanRate))
	fs.BoolVar(&iKnow, "i-know-rate", false, fmt.Sprintf("allow --rate above %d, up to %d", fastScanRate, maxScanRate))
	fs.methodVar(&c.method)
	fs.IntVar(&maxHosts, "max-hosts", scanner.DefaultMaxHosts, "refuse to scan more addresses than this")
	fs.BoolVar(&noNames, "no-names", false, "do not look up host names (DNS PTR, mDNS, NetBIOS)")
	fs.StringVar(&ports, "ports", joinPorts(scanner.DefaultPorts()),
		fmt.Sprintf("TCP ports to try on each live host: a list with ranges (22,80,8000-8010, at most %d ports) or none", scanner.MaxPorts))
	if err := fs.parse(args, stderr); err != nil {
		return c, err
	}
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
	portList, err := scanner.ParsePorts(ports)
	if err != nil {
		return c, usagef("--%v", err)
	}
	e.Enrich = &scanner.Enrich{Names: !noNames, Ports: portList, LinkLocal: true}
	for _, a := range fs.Args() {
		if len(a) > 1 && a[0] == '-' {
			return c, usagef("%s is not a target (flags go before the targets)", quoteInput(a))
		}
	}
	if fs.NArg() == 0 && e.Rate > localScanRate && !iKnow {
		return c, usagef("--rate %v: without targets the scan covers this machine's own networks, where more than %d requests per second drowns other traffic; add --i-know-rate if this one can take it", e.Rate, localScanRate)
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
	if err != nil {
		return parseFailed(stderr, "scan", err)
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
	if cfg.engine.Enrich != nil {
		out.enriched = true
		if cfg.engine.Enrich.LinkLocal {
			// Room for the link-local neighbours the scan may add.
			out.ipWidth = max(out.ipWidth, linkLocalWidth())
		}
	}
	sum, err := scanner.Scan(ctx, conn, targets, cfg.engine, out.emit)
	out.close()

	state := ""
	if sum.Cancelled {
		state = " (interrupted)"
	}
	more := ""
	if sum.Neighbours > 0 {
		more = fmt.Sprintf(", and %d IPv6 link-local neighbour%s", sum.Neighbours, plural(sum.Neighbours))
	}
	fmt.Fprintf(stderr, "%sfound %d of %d%s in %.1f s by %s%s\n",
		scanPrefix, sum.Alive, sum.Total, more, sum.Elapsed.Seconds(), sum.Method, state)
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
		return nil, parseFailed(stderr, "scan", err)
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
//
// With enrichment, a host is printed once its enrichment is over (the
// HostUpdated with Enriched set, usually within a second of its answer),
// so that every row and JSON line is the whole story of one host.
type scanOutput struct {
	stdout   io.Writer
	json     *json.Encoder // nil for the table
	bar      *progressbar.ProgressBar
	ipWidth  int
	header   bool // the table's header is out
	enriched bool // print hosts when enriched, not when found
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
	case scanner.HostFound, scanner.HostUpdated:
		// Without enrichment a host is whole when found; with it, when
		// its last update says so.
		if whole := e.Host.Enriched || e.Kind == scanner.HostFound && !o.enriched; !whole {
			return
		}
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
		head := fmt.Sprintf("%-*s  %10s  %4s  %-10s", o.ipWidth, "IP", "RTT", "TTL", "REASON")
		if o.enriched {
			head += fmt.Sprintf("  %-17s  %-*s  %-*s  %s", "MAC", vendorWidth, "VENDOR", nameWidth, "NAME", "PORTS")
		}
		fmt.Fprintln(o.stdout, strings.TrimRight(head, " "))
		o.header = true
	}
	ttl := "-"
	if h.TTL > 0 {
		ttl = fmt.Sprint(h.TTL)
	}
	line := fmt.Sprintf("%-*s  %7s ms  %4s  %-10s", o.ipWidth, h.Addr, formatMs(millis(h.RTT)), ttl, h.Reason)
	if !o.enriched {
		if h.Hostname != "" {
			line += "  " + h.Hostname
		}
		fmt.Fprintln(o.stdout, strings.TrimRight(line, " "))
		return
	}
	mac := "-"
	if h.MAC != nil {
		mac = h.MAC.String()
	}
	var ports []string
	for _, p := range h.Ports {
		ports = append(ports, portLabel(p))
	}
	line += fmt.Sprintf("  %-17s  %-*s  %-*s  %s", mac, vendorWidth, cell(h.Vendor, vendorWidth),
		nameWidth, cell(h.Hostname, nameWidth), orDash(strings.Join(ports, ",")))
	var marks []string
	if h.Self {
		marks = append(marks, "this machine")
	}
	if h.Gateway {
		marks = append(marks, "gateway")
	}
	if h.Note != "" {
		marks = append(marks, h.Note)
	}
	if len(marks) > 0 {
		line += "  [" + strings.Join(marks, "; ") + "]"
	}
	fmt.Fprintln(o.stdout, line)
}

// Widths of the table's text columns; longer text is cut with an
// ellipsis (the JSON has it whole).
const (
	vendorWidth = len(oui.PrivateName)
	nameWidth   = 24
)

// cell fits s into width runes, "-" when empty.
func cell(s string, width int) string {
	if s == "" {
		return "-"
	}
	if r := []rune(s); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// portLabel is 22/ssh, or 8000 for a port without a known service.
func portLabel(p scanner.Port) string {
	if p.Service == "" {
		return strconv.Itoa(int(p.Number))
	}
	return fmt.Sprintf("%d/%s", p.Number, p.Service)
}

// linkLocalWidth is the width of the longest link-local address with a
// zone this machine can have: fe80:: and four groups, then an interface
// name.
func linkLocalWidth() int {
	longest := 0
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			longest = max(longest, len(ifc.Name))
		}
	}
	return len("fe80::ffff:ffff:ffff:ffff%") + longest
}

// joinPorts writes a port list as --ports takes it.
func joinPorts(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (o *scanOutput) close() {
	if o.bar != nil {
		_ = o.bar.Finish()
	}
}

// scanHostJSON is the --json shape of a live host: the same fields the
// app knows, empty where enrichment has not filled them in.
type scanHostJSON struct {
	IP        string         `json:"ip"`
	Alive     bool           `json:"alive"`
	RTTms     float64        `json:"rtt_ms"`
	TTL       *int           `json:"ttl"` // null when unknown
	Method    string         `json:"method"`
	Reason    string         `json:"reason"`
	Reasons   []string       `json:"reasons"` // every sign of life, reason first
	Hostname  string         `json:"hostname"`
	Names     []string       `json:"names"` // [] when none known
	MAC       string         `json:"mac"`
	MACSource string         `json:"mac_source"` // neighbour, netbios, interface; "" without a MAC
	Vendor    string         `json:"vendor"`
	Ports     []scanPortJSON `json:"ports"` // [] when none known
	Self      bool           `json:"self"`
	Gateway   bool           `json:"gateway"`
	Note      string         `json:"note"`
}

type scanPortJSON struct {
	Port    uint16 `json:"port"`
	Service string `json:"service"`
}

func newScanHostJSON(h scanner.Host) scanHostJSON {
	j := scanHostJSON{
		IP: h.Addr.String(), Alive: true, RTTms: millis(h.RTT), Method: string(h.Method),
		Reason: h.Reason, Reasons: append([]string{}, h.Reasons...), Hostname: h.Hostname,
		Names: append([]string{}, h.Names...), MACSource: h.MACSource, Vendor: h.Vendor,
		Ports: []scanPortJSON{}, Self: h.Self, Gateway: h.Gateway, Note: h.Note,
	}
	if len(j.Reasons) == 0 && h.Reason != "" {
		j.Reasons = []string{h.Reason}
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
