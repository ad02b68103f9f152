// Package metrics serves a watcher's findings to Prometheus: per-device
// presence and round trip, the number of devices present, and each
// scan's duration and errors.
//
// Cardinality is bounded by design. Per-device series carry only the
// labels device (the MAC address, else the IP address), name (the user's
// label, else the best host name, cut to MaxLabelLen bytes) and kind (the
// device's sort, a closed set); the IP address and maker are on one info
// series per device. At most Options.MaxDevices devices are exported
// (present ones first, then the most recently seen), so a watcher exports
// at most 4 series per device plus a fixed set; the devices left out are
// counted in netscanner_devices_unexported.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"netscanner/internal/watch"
)

// DefaultMaxDevices caps the devices with their own series.
const DefaultMaxDevices = 1024

// MaxLabelLen caps a label value, in bytes: names come from the network,
// and a device may call itself anything.
const MaxLabelLen = 64

// Options configures an Exporter.
type Options struct {
	// MaxDevices caps the devices exported; 0 means DefaultMaxDevices.
	MaxDevices int
	// NoRuntime leaves out the Go runtime and process collectors.
	NoRuntime bool
}

// Exporter is a watch.Sink that keeps the latest scan for Prometheus.
type Exporter struct {
	reg        *prometheus.Registry
	maxDevices int

	scans      prometheus.Counter
	scanErrors prometheus.Counter
	duration   prometheus.Histogram
	lastScan   prometheus.Gauge
	events     *prometheus.CounterVec

	mu      sync.Mutex
	devices []watch.Device // the latest report's, as exported
	known   int
	present int
}

// New returns an Exporter with its own registry.
func New(opts Options) *Exporter {
	if opts.MaxDevices <= 0 {
		opts.MaxDevices = DefaultMaxDevices
	}
	e := &Exporter{
		reg:        prometheus.NewRegistry(),
		maxDevices: opts.MaxDevices,
		scans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netscanner_scans_total", Help: "Scans run by the watcher, failed ones included.",
		}),
		scanErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netscanner_scan_errors_total", Help: "Scans that failed, or whose history could not be written.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "netscanner_scan_duration_seconds",
			Help:    "How long each scan took, writing its history included.",
			Buckets: []float64{0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120},
		}),
		lastScan: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netscanner_last_scan_timestamp_seconds", Help: "When the last scan started, in Unix time.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netscanner_events_total", Help: "Events emitted, by kind: joined, back, left, changed.",
		}, []string{"event"}),
	}
	for _, k := range watch.Kinds() {
		e.events.WithLabelValues(string(k)) // every kind from 0, so rate() works from the start
	}
	e.reg.MustRegister(e.scans, e.scanErrors, e.duration, e.lastScan, e.events, deviceCollector{e})
	if !opts.NoRuntime {
		e.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return e
}

// Event counts the event.
func (e *Exporter) Event(ev watch.Event) { e.events.WithLabelValues(string(ev.Kind)).Inc() }

