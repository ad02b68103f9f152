// Package app is Netscanner's Fyne front end: the main screen with its
// live host list, host details with a ping graph, remembered devices,
// settings and export.
//
// It knows nothing about sockets. Everything that touches the network goes
// through a backend.Backend, so the whole UI runs in tests against a fake one.
// Logic lives in plain files tested without a window (model.go, kind.go,
// store.go, prefs.go, export.go, wol.go, graph.go's series); the widgets
// are built in small files around them.
//
// Threading: scans, pings and validation-free lookups run in goroutines;
// widgets are touched only on the UI goroutine, through fyne.Do.
package app

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"netscanner/assets"
	"netscanner/internal/backend"
	"netscanner/internal/devices"
	"netscanner/internal/store"
	"netscanner/internal/watch"
	"netscanner/probe"
	"netscanner/scanner"
)

// AppID is the app's reverse-DNS identity: its preferences and storage
// folder are named after it. FyneApp.toml says the same.
const AppID = "io.github.netscanner.app"

// storeFileName is the memory file in the app's storage folder.
const storeFileName = "netscanner.json"

// Options tune New.
type Options struct {
	// StorePath is the memory file. Default: netscanner.json in the app's
	// storage folder.
	StorePath string
	// HistoryPath is the history database the devices live in, shared
	// with `netscanner history` and `watch`. Default: store.DefaultPath()
	// ($XDG_DATA_HOME/netscanner/history.db), or history.db beside
	// StorePath when only StorePath is given (a test's or a script's own
	// folder).
	HistoryPath string
	// Phone forces the one-column phone layout, as on a phone. Without it
	// the layout follows the device and the window's width.
	Phone bool
	// PingEvery is the live ping graph's interval. Default: one second.
	PingEvery time.Duration
	// Now is the clock, for tests. Default: time.Now.
	Now func() time.Time
	// OpenURL opens a web page, for tests. Default: the app's OpenURL.
	OpenURL func(*url.URL) error
	// Autoscan starts a scan as soon as the networks are known, as if
	// the user had typed it into the target field and tapped Scan;
	// AutoscanNetworks scans the detected networks. Empty: none.
	Autoscan string
	// Select opens this host's details as soon as a scan finds it, or
	// when the scan ends, a known device's that is away (with ShowAway).
	Select netip.Addr
	// ShowAway ticks "Show away" at start: the list shows the known
	// devices that are absent, greyed.
	ShowAway bool
	// ShowHistory scrolls the open details down to the device's history
	// when the first scan ends (with Select, for screenshots).
	ShowHistory bool
	// Trace, if set, gets a line when a scan starts and ends and when
	// Select's details open, for scripts that drive the app.
	Trace io.Writer

	// watchEvery replaces the Watch switch's interval, below its
	// minimum; watchBegin is called on the watcher's goroutine before
	// its first scan, and watchStep after each watch scan's report, on
	// the UI goroutine: hooks for tests, never set by a user.
	watchEvery time.Duration
	watchBegin func()
	watchStep  func(watch.Report)

	// started, if set, is closed once the app's event loop runs: workers
	// wait for it before their first fyne.Do, which Fyne's mobile driver
	// runs at once on the calling goroutine until then. Run sets it.
	started <-chan struct{}
}

// Run opens the app's window on be and returns when it is closed or
// ctx ends (the process got SIGINT or SIGTERM).
// If the environment variable NETSCANNER_DEMO names a JSON export (or is
// "1" for the built-in sample), the app replays those hosts instead of
// scanning: nothing is sent. The variables OptionsFromEnv reads set the
// rest; one that makes no sense ends Run with exit code 2.
func Run(ctx context.Context, be backend.Backend, stderr io.Writer) int {
	opts, err := OptionsFromEnv(os.Getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "netscanner:", err)
		return 2
	}
	if demo := os.Getenv("NETSCANNER_DEMO"); demo != "" {
		b, err := backend.NewDemoBackend(demo)
		if err != nil {
			fmt.Fprintln(stderr, "netscanner:", err)
			return 1
		}
		be = b
	}
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon()))
	started := make(chan struct{})
	var once sync.Once
	a.Lifecycle().SetOnStarted(func() { once.Do(func() { close(started) }) })
	opts.started = started
	w := a.NewWindow("Netscanner")
	u, err := New(a, w, be, opts)
	if err != nil {
		fmt.Fprintln(stderr, "netscanner:", err)
	}
	size := fyne.NewSize(1120, 720)
	if opts.Phone {
		size = fyne.NewSize(420, 800) // a phone's shape, where a desktop shows it
	}
	w.Resize(size)
	w.SetOnClosed(func() {
		u.Close()
		if c, ok := be.(io.Closer); ok {
			_ = c.Close() // the process is ending; nothing to tell
		}
	})
	// A signal quits like closing the window would. fyne.Do must wait for
	// the event loop: before it runs, mobile drivers call back at once.
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		select {
		case <-ctx.Done():
		case <-quit:
			return
		}
		select {
		case <-started:
			fyne.Do(func() { w.Close(); a.Quit() })
		case <-quit:
		}
	}()
	w.ShowAndRun()
	return 0
}

