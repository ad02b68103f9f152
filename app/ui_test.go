package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/backend"
	"netscanner/internal/devices"
	"netscanner/internal/settings"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// fakeBackend scans a fixed set of hosts. Tests steer it through its
// channels; it never touches the network.
type fakeBackend struct {
	hosts []scanner.Host
	nets  []scanner.Network
	// neighbours are reported after the sweep whatever the targets, as
	// the engine reports IPv6 link-local neighbours.
	neighbours []scanner.Host

	// block makes Scan wait for its context after reporting progress, so a
	// test can stop it; started is closed when it waits.
	block   bool
	started chan struct{}

	// pinged receives every Ping's address; the Ping then waits for an
	// answer on answer (or for its context).
	pinged chan netip.Addr
	answer chan time.Duration

	mu        sync.Mutex
	scans     int
	cancelled bool
	woken     []net.HardwareAddr
}

func newFake() *fakeBackend {
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	return &fakeBackend{
		hosts: []scanner.Host{
			{Addr: netip.MustParseAddr("198.18.0.1"), RTT: 2 * time.Millisecond, Gateway: true, Hostname: "router.lan",
				MAC: mac("00:11:22:33:44:01"), Vendor: "Ubiquiti Inc"},
			{Addr: netip.MustParseAddr("198.18.0.9"), RTT: 9 * time.Millisecond, Hostname: "office-printer",
				MAC: mac("00:11:22:33:44:09"), Vendor: "Brother Industries", Ports: []scanner.Port{{Number: 80, Service: "http"}, {Number: 9100}}},
			{Addr: netip.MustParseAddr("198.18.0.5"), RTT: 30 * time.Millisecond, Hostname: "annas-iphone",
				MAC: mac("00:11:22:33:44:05"), Vendor: "Apple, Inc."},
		},
		nets: []scanner.Network{{
			Interface: "eth0", Addr: netip.MustParseAddr("198.18.0.2"),
			Prefix: netip.MustParsePrefix("198.18.0.0/28"), Scan: netip.MustParsePrefix("198.18.0.0/28"),
			Gateway: netip.MustParseAddr("198.18.0.1"),
		}},
		started: make(chan struct{}),
		pinged:  make(chan netip.Addr, 16),
		answer:  make(chan time.Duration),
	}
}

func (f *fakeBackend) Networks() ([]scanner.Network, error) { return f.nets, nil }

func (f *fakeBackend) Method(context.Context, probe.Method) *probe.Report {
	return &probe.Report{Chosen: probe.Raw, Methods: []probe.MethodStatus{
		{Method: probe.Dgram, Reason: "your group 0 is outside ping_group_range 1 0", Fix: "sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'"},
		{Method: probe.Raw, OK: true, Reason: "running as root"},
	}}
}

func (f *fakeBackend) Scan(ctx context.Context, t *targets.Set, _ settings.Settings, emit func(scanner.Event)) (scanner.Summary, error) {
	f.mu.Lock()
	f.scans++
	f.mu.Unlock()
	sum := scanner.Summary{Total: t.Len(), Method: probe.Raw}
	if f.block {
		close(f.started)
		<-ctx.Done()
		f.mu.Lock()
		f.cancelled = true
		f.mu.Unlock()
		sum.Cancelled = true
		emit(scanner.Event{Kind: scanner.Finished, Summary: &sum})
		return sum, ctx.Err()
	}
	for _, h := range f.hosts {
		if t.Contains(h.Addr) {
			// Found bare, then enriched, as the engine reports hosts.
			emit(scanner.Event{Kind: scanner.HostFound, Host: scanner.Host{Addr: h.Addr, RTT: h.RTT, Gateway: h.Gateway, Method: probe.Raw, Reason: "echo-reply"}})
			sum.Alive++
		}
	}
	emit(scanner.Event{Kind: scanner.Progress, Done: t.Len(), Total: t.Len()})
	for _, h := range f.hosts {
		if t.Contains(h.Addr) {
			emit(scanner.Event{Kind: scanner.HostUpdated, Host: h})
		}
	}
	for _, h := range f.neighbours {
		emit(scanner.Event{Kind: scanner.HostFound, Host: h})
		sum.Neighbours++
	}
	emit(scanner.Event{Kind: scanner.Finished, Summary: &sum})
	return sum, nil
}

