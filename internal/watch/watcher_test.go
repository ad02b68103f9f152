package watch

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"netscanner/internal/store"
	"netscanner/scanner"
)

// fakeHost is a host as a scan reports it.
func fakeHost(ip, mac, name string) scanner.Host {
	h := scanner.Host{Addr: netip.MustParseAddr(ip), RTT: 300 * time.Microsecond, Method: "raw", Reason: scanner.ReasonEchoReply}
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil {
			panic(err)
		}
		h.MAC = hw
	}
	if name != "" {
		h.Hostname, h.Names = name, []string{name}
	}
	return h
}

// A LAN's devices. The phone's MACs are locally administered (private).
var (
	pi       = fakeHost("198.18.0.10", "b8:27:eb:00:00:0a", "raspberrypi.local")
	printer  = fakeHost("198.18.0.12", "9c:7b:ef:00:00:0c", "")
	phone    = fakeHost("198.18.0.30", "3a:11:22:33:44:01", "pixel-7.local")
	phoneNew = fakeHost("198.18.0.31", "7e:55:66:77:88:02", "pixel-7.local") // same phone, new private MAC
	stranger = fakeHost("198.18.0.40", "6a:00:00:00:00:40", "other.local")   // a private MAC, another name
	behind   = fakeHost("198.18.1.5", "", "")                                // behind a router: no MAC
)

func moved(h scanner.Host, ip string) scanner.Host { h.Addr = netip.MustParseAddr(ip); return h }
func renamed(h scanner.Host, name string) scanner.Host {
	h.Hostname, h.Names = name, []string{name}
	return h
}

// scanStep is one scan of a scripted run and the events it must cause,
// each "kind key" (key: the device's MAC or IP), in order.
type scanStep struct {
	hosts []scanner.Host
	err   error // the scan fails
	want  []string
}

