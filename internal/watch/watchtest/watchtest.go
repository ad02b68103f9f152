// Package watchtest runs a real watcher in a test network: the scan's
// socket is opened in the scanner's network namespace and enrichment
// enters it, so that every packet stays on the test's LAN.
package watchtest

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"netscanner/internal/store"
	"netscanner/internal/testnet"
	"netscanner/internal/watch"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/names"
	"netscanner/scanner/targets"
)

// Scan returns a ScanFunc sweeping spec from inside ns with a raw
// socket opened there for each scan, names (mDNS, NetBIOS; DNS is
// refused at once, as the LAN runs no server), no port probes, and quick
// timeouts.
func Scan(t testing.TB, ns *testnet.NS, spec ...string) watch.ScanFunc {
	t.Helper()
	set, err := targets.Parse(context.Background(), spec, targets.Options{})
	if err != nil {
		t.Fatalf("watchtest: targets %v: %v", spec, err)
	}
	// Each scan's socket opens inside ns, on whichever thread runs it.
	open := func(context.Context) (probe.Conn, error) {
		var conn probe.Conn
		var err error
		if nerr := testnet.Do(ns.Name, func() { conn, err = probe.OpenRaw(probe.Options{}) }); nerr != nil {
			return nil, nerr
		}
		return conn, err
	}
	inNet := func(fn func()) error { return testnet.Do(ns.Name, fn) }
	cfg := scanner.DefaultConfig()
	cfg.Timeout = 500 * time.Millisecond
	cfg.RetryInterval = 100 * time.Millisecond
	cfg.Enrich = &scanner.Enrich{
		Names: true,
		Resolver: &names.Resolver{
			Timeout: time.Second,
			DNS: &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
				return nil, errors.New("no DNS on the test LAN")
			}},
			InNet: inNet,
		},
		InNet: inNet,
		Wait:  3 * time.Second,
	}
	return watch.Scanner(open, set, cfg)
}

// Store opens a fresh history database for recording, closed when the
// test ends.
func Store(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"), store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatalf("watchtest: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Recorder is a Sink that keeps everything, for tests to wait on.
type Recorder struct {
	mu      sync.Mutex
	events  []watch.Event
	reports []watch.Report
	changed chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{}, 1)} }

// Event keeps e.
func (r *Recorder) Event(e watch.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

// Scanned keeps rep.
func (r *Recorder) Scanned(rep watch.Report) {
	r.mu.Lock()
	r.reports = append(r.reports, rep)
	r.mu.Unlock()
	r.poke()
}

func (r *Recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Events returns the events so far.
func (r *Recorder) Events() []watch.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]watch.Event(nil), r.events...)
}

// Reports returns the reports so far.
func (r *Recorder) Reports() []watch.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]watch.Report(nil), r.reports...)
}

// WaitScans waits until n reports in all have arrived, or fails t after
// timeout.
func (r *Recorder) WaitScans(t testing.TB, n int, timeout time.Duration) []watch.Report {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if reps := r.Reports(); len(reps) >= n {
			return reps
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("watchtest: %d scans after %v, want %d", len(r.Reports()), timeout, n)
		}
	}
}

// Unplug cuts host off the LAN at the switch, or plugs it back in:
// its bridge port stops (or resumes) forwarding while the host's own
// link stays up, as a phone roaming away from an access point keeps its
// Wi-Fi on. Daemons in the host see no change of link.
func Unplug(t testing.TB, lan *testnet.Bridged, host *testnet.BridgedHost, unplugged bool) {
	t.Helper()
	idx := strings.TrimSpace(host.NS.Run("cat", "/sys/class/net/"+host.If+"/iflink"))
	port := ""
	for _, line := range strings.Split(lan.Switch.Run("ip", "-o", "link", "show"), "\n") {
		num, rest, ok := strings.Cut(line, ": ")
		if ok && strings.TrimSpace(num) == idx {
			port, _, _ = strings.Cut(rest, "@")
			port, _, _ = strings.Cut(port, ":")
			break
		}
	}
	if port == "" {
		t.Fatalf("watchtest: no switch port with index %s for %s", idx, host.Label)
	}
	state := "3" // forwarding
	if unplugged {
		state = "0" // disabled
	}
	lan.Switch.Run("bridge", "link", "set", "dev", port, "state", state)
}

// Roam gives host a new MAC and IPv4 address (addr, in the LAN's /24)
// while it is cut off from the LAN, as a phone that rejoins Wi-Fi under
// a new private MAC; it plugs the host back once ready(cut) holds, cut
// being when it left. ready should wait for what a scan of the new
// identity needs (its mDNS responder announcing addr) and for a scan
// that started after cut to be over: a scan that saw both the old MAC
// and the new one would rightly take them for two devices.
func Roam(t testing.TB, lan *testnet.Bridged, host *testnet.BridgedHost, mac, addr string, ready func(cut time.Time) bool) {
	t.Helper()
	Unplug(t, lan, host, true)
	cut := time.Now()
	host.NS.Run("ip", "link", "set", host.If, "address", mac)
	host.NS.Run("ip", "addr", "flush", "dev", host.If)
	host.NS.Run("ip", "addr", "add", addr+"/24", "dev", host.If)
	deadline := time.Now().Add(60 * time.Second)
	for !ready(cut) {
		if time.Now().After(deadline) {
			t.Fatalf("watchtest: %s roamed to %s %s, and was not ready after 60s", host.Label, mac, addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	Unplug(t, lan, host, false)
}
