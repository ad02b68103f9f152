package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"netscanner/internal/integrations/metrics"
	"netscanner/internal/integrations/mqtt"
	"netscanner/internal/integrations/webhook"
	"netscanner/internal/store"
	"netscanner/internal/watch"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// watchPrefix starts every line watch writes to stderr.
const watchPrefix = "netscanner watch: "

// watchCloseGrace is how long watch, once stopped, gives the webhook and
// MQTT queues to drain before it exits.
const watchCloseGrace = 5 * time.Second

// watchConfig is a validated `netscanner watch` command line.
type watchConfig struct {
	scan      scanConfig
	interval  time.Duration
	downAfter int
	json      bool
	db        string
	metrics   string       // listen address, "" for none
	mqtt      *mqtt.Config // nil for none
	webhook   string       // URL, "" for none
}

// parseWatchArgs parses and checks every flag of watch, before anything
// is opened or sent.
func parseWatchArgs(args []string, minInterval time.Duration, stderr io.Writer) (watchConfig, error) {
	var (
		c                          watchConfig
		metricsAddr, mqttURL, hook string
	)
	fs := newCmdFlags("watch", "watch [--interval D] [--down-after N] [--json] [--metrics ADDR] [--mqtt URL] [--webhook URL] [--db PATH] [TARGET...]",
		"Scan the targets (default: this machine's networks) every --interval, record each\n"+
			"scan in the history, and print each event as it happens: joined (never seen\n"+
			"before), left (missed --down-after scans in a row), back, changed (address,\n"+
			"name or identity). SIGINT or SIGTERM stops it after the scan being written.")
	fs.DurationVar(&c.interval, "interval", watch.DefaultInterval, fmt.Sprintf("time from one scan's start to the next (%v to %v)", watch.MinInterval, watch.MaxInterval))
	fs.IntVar(&c.downAfter, "down-after", watch.DefaultDownAfter, fmt.Sprintf("missed scans in a row before a device has left (1 to %d)", watch.MaxDownAfter))
	fs.BoolVar(&c.json, "json", false, `print one JSON object per event: {"event":"joined","time":"…","host":{…},"device":{…}}`)
	fs.StringVar(&c.db, "db", "", dbFlagHelp)
	fs.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics on ADDR (host:port, such as 127.0.0.1:9750), at /metrics")
	fs.StringVar(&mqttURL, "mqtt", "", "publish events and presence to an MQTT broker, with Home Assistant discovery: mqtt://[USER:PASS@]HOST[:PORT][/BASE/TOPIC]")
	fs.StringVar(&hook, "webhook", "", "POST each event as JSON to this http:// or https:// URL")
	fs.methodVar(&c.scan.method)
	if err := fs.parse(args, stderr); err != nil {
		return c, err
	}
	minimum := watch.MinInterval
	if minInterval > 0 {
		minimum = minInterval
	}
	if c.interval < minimum || c.interval > watch.MaxInterval {
		return c, usagef("--interval: %v", watch.CheckInterval(c.interval))
	}
	if err := watch.CheckDownAfter(c.downAfter); err != nil {
		return c, usagef("--down-after: %v", err)
	}
	if fs.isSet("metrics") {
		a, err := metrics.ParseAddr(metricsAddr)
		if err != nil {
			return c, usagef("--metrics: %v", err)
		}
		c.metrics = a
	}
	if fs.isSet("mqtt") {
		m, err := mqtt.ParseURL(mqttURL)
		if err != nil {
			return c, usagef("--mqtt: %v", err)
		}
		c.mqtt = &m
	}
	if fs.isSet("webhook") {
		if _, err := webhook.ParseURL(hook); err != nil {
			return c, usagef("--webhook: %v", err)
		}
		c.webhook = hook
	}
	if fs.isSet("db") && c.db == "" {
		return c, usagef("--db: empty path (leave --db out for the default place)")
	}
	for _, a := range fs.Args() {
		if len(a) > 1 && a[0] == '-' {
			return c, usagef("%s is not a target (flags go before the targets)", quoteInput(a))
		}
	}
	// The scan is the one a user gets from `netscanner scan`.
	c.scan.engine = scanner.DefaultConfig()
	c.scan.engine.MaxHosts = targets.DefaultMaxHosts
	c.scan.engine.Enrich = scanner.Traffic{Ports: scanner.DefaultPorts()}.Enrich()
	c.scan.targets = fs.Args()
	return c, nil
}