func (f *fakeBackend) Ping(ctx context.Context, _ probe.Method, addr netip.Addr) (time.Duration, error) {
	f.pinged <- addr
	select {
	case d := <-f.answer:
		return d, nil
	case <-ctx.Done():
		return 0, probe.ErrTimeout
	}
}

func (f *fakeBackend) WakeOnLAN(_ context.Context, mac net.HardwareAddr, _ netip.AddrPort) error {
	f.mu.Lock()
	f.woken = append(f.woken, mac)
	f.mu.Unlock()
	return nil
}

func (f *fakeBackend) scanCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scans
}

// newTestUI opens the app on b in a test window. Fyne's test driver runs
// fyne.Do at once on the calling goroutine, so every test waits for the
// UI's workers (idle) before it looks at widgets.
func newTestUI(t *testing.T, b backend.Backend, store string, opts Options) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	w := a.NewWindow("Netscanner")
	opts.StorePath = store
	if opts.PingEvery == 0 {
		opts.PingEvery = time.Hour
	}
	u, err := New(a, w, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	u.idle() // networks and ping method are in: nothing else touches the UI now
	w.Resize(fyne.NewSize(1200, 800))
	return u
}

// idle waits until no worker runs: no scan, no lookup, no ping loop.
func (u *UI) idle() { u.workers.Wait() }

// scan taps Scan and waits for the scan to end.
func scan(t *testing.T, u *UI) {
	t.Helper()
	test.Tap(u.w.scan)
	u.idle()
	if u.run != nil {
		t.Fatal("scan still running after its worker ended")
	}
}

func addrs(u *UI) []string {
	var out []string
	for i := range u.model.Len() {
		out = append(out, u.model.At(i).Addr())
	}
	return out
}

func TestScanFillsList(t *testing.T) {
	f := newFake()
	u := newTestUI(t, f, filepath.Join(t.TempDir(), "s.json"), Options{})
	if got := u.w.network.Text; !strings.Contains(got, "eth0") || !strings.Contains(got, "198.18.0.2/28") || !strings.Contains(got, "gateway 198.18.0.1") {
		t.Errorf("header = %q", got)
	}
	if got := u.w.badge.Text; !u.phone && !strings.Contains(got, "raw") { // a phone shows a mark alone
		t.Errorf("badge = %q", got)
	}
	scan(t, u)
	if got, want := strings.Join(addrs(u), " "), "198.18.0.1 198.18.0.5 198.18.0.9"; got != want {
		t.Fatalf("list = %s, want %s", got, want)
	}
	if n := u.w.list.Length(); n != 3 {
		t.Errorf("list length %d", n)
	}
	if !strings.Contains(u.w.status.Text, "3 hosts found") {
		t.Errorf("status = %q", u.w.status.Text)
	}
	r, _, _ := u.model.Find(netip.MustParseAddr("198.18.0.9"))
	if r.Host.Hostname != "office-printer" || r.Kind != devices.KindPrinter || !r.New {
		t.Errorf("enriched row = %+v", r)
	}
	if u.w.scan.Text != "Scan" || u.w.scan.Disabled() {
		t.Errorf("scan button %q disabled=%v after the scan", u.w.scan.Text, u.w.scan.Disabled())
	}
	// Memory now knows them: a second scan marks nothing new.
	scan(t, u)
	for i := range u.model.Len() {
		if u.model.At(i).New {
			t.Errorf("%s still new on the second scan", u.model.At(i).Addr())
		}
	}
}

func TestStopCancels(t *testing.T) {
	f := newFake()
	f.block = true
	u := newTestUI(t, f, filepath.Join(t.TempDir(), "s.json"), Options{})
	test.Tap(u.w.scan)
	<-f.started
	if u.w.scan.Text != "Stop" {
		t.Fatalf("button says %q during a scan", u.w.scan.Text)
	}
	test.Tap(u.w.scan)
	u.idle()
	if !f.cancelled {
		t.Fatal("Stop did not cancel the backend's scan")
	}
	if u.run != nil || u.w.scan.Text != "Scan" || !strings.HasPrefix(u.w.status.Text, "Stopped") {
		t.Errorf("after stop: run=%v button=%q status=%q", u.run, u.w.scan.Text, u.w.status.Text)
	}
}

