package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// scanPrefix starts every line scan writes to stderr.
const scanPrefix = "netscanner scan: "

// Output formats of scan.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatCSV   = "csv"
)

// scanConfig is a validated `netscanner scan` command line.
type scanConfig struct {
	method  probe.Method
	engine  scanner.Config
	format  string   // formatTable, formatJSON or formatCSV
	targets []string // as typed; parsed later
	// allowBroadcast is --allow-broadcast, for targets.Options.
	allowBroadcast bool
}

// parseScanArgs parses and validates scan's flags, every limit from
// package targets. It returns flag.ErrHelp for -h, a *usageError for bad
// input. Targets are only checked for flags in the wrong place here;
// targets.Parse judges the rest.
func parseScanArgs(args []string, stderr io.Writer) (scanConfig, error) {
	var (
		c        scanConfig
		iKnow    bool
		asJSON   bool
		maxHosts int
		noNames  bool
		noLL     bool
		noID     bool
		ports    string
	)
	def := scanner.DefaultConfig()
	fs := newCmdFlags("scan", "scan [flags] [TARGET...]",
		"Sweep targets for live hosts: addresses (198.18.0.7), prefixes (198.18.0.0/24),\n"+
			"ranges (198.18.0.10-50) and host names. Without targets, scan this machine's\n"+
			"IPv4 networks. Live hosts go to stdout as they answer.")
	fs.StringVar(&c.format, "format", formatTable, "output: table, json (one object per live host, as they answer) or csv (the app's export, at the end)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per live host (--format json)")
	fs.DurationVar(&c.engine.Timeout, "timeout", def.Timeout, fmt.Sprintf("how long to wait for a host after its last request (at most %v)", targets.MaxTimeout))
	fs.IntVar(&c.engine.Retries, "retries", def.Retries, fmt.Sprintf("more requests for a silent host (0 to %d)", targets.MaxRetries))
	fs.DurationVar(&c.engine.RetryInterval, "retry-interval", def.RetryInterval, "time between requests to one host (at most --timeout is used)")
	fs.Float64Var(&c.engine.Rate, "rate", def.Rate, fmt.Sprintf("requests per second across the scan; %d suits a home network, above %d needs --i-know-rate", scanner.DefaultRate, targets.FastRate))
	fs.BoolVar(&iKnow, "i-know-rate", false, fmt.Sprintf("allow --rate above %d, up to %d", targets.FastRate, targets.MaxRate))
	fs.methodVar(&c.method)
	fs.IntVar(&maxHosts, "max-hosts", targets.DefaultMaxHosts, "refuse to scan more addresses than this")
	fs.BoolVar(&noNames, "no-names", false, "do not look up host names (DNS PTR, mDNS, NetBIOS)")
	fs.BoolVar(&noLL, "no-link-local", false, "do not ping ff02::1 for IPv6 link-local neighbours, nor send them anything")
	fs.BoolVar(&noID, "no-identify", false, "do not ask what hosts are: no DNS-SD or SSDP query, no UPnP description, no web or SSH banner (kinds still come from makers, names and ports)")
	fs.StringVar(&ports, "ports", targets.FormatPorts(scanner.DefaultPorts()),
		fmt.Sprintf("TCP ports to try on each live host: a list with ranges (22,80,8000-8010, at most %d ports) or none", targets.MaxPorts))
	fs.BoolVar(&c.allowBroadcast, "allow-broadcast", false,
		"allow a broadcast or multicast address typed alone as a target (every host there answers for it)")
	if err := fs.parse(args, stderr); err != nil {
		return c, err
	}
	e := &c.engine
	checks := []error{
		targets.CheckTimeout(e.Timeout),
		targets.CheckRetries(e.Retries),
		targets.CheckRetryInterval(e.RetryInterval),
		rateCheck(e.Rate, iKnow),
		targets.CheckMaxHosts(maxHosts),
	}
	for _, err := range checks {
		if err != nil {
			return c, usagef("--%v", err)
		}
	}
	switch {
	case asJSON && fs.isSet("format") && c.format != formatJSON:
		return c, usagef("--json and --format %s: pick one", quoteInput(c.format))
	case asJSON:
		c.format = formatJSON
	case c.format != formatTable && c.format != formatJSON && c.format != formatCSV:
		return c, usagef("--format %s: want table, json or csv", quoteInput(c.format))
	}
	e.MaxHosts = maxHosts
	portList, err := targets.ParsePorts(ports)
	if err != nil {
		return c, usagef("--%v", err)
	}
	// The off switches mean what they mean in the app (docs/packets.md).
	e.Enrich = scanner.Traffic{NoNames: noNames, NoLinkLocal: noLL, NoIdentify: noID, Ports: portList}.Enrich()
	for _, a := range fs.Args() {
		if len(a) > 1 && a[0] == '-' {
			return c, usagef("%s is not a target (flags go before the targets)", quoteInput(a))
		}
	}
	if fs.NArg() == 0 && e.Rate > targets.LocalRate && !iKnow {
		return c, usagef("--rate %v: without targets the scan covers this machine's own networks, where more than %d requests per second drowns other traffic; add --i-know-rate if this one can take it", e.Rate, targets.LocalRate)
	}
	c.targets = fs.Args()
	return c, nil
}

