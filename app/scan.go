package app

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/backend"
	"netscanner/internal/devices"
	"netscanner/internal/settings"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// batchEvery is how often a running scan's events reach the list: one
// fyne.Do per batch keeps the UI smooth however fast hosts answer.
const batchEvery = 100 * time.Millisecond

// scanRun is one scan in flight. The worker goroutines own its buffer;
// the UI goroutine owns everything else.
type scanRun struct {
	cancel  context.CancelFunc
	done    chan struct{} // closed when the worker's last fyne.Do has run or been queued
	known   map[string]bool
	targets *targets.Set
	started time.Time
	// watch, for a scan the Watch switch's watcher started, gets the
	// scan's result at its end; the watcher records it.
	watch chan<- watchResult

	mu      sync.Mutex
	pending []scanner.Event
}

// push is the scan's emit callback: it only buffers, so the engine is
// never held up by the UI.
func (r *scanRun) push(ev scanner.Event) {
	r.mu.Lock()
	r.pending = append(r.pending, ev)
	r.mu.Unlock()
}

// take hands the buffered events over to the UI goroutine.
func (r *scanRun) take() []scanner.Event {
	r.mu.Lock()
	evs := r.pending
	r.pending = nil
	r.mu.Unlock()
	return evs
}

// toggleScan starts a scan, or stops the one running.
func (u *UI) toggleScan() {
	if u.run != nil {
		u.stopScan()
		return
	}
	u.startScan()
}

// stopScan cancels the running scan; its end is reported as usual.
func (u *UI) stopScan() {
	if u.run == nil {
		return
	}
	u.w.scan.SetText("Stopping…")
	u.w.scan.Disable()
	u.run.cancel() // last: the worker may report the end at once
}

// startScan checks the targets and, if they are valid, sweeps them in a
// goroutine. Invalid targets are shown under the field and nothing is
// sent.
func (u *UI) startScan() { _ = u.beginScan(u.ctx, nil) }

// beginScan is startScan for a scan that parent can end, whose result,
// if watch is set, goes to the watcher instead of into memory. It says
// why no scan started.
func (u *UI) beginScan(parent context.Context, watch chan<- watchResult) error {
	if u.run != nil {
		return errScanBusy
	}
	spec := strings.TrimSpace(u.w.targets.Text)
	var set *targets.Set
	if spec == "" {
		t, err := scanner.DefaultTargets(u.networks)
		if err != nil {
			u.showTargetMessage(err.Error(), true)
			return err
		}
		set = t
	} else if check := backend.CheckTargets(spec, u.networks); check.Err != nil {
		u.showTargetMessage(check.Err.Error(), true)
		u.win.Canvas().Focus(u.w.targets)
		return check.Err
	}

	settings := u.store.Settings()
	ctx, cancel := context.WithCancel(parent)
	run := &scanRun{cancel: cancel, done: make(chan struct{}), known: u.store.Keys(), started: u.opts.Now(), watch: watch}
	u.run = run
	u.missing = nil
	u.w.missing.Hide()
	u.model.Reset()
	u.w.list.Refresh()
	u.w.progress.SetValue(0)
	u.w.scan.SetText("Stop")
	u.w.scan.SetIcon(theme.MediaStopIcon())
	u.w.scan.Importance = widget.DangerImportance
	u.w.scan.Refresh()
	u.setStatus("Starting…", false)

	u.model.Annotate = func(r *devices.Row) { u.annotate(run, r) }
	opt := backend.TargetOptions(u.networks)
	u.goWork(func() { u.work(ctx, run, spec, opt, set, settings) })
	return nil
}

// work runs one scan: it resolves the targets when the user typed names,
// sweeps them, and delivers events to the UI in batches.
func (u *UI) work(ctx context.Context, run *scanRun, spec string, opt targets.Options, set *targets.Set, s settings.Settings) {
	defer close(run.done)
	if set == nil {
		t, err := targets.Parse(ctx, []string{spec}, opt)
		if err != nil {
			fyne.Do(func() { u.scanEnded(run, scanner.Summary{Cancelled: ctx.Err() != nil}, err) })
			return
		}
		set = t
	}
	run.targets = set

	stop := make(chan struct{})
	var flusher sync.WaitGroup
	flusher.Add(1)
	go func() {
		defer flusher.Done()
		tick := time.NewTicker(batchEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if evs := run.take(); len(evs) > 0 {
					fyne.Do(func() { u.applyBatch(run, evs) })
				}
			case <-stop:
				return
			}
		}
	}()
	sum, err := u.backend.Scan(ctx, set, s, run.push)
	close(stop)
	flusher.Wait()
	evs := run.take()
	fyne.Do(func() {
		u.applyBatch(run, evs)
		u.scanEnded(run, sum, err)
	})
}

// annotate fills in what memory knows about a row: its key, label, and
// whether it is new (unknown when the scan started).
func (u *UI) annotate(run *scanRun, r *devices.Row) {
	r.Key = devices.DeviceKey(&r.Host)
	if d, ok := u.store.Device(r.Key); ok {
		r.Label = d.Label
	} else if d, ok := u.store.Device("ip:" + r.Host.Addr.String()); ok && r.Label == "" {
		r.Label = d.Label // labelled before its MAC was known
	}
	r.New = !run.known[r.Key] && !run.known["ip:"+r.Host.Addr.String()]
}