func TestEscapeStopsEnterScans(t *testing.T) {
	f := newFake()
	f.block = true
	u := newTestUI(t, f, filepath.Join(t.TempDir(), "s.json"), Options{})
	u.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	<-f.started
	u.w.targets.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) // from inside the focused field
	u.idle()
	if !f.cancelled {
		t.Fatal("Escape did not stop the scan")
	}
	u.w.targets.TypedShortcut(findShortcut())
	if !u.mobile && u.win.Canvas().Focused() != u.w.filter {
		t.Error("Ctrl+F did not focus the filter")
	}
}

func TestSortAndFilter(t *testing.T) {
	u := newTestUI(t, newFake(), filepath.Join(t.TempDir(), "s.json"), Options{})
	scan(t, u)
	u.w.sort.SetSelected(devices.SortRTT.String())
	if got := strings.Join(addrs(u), " "); got != "198.18.0.1 198.18.0.9 198.18.0.5" {
		t.Errorf("by RTT: %s", got)
	}
	u.w.sort.SetSelected(devices.SortName.String())
	if got := strings.Join(addrs(u), " "); got != "198.18.0.5 198.18.0.9 198.18.0.1" {
		t.Errorf("by name: %s", got)
	}
	test.Type(u.w.filter, "brother")
	if got := strings.Join(addrs(u), " "); got != "198.18.0.9" {
		t.Errorf("filter brother: %s", got)
	}
	if u.w.list.Length() != 1 {
		t.Errorf("list shows %d rows", u.w.list.Length())
	}
	u.w.filter.SetText("")
	if u.model.Len() != 3 {
		t.Errorf("cleared filter shows %d rows", u.model.Len())
	}
}

// A device that answers on IPv4 and as an IPv6 link-local neighbour is one
// row, one device in the count, and one device in memory.
func TestOneRowPerDevice(t *testing.T) {
	f := newFake()
	printer := f.hosts[1]
	f.neighbours = []scanner.Host{{Addr: netip.MustParseAddr("fe80::211:22ff:fe33:4409%eth0"), RTT: time.Millisecond,
		MAC: printer.MAC, Vendor: printer.Vendor, Method: probe.Raw, Reason: "echo-reply"}}
	store := filepath.Join(t.TempDir(), "s.json")
	u := newTestUI(t, f, store, Options{})
	scan(t, u)
	if got, want := strings.Join(addrs(u), " "), "198.18.0.1 198.18.0.5 198.18.0.9"; got != want {
		t.Fatalf("list = %s, want %s", got, want)
	}
	if !strings.Contains(u.w.status.Text, "3 hosts found") {
		t.Errorf("status = %q", u.w.status.Text)
	}
	u.w.list.Select(2)
	text := test.RenderObjectToMarkup(u.details.fields)
	if !strings.Contains(text, "Also at") || !strings.Contains(text, "fe80::211:22ff:fe33:4409%eth0") {
		t.Errorf("details do not list the other address:\n%s", text)
	}
	u.details.cancel()
	u.idle()
	if devs := u.store.Devices(); len(devs) != 3 {
		t.Errorf("memory holds %d devices, want 3: %+v", len(devs), devs)
	}
	for _, d := range u.store.Devices() {
		if d.Key == "mac:00:11:22:33:44:09" && d.Addr != "198.18.0.9" {
			t.Errorf("the printer is remembered at %s, want its IPv4 address", d.Addr)
		}
	}
}

