// Package watch scans a network again and again, records every scan in
// the history store, and tells what changed as it happens: a device
// joined, left, came back or changed.
//
// The scan itself is injected (a ScanFunc, such as one built on
// scanner.Scan by Scanner), so that the event logic runs against fake
// scans in tests and against a real network in the CLI and the app.
// Which device a host is, including a new private MAC that is a known
// device (continuity), is the store's judgement (internal/store,
// internal/continuity); the watcher turns its judgements into events.
//
// Events reach Sinks: the CLI's printer, the integrations
// (internal/integrations/...) and, for the app, a SinkFuncs with a
// callback.
package watch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"netscanner/internal/store"
	"netscanner/scanner"
	"netscanner/scanner/identify"
	"netscanner/scanner/targets"
)

// Limits and defaults of a Watcher. The interval's live in
// scanner/targets, shared with the app's Watch switch.
const (
	DefaultInterval  = targets.DefaultWatchInterval
	MinInterval      = targets.MinWatchInterval
	MaxInterval      = targets.MaxWatchInterval
	DefaultDownAfter = 3
	MaxDownAfter     = 1000
)

// ErrInterval and ErrDownAfter are wrapped by the errors of CheckInterval
// and CheckDownAfter (and so of New).
var (
	ErrInterval  = targets.ErrWatchInterval
	ErrDownAfter = errors.New("bad down-after count")
)

// CheckInterval refuses an interval the watcher cannot keep or that
// would flood the network: it must lie within [MinInterval, MaxInterval].
func CheckInterval(d time.Duration) error {
	return checkInterval(d, MinInterval)
}

// checkInterval is CheckInterval with a test's lower floor.
func checkInterval(d, minimum time.Duration) error {
	if d >= minimum && d < MinInterval {
		return nil
	}
	return targets.CheckWatchInterval(d)
}

// CheckDownAfter refuses a missed-scan count outside 1 to MaxDownAfter.
func CheckDownAfter(n int) error {
	if n < 1 || n > MaxDownAfter {
		return fmt.Errorf("%w %d: want 1 to %d missed scans", ErrDownAfter, n, MaxDownAfter)
	}
	return nil
}

// Result is one scan as a ScanFunc returns it.
type Result struct {
	// Hosts are the live hosts, each as last updated by enrichment.
	Hosts []scanner.Host
	// Summary is the scanner's; Summary.Cancelled scans are not
	// recorded.
	Summary scanner.Summary
	// Targets describes what was scanned, for the history.
	Targets string
	// Covered says whether the scan covered an address: a known device
	// whose address it did not cover is not counted as missing. Nil
	// means it covered every known device.
	Covered func(netip.Addr) bool
}

// ScanFunc runs one scan. It returns the scan's error, if any, with
// whatever it found; a scan cut short by ctx returns ctx's error.
type ScanFunc func(ctx context.Context) (Result, error)

// Config configures a Watcher.
type Config struct {
	Scan  ScanFunc
	Store *store.Store // opened with store.ModeRecord
	// Interval is the time from one scan's start to the next; 0 means
	// DefaultInterval. A scan that takes longer is followed at once by
	// the next.
	Interval time.Duration
	// DownAfter is how many scans in a row a device must miss to leave;
	// 0 means DefaultDownAfter.
	DownAfter int
	// Sinks receive events and reports, in order.
	Sinks []Sink
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	// MinInterval lowers the minimum interval below MinInterval, for
	// tests that cannot wait; zero keeps MinInterval. Nothing a user
	// types reaches it: the CLI sets it only from a test hook.
	MinInterval time.Duration
}

// Watcher scans every Interval and emits events. Run it once.
type Watcher struct {
	cfg Config
}