// applyBatch shows a batch of events, if its scan is still the current one.
func (u *UI) applyBatch(run *scanRun, evs []scanner.Event) {
	if u.run != run || len(evs) == 0 {
		return
	}
	u.applyChange(u.model.Apply(evs))
	u.refreshAway()
	if u.details != nil {
		for i := range evs {
			if evs[i].Host.Addr == u.selected {
				u.details.refresh()
				break
			}
		}
	}
	u.updateStatus()
	u.selectWanted()
}

// updateStatus shows the progress of the running or last scan.
func (u *UI) updateStatus() {
	done, total := u.model.Progress()
	if total > 0 {
		u.w.progress.SetValue(float64(done) / float64(total))
	}
	if u.run == nil {
		return
	}
	found := u.model.Total()
	text := fmt.Sprintf("%s found · %d of %d addresses probed", plural(found, "host"), done, total)
	if u.phone {
		text = fmt.Sprintf("%s found · %d/%d probed", plural(found, "host"), done, total)
	}
	if shown := u.model.Len(); shown != found {
		text += fmt.Sprintf(" · %d shown", shown)
	}
	u.setStatus(text, false)
}

// scanEnded closes a scan: it tells how it went, remembers what was found,
// and lists remembered devices that did not answer.
func (u *UI) scanEnded(run *scanRun, sum scanner.Summary, err error) {
	if u.run != run {
		return
	}
	if run.watch != nil {
		defer u.deliverWatch(run, sum, err) // last: the watcher takes over
	}
	defer u.traceScanEnd()
	u.run = nil
	u.w.scan.SetText("Scan")
	u.w.scan.SetIcon(theme.SearchIcon())
	u.w.scan.Importance = widget.HighImportance
	u.w.scan.Enable()
	u.w.scan.Refresh()

	var te *targets.Error
	switch {
	case errors.As(err, &te):
		u.showTargetMessage(err.Error(), true)
		u.setStatus("Nothing scanned.", true)
		return
	case err != nil && !sum.Cancelled:
		u.setStatus("Scan failed: "+err.Error(), true)
	case sum.Cancelled:
		u.setStatus(fmt.Sprintf("Stopped: %s found.", plural(u.model.Total(), "host")), false)
	default:
		u.w.progress.SetValue(1)
		took := sum.Elapsed.Round(10 * time.Millisecond)
		if u.phone {
			u.setStatus(fmt.Sprintf("%s found · %d probed in %s", plural(u.model.Total(), "host"), sum.Total, took), false)
			break
		}
		u.setStatus(fmt.Sprintf("%s found · %s probed in %s", plural(u.model.Total(), "host"),
			plural(sum.Total, "address"), took), false)
	}
	if sum.ImplausibleNote != "" {
		// Every address answered alike: say so, not "0 hosts found".
		u.setStatus(sum.ImplausibleNote, true)
	}

	hosts := u.model.Hosts()
	// Only a scan that ran to its end says who is away.
	covered := func(netip.Addr) bool { return false }
	if err == nil && !sum.Cancelled && run.targets != nil {
		keys := make(map[string]bool, len(hosts))
		addrs := make(map[netip.Addr]bool, len(hosts))
		for _, r := range hosts {
			keys[r.Key] = true
			addrs[r.Host.Addr] = true
		}
		u.missing = u.store.Missing(run.targets.Contains, keys, addrs)
		covered = run.targets.Contains
	}
	// A watch scan is recorded by its watcher (deliverWatch).
	if run.watch == nil && (len(hosts) > 0 || len(u.missing) > 0) {
		found := make([]*scanner.Host, len(hosts))
		for i, r := range hosts {
			found[i] = &r.Host
		}
		u.store.RecordScan(found, u.opts.Now(), covered)
		if err := u.store.Save(); err != nil {
			u.setStatus(err.Error(), true)
		}
	}
	if n := len(u.missing); n > 0 {
		u.w.missing.SetText(fmt.Sprintf("%s you know did not answer", plural(n, "device")))
		u.w.missing.Show()
	}
	u.historyChanged()
}

// plural writes "1 host", "2 hosts", "3 addresses".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// validateTargets checks the target field as the user types and says what
// a scan would cover, or why it cannot.
func (u *UI) validateTargets() {
	spec := strings.TrimSpace(u.w.targets.Text)
	if spec == "" {
		t, err := scanner.DefaultTargets(u.networks)
		switch {
		case u.networks == nil:
			u.hideTargetMessage()
		case err != nil:
			u.showTargetMessage(err.Error(), false)
		default:
			u.showTargetMessage(fmt.Sprintf("This network: %s, %s.", t, plural(t.Len(), "address")), false)
		}
		return
	}
	c := backend.CheckTargets(spec, u.networks)
	switch {
	case c.Err != nil:
		u.showTargetMessage(c.Err.Error(), true)
	case c.Pending:
		u.showTargetMessage("Host names are looked up when the scan starts.", false)
	default:
		msg := plural(c.Count, "address") + "."
		if len(c.Notes) > 0 {
			msg += " " + strings.Join(c.Notes, " ")
		}
		u.showTargetMessage(msg, false)
	}
}

func (u *UI) showTargetMessage(text string, bad bool) {
	m := u.w.targetMsg
	m.Text = text
	m.Importance = widget.MediumImportance
	if bad {
		m.Importance = widget.DangerImportance
	}
	m.Show()
	m.Refresh()
}

func (u *UI) hideTargetMessage() {
	u.w.targetMsg.SetText("")
	u.w.targetMsg.Hide()
}