func TestDetails(t *testing.T) {
	f := newFake()
	u := newTestUI(t, f, filepath.Join(t.TempDir(), "s.json"), Options{PingEvery: time.Millisecond})
	var opened []string
	u.opts.OpenURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	scan(t, u)
	u.w.list.Select(2) // 198.18.0.9, the printer
	// The ping loop is now inside Ping, waiting for an answer: the UI is
	// ours until we answer.
	if a := <-f.pinged; a != netip.MustParseAddr("198.18.0.9") {
		t.Fatalf("pinged %s", a)
	}
	d := u.details
	if d == nil || d.title.Text != "office-printer" {
		t.Fatalf("details not open for the printer: %+v", d)
	}
	if !u.phone && (len(u.w.pane.Objects) != 1 || u.w.pane.Objects[0] != d.root) {
		t.Error("details not in the side pane")
	}
	text := test.RenderObjectToMarkup(d.fields)
	for _, want := range []string{"198.18.0.9", "00:11:22:33:44:09", "Brother Industries", "printer", "9.0 ms", "http"} {
		if !strings.Contains(text, want) {
			t.Errorf("details lack %q", want)
		}
	}
	for i := 0; i < 3; i++ {
		f.answer <- 4 * time.Millisecond
		<-f.pinged // the next round: the graph has been updated
	}
	if n := d.graph.series.Len(); n != 3 {
		t.Errorf("graph has %d points after 3 answers", n)
	}

	// Tap the http port: it opens the web console.
	link := findHyperlink(d.fields)
	if link == nil {
		t.Fatal("no link for port 80")
	}
	link.OnTapped()
	if len(opened) != 1 || opened[0] != "http://198.18.0.9/" {
		t.Errorf("opened %v", opened)
	}

	test.Tap(d.copyMAC)
	if got := u.app.Clipboard().Content(); got != "00:11:22:33:44:09" {
		t.Errorf("clipboard = %q", got)
	}
	test.Tap(d.wake)
	d.cancel() // end the ping loop, so idle returns once the wake is sent
	u.idle()
	u.closeDetails()
	if !strings.Contains(u.w.status.Text, "Wake-on-LAN packet sent") {
		t.Errorf("status after wake = %q", u.w.status.Text)
	}
	if len(f.woken) != 1 || f.woken[0].String() != "00:11:22:33:44:09" {
		t.Errorf("woke %v", f.woken)
	}
	if u.details != nil || u.selected.IsValid() {
		t.Error("details still open")
	}
}

func TestLabelsPersist(t *testing.T) {
	store := filepath.Join(t.TempDir(), "s.json")
	f := newFake()
	u := newTestUI(t, f, store, Options{})
	scan(t, u)
	u.openDetails(netip.MustParseAddr("198.18.0.5"))
	<-f.pinged
	test.Type(u.details.label, "Anna's phone")
	u.details.saveLabel()
	if r, _, _ := u.model.Find(netip.MustParseAddr("198.18.0.5")); r.Name() != "Anna's phone" {
		t.Errorf("row name %q after labelling", r.Name())
	}
	u.Close()

	// A new app on the same storage: the label is back, on the row and in
	// memory.
	f2 := newFake()
	u2 := newTestUI(t, f2, store, Options{})
	if d, ok := u2.store.Device("mac:00:11:22:33:44:05"); !ok || d.Label != "Anna's phone" {
		t.Fatalf("memory after restart: %+v %v", d, ok)
	}
	scan(t, u2)
	r, _, _ := u2.model.Find(netip.MustParseAddr("198.18.0.5"))
	if r.Label != "Anna's phone" || r.New {
		t.Errorf("after restart: label %q new %v", r.Label, r.New)
	}
	test.Type(u2.w.filter, "anna's")
	if u2.model.Len() != 1 {
		t.Errorf("filter by label finds %d", u2.model.Len())
	}
}

func TestMissingDevices(t *testing.T) {
	store := filepath.Join(t.TempDir(), "s.json")
	f := newFake()
	u := newTestUI(t, f, store, Options{})
	scan(t, u)
	f.hosts = f.hosts[:2] // the phone has left
	scan(t, u)
	if len(u.missing) != 1 || u.missing[0].Addr != "198.18.0.5" {
		t.Fatalf("missing = %+v", u.missing)
	}
	if !u.w.missing.Visible() || !strings.Contains(u.w.missing.Text, "1 device") {
		t.Errorf("missing button %q visible=%v", u.w.missing.Text, u.w.missing.Visible())
	}
	// A scan of other addresses does not call it missing.
	test.Type(u.w.targets, "198.18.0.1")
	scan(t, u)
	if len(u.missing) != 0 {
		t.Errorf("missing after a scan of one address: %+v", u.missing)
	}
}

