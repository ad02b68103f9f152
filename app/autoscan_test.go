package app

import (
	"bytes"
	"errors"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"netscanner/internal/backend"
)

// lineWriter hands each trace line to a channel, so a test can wait for
// one: a line is written on the goroutine that changed the UI, after the
// change, which makes the receive a safe point to look at widgets.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w <- l
	}
	return len(p), nil
}

// waitLine returns the first trace line starting with want (after the
// prefix), failing the test after a generous while: the fake backend
// answers at once, so only a broken trigger waits that long.
func waitLine(t *testing.T, lines lineWriter, want string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-lines:
			if rest, ok := strings.CutPrefix(l, tracePrefix); ok && strings.HasPrefix(rest, want) {
				return rest
			}
		case <-deadline:
			t.Fatalf("no trace line %q", want)
			return ""
		}
	}
}

// newAutoUI opens the app with opts as Run would, without waiting for its
// workers: an autoscan with Select keeps a ping worker running.
func newAutoUI(t *testing.T, b backend.Backend, opts Options) (*UI, lineWriter) {
	t.Helper()
	lines := make(lineWriter, 16)
	a := test.NewTempApp(t)
	w := a.NewWindow("Netscanner")
	w.Resize(fyne.NewSize(1200, 800))
	opts.StorePath = filepath.Join(t.TempDir(), "s.json")
	opts.PingEvery = time.Hour
	opts.Trace = lines
	u, err := New(a, w, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Close waits for workers, and a worker may be writing a line.
		go func() {
			for range lines {
			}
		}()
		u.Close()
		close(lines)
	})
	return u, lines
}

func TestAutoscanTargetsAndSelect(t *testing.T) {
	f := newFake()
	sel := netip.MustParseAddr("198.18.0.5")
	u, lines := newAutoUI(t, f, Options{Autoscan: "198.18.0.0/29", Select: sel})
	if got := waitLine(t, lines, "scan started"); got != "scan started: 198.18.0.0/29" {
		t.Errorf("trace %q", got)
	}
	if got := waitLine(t, lines, "details open"); got != "details open: 198.18.0.5" {
		t.Errorf("trace %q", got)
	}
	end := waitLine(t, lines, "scan finished")
	// The scan worker has made its last change to the UI: look.
	if !strings.Contains(end, "2 hosts found") {
		t.Errorf("trace %q", end)
	}
	if u.w.targets.Text != "198.18.0.0/29" {
		t.Errorf("target field %q, want the autoscan's targets", u.w.targets.Text)
	}
	if got := strings.Join(addrs(u), " "); got != "198.18.0.1 198.18.0.5" { // .9 is outside the /29
		t.Errorf("list = %s", got)
	}
	if n := f.scanCount(); n != 1 {
		t.Errorf("%d scans, want 1", n)
	}
	if u.details == nil || u.selected != sel {
		t.Fatalf("details of %v open, want %v", u.selected, sel)
	}
	if got := <-f.pinged; got != sel {
		t.Errorf("live ping went to %v, want %v", got, sel)
	}
}

func TestAutoscanNetworks(t *testing.T) {
	f := newFake()
	u, lines := newAutoUI(t, f, Options{Autoscan: AutoscanNetworks})
	if got := waitLine(t, lines, "scan started"); got != "scan started: this network" {
		t.Errorf("trace %q", got)
	}
	waitLine(t, lines, "scan finished")
	if u.w.targets.Text != "" {
		t.Errorf("target field %q, want empty (this network)", u.w.targets.Text)
	}
	if got := strings.Join(addrs(u), " "); got != "198.18.0.1 198.18.0.5 198.18.0.9" {
		t.Errorf("list = %s", got)
	}
	if u.details != nil {
		t.Errorf("details of %v open without Select", u.selected)
	}
	u.idle() // no ping worker: everything ends
}

// An autoscan with no network to scan says why and sends nothing, as
// Scan does for a person.
func TestAutoscanNoNetwork(t *testing.T) {
	f := newFake()
	f.nets = nil
	u, lines := newAutoUI(t, f, Options{Autoscan: AutoscanNetworks})
	if got := waitLine(t, lines, "scan not started"); !strings.Contains(got, "network") {
		t.Errorf("trace %q", got)
	}
	u.idle()
	if f.scanCount() != 0 {
		t.Error("scanned without targets")
	}
	if !u.w.targetMsg.Visible() || u.w.targetMsg.Text == "" {
		t.Error("no message under the target field")
	}
}

