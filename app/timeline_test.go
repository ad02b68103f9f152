package app

import (
	"image/color"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"netscanner/internal/chart"
	"netscanner/internal/historygen"
	"netscanner/internal/store"
	"netscanner/scanner"
)

// fillHistory writes a week of generated scans, one an hour up to now,
// into the history database of the app whose memory is in dir: the
// router always there, the printer only from 17:00 to 08:00 UTC, and a
// phone that left three hours ago.
func fillHistory(t *testing.T, dir string, now time.Time) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(dir, store.FileName), store.Options{Mode: store.ModeRecord, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newFake()
	mac, _ := net.ParseMAC("00:11:22:33:44:77")
	devs := []historygen.Device{
		{Host: f.hosts[0], Here: historygen.Always, RTT: 2 * time.Millisecond},
		{Host: f.hosts[1], Here: historygen.Hours(17, 8, time.UTC), RTT: 9 * time.Millisecond},
		{Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.7"), MAC: mac, Hostname: "toms-pixel", Vendor: "Google, Inc."},
			Here: historygen.Until(now.Add(-3 * time.Hour)), RTT: 40 * time.Millisecond},
	}
	if n, err := historygen.Fill(t.Context(), st, devs, now.Add(-weekSpan), now, time.Hour, 7); err != nil || n != 168 {
		t.Fatalf("filled %d scans: %v", n, err)
	}
}

// TestTimeline opens devices' details on a history filled with a week of
// generated scans: the presence bars and the RTT plot draw what the store
// holds, for a device here now and for one that is away.
func TestTimeline(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	fillHistory(t, dir, now)
	// The app's clock stands at the history's end; its scan is the one
	// at that time.
	u := newTestUI(t, newFake(), filepath.Join(dir, "s.json"), Options{Now: func() time.Time { return now }})
	scan(t, u)

	u.openDetails(netip.MustParseAddr("198.18.0.9")) // the printer, here at night only
	h := u.details.history
	if h.loads != 1 || h.charts.Hidden {
		t.Fatalf("history not shown: %d loads, note %q", h.loads, h.note.Text)
	}
	// A day in hourly slots: the generated scans at each hour (the
	// app's own at noon is the end of the range, not in it).
	if n := len(h.day.buckets); n != 24 {
		t.Fatalf("%d day buckets", n)
	}
	share, scans := chart.PresentShare(h.day.buckets)
	if scans != 24 || share != 15.0/24 {
		t.Errorf("day: here in %v of %d scans", share, scans)
	}
	if n := len(h.week.buckets); n != 84 {
		t.Errorf("%d week buckets", n)
	}
	// The week counts from the printer's first sighting, 17:00 on the
	// first day: 163 of the 168 scans.
	if _, scans := chart.PresentShare(h.week.buckets); scans != 163 {
		t.Errorf("week: %d scans", scans)
	}

	// The drawing: the window lays the details out; each chart draws one
	// bar per stretch, in the primary colour where the printer was here.
	u.win.Resize(fyne.NewSize(1200, 1400))
	day := test.WidgetRenderer(h.day).(*presenceRenderer)
	here, away := 0, 0
	for _, r := range day.bars.items {
		switch r.FillColor {
		case presenceColor(chart.Bar{State: chart.Here, Share: 1}):
			here++
		case presenceColor(chart.Bar{State: chart.Away}):
			away++
		}
	}
	// 12:00 yesterday to noon: away until 17:00, here to 08:00, away to
	// noon.
	if here != 1 || away != 2 {
		t.Errorf("day chart: %d here bars, %d away bars of %d", here, away, len(day.bars.items))
	}
	if got := day.stats.Text; got != "here in 62% of 24 scans" {
		t.Errorf("day stats %q", got)
	}
	assertInside(t, "day", day.objs, h.day.Size())
	rtt := test.WidgetRenderer(h.rtt).(*rttRenderer)
	if rtt.plot.Samples < 100 || rtt.plot.Scale != 20*time.Millisecond || len(rtt.lines.items) == 0 {
		t.Errorf("rtt plot: %d samples, scale %v, %d segments", rtt.plot.Samples, rtt.plot.Scale, len(rtt.lines.items))
	}
	if !strings.HasPrefix(rtt.stats.Text, "median ") || !strings.Contains(rtt.title.Text, "scale 20 ms") {
		t.Errorf("rtt text %q %q", rtt.title.Text, rtt.stats.Text)
	}
	assertInside(t, "rtt", rtt.objs, h.rtt.Size())
	img := u.win.Canvas().Capture()
	if img.Bounds().Dx() == 0 {
		t.Error("nothing rendered")
	}

	// Tom's phone left three hours ago: away, greyed, its history to the
	// minute it left.
	tapCheck(u.watch.away)
	var found bool
	for _, d := range u.watch.absent {
		if d.Name != "toms-pixel" {
			continue
		}
		found = true
		row := newHostRow(u.w.list)
		row.setAway(&d, now)
		if !strings.HasSuffix(row.sub.Text, "last seen 4 h ago") { // its last scan was at 08:00
			t.Errorf("away row %q", row.sub.Text)
		}
		u.openAway(d)
	}
	if !found {
		t.Fatalf("the phone is not listed as away: %+v", u.watch.absent)
	}
	h = u.details.history
	if h.loads != 1 || h.charts.Hidden {
		t.Fatalf("away history not shown: %q", h.note.Text)
	}
	last := h.week.buckets[len(h.week.buckets)-1]
	if last.Scans == 0 || last.Present != 0 {
		t.Errorf("the phone's last slot: %+v", last)
	}
	if u.details.marks.Text != "away · last seen 4 h ago" {
		t.Errorf("away marks %q", u.details.marks.Text)
	}
}