func TestEvents(t *testing.T) {
	fail := errors.New("socket gone")
	cases := []struct {
		name      string
		downAfter int
		steps     []scanStep
	}{
		{name: "first scan joins everyone once", steps: []scanStep{
			{hosts: []scanner.Host{pi, printer, behind}, want: []string{"joined b8:27:eb:00:00:0a", "joined 9c:7b:ef:00:00:0c", "joined 198.18.1.5"}},
			{hosts: []scanner.Host{pi, printer, behind}},
		}},
		{name: "left only after down-after missed scans, then back", downAfter: 3, steps: []scanStep{
			{hosts: []scanner.Host{pi, printer}, want: []string{"joined b8:27:eb:00:00:0a", "joined 9c:7b:ef:00:00:0c"}},
			{hosts: []scanner.Host{pi}},
			{hosts: []scanner.Host{pi}},
			{hosts: []scanner.Host{pi}, want: []string{"left 9c:7b:ef:00:00:0c"}},
			{hosts: []scanner.Host{pi}},
			{hosts: []scanner.Host{pi, printer}, want: []string{"back 9c:7b:ef:00:00:0c"}},
			{hosts: []scanner.Host{pi, printer}},
		}},
		{name: "a phone that dozes through fewer scans never leaves", downAfter: 3, steps: []scanStep{
			{hosts: []scanner.Host{pi, phone}, want: []string{"joined b8:27:eb:00:00:0a", "joined 3a:11:22:33:44:01"}},
			{hosts: []scanner.Host{pi}},
			{hosts: []scanner.Host{pi}},
			{hosts: []scanner.Host{pi, phone}},
			{hosts: []scanner.Host{pi}},
			{hosts: []scanner.Host{pi, phone}},
		}},
		{name: "down-after 1 leaves on the first miss", downAfter: 1, steps: []scanStep{
			{hosts: []scanner.Host{printer}, want: []string{"joined 9c:7b:ef:00:00:0c"}},
			{want: []string{"left 9c:7b:ef:00:00:0c"}},
			{},
			{hosts: []scanner.Host{printer}, want: []string{"back 9c:7b:ef:00:00:0c"}},
		}},
		{name: "a new address or name is a change", steps: []scanStep{
			{hosts: []scanner.Host{pi}, want: []string{"joined b8:27:eb:00:00:0a"}},
			{hosts: []scanner.Host{moved(pi, "198.18.0.11")}, want: []string{"changed b8:27:eb:00:00:0a address 198.18.0.10 -> 198.18.0.11"}},
			{hosts: []scanner.Host{renamed(moved(pi, "198.18.0.11"), "pi-nas.local")}, want: []string{"changed b8:27:eb:00:00:0a name raspberrypi.local -> pi-nas.local"}},
			// A scan that did not learn the name did not lose it.
			{hosts: []scanner.Host{renamed(moved(pi, "198.18.0.11"), "")}},
		}},
		{name: "a new private MAC with the same mDNS name is linked, not joined", steps: []scanStep{
			{hosts: []scanner.Host{pi, phone}, want: []string{"joined b8:27:eb:00:00:0a", "joined 3a:11:22:33:44:01"}},
			{hosts: []scanner.Host{pi, phoneNew}, want: []string{"changed 7e:55:66:77:88:02 address 198.18.0.30 -> 198.18.0.31 mac 3a:11:22:33:44:01 -> 7e:55:66:77:88:02"}},
			{hosts: []scanner.Host{pi, phoneNew}},
			// A private MAC with a name nobody had is a stranger.
			{hosts: []scanner.Host{pi, phoneNew, stranger}, want: []string{"joined 6a:00:00:00:00:40"}},
		}},
		{name: "a phone back after it left, under a new private MAC, is back and linked", downAfter: 2, steps: []scanStep{
			{hosts: []scanner.Host{pi, phone}, want: []string{"joined b8:27:eb:00:00:0a", "joined 3a:11:22:33:44:01"}},
			{hosts: []scanner.Host{pi}},
			{hosts: []scanner.Host{pi}, want: []string{"left 3a:11:22:33:44:01"}},
			{hosts: []scanner.Host{pi, phoneNew}, want: []string{"back 7e:55:66:77:88:02 address 198.18.0.30 -> 198.18.0.31 mac 3a:11:22:33:44:01 -> 7e:55:66:77:88:02"}},
		}},
		{name: "a failed scan changes nothing", downAfter: 2, steps: []scanStep{
			{hosts: []scanner.Host{pi, printer}, want: []string{"joined b8:27:eb:00:00:0a", "joined 9c:7b:ef:00:00:0c"}},
			{hosts: []scanner.Host{pi}},
			{err: fail},
			{err: fail},
			{hosts: []scanner.Host{pi}, want: []string{"left 9c:7b:ef:00:00:0c"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, filepath.Join(t.TempDir(), "history.db"))
			var got []Event
			var reports []Report
			scans := &script{}
			w := newTestWatcher(t, st, scans, tc.downAfter, SinkFuncs{
				OnEvent: func(e Event) { got = append(got, e) },
				OnScan:  func(r Report) { reports = append(reports, r) },
			})
			for i, step := range tc.steps {
				got = got[:0]
				scans.next = step
				r, err := w.Step(context.Background())
				if !errors.Is(err, step.err) {
					t.Fatalf("scan %d: error %v, want %v", i, err, step.err)
				}
				if want := step.want; !slices.Equal(describe(got), want) {
					t.Fatalf("scan %d: events\n  %q\nwant\n  %q", i, describe(got), want)
				}
				if reports[len(reports)-1].Time != r.Time || (r.Err == nil) != (step.err == nil) {
					t.Fatalf("scan %d: the sinks got report %+v, Step returned %+v", i, reports[len(reports)-1], r)
				}
				if step.err == nil {
					checkReport(t, i, r, step.hosts, w.DownAfter())
				}
			}
		})
	}
}

// checkReport checks that the report lists every answering host as
// present and answered, and counts right.
func checkReport(t *testing.T, i int, r Report, hosts []scanner.Host, down int) {
	t.Helper()
	present, answered := 0, 0
	for _, d := range r.Devices {
		if d.Present {
			present++
		}
		if d.Answered() {
			answered++
			if d.Missed != 0 || d.Host.RTT == 0 {
				t.Errorf("scan %d: answered device %v has Missed %d, RTT %v", i, d, d.Missed, d.Host.RTT)
			}
		}
		if d.Present != (d.Missed < down) {
			t.Errorf("scan %d: %v: Present %v with Missed %d and down-after %d", i, d, d.Present, d.Missed, down)
		}
	}
	if present != r.Present || answered != r.Answered || answered != len(hosts) {
		t.Errorf("scan %d: report counts present %d answered %d, devices say %d and %d, the scan had %d hosts",
			i, r.Present, r.Answered, present, answered, len(hosts))
	}
}

// describe renders events as the table writes them.
func describe(events []Event) []string {
	var out []string
	for _, e := range events {
		s := string(e.Kind) + " " + e.Device.MACOrIP()
		for _, c := range e.Changes {
			s += " " + c.String()
		}
		out = append(out, s)
	}
	return out
}

// script is a ScanFunc whose next scan the test sets.
type script struct{ next scanStep }

func (s *script) scan(context.Context) (Result, error) {
	if s.next.err != nil {
		return Result{}, s.next.err
	}
	return Result{Hosts: slices.Clone(s.next.hosts), Summary: scanner.Summary{Total: 256, Alive: len(s.next.hosts), Method: "raw"}, Targets: "198.18.0.0/23"}, nil
}

// clock is a fake time that moves 5 minutes per scan.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestWatcher(t *testing.T, st *store.Store, s *script, downAfter int, sinks ...Sink) *Watcher {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	w, err := New(Config{
		Scan: func(ctx context.Context) (Result, error) {
			c.t = c.t.Add(5 * time.Minute)
			return s.scan(ctx)
		},
		Store:     st,
		DownAfter: downAfter,
		Sinks:     sinks,
		Now:       c.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestLinkNote checks what a linked phone's event says.
func TestLinkNote(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "history.db"))
	var got []Event
	s := &script{}
	w := newTestWatcher(t, st, s, 0, SinkFuncs{OnEvent: func(e Event) { got = append(got, e) }})
	for _, hs := range [][]scanner.Host{{phone}, {phoneNew}} {
		s.next = scanStep{hosts: hs}
		if _, err := w.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("events %q, want joined then changed", describe(got))
	}
	e := got[1]
	if e.Kind != Changed || !strings.HasPrefix(e.Note, "same device as pixel-7.local, new private MAC") ||
		e.Device.ID != got[0].Device.ID || !slices.Equal(e.Device.MACs, []string{"7e:55:66:77:88:02", "3a:11:22:33:44:01"}) {
		t.Fatalf("linked event %+v", e)
	}
	line := e.String()
	for _, want := range []string{"changed", "198.18.0.31", "7e:55:66:77:88:02", "pixel-7.local", "mac 3a:11:22:33:44:01 -> 7e:55:66:77:88:02", "same device as pixel-7.local"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
}