// Scanned takes the scan's devices as the ones to export.
func (e *Exporter) Scanned(r watch.Report) {
	e.scans.Inc()
	e.duration.Observe(r.Duration.Seconds())
	e.lastScan.Set(float64(r.Time.UnixMilli()) / 1000)
	if r.Err != nil {
		e.scanErrors.Inc()
		return // presence is as before the scan
	}
	devs := slices.Clone(r.Devices)
	// Present first, then the most recently seen, so that a cap drops
	// the devices gone longest.
	slices.SortStableFunc(devs, func(a, b watch.Device) int {
		if a.Present != b.Present {
			if a.Present {
				return -1
			}
			return 1
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	known := len(devs)
	if len(devs) > e.maxDevices {
		devs = devs[:e.maxDevices]
	}
	e.mu.Lock()
	e.devices, e.known, e.present = devs, known, r.Present
	e.mu.Unlock()
}

// Handler serves the metrics in the Prometheus text format.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{Registry: e.reg})
}

// Gatherer is the exporter's registry, for tests and embedding.
func (e *Exporter) Gatherer() prometheus.Gatherer { return e.reg }

var (
	deviceLabels = []string{"device", "name", "kind"}
	descUp       = prometheus.NewDesc("netscanner_device_up",
		"1 while the device is present (answered, or missed fewer scans than --down-after), else 0.", deviceLabels, nil)
	descRTT = prometheus.NewDesc("netscanner_device_rtt_seconds",
		"The device's round trip in the last scan; absent when it did not answer.", deviceLabels, nil)
	descLastSeen = prometheus.NewDesc("netscanner_device_last_seen_timestamp_seconds",
		"When the device last answered, in Unix time.", deviceLabels, nil)
	descInfo = prometheus.NewDesc("netscanner_device_info",
		"Always 1: the device's current IP address and maker, as labels.", []string{"device", "name", "kind", "ip", "vendor"}, nil)
	descPresent = prometheus.NewDesc("netscanner_devices_present",
		"Devices present after the last scan.", nil, nil)
	descKnown = prometheus.NewDesc("netscanner_devices_known",
		"Devices the watcher knows, present or not.", nil, nil)
	descUnexported = prometheus.NewDesc("netscanner_devices_unexported",
		"Known devices left out of the per-device series by the cap on devices.", nil, nil)
)

// deviceCollector turns the latest report into per-device series at
// each scrape, so that a device's old labels never linger.
type deviceCollector struct{ e *Exporter }

func (c deviceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descRTT, descLastSeen, descInfo, descPresent, descKnown, descUnexported} {
		ch <- d
	}
}

func (c deviceCollector) Collect(ch chan<- prometheus.Metric) {
	c.e.mu.Lock()
	devs, known, present := c.e.devices, c.e.known, c.e.present
	c.e.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descPresent, prometheus.GaugeValue, float64(present))
	ch <- prometheus.MustNewConstMetric(descKnown, prometheus.GaugeValue, float64(known))
	ch <- prometheus.MustNewConstMetric(descUnexported, prometheus.GaugeValue, float64(known-len(devs)))
	seen := make(map[string]bool, len(devs))
	for _, d := range devs {
		key := Label(d.MACOrIP())
		if seen[key] {
			continue // two store devices with one key: the first (present, latest) wins
		}
		seen[key] = true
		kind := d.Kind
		if kind == "" {
			kind = "unknown"
		}
		lv := []string{key, Label(d.Name()), Label(kind)}
		up := 0.0
		if d.Present {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, lv...)
		if d.Answered() && d.Host.RTT > 0 {
			ch <- prometheus.MustNewConstMetric(descRTT, prometheus.GaugeValue, d.Host.RTT.Seconds(), lv...)
		}
		if !d.LastSeen.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastSeen, prometheus.GaugeValue, float64(d.LastSeen.UnixMilli())/1000, lv...)
		}
		ip := ""
		if d.Host.Addr.IsValid() {
			ip = d.Host.Addr.String()
		}
		ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, append(lv, Label(ip), Label(d.Host.Vendor))...)
	}
}

// Label makes s a safe label value: valid UTF-8, no control characters,
// at most MaxLabelLen bytes, cut at a character boundary.
func Label(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) <= MaxLabelLen {
		return s
	}
	cut := MaxLabelLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// ErrBadAddr is wrapped by ParseAddr's errors.
var ErrBadAddr = errors.New("bad metrics address")

// ParseAddr checks a --metrics address: host:port or :port, with a port
// from 1 to 65535 and a host that is an IP address or a name (localhost).
// It returns the address to listen on.
func ParseAddr(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty (want host:port, such as 127.0.0.1:9750 or :9750)", ErrBadAddr)
	}
	if strings.Contains(s, "://") {
		return "", fmt.Errorf("%w %q: want host:port, not a URL (such as 127.0.0.1:9750)", ErrBadAddr, s)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%w %q: want host:port, such as 127.0.0.1:9750 or :9750", ErrBadAddr, s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '+' {
		return "", fmt.Errorf("%w %q: port %q: want 1 to 65535", ErrBadAddr, s, port)
	}
	if host != "" && net.ParseIP(strings.SplitN(host, "%", 2)[0]) == nil && !validHostName(host) {
		return "", fmt.Errorf("%w %q: host %q is neither an IP address nor a host name", ErrBadAddr, s, host)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// validHostName accepts DNS names of letters, digits, hyphens and dots.
func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Server serves an Exporter over HTTP.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen opens addr (see ParseAddr) at once, so that an address in use
// fails before the first scan, and serves e on it: /metrics, and a short
// page at /.
func Listen(addr string, e *Exporter) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return Serve(ln, e), nil
}

// Serve serves e on ln, which it takes over.
func Serve(ln net.Listener, e *Exporter) *Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", e.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("netscanner watch: metrics at /metrics\n"))
	})
	s := &Server{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    16 << 10,
		},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// Addr is where the server listens.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server, letting scrapes in flight finish until ctx
// ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
