package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/backend"
	"netscanner/internal/settings"
	"netscanner/internal/store"
	"netscanner/internal/watch"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// roundsBackend answers each scan with the next round's hosts (the last
// round again once they run out): a network where devices come and go.
type roundsBackend struct {
	*fakeBackend
	rounds [][]scanner.Host
}

func (b *roundsBackend) Scan(ctx context.Context, t *targets.Set, _ settings.Settings, emit func(scanner.Event)) (scanner.Summary, error) {
	b.mu.Lock()
	round := b.rounds[min(b.scans, len(b.rounds)-1)]
	b.scans++
	b.mu.Unlock()
	sum := scanner.Summary{Total: t.Len(), Method: "raw"}
	for _, h := range round {
		if t.Contains(h.Addr) {
			emit(scanner.Event{Kind: scanner.HostFound, Host: h})
			sum.Alive++
		}
	}
	emit(scanner.Event{Kind: scanner.Progress, Done: t.Len(), Total: t.Len()})
	emit(scanner.Event{Kind: scanner.Finished, Summary: &sum})
	return sum, ctx.Err()
}

// notifyApp keeps every notification the app sends, and passes each on
// to the test app, whose own capture holds the last.
type notifyApp struct {
	fyne.App
	mu   sync.Mutex
	sent []fyne.Notification
}

func (a *notifyApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	a.sent = append(a.sent, *n)
	a.mu.Unlock()
	a.App.SendNotification(n)
}

func (a *notifyApp) titles() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, n := range a.sent {
		out = append(out, n.Title)
	}
	return out
}