// New checks cfg and returns a Watcher ready to Run.
func New(cfg Config) (*Watcher, error) {
	if cfg.Scan == nil {
		return nil, errors.New("watch: no scan function")
	}
	if cfg.Store == nil || cfg.Store.Mode() != store.ModeRecord {
		return nil, errors.New("watch: the history store must be open for recording")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.DownAfter == 0 {
		cfg.DownAfter = DefaultDownAfter
	}
	minimum := MinInterval
	if cfg.MinInterval > 0 {
		minimum = cfg.MinInterval
	}
	if err := checkInterval(cfg.Interval, minimum); err != nil {
		return nil, err
	}
	if err := CheckDownAfter(cfg.DownAfter); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Watcher{cfg: cfg}, nil
}

// Interval is the watcher's scan interval.
func (w *Watcher) Interval() time.Duration { return w.cfg.Interval }

// DownAfter is the watcher's missed-scan count.
func (w *Watcher) DownAfter() int { return w.cfg.DownAfter }

// Run scans at once and then every Interval until ctx ends. A scan in
// progress when ctx ends is abandoned (a partial sweep says nothing about
// who is away), but a write in progress is finished first: the store
// keeps every scan whole or not at all. Run returns nil when ctx ended
// it; failed scans are reported to the sinks and do not stop it.
func (w *Watcher) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		start := w.cfg.Now()
		_, _ = w.Step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := w.cfg.Interval - w.cfg.Now().Sub(start)
		timer.Reset(max(wait, 0))
	}
}

// Step runs one scan, records it, and sends its events and report to
// the sinks; it returns them too. A scan that ctx cut short is neither
// recorded nor reported.
func (w *Watcher) Step(ctx context.Context) (Report, error) {
	start := w.cfg.Now()
	res, err := w.cfg.Scan(ctx)
	if ctx.Err() != nil {
		return Report{Time: start}, ctx.Err()
	}
	if err == nil && res.Summary.Cancelled {
		err = errors.New("the scan was cut short")
	}
	if err != nil {
		return w.failed(start, fmt.Errorf("scan: %w", err)), err
	}
	obs := make([]store.Observation, len(res.Hosts))
	for i := range res.Hosts {
		obs[i] = store.FromHost(&res.Hosts[i])
	}
	scan := store.Scan{
		Started:  start,
		Finished: w.cfg.Now(),
		Targets:  res.Targets,
		Method:   string(res.Summary.Method),
		Total:    res.Summary.Total,
	}
	// The write runs to its end even when ctx ends meanwhile.
	wctx := context.WithoutCancel(ctx)
	rec, err := w.cfg.Store.RecordScan(wctx, scan, obs, res.Covered)
	if err != nil {
		return w.failed(start, err), err
	}
	known, err := w.cfg.Store.Devices(wctx)
	if err != nil {
		return w.failed(start, err), err
	}
	events, devices := w.derive(start, res.Hosts, rec, known)
	for _, e := range events {
		for _, s := range w.cfg.Sinks {
			s.Event(e)
		}
	}
	r := Report{Time: start, Duration: w.cfg.Now().Sub(start), Devices: devices}
	for _, d := range devices {
		if d.Present {
			r.Present++
		}
		if d.Answered() {
			r.Answered++
		}
	}
	w.report(r)
	return r, nil
}

// failed reports a failed scan, with the devices as the store last knew
// them.
func (w *Watcher) failed(start time.Time, err error) Report {
	r := Report{Time: start, Duration: w.cfg.Now().Sub(start), Err: err}
	w.report(r)
	return r
}

func (w *Watcher) report(r Report) {
	for _, s := range w.cfg.Sinks {
		s.Scanned(r)
	}
}