// TestRestart: a second watcher on the same history knows the devices,
// so a device still there is not joined again, and one that left while
// nobody watched comes back.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	var got []Event
	sink := SinkFuncs{OnEvent: func(e Event) { got = append(got, e) }}
	st := openStore(t, path)
	s := &script{}
	w := newTestWatcher(t, st, s, 2, sink)
	for _, hs := range [][]scanner.Host{{pi, printer}, {pi}, {pi}} {
		s.next = scanStep{hosts: hs}
		if _, err := w.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"joined b8:27:eb:00:00:0a", "joined 9c:7b:ef:00:00:0c", "left 9c:7b:ef:00:00:0c"}; !slices.Equal(describe(got), want) {
		t.Fatalf("first run: %q, want %q", describe(got), want)
	}
	st.Close()

	got = nil
	st = openStore(t, path)
	w = newTestWatcher(t, st, s, 2, sink)
	s.next = scanStep{hosts: []scanner.Host{pi, printer}}
	r, err := w.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"back 9c:7b:ef:00:00:0c"}; !slices.Equal(describe(got), want) {
		t.Fatalf("second run: %q, want %q", describe(got), want)
	}
	if r.Present != 2 || len(r.Devices) != 2 {
		t.Fatalf("second run report: %d present of %d", r.Present, len(r.Devices))
	}
}

