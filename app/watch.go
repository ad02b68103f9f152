package app

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/devices"
	"netscanner/internal/store"
	"netscanner/internal/watch"
	"netscanner/scanner"
)

// watchUI is the Watch switch and what it runs, and the list's absent
// devices. The UI goroutine owns it.
type watchUI struct {
	toggle *widget.Check // the Watch switch
	away   *widget.Check // "Show away": known devices that are absent, greyed
	run    *watchRun     // the watcher while the switch is on

	absent []devices.Device // the known devices the list shows after its rows
}

// watchRun is one run of the watcher, from switching Watch on to off.
type watchRun struct {
	cancel   context.CancelFunc
	done     chan struct{} // closed when the watcher has returned
	interval time.Duration
	scans    int // scans reported
}

// watchResult is what a scan the watcher asked for returns to it.
type watchResult struct {
	res watch.Result
	err error
}

// errScanBusy says a watch scan could not start: another scan ran;
// errScanStopped that the user stopped it.
var (
	errScanBusy    = errors.New("a scan was already running")
	errScanStopped = errors.New("stopped before its end")
)

// buildWatch makes the Watch switch and the "Show away" check.
func (u *UI) buildWatch() {
	u.watch.toggle = widget.NewCheck("Watch", func(on bool) {
		if on {
			u.startWatch()
		} else {
			u.stopWatch()
		}
	})
	u.watch.away = widget.NewCheck("Show away", func(bool) { u.refreshAway() })
	u.watch.away.Checked = u.opts.ShowAway
	u.updateWatchLabel()
	u.refreshAway()
}

// updateWatchLabel names the interval on the switch, where there is room.
func (u *UI) updateWatchLabel() {
	text := "Watch"
	if !u.phone {
		text = "Watch every " + watchIntervalWords(u.store.Settings().WatchInterval)
	}
	if u.watch.toggle.Text != text {
		u.watch.toggle.Text = text
		u.watch.toggle.Refresh()
	}
}

// startWatch switches Watch on: a watcher (internal/watch) scans now and
// then every interval of the settings, records each scan in the history
// and reports what changed. Its scans are the app's own, shown in the
// list as they run.
func (u *UI) startWatch() {
	if u.watch.run != nil {
		return
	}
	hist := u.store.History()
	switch {
	case hist == nil:
		u.refuseWatch("Watch needs the history database, which could not be opened.")
		return
	case hist.Mode() != store.ModeRecord:
		u.refuseWatch("Watch is off: another netscanner (netscanner watch) records this history, and only one may.")
		return
	}
	interval := u.store.Settings().WatchInterval
	if u.opts.watchEvery > 0 {
		interval = u.opts.watchEvery
	}
	ctx, cancel := context.WithCancel(u.ctx)
	run := &watchRun{cancel: cancel, done: make(chan struct{}), interval: interval}
	var pending []watch.Event // touched by the watcher's goroutine only
	sink := watch.SinkFuncs{
		OnEvent: func(e watch.Event) { pending = append(pending, e) },
		OnScan: func(r watch.Report) {
			evs := pending
			pending = nil
			fyne.Do(func() { u.watchScanned(run, r, evs) })
		},
	}
	w, err := watch.New(watch.Config{
		Scan:        func(ctx context.Context) (watch.Result, error) { return u.watchScan(ctx, run) },
		Store:       hist,
		Interval:    interval,
		Sinks:       []watch.Sink{sink},
		MinInterval: u.opts.watchEvery,
	})
	if err != nil {
		cancel()
		u.refuseWatch("Watch is off: " + err.Error())
		return
	}
	u.watch.run = run
	u.setStatus("Watching: a scan every "+watchIntervalWords(interval)+" while the app is open.", false)
	u.goWork(func() {
		defer close(run.done)
		if u.opts.watchBegin != nil {
			u.opts.watchBegin()
		}
		if u.awaitStart(ctx) {
			_ = w.Run(ctx) // it returns when ctx ends; failed scans are reported to the sink
		}
	})
}

// refuseWatch says why Watch cannot run and turns the switch back off.
func (u *UI) refuseWatch(why string) {
	u.setStatus(why, true)
	u.watch.toggle.SetChecked(false)
}

// stopWatch switches Watch off; a watch scan in progress stops too.
func (u *UI) stopWatch() {
	run := u.watch.run
	if run == nil {
		return
	}
	u.watch.run = nil
	u.setStatus("Watch is off.", false)
	run.cancel() // last: the watch scan may end at once
}