// runWatchCmd is `netscanner watch`: every flag is checked, the history
// opened, the targets parsed and the integrations started before the
// first scan; then scans every --interval until the context ends, which
// (SIGINT, SIGTERM) lets the scan being written finish and exits 0.
func runWatchCmd(ctx context.Context, e Env, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseWatchArgs(args, e.watchMinInterval, stderr)
	if err != nil {
		return parseFailed(stderr, "watch", err)
	}
	cfg.scan.engine.Enrich.InNet = e.InNet

	st, code := openHistory(ctx, "watch", cfg.db, store.ModeRecord, stderr)
	if st == nil {
		return code
	}
	defer st.Close()

	set, code := commandTargets(ctx, "watch", cfg.scan, stderr)
	if set == nil {
		return code
	}
	for _, n := range set.Notes() {
		fmt.Fprintf(stderr, "%snote: %s\n", watchPrefix, n)
	}

	// The method is chosen once, here, and said; each scan then opens a
	// connection of that method and closes it, so that the watcher holds
	// no socket between scans.
	conn, report, err := e.open(ctx, probe.Options{Method: cfg.scan.method, Timeout: cfg.scan.engine.Timeout})
	if err != nil {
		fmt.Fprintf(stderr, "%s%v\n", watchPrefix, err)
		return exitFail
	}
	method := conn.Method()
	conn.Close()
	announceMethodAs(stderr, watchPrefix, report)
	open := func(ctx context.Context) (probe.Conn, error) {
		c, _, err := e.open(ctx, probe.Options{Method: method, Timeout: cfg.scan.engine.Timeout})
		return c, err
	}

	log := newLineLog(stderr)
	sinks := []watch.Sink{newEventPrinter(stdout, cfg.json, log)}
	var closers []func(context.Context) error
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), watchCloseGrace)
		defer cancel()
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](cctx); err != nil {
				log.printf("%v", err)
			}
		}
	}()
	if cfg.metrics != "" {
		exp := metrics.New(metrics.Options{})
		srv, err := metrics.Listen(cfg.metrics, exp)
		if err != nil {
			fmt.Fprintf(stderr, "%s%s\n", watchPrefix, clip(err.Error()))
			return exitFail
		}
		closers = append(closers, srv.Close)
		sinks = append(sinks, exp)
		log.printf("metrics at http://%s/metrics", srv.Addr())
	}
	if cfg.mqtt != nil {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		pub, err := mqtt.Connect(cctx, *cfg.mqtt, mqtt.Options{Logf: log.printf, Dialer: e.dialer()})
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "%s%s\n", watchPrefix, clip(err.Error()))
			return exitFail
		}
		closers = append(closers, pub.Close)
		sinks = append(sinks, pub)
		log.printf("publishing to %s under %s/", cfg.mqtt.Broker, cfg.mqtt.BaseTopic)
	}
	if cfg.webhook != "" {
		opts := webhook.Options{URL: cfg.webhook, Logf: log.printf}
		if d := e.dialer(); d != nil {
			opts.Client = newDialClient(d)
		}
		hook, err := webhook.New(opts)
		if err != nil { // checked already; a second opinion costs nothing
			fmt.Fprintf(stderr, "%s%s\n", watchPrefix, clip(err.Error()))
			return exitUsage
		}
		closers = append(closers, hook.Close)
		sinks = append(sinks, hook)
	}

	// Minutes of idling follow each scan: hand its memory back to the
	// system now, not over the scavenger's next minutes.
	sinks = append(sinks, watch.SinkFuncs{OnScan: func(watch.Report) { debug.FreeOSMemory() }})

	w, err := watch.New(watch.Config{
		Scan:        watch.Scanner(open, set, cfg.scan.engine),
		Store:       st,
		Interval:    cfg.interval,
		DownAfter:   cfg.downAfter,
		Sinks:       sinks,
		MinInterval: e.watchMinInterval,
	})
	if err != nil {
		fmt.Fprintf(stderr, "%s%s\n", watchPrefix, clip(err.Error()))
		return exitUsage
	}
	log.printf("watching %s (%d addresses) every %v, gone after %d missed scan%s; history in %s",
		set, set.Len(), cfg.interval, cfg.downAfter, plural(cfg.downAfter), st.Path())
	if err := w.Run(ctx); err != nil {
		log.printf("%v", err)
		return exitFail
	}
	log.printf("stopped")
	return exitOK
}

// lineLog writes whole lines to stderr, one at a time, from any
// goroutine: the integrations log from their own.
type lineLog struct {
	mu sync.Mutex
	w  io.Writer
}

func newLineLog(w io.Writer) *lineLog { return &lineLog{w: w} }

func (l *lineLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s%s\n", watchPrefix, clip(fmt.Sprintf(format, args...)))
}

// eventPrinter is the sink that prints events on stdout, one line or one
// JSON object each, and failed scans on stderr.
type eventPrinter struct {
	out  io.Writer
	enc  *json.Encoder // nil for plain lines
	log  *lineLog
	fail int // failed scans in a row, so that a dead socket does not fill a log
}

func newEventPrinter(stdout io.Writer, asJSON bool, log *lineLog) *eventPrinter {
	p := &eventPrinter{out: stdout, log: log}
	if asJSON {
		p.enc = json.NewEncoder(stdout)
	}
	return p
}

// Event prints e.
func (p *eventPrinter) Event(e watch.Event) {
	if p.enc != nil {
		_ = p.enc.Encode(e)
		return
	}
	fmt.Fprintln(p.out, e.String())
}

// Scanned reports a failed scan; a good one is news only through its
// events.
func (p *eventPrinter) Scanned(r watch.Report) {
	if r.Err == nil {
		if p.fail > 0 {
			p.log.printf("scanning again after %d failed scan%s", p.fail, plural(p.fail))
		}
		p.fail = 0
		return
	}
	p.fail++
	// The first failures in full, then one line in every hundred.
	if p.fail <= 3 || p.fail%100 == 0 {
		p.log.printf("scan failed (%s in a row): %v", strconv.Itoa(p.fail), r.Err)
	}
}

// dialer opens connections in the command's network: through InNet when
// set (a test namespace), else nil for the default.
func (e Env) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if e.InNet == nil {
		return nil
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		if nerr := e.InNet(func() { c, err = (&net.Dialer{}).DialContext(ctx, network, addr) }); nerr != nil {
			return nil, nerr
		}
		return c, err
	}
}

// newDialClient is an HTTP client whose connections dial d.
func newDialClient(d func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: d, ForceAttemptHTTP2: true}}
}