// TestCovered: a device whose address the scan did not cover is not
// missing.
func TestCovered(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "history.db"))
	var got []Event
	only := netip.MustParsePrefix("198.18.0.0/24")
	c := &clock{t: time.Now()}
	hosts := []scanner.Host{pi, behind}
	w, err := New(Config{
		Scan: func(context.Context) (Result, error) {
			c.t = c.t.Add(time.Minute)
			r := Result{Hosts: hosts, Summary: scanner.Summary{Total: 256}}
			if len(hosts) == 1 {
				r.Covered = only.Contains // the second network is not scanned any more
			}
			return r, nil
		},
		Store: st, DownAfter: 1, Now: c.now,
		Sinks: []Sink{SinkFuncs{OnEvent: func(e Event) { got = append(got, e) }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := w.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		hosts = []scanner.Host{pi}
	}
	if want := []string{"joined b8:27:eb:00:00:0a", "joined 198.18.1.5"}; !slices.Equal(describe(got), want) {
		t.Fatalf("events %q, want %q", describe(got), want)
	}
}

// TestCancelled: a scan cut short is not recorded, and Run returns nil
// when its context ends, after the scan in progress.
func TestCancelled(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "history.db"))
	ctx, cancel := context.WithCancel(context.Background())
	scans := 0
	var events, reports int
	w, err := New(Config{
		Scan: func(ctx context.Context) (Result, error) {
			scans++
			if scans == 2 {
				cancel() // SIGTERM arrives mid-scan
				return Result{Hosts: []scanner.Host{pi}, Summary: scanner.Summary{Cancelled: true}}, ctx.Err()
			}
			return Result{Hosts: []scanner.Host{pi, printer}}, nil
		},
		Store: st, Interval: time.Millisecond, MinInterval: time.Millisecond,
		Sinks: []Sink{SinkFuncs{OnEvent: func(Event) { events++ }, OnScan: func(Report) { reports++ }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if scans != 2 || events != 2 || reports != 1 {
		t.Fatalf("scans %d, events %d, reports %d; want 2, 2 (the first scan's joins) and 1", scans, events, reports)
	}
	devs, err := st.Devices(context.Background())
	if err != nil || len(devs) != 2 || devs[0].Misses != 0 || devs[1].Misses != 0 {
		t.Fatalf("store after a cancelled scan: %+v, %v", devs, err)
	}
}

// TestConfig: intervals and counts out of range are refused, clearly.
func TestConfig(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "history.db"))
	scan := func(context.Context) (Result, error) { return Result{}, nil }
	cases := []struct {
		cfg  Config
		want error
		text string
	}{
		{Config{Interval: 9 * time.Second}, ErrInterval, "bad interval 9s: scanning more often than every 10s"},
		{Config{Interval: -time.Minute}, ErrInterval, "bad interval -1m0s"},
		{Config{Interval: 8 * 24 * time.Hour}, ErrInterval, "want 10s to 168h0m0s"},
		{Config{DownAfter: -1}, ErrDownAfter, "bad down-after count -1: want 1 to 1000 missed scans"},
		{Config{DownAfter: 1001}, ErrDownAfter, "bad down-after count 1001"},
		{Config{Interval: time.Second, MinInterval: time.Second}, nil, ""},
		{Config{Interval: 10 * time.Second}, nil, ""},
	}
	for _, tc := range cases {
		tc.cfg.Scan, tc.cfg.Store = scan, st
		_, err := New(tc.cfg)
		if !errors.Is(err, tc.want) || (err != nil && !strings.Contains(err.Error(), tc.text)) {
			t.Errorf("New(%+v): %v, want %v with %q", tc.cfg, err, tc.want, tc.text)
		}
	}
	if _, err := New(Config{Scan: scan}); err == nil {
		t.Error("New without a store: no error")
	}
	ro, err := store.Open(context.Background(), st.Path(), store.Options{Mode: store.ModeRead})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := New(Config{Scan: scan, Store: ro}); err == nil || !strings.Contains(err.Error(), "recording") {
		t.Errorf("New with a read-only store: %v", err)
	}
}

// TestPrimaryHost: a device answering on IPv4 and as an IPv6 link-local
// neighbour is one device, reported by its IPv4 host whichever came
// first.
func TestPrimaryHost(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "history.db"))
	var got []Event
	s := &script{}
	w := newTestWatcher(t, st, s, 0, SinkFuncs{OnEvent: func(e Event) { got = append(got, e) }})
	ll := pi
	ll.Addr = netip.MustParseAddr("fe80::ba27:ebff:fe00:a%eth0")
	s.next = scanStep{hosts: []scanner.Host{ll, pi}}
	r, err := w.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Device.Host.Addr != pi.Addr || len(r.Devices) != 1 || r.Devices[0].Host.Addr != pi.Addr {
		t.Fatalf("events %v, devices %v; want one device at %v", got, r.Devices, pi.Addr)
	}
}