// newWatchUI opens the app on b with a notification capture. Each watch
// scan's report goes to the returned channel, and the watcher waits in
// its report until the test sends on cont: the test looks at the UI only
// while the watcher waits, and nothing else runs then.
func newWatchUI(t *testing.T, b backend.Backend, dir string) (u *UI, na *notifyApp, reports <-chan watch.Report, cont chan<- struct{}) {
	t.Helper()
	rep := make(chan watch.Report)
	next := make(chan struct{})
	na = &notifyApp{App: test.NewTempApp(t)}
	w := na.NewWindow("Netscanner")
	u, err := New(na, w, b, Options{
		StorePath: filepath.Join(dir, "s.json"),
		PingEvery: time.Hour,
		// Rounds follow each other at once: the watcher waits in
		// watchStep, not in its timer.
		watchEvery: time.Millisecond,
		// The first scan waits for cont too: the switch is still
		// redrawing itself when its OnChanged returns.
		watchBegin: func() { <-next },
		watchStep: func(r watch.Report) {
			rep <- r
			<-next
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	u.idle()
	w.Resize(fyne.NewSize(1200, 800))
	return u, na, rep, next
}

// TestWatchSwitch turns Watch on and lets its watcher scan a network
// through five rounds: a router joins, a printer joins, the router stops
// answering and leaves on the third scan it misses. Each round is a real
// scan of the app (the list fills), recorded in the history, and joined
// and left devices are notified.
func TestWatchSwitch(t *testing.T) {
	f := newFake()
	router, printer := f.hosts[0], f.hosts[1]
	b := &roundsBackend{fakeBackend: f, rounds: [][]scanner.Host{
		{router}, {router, printer}, {printer}, {printer}, {printer},
	}}
	u, na, reports, cont := newWatchUI(t, b, t.TempDir())
	next := func() watch.Report {
		t.Helper()
		cont <- struct{}{}
		return <-reports
	}
	if got := u.watch.toggle.Text; got != "Watch every 5 min" {
		t.Errorf("switch says %q", got)
	}

	tapCheck(u.watch.toggle)
	cont <- struct{}{}
	var r watch.Report
	select {
	case r = <-reports: // round 1
	case <-time.After(10 * time.Second):
		t.Fatalf("no first round: switch %v, status %q", u.watch.toggle.Checked, u.w.status.Text)
	}
	if r.Err != nil || r.Answered != 1 || len(r.Devices) != 1 {
		t.Fatalf("round 1: %+v", r)
	}
	if got := strings.Join(addrs(u), " "); got != "198.18.0.1" {
		t.Errorf("round 1 list: %s", got)
	}
	if got := strings.Join(na.titles(), "|"); got != "New device: router.lan" {
		t.Errorf("round 1 notifications: %s", got)
	}
	if got := u.w.status.Text; !strings.HasPrefix(got, "Watching: 1 device here of 1 known · next scan at ") {
		t.Errorf("round 1 status: %q", got)
	}
	if _, ok := u.store.Device("mac:00:11:22:33:44:01"); !ok {
		t.Error("round 1: memory does not know the router")
	}

	r = next() // round 2: the printer joins
	if got := strings.Join(na.titles(), "|"); got != "New device: router.lan|New device: office-printer" {
		t.Errorf("round 2 notifications: %s", got)
	}
	next() // round 3: the router misses one scan: no news
	r = next()
	if n := len(na.titles()); n != 2 {
		t.Errorf("a device that missed two scans was notified: %v", na.titles())
	}
	var lastSeen time.Time
	for _, d := range r.Devices {
		if d.Host.Hostname == "router.lan" {
			lastSeen = d.LastSeen
			if !d.Present || d.Missed != 2 {
				t.Errorf("round 4 router: present %v, missed %d", d.Present, d.Missed)
			}
		}
	}
	// Round 5: the third miss. The test app's own capture sees it too.
	left := fyne.NewNotification("router.lan left",
		fmt.Sprintf("Not seen in the last 3 scans; last seen at %s.", lastSeen.Local().Format("15:04")))
	test.AssertNotificationSent(t, left, func() { r = next() })
	if r.Present != 1 || r.Answered != 1 {
		t.Errorf("round 5: %d present, %d answered", r.Present, r.Answered)
	}
	if got := strings.Join(addrs(u), " "); got != "198.18.0.9" {
		t.Errorf("round 5 list: %s", got)
	}

	// Show away: the router is listed after the live rows, greyed.
	tapCheck(u.watch.away)
	if n := u.w.list.Length(); n != 2 || len(u.watch.absent) != 1 || u.watch.absent[0].Name != "router.lan" {
		t.Fatalf("list of %d, away %+v", n, u.watch.absent)
	}
	row := newHostRow(u.w.list)
	u.w.list.UpdateItem(1, row)
	if row.name.Text != "router.lan" || row.name.Importance != widget.LowImportance || row.marks.Text != "away" ||
		!strings.Contains(row.sub.Text, "198.18.0.1 · Ubiquiti Inc · last seen ") {
		t.Errorf("away row: %q %q %q, importance %v", row.name.Text, row.sub.Text, row.marks.Text, row.name.Importance)
	}
	u.w.list.UpdateItem(0, row) // reused for a live row: not grey any more
	if row.name.Text != "office-printer" || row.name.Importance == widget.LowImportance {
		t.Errorf("live row after away row: %q, importance %v", row.name.Text, row.name.Importance)
	}

	tapCheck(u.watch.toggle) // off, while the watcher waits in round 5
	cont <- struct{}{}
	u.idle()
	if n := b.scanCount(); n != 5 {
		t.Errorf("%d scans, want 5", n)
	}
	if got := u.w.status.Text; got != "Watch is off." {
		t.Errorf("status %q", got)
	}
	// The history has every round, as `netscanner history` reads it.
	dev, err := u.store.History().DeviceByKey(t.Context(), "mac:00:11:22:33:44:01")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := u.store.History().RTTSummary(t.Context(), dev.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil || sum.Scans != 5 || sum.Present != 2 {
		t.Errorf("router's history: %+v, %v", sum, err)
	}
}

// TestWatchStopsItsScan: Stop during a watch scan stops that scan; the
// watcher reports it cut short, records nothing, and goes on watching
// until the switch is turned off.
func TestWatchStopsItsScan(t *testing.T) {
	f := newFake()
	f.block = true // the scan waits for its context
	u, _, reports, cont := newWatchUI(t, f, t.TempDir())
	tapCheck(u.watch.toggle)
	cont <- struct{}{}
	<-f.started
	test.Tap(u.w.scan) // Stop
	r := <-reports
	if r.Err == nil || !strings.Contains(r.Err.Error(), "stopped before its end") {
		t.Errorf("report of a stopped scan: %+v", r)
	}
	if got := u.w.status.Text; !strings.HasPrefix(got, "Watch: scan: stopped before its end; next scan at ") {
		t.Errorf("status %q", got)
	}
	if !u.watch.toggle.Checked || u.watch.run == nil {
		t.Error("Watch stopped with its scan")
	}
	if devs, err := u.store.History().Devices(t.Context()); err != nil || len(devs) != 0 {
		t.Errorf("a stopped scan was recorded: %v, %v", devs, err)
	}
	tapCheck(u.watch.toggle) // off, while the watcher waits
	cont <- struct{}{}
	u.idle()
	if !f.cancelled || u.run != nil || u.watch.run != nil || u.watch.toggle.Checked {
		t.Errorf("cancelled %v, scan %v, watcher %v, switch %v", f.cancelled, u.run != nil, u.watch.run != nil, u.watch.toggle.Checked)
	}
}

// TestWatchRefused: a history another watcher records cannot be watched
// into; the switch says so and turns itself off.
func TestWatchRefused(t *testing.T) {
	dir := t.TempDir()
	other, err := store.Open(t.Context(), filepath.Join(dir, store.FileName), store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a := test.NewTempApp(t)
	u, _ := New(a, a.NewWindow("Netscanner"), newFake(), Options{StorePath: filepath.Join(dir, "s.json"), PingEvery: time.Hour})
	t.Cleanup(u.Close)
	u.idle()
	tapCheck(u.watch.toggle)
	u.idle()
	if u.watch.toggle.Checked || u.watch.run != nil {
		t.Error("Watch runs beside another recorder")
	}
	if got := u.w.status.Text; !strings.Contains(got, "another netscanner (netscanner watch) records this history") {
		t.Errorf("status %q", got)
	}
}

func TestWatchIntervalWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second:             "10 s",
		90 * time.Second:             "1m30s",
		5 * time.Minute:              "5 min",
		90 * time.Minute:             "1 h 30 min",
		2 * time.Hour:                "2 h",
		3*time.Hour + 30*time.Minute: "3h30m0s",
		targets.MaxWatchInterval:     "168 h",
		2*time.Hour + 30*time.Second: "2h0m30s",
	} {
		if got := watchIntervalWords(d); got != want {
			t.Errorf("watchIntervalWords(%v) = %q, want %q", d, got, want)
		}
	}
	for _, d := range []time.Duration{10 * time.Second, 90 * time.Second, 5 * time.Minute, 2 * time.Hour, targets.MaxWatchInterval} {
		back, err := settings.ParseWatchInterval(formatWatchInterval(d))
		if err != nil || back != d {
			t.Errorf("%v -> %q -> %v, %v", d, formatWatchInterval(d), back, err)
		}
	}
}

// tapCheck taps a check on its box: a check taller than its box (beside
// the Scan button) ignores taps at its top edge, where test.Tap taps.
func tapCheck(c *widget.Check) {
	test.TapAt(c, fyne.NewPos(4, c.Size().Height/2))
}

func TestEnvAwayHistory(t *testing.T) {
	env := map[string]string{EnvAway: "1", EnvHistory: "true"}
	opts, err := OptionsFromEnv(func(k string) string { return env[k] }, nil)
	if err != nil || !opts.ShowAway || !opts.ShowHistory {
		t.Errorf("%+v, %v", opts, err)
	}
	env = map[string]string{EnvAway: "yes please"}
	if _, err := OptionsFromEnv(func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), EnvAway) {
		t.Errorf("bad %s: %v", EnvAway, err)
	}
}

// TestPhoneShowAway: the phone has "Show away devices" in its sort menu.
func TestPhoneShowAway(t *testing.T) {
	dir := t.TempDir()
	fillHistory(t, dir, time.Now().Truncate(time.Hour))
	u := newTestUI(t, newFake(), filepath.Join(dir, "s.json"), Options{Phone: true})
	u.win.Resize(fyne.NewSize(420, 800))
	items := u.sortMenu().Items
	away := items[len(items)-1]
	if away.Label != "Show away devices" || away.Checked {
		t.Fatalf("last item %q, checked %v", away.Label, away.Checked)
	}
	away.Action()
	if !u.watch.away.Checked || len(u.watch.absent) != 3 || u.w.list.Length() != 3 {
		t.Errorf("show away %v: %d away, list of %d", u.watch.away.Checked, len(u.watch.absent), u.w.list.Length())
	}
	if items := u.sortMenu().Items; !items[len(items)-1].Checked {
		t.Error("the menu does not show the switch on")
	}
}