// derive turns the store's judgement of one scan into events, and lists
// every known device with its presence. hosts are the scan's, indexed as
// the observations given to RecordScan.
func (w *Watcher) derive(at time.Time, hosts []scanner.Host, rec store.ScanResult, known []store.Device) ([]Event, []Device) {
	down := w.cfg.DownAfter
	var events []Event
	answered := make(map[int64]scanner.Host, len(rec.Seen))
	for _, s := range rec.Seen {
		h, ok := primary(hosts, s)
		if !ok {
			h = hostOf(s.Device)
		}
		answered[s.Device.ID] = h
		d := w.device(s.Device, h)
		if s.Match == store.MatchNew {
			events = append(events, Event{Kind: Joined, Time: at, Device: d})
			continue
		}
		cs := fieldChanges(s.Changes)
		note := ""
		if s.Match == store.MatchLinked && s.Link != nil {
			note = s.Link.Describe(title(s.Device))
			if !hasField(cs, FieldMAC) && len(s.Device.MACs) > 1 {
				cs = append([]Change{{Field: FieldMAC, Old: s.Device.MACs[1], New: s.Device.MACs[0]}}, cs...)
			}
		}
		switch {
		case s.MissesBefore >= down:
			// Back, under a new private MAC perhaps: the note says so.
			events = append(events, Event{Kind: Back, Time: at, Device: d, Changes: cs, Note: note})
		case len(cs) > 0 || note != "":
			events = append(events, Event{Kind: Changed, Time: at, Device: d, Changes: cs, Note: note})
		}
	}
	for _, m := range rec.Missed {
		// Left once, on the scan that crosses the threshold.
		if m.Device.Misses == down {
			d := w.device(m.Device, hostOf(m.Device))
			events = append(events, Event{Kind: Left, Time: at, Device: d,
				Note: fmt.Sprintf("missed %d scans in a row", m.Device.Misses)})
		}
	}
	devices := make([]Device, 0, len(known))
	for _, k := range known {
		h, ok := answered[k.ID]
		if !ok {
			h = hostOf(k)
		}
		devices = append(devices, w.device(k, h))
	}
	return events, devices
}

// device is the watcher's view of a store device last seen as h.
func (w *Watcher) device(d store.Device, h scanner.Host) Device {
	return Device{
		ID:           d.Key,
		StoreID:      d.ID,
		Host:         h,
		MACs:         d.MACs,
		Label:        d.Label,
		Kind:         d.Kind,
		Model:        d.Model,
		FriendlyName: d.FriendlyName,
		Present:      d.Misses < w.cfg.DownAfter && !d.LastSeen.IsZero(),
		Missed:       d.Misses,
		FirstSeen:    d.FirstSeen,
		LastSeen:     d.LastSeen,
	}
}

// primary is the host, of those a device answered as in one scan, that
// stands for it: the one at the address the store keeps for the device
// (IPv4 when it has one), else an IPv4 one, else the first.
func primary(hosts []scanner.Host, s store.Seen) (scanner.Host, bool) {
	best := -1
	for _, i := range s.Observations {
		if i < 0 || i >= len(hosts) {
			continue
		}
		h := hosts[i]
		switch {
		case h.Addr.WithZone("").String() == s.Device.Addr:
			return h, true
		case best < 0, h.Addr.Unmap().Is4() && !hosts[best].Addr.Unmap().Is4():
			best = i
		}
	}
	if best < 0 {
		return scanner.Host{}, false
	}
	return hosts[best], true
}

// title names a device in a continuity note: as the user knows it.
func title(d store.Device) string {
	for _, s := range []string{d.Label, d.FriendlyName, d.Hostname} {
		if s != "" {
			return s
		}
	}
	if len(d.MACs) > 1 {
		return d.MACs[1]
	}
	return d.Title()
}

// hostOf rebuilds a host from what the store keeps of a device, for
// devices that did not answer this scan.
func hostOf(d store.Device) scanner.Host {
	h := scanner.Host{Hostname: d.Hostname, Names: d.Names, Vendor: d.Vendor}
	h.Identity.Model, h.Identity.FriendlyName = d.Model, d.FriendlyName
	if k, err := identify.ParseKind(d.Kind); err == nil {
		h.Identity.Kind = k
	}
	if a, err := netip.ParseAddr(d.Addr); err == nil {
		h.Addr = a
	}
	if mac, err := net.ParseMAC(d.MAC); err == nil {
		h.MAC = mac
	}
	return h
}

// fieldChanges names the store's changes as events do.
func fieldChanges(cs []store.Change) []Change {
	var out []Change
	for _, c := range cs {
		f := Field(c.Field)
		switch c.Field {
		case "addr":
			f = FieldAddress
		case "hostname":
			f = FieldName
		}
		out = append(out, Change{Field: f, Old: c.Old, New: c.New})
	}
	return out
}

func hasField(cs []Change, f Field) bool {
	for _, c := range cs {
		if c.Field == f {
			return true
		}
	}
	return false
}