// UI is the app's state: one per window. Its fields are touched only on
// the UI goroutine.
type UI struct {
	app     fyne.App
	win     fyne.Window
	backend backend.Backend
	store   *devices.Store
	model   *devices.Model
	opts    Options
	mobile  bool // the device is a phone or tablet

	networks []scanner.Network
	report   *probe.Report
	run      *scanRun         // the scan in progress, nil when idle
	missing  []devices.Device // remembered devices the last full scan did not find
	selected netip.Addr       // host whose details are open
	details  *detailsView
	phone    bool // the phone layout is in use
	watch    watchUI

	w widgets

	// workers counts goroutines started by the UI, so Close (and tests)
	// can wait for them.
	workers sync.WaitGroup
	stop    context.CancelFunc // ends every worker
	ctx     context.Context
}

// New builds the app's UI into w. The returned error, if any, is about
// memory that could not be read (the UI then starts with none), and is
// shown to the user too.
func New(a fyne.App, w fyne.Window, be backend.Backend, opts Options) (*UI, error) {
	if opts.PingEvery <= 0 {
		opts.PingEvery = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenURL == nil {
		opts.OpenURL = a.OpenURL
	}
	if opts.HistoryPath == "" && opts.StorePath != "" {
		opts.HistoryPath = filepath.Join(filepath.Dir(opts.StorePath), store.FileName)
	}
	if opts.StorePath == "" {
		opts.StorePath = filepath.Join(a.Storage().RootURI().Path(), storeFileName)
	}
	if opts.HistoryPath == "" {
		opts.HistoryPath, _ = store.DefaultPath() // "": devices stay in the memory file
	}
	memory, storeErr := devices.OpenWithHistory(context.Background(), opts.StorePath, opts.HistoryPath)
	u := &UI{
		app:     a,
		win:     w,
		backend: be,
		store:   memory,
		model:   devices.NewModel(),
		opts:    opts,
		mobile:  fyne.CurrentDevice().IsMobile(),
	}
	u.ctx, u.stop = context.WithCancel(context.Background())
	u.model.Mobile = u.mobile
	u.build()
	if storeErr != nil {
		u.setStatus(storeErr.Error(), true)
	}
	u.loadEnvironment()
	return u, storeErr
}

// Close stops the scan, the ping graph and every other worker, and waits
// for them.
func (u *UI) Close() {
	u.stop()
	if u.run != nil {
		u.run.cancel()
	}
	u.closeDetails()
	u.workers.Wait()
	_ = u.store.Close() // its writes were reported by Save
}

// goWork runs fn in a goroutine that Close waits for.
func (u *UI) goWork(fn func()) {
	u.workers.Add(1)
	go func() {
		defer u.workers.Done()
		fn()
	}()
}

// awaitStart waits until the app's event loop runs (see
// Options.started), and says false if ctx ends first.
func (u *UI) awaitStart(ctx context.Context) bool {
	if u.opts.started == nil {
		return true
	}
	select {
	case <-u.opts.started:
		return true
	case <-ctx.Done():
		return false
	}
}

// loadEnvironment asks the backend for the networks and then the ping
// method, off the UI goroutine. One worker does both in turn: the
// networks come at once and are shown at once, the method takes longer.
// An autoscan starts once both are in, so its scan shows its method.
func (u *UI) loadEnvironment() {
	method := u.store.Settings().Method
	ctx := u.ctx
	u.w.badge.SetText("Checking ping…")
	u.goWork(func() {
		nets, err := u.backend.Networks()
		if !u.awaitStart(ctx) {
			return
		}
		fyne.Do(func() {
			if ctx.Err() == nil {
				u.setNetworks(nets, err)
			}
		})
		r := u.backend.Method(ctx, method)
		fyne.Do(func() {
			if ctx.Err() == nil {
				u.setReport(r)
				u.autoscan()
			}
		})
	})
}

// refreshMethod asks which ping method a scan would use.
func (u *UI) refreshMethod(method probe.Method) {
	ctx := u.ctx
	u.w.badge.SetText("Checking ping…")
	u.goWork(func() {
		r := u.backend.Method(ctx, method)
		if !u.awaitStart(ctx) {
			return
		}
		fyne.Do(func() {
			if ctx.Err() == nil {
				u.setReport(r)
			}
		})
	})
}