// assertInside fails if a drawn object lies outside the widget.
func assertInside(t *testing.T, name string, objs []fyne.CanvasObject, size fyne.Size) {
	t.Helper()
	for _, o := range objs {
		switch o := o.(type) {
		case *canvas.Rectangle:
			p, s := o.Position(), o.Size()
			if p.X < -0.5 || p.Y < -0.5 || p.X+s.Width > size.Width+0.5 || p.Y+s.Height > size.Height+0.5 {
				if o.FillColor != color.Transparent {
					t.Errorf("%s: rectangle at %v size %v outside %v", name, p, s, size)
				}
			}
		case *canvas.Line:
			for _, q := range []fyne.Position{o.Position1, o.Position2} {
				if q.X < -0.5 || q.Y < -0.5 || q.X > size.Width+0.5 || q.Y > size.Height+0.5 {
					t.Errorf("%s: line point %v outside %v", name, q, size)
				}
			}
		}
	}
}

// TestSelectAway: NETSCANNER_SELECT naming a known device that is away
// opens its details when the scan ends, scrolled to its history with
// NETSCANNER_HISTORY, as the screenshots ask.
func TestSelectAway(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	fillHistory(t, dir, now)
	var trace strings.Builder
	u := newTestUI(t, newFake(), filepath.Join(dir, "s.json"), Options{
		Now: func() time.Time { return now }, ShowAway: true, ShowHistory: true,
		Select: netip.MustParseAddr("198.18.0.7"), Trace: &trace,
	})
	if !u.watch.away.Checked || len(u.watch.absent) != 3 {
		t.Errorf("at start: show away %v, %d away (the whole history)", u.watch.away.Checked, len(u.watch.absent))
	}
	scan(t, u)
	if u.details == nil || u.details.title.Text != "toms-pixel" || u.selected != netip.MustParseAddr("198.18.0.7") {
		t.Fatalf("away device's details not open: %+v", u.details)
	}
	if !strings.Contains(trace.String(), "details open: 198.18.0.7 (away)") {
		t.Errorf("trace %q", trace.String())
	}
	if h := u.details.history; h.loads == 0 || h.charts.Hidden {
		t.Errorf("history not shown: %q", h.note.Text)
	}
	if u.opts.ShowHistory {
		t.Error("details not scrolled to the history")
	}
}