// rateCheck is targets.CheckRate with the command line's way past
// FastRate named.
func rateCheck(rate float64, iKnow bool) error {
	err := targets.CheckRate(rate, iKnow)
	if err != nil && rate > targets.FastRate && rate <= targets.MaxRate && !iKnow {
		return fmt.Errorf("%w; add --i-know-rate if this one can take it", err)
	}
	return err
}

// runScanCmd is `netscanner scan`: everything the user typed is checked
// before the first packet; then one scan, with live hosts on stdout as
// they answer.
func runScanCmd(ctx context.Context, e Env, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseScanArgs(args, stderr)
	if err != nil {
		return parseFailed(stderr, "scan", err)
	}
	cfg.engine.Enrich.InNet = e.InNet

	set, code := scanTargets(ctx, cfg, stderr)
	if set == nil {
		return code
	}
	for _, n := range set.Notes() {
		fmt.Fprintf(stderr, "%snote: %s\n", scanPrefix, n)
	}

	conn, report, err := e.open(ctx, probe.Options{Method: cfg.method, Timeout: cfg.engine.Timeout})
	if err != nil {
		fmt.Fprintf(stderr, "%s%v\n", scanPrefix, err)
		return exitFail
	}
	defer conn.Close()
	announceScanMethod(stderr, report)
	fmt.Fprintf(stderr, "%sscanning %s (%d addresses) at up to %s requests a second\n",
		scanPrefix, set, set.Len(), strconv.FormatFloat(cfg.engine.Rate, 'f', -1, 64))

	out := newScanOutput(stdout, stderr, cfg.format, set)
	if cfg.engine.Enrich != nil {
		out.enriched = true
		if cfg.engine.Enrich.LinkLocal {
			// Room for the link-local neighbours the scan may add.
			out.ipWidth = max(out.ipWidth, linkLocalWidth())
		}
	}
	sum, err := scanner.Scan(ctx, conn, set, cfg.engine, out.emit)
	if cerr := out.close(); cerr != nil && err == nil {
		fmt.Fprintf(stderr, "%s%v\n", scanPrefix, cerr)
		return exitFail
	}

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
	// How hosts that ignore ping were looked for, and where they cannot be.
	// And answers that were no devices (scanner/plausible.go).
	for _, n := range []string{sum.SilentNote, scanner.OffLinkNote(sum.OffLink), sum.ImplausibleNote} {
		if n != "" {
			fmt.Fprintf(stderr, "%snote: %s\n", scanPrefix, n)
		}
	}
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
func scanTargets(ctx context.Context, cfg scanConfig, stderr io.Writer) (*targets.Set, int) {
	return commandTargets(ctx, "scan", cfg, stderr)
}

// commandTargets is scanTargets for the command cmd (scan, watch), whose
// name starts its lines.
func commandTargets(ctx context.Context, cmd string, cfg scanConfig, stderr io.Writer) (*targets.Set, int) {
	prefix := "netscanner " + cmd + ": "
	if len(cfg.targets) == 0 {
		nets, err := scanner.LocalNetworks()
		if err != nil {
			fmt.Fprintf(stderr, "%s%v\n", prefix, err)
			return nil, exitFail
		}
		t, err := scanner.DefaultTargets(nets)
		if err != nil {
			for _, n := range nets {
				if n.Note != "" {
					fmt.Fprintf(stderr, "%snote: %s: %s\n", prefix, n.Interface, n.Note)
				}
			}
			fmt.Fprintf(stderr, "%s%v\n", prefix, err)
			return nil, exitFail
		}
		return t, exitOK // DefaultTargets keeps the networks' notes
	}

	rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	opt := targets.Options{MaxHosts: cfg.engine.MaxHosts, Networks: localPrefixes(), AllowBroadcast: cfg.allowBroadcast}
	t, err := targets.Parse(rctx, cfg.targets, opt)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "%s%v\n", prefix, ctx.Err())
			return nil, exitFail
		}
		return nil, parseFailed(stderr, cmd, err)
	}
	return t, exitOK
}

// announceScanMethod says on stderr which method is in use and, when Auto
// had to fall below dgram, how to enable the unprivileged one.
func announceScanMethod(stderr io.Writer, r *probe.Report) {
	announceMethodAs(stderr, scanPrefix, r)
}

// announceMethodAs is announceScanMethod with lines starting with prefix.
func announceMethodAs(stderr io.Writer, prefix string, r *probe.Report) {
	if r == nil {
		return
	}
	st, _ := r.Status(r.Chosen)
	fmt.Fprintf(stderr, "%smethod %s (%s)\n", prefix, r.Chosen, st.Reason)
	if r.Forced || r.Chosen == probe.Dgram {
		return
	}
	if dg, ok := r.Status(probe.Dgram); ok && !dg.OK && dg.Fix != "" {
		fmt.Fprintf(stderr, "%shint: %s; enable with: %s\n", prefix, dg.Reason, dg.Fix)
	}
}