// restartWatch applies a new interval to a running watcher.
func (u *UI) restartWatch() {
	u.updateWatchLabel()
	if u.watch.run == nil {
		return
	}
	u.stopWatch()
	u.startWatch()
}

// watchScan is the watcher's ScanFunc: it starts an ordinary scan of the
// target field's targets on the UI goroutine and waits for its end. A
// scan already running (one the user started, or the last watcher's
// being stopped) is waited for a few seconds before the round is given
// up.
func (u *UI) watchScan(ctx context.Context, run *watchRun) (watch.Result, error) {
	res := make(chan watchResult, 1) // the scan's end never waits for the watcher
	for try := 0; ; try++ {
		fyne.Do(func() {
			switch {
			case u.watch.run != run:
				res <- watchResult{err: context.Canceled}
			case u.run != nil:
				res <- watchResult{err: errScanBusy}
			default:
				if err := u.beginScan(ctx, res); err != nil {
					res <- watchResult{err: err}
				}
			}
		})
		var r watchResult
		select {
		case r = <-res:
		case <-ctx.Done():
			return watch.Result{}, ctx.Err()
		}
		if !errors.Is(r.err, errScanBusy) || try == 20 {
			return r.res, r.err
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return watch.Result{}, ctx.Err()
		}
	}
}

// watchScanned takes a watch scan's report on the UI goroutine: memory
// learns what the watcher recorded, joined and left devices are notified,
// and the status says when the next scan is.
func (u *UI) watchScanned(run *watchRun, r watch.Report, evs []watch.Event) {
	if err := u.store.Reload(u.ctx); err != nil {
		u.setStatus(err.Error(), true)
	}
	for _, n := range watch.Notices(evs, time.Local) {
		u.app.SendNotification(fyne.NewNotification(n.Title, n.Body))
	}
	if u.watch.run == run {
		run.scans++
		next := r.Time.Add(run.interval).Local().Format("15:04")
		if r.Err != nil {
			u.setStatus(fmt.Sprintf("Watch: %v; next scan at %s.", r.Err, next), true)
		} else {
			u.setStatus(fmt.Sprintf("Watching: %s here of %d known · next scan at %s.",
				plural(r.Present, "device"), len(r.Devices), next), false)
		}
	}
	u.refreshAway()
	if d := u.details; d != nil && d.history != nil {
		d.history.load()
	}
	if u.opts.watchStep != nil {
		u.opts.watchStep(r)
	}
}

// refreshAway recomputes the known devices the list shows greyed after
// its rows, if "Show away" is on.
func (u *UI) refreshAway() {
	if u.watch.away == nil {
		return
	}
	var absent []devices.Device
	if u.watch.away.Checked {
		absent = u.store.Away(u.model.Hosts(), u.w.filter.Text)
	}
	if len(absent) == 0 && len(u.watch.absent) == 0 {
		return
	}
	u.watch.absent = absent
	u.w.list.Refresh()
}

// listLen is the list's length: the scan's rows, then the absent devices.
func (u *UI) listLen() int {
	return u.model.Len() + len(u.watch.absent)
}

// watchIntervalWords writes an interval for people: "5 min", "30 s",
// "2 h", "1 h 30 min".
func watchIntervalWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour || d%time.Hour != 0 && d < 3*time.Hour:
		if d%time.Minute != 0 {
			return d.Round(time.Second).String()
		}
		if d >= time.Hour {
			return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
		}
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return d.Round(time.Minute).String()
}

// formatWatchInterval writes an interval as the settings form takes it
// back (settings.ParseWatchInterval): whole minutes as a number, anything
// else as a duration.
func formatWatchInterval(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d / time.Minute))
	}
	return d.String()
}

// deliverWatch hands a finished watch scan to its watcher: the hosts as
// the list holds them, and what the scan covered (nothing, unless it ran
// to its end: a partial sweep says nothing about who is away).
func (u *UI) deliverWatch(run *scanRun, sum scanner.Summary, err error) {
	r := watchResult{err: err}
	if sum.Cancelled {
		r.err = errScanStopped // by Stop: not the context's error, which means Watch is off
	}
	r.res.Summary = sum
	r.res.Covered = func(netip.Addr) bool { return false }
	if run.targets != nil {
		r.res.Targets = run.targets.String()
		if err == nil && !sum.Cancelled {
			r.res.Covered = run.targets.Contains
		}
	}
	for _, row := range u.model.Hosts() {
		r.res.Hosts = append(r.res.Hosts, row.Host)
	}
	run.watch <- r // buffered: one result per scan
}