func TestInvalidTargetNotScanned(t *testing.T) {
	f := newFake()
	u := newTestUI(t, f, filepath.Join(t.TempDir(), "s.json"), Options{})
	test.Type(u.w.targets, "198.18.0.0/99")
	if !u.w.targetMsg.Visible() || !strings.Contains(u.w.targetMsg.Text, "prefix length 99") {
		t.Errorf("inline message = %q visible=%v", u.w.targetMsg.Text, u.w.targetMsg.Visible())
	}
	test.Tap(u.w.scan)
	u.w.targets.OnSubmitted(u.w.targets.Text)
	u.idle()
	if n := f.scanCount(); n != 0 {
		t.Fatalf("Backend.Scan called %d times for an invalid target", n)
	}
	if u.run != nil {
		t.Error("a scan is running")
	}
	// Fixing it clears the error and tells the size.
	u.w.targets.SetText("198.18.0.0/30")
	if strings.Contains(u.w.targetMsg.Text, "prefix") || !strings.Contains(u.w.targetMsg.Text, "2 addresses") {
		t.Errorf("message after fixing = %q", u.w.targetMsg.Text)
	}
	// A host name is left for the scan, and nothing is looked up now.
	u.w.targets.SetText("printer.invalid")
	if !strings.Contains(u.w.targetMsg.Text, "looked up when the scan starts") {
		t.Errorf("message for a name = %q", u.w.targetMsg.Text)
	}
}

func TestExportFiles(t *testing.T) {
	u := newTestUI(t, newFake(), filepath.Join(t.TempDir(), "s.json"), Options{})
	scan(t, u)
	dir := t.TempDir()
	for _, format := range []string{"csv", "json"} {
		path := filepath.Join(dir, "out."+format)
		fh, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.export(fh, format, u.model.Hosts()); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch format {
		case "csv":
			recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil {
				t.Fatalf("CSV does not parse: %v", err)
			}
			if len(recs) != 4 || recs[0][0] != "address" || recs[3][0] != "198.18.0.9" || recs[3][11] != "80/http 9100" {
				t.Errorf("CSV = %q", recs)
			}
		case "json":
			if !json.Valid(data) {
				t.Fatal("JSON export is not valid JSON")
			}
			hosts, err := devices.ReadHosts(bytes.NewReader(data))
			if err != nil || len(hosts) != 3 || hosts[2].Vendor != "Brother Industries" {
				t.Errorf("JSON read back: %v %+v", err, hosts)
			}
		}
	}
}

func TestPhoneLayout(t *testing.T) {
	f := newFake()
	u := newTestUI(t, f, filepath.Join(t.TempDir(), "s.json"), Options{Phone: true})
	u.win.Resize(fyne.NewSize(400, 800))
	if !u.phone || u.w.nav == nil {
		t.Fatal("phone layout not used")
	}
	scan(t, u)
	u.w.list.Select(0)
	<-f.pinged
	if u.details == nil || u.w.pane.Objects[0] == u.details.root {
		t.Fatal("details not pushed as a page")
	}
	u.w.nav.OnBack()
	u.idle()
	if u.details != nil {
		t.Error("back did not close the details")
	}
}

func TestWideWindowSwitchesLayout(t *testing.T) {
	u := newTestUI(t, newFake(), filepath.Join(t.TempDir(), "s.json"), Options{})
	if u.mobile {
		t.Skip("a phone always uses the phone layout")
	}
	u.win.Resize(fyne.NewSize(1200, 800))
	if u.phone {
		t.Error("a wide desktop window uses the phone layout")
	}
	u.win.Resize(fyne.NewSize(500, 800))
	if !u.phone {
		t.Error("a narrow desktop window keeps the desktop layout")
	}
}

func TestCorruptStoreStartsEmpty(t *testing.T) {
	store := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(store, []byte(`{"version":1,"devices":[{"key":`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	u, err := New(a, a.NewWindow("x"), newFake(), Options{StorePath: store})
	if err == nil {
		t.Error("a damaged store was not reported")
	}
	t.Cleanup(u.Close)
	u.idle()
	if u.store.Len() != 0 {
		t.Error("damaged store not emptied")
	}
	if _, err := os.Stat(store + ".bad"); err != nil {
		t.Errorf("no copy of the damaged file: %v", err)
	}
	scan(t, u)
	if u.model.Len() != 3 {
		t.Errorf("scan after a damaged store found %d", u.model.Len())
	}
}

type hyperlinkT = widget.Hyperlink

// findHyperlink returns the first hyperlink under o.
func findHyperlink(o fyne.CanvasObject) *hyperlinkT {
	switch v := o.(type) {
	case *hyperlinkT:
		return v
	case *fyne.Container:
		for _, c := range v.Objects {
			if h := findHyperlink(c); h != nil {
				return h
			}
		}
	}
	return nil
}