func TestOptionsFromEnv(t *testing.T) {
	var stderr bytes.Buffer
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Options
		err  error  // errors.Is
		msg  string // in the error
	}{
		{name: "none"},
		{name: "all",
			env:  map[string]string{EnvAutoscan: " 198.18.100.0/24 ", EnvSelect: "198.18.100.20", EnvPhone: "1", EnvTrace: "true"},
			want: Options{Autoscan: "198.18.100.0/24", Select: netip.MustParseAddr("198.18.100.20"), Phone: true, Trace: &stderr}},
		{name: "auto", env: map[string]string{EnvAutoscan: "AUTO"}, want: Options{Autoscan: AutoscanNetworks}},
		{name: "phone off", env: map[string]string{EnvPhone: "0"}},
		{name: "mapped select", env: map[string]string{EnvSelect: "::ffff:198.18.0.1"}, want: Options{Select: netip.MustParseAddr("198.18.0.1")}},
		{name: "bad phone", env: map[string]string{EnvPhone: "yes please"}, err: strconv.ErrSyntax, msg: EnvPhone},
		{name: "bad trace", env: map[string]string{EnvTrace: "2"}, err: strconv.ErrSyntax, msg: EnvTrace},
		{name: "bad select", env: map[string]string{EnvSelect: "printer"}, msg: EnvSelect},
		{name: "bad targets", env: map[string]string{EnvAutoscan: "198.18.0.0/33"}, msg: EnvAutoscan},
		{name: "targets too wide", env: map[string]string{EnvAutoscan: "0.0.0.0/0"}, msg: EnvAutoscan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OptionsFromEnv(func(k string) string { return tc.env[k] }, &stderr)
			if tc.msg != "" || tc.err != nil {
				if err == nil || !strings.Contains(err.Error(), tc.msg) || (tc.err != nil && !errors.Is(err, tc.err)) {
					t.Fatalf("err = %v, want one naming %s", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Autoscan != tc.want.Autoscan || got.Select != tc.want.Select || got.Phone != tc.want.Phone || got.Trace != tc.want.Trace {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A scan a person starts is traced too, so a script can wait for it.
func TestTraceUserScan(t *testing.T) {
	lines := make(lineWriter, 16)
	u := newTestUI(t, newFake(), filepath.Join(t.TempDir(), "s.json"), Options{Trace: lines})
	test.Tap(u.w.scan)
	if got := waitLine(t, lines, "scan finished"); !strings.Contains(got, "3 hosts found") {
		t.Errorf("trace %q", got)
	}
	u.idle()
}

// On a phone, details opened before the window was first drawn (the
// autoscan can be that quick) are still the page on top once it is.
func TestAutoscanSelectPhoneBeforeDrawn(t *testing.T) {
	f := newFake()
	sel := netip.MustParseAddr("198.18.0.9")
	u, lines := newAutoUI(t, f, Options{Phone: true, Autoscan: AutoscanNetworks, Select: sel})
	waitLine(t, lines, "scan finished")
	<-f.pinged
	if !u.phone || u.w.nav == nil || u.details == nil {
		t.Fatalf("phone=%v nav=%v details=%v", u.phone, u.w.nav != nil, u.details != nil)
	}
	u.win.Canvas().Capture() // draws the window, creating every renderer
	if !shows(u.w.nav, u.details.root) {
		t.Error("the details page is not in the navigation once drawn")
	}
}

// shows reports whether target is drawn as part of o: o itself, or a
// visible object under it.
func shows(o, target fyne.CanvasObject) bool {
	if o == target {
		return o.Visible()
	}
	if !o.Visible() {
		return false
	}
	var kids []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		kids = v.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(v).Objects()
	}
	for _, k := range kids {
		if shows(k, target) {
			return true
		}
	}
	return false
}

// Nothing reaches the widgets before the app's event loop runs: Fyne's
// mobile driver would run those fyne.Do calls on the workers' goroutines.
func TestWorkersWaitForStart(t *testing.T) {
	started := make(chan struct{})
	f := newFake()
	lines := make(lineWriter, 16)
	a := test.NewTempApp(t)
	w := a.NewWindow("Netscanner")
	u, err := New(a, w, f, Options{StorePath: filepath.Join(t.TempDir(), "s.json"), Autoscan: AutoscanNetworks,
		Trace: lines, started: started})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	// The workers have their answers from the fake at once, but hold them.
	select {
	case l := <-lines:
		t.Fatalf("trace before start: %q", l)
	case <-time.After(200 * time.Millisecond):
	}
	if f.scanCount() != 0 || u.w.network.Text != "Looking for networks…" {
		t.Fatalf("before start: %d scans, header %q", f.scanCount(), u.w.network.Text)
	}
	close(started)
	waitLine(t, lines, "scan finished")
	u.idle()
	if f.scanCount() != 1 || !strings.Contains(u.w.network.Text, "eth0") {
		t.Errorf("after start: %d scans, header %q", f.scanCount(), u.w.network.Text)
	}
}
