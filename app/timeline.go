package app

import (
	"context"
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/chart"
	"netscanner/internal/store"
)

// The history section's spans and slot widths: a day in hours, a week in
// two-hour slots (84 bars, readable on a phone). A slot narrower than the
// time between scans would leave every other one empty.
const (
	daySpan   = 24 * time.Hour
	daySlot   = time.Hour
	weekSpan  = 7 * 24 * time.Hour
	weekSlot  = 2 * time.Hour
	rttColumn = 4 // points of width per column of the RTT plot
)

// historyView is a device's history in its details: presence bars over
// the last day and the last week, and its round trips over the week, from
// the history database (internal/store). The charts' arithmetic is
// internal/chart's; the widgets here only draw it.
type historyView struct {
	u      *UI
	root   *fyne.Container
	note   *widget.Label
	charts *fyne.Container
	day    *presenceChart
	week   *presenceChart
	rtt    *rttChart

	key   string // the device's memory key
	loads int    // histories read, for tests
}

func newHistoryView(u *UI) *historyView {
	h := &historyView{u: u}
	title := widget.NewLabelWithStyle("History", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.note = widget.NewLabel("")
	h.note.Wrapping = fyne.TextWrapWord
	h.note.Importance = widget.LowImportance
	h.day = newPresenceChart("Last 24 hours", false)
	h.week = newPresenceChart("Last 7 days", true)
	h.rtt = newRTTChart()
	h.charts = container.NewVBox(h.day, h.week, h.rtt)
	h.charts.Hide()
	h.root = container.NewVBox(widget.NewSeparator(), title, h.note, h.charts)
	return h
}

// show loads the history of the device with key, unless it shows it
// already.
func (h *historyView) show(key string) {
	if key == h.key {
		return
	}
	h.key = key
	h.load()
}

// load reads the device's history and draws it. It reads on the UI
// goroutine: the three queries take a few milliseconds together (a week's
// timeline of a year's history, docs/benchmarks.md), less than a frame,
// and a worker's fyne.Do would race with the caller under Fyne's test
// driver, which runs it at once.
func (h *historyView) load() {
	u := h.u
	hist := u.store.History()
	id, ok := u.store.HistoryID(h.key)
	if hist == nil || !ok {
		h.note.SetText("No history yet: it starts with this device's first recorded scan.")
		h.note.Show()
		h.charts.Hide()
		return
	}
	ctx, cancel := context.WithTimeout(u.ctx, 2*time.Second)
	defer cancel()
	hd, err := loadHistory(ctx, hist, id, u.opts.Now())
	h.loads++
	if err != nil {
		h.note.SetText("History unavailable: " + err.Error())
		h.note.Show()
		h.charts.Hide()
		return
	}
	h.set(hd)
}

// historyData is what the history section draws.
type historyData struct {
	now       time.Time
	day, week []store.Bucket
	rtt       []store.RTTPoint
}

func loadHistory(ctx context.Context, hist *store.Store, id int64, now time.Time) (historyData, error) {
	hd := historyData{now: now}
	var err error
	if hd.day, err = hist.Timeline(ctx, id, now.Add(-daySpan), now, daySlot); err != nil {
		return hd, err
	}
	if hd.week, err = hist.Timeline(ctx, id, now.Add(-weekSpan), now, weekSlot); err != nil {
		return hd, err
	}
	hd.rtt, err = hist.RTTSeries(ctx, id, now.Add(-weekSpan), now)
	return hd, err
}

func (h *historyView) set(hd historyData) {
	h.day.set(hd.day, hd.now.Add(-daySpan), hd.now)
	h.week.set(hd.week, hd.now.Add(-weekSpan), hd.now)
	h.rtt.set(hd.rtt, hd.now.Add(-weekSpan), hd.now)
	if _, scans := chart.PresentShare(hd.week); scans == 0 {
		h.note.SetText("No scan covered this device in the last week.")
		h.note.Show()
	} else {
		h.note.Hide()
	}
	h.charts.Show()
}

// historyChanged redraws what a recorded scan changes: the absent devices
// and the open device's history.
func (u *UI) historyChanged() {
	u.refreshAway()
	u.selectAway()
	if d := u.details; d != nil && d.history != nil && d.history.key != "" {
		d.refresh() // first and last seen
		d.history.load()
		if scroll, ok := d.root.(*container.Scroll); ok && u.opts.ShowHistory {
			u.opts.ShowHistory = false // once, as a script asked
			// Lay the content out at its new height first: the bottom is
			// found from its laid-out size.
			scroll.Content.Resize(fyne.NewSize(scroll.Size().Width, scroll.Content.MinSize().Height))
			scroll.ScrollToBottom()
		}
	}
}

// presenceChart draws a timeline's buckets as presence bars.
type presenceChart struct {
	widget.BaseWidget
	title    string
	days     bool // ticks at midnights (a week), else every six hours
	buckets  []store.Bucket
	from, to time.Time
}

func newPresenceChart(title string, days bool) *presenceChart {
	c := &presenceChart{title: title, days: days}
	c.ExtendBaseWidget(c)
	return c
}

func (c *presenceChart) set(b []store.Bucket, from, to time.Time) {
	c.buckets, c.from, c.to = b, from, to
	c.Refresh()
}

// MinSize fits a caption, the bars and the tick labels.
func (c *presenceChart) MinSize() fyne.Size { return fyne.NewSize(240, 80) }

// CreateRenderer makes the chart's drawing.
func (c *presenceChart) CreateRenderer() fyne.WidgetRenderer {
	r := &presenceRenderer{c: c}
	r.bg = canvas.NewRectangle(color.Transparent)
	r.bg.StrokeWidth = 1
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.title = canvas.NewText("", color.Transparent)
	r.stats = canvas.NewText("", color.Transparent)
	r.Refresh()
	return r
}

type presenceRenderer struct {
	c     *presenceChart
	size  fyne.Size
	bg    *canvas.Rectangle
	title *canvas.Text
	stats *canvas.Text
	bars  pool[*canvas.Rectangle]
	marks pool[*canvas.Line]
	ticks pool[*canvas.Text]
	objs  []fyne.CanvasObject
}

func (r *presenceRenderer) Layout(size fyne.Size) {
	r.size = size
	r.Refresh()
}

func (r *presenceRenderer) MinSize() fyne.Size           { return r.c.MinSize() }
func (r *presenceRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *presenceRenderer) Destroy()                     {}

// Refresh lays the bars out from the buckets with chart.PresenceBars.
func (r *presenceRenderer) Refresh() {
	fg := theme.Color(theme.ColorNameForeground)
	grid := theme.Color(theme.ColorNameSeparator)
	pad := theme.Padding()
	textSize := theme.CaptionTextSize()
	size := r.size

	r.bg.StrokeColor = grid
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.bg.Resize(size)
	r.title.Text, r.title.Color, r.title.TextSize = r.c.title, fg, textSize
	r.stats.Text, r.stats.Color, r.stats.TextSize = presenceWords(r.c.buckets), fg, textSize
	lineH := r.title.MinSize().Height
	plotTop := captionLines(r.title, r.stats, size.Width, pad)*lineH + pad
	plot := fyne.NewSize(size.Width-2*pad, size.Height-plotTop-lineH-pad/2)
	origin := fyne.NewPos(pad, plotTop)

	bars := chart.PresenceBars(r.c.buckets, plot.Width, plot.Height)
	r.bars.resize(len(bars), func() *canvas.Rectangle { return canvas.NewRectangle(color.Transparent) })
	for i, b := range bars {
		rect := r.bars.items[i]
		rect.FillColor = presenceColor(b)
		rect.Move(origin.AddXY(b.X, b.Y))
		rect.Resize(fyne.NewSize(b.W, b.H))
	}

	var ticks []chart.Tick
	if r.c.days {
		ticks = chart.DayTicks(r.c.from, r.c.to, time.Local, plot.Width)
	} else {
		ticks = chart.HourTicks(r.c.from, r.c.to, 6, time.Local, plot.Width)
	}
	r.marks.resize(len(ticks), func() *canvas.Line { return canvas.NewLine(grid) })
	r.ticks.resize(len(ticks), func() *canvas.Text { return canvas.NewText("", fg) })
	for i, t := range ticks {
		l := r.marks.items[i]
		l.StrokeColor, l.StrokeWidth = grid, 1
		l.Position1 = origin.AddXY(t.X, 0)
		l.Position2 = origin.AddXY(t.X, plot.Height+2)
		txt := r.ticks.items[i]
		txt.Text, txt.Color, txt.TextSize = t.Label, fg, textSize*0.9
		w := txt.MinSize().Width
		x := min(max(t.X-w/2, 0), plot.Width-w)
		txt.Move(origin.AddXY(x, plot.Height+1))
	}

	r.objs = append(r.objs[:0], r.bg, r.title, r.stats)
	r.objs = r.marks.add(r.objs)
	r.objs = r.bars.add(r.objs)
	r.objs = r.ticks.add(r.objs)
	for _, o := range r.objs {
		o.Refresh()
	}
}

// captionLines places a chart's title at the top left and its stats at
// the top right, or under the title when both do not fit on one line, and
// says how many lines they take.
func captionLines(title, stats *canvas.Text, width, pad float32) float32 {
	title.Move(fyne.NewPos(pad, pad/2))
	tw, sw := title.MinSize().Width, stats.MinSize().Width
	if tw+sw+3*pad <= width {
		stats.Move(fyne.NewPos(width-pad-sw, pad/2))
		return 1
	}
	stats.Move(fyne.NewPos(pad, pad/2+title.MinSize().Height))
	return 2
}

// presenceWords sums a timeline up: "here 92% of 48 scans".
func presenceWords(b []store.Bucket) string {
	share, scans := chart.PresentShare(b)
	switch {
	case scans == 0:
		return "no scans"
	case scans == 1 && share == 1:
		return "here in its 1 scan"
	case scans == 1:
		return "away in its 1 scan"
	}
	return fmt.Sprintf("here in %.0f%% of %d scans", share*100, scans)
}

// presenceColor is a bar's colour: the theme's primary colour for
// presence, fainter for a slot where it answered only some scans; grey
// for away; the separator's colour where nobody looked.
func presenceColor(b chart.Bar) color.Color {
	switch b.State {
	case chart.Here:
		return withAlpha(theme.Color(theme.ColorNamePrimary), uint8(0x70+0x8f*b.Share))
	case chart.Away:
		return theme.Color(theme.ColorNameDisabled)
	}
	return theme.Color(theme.ColorNameSeparator)
}

// withAlpha is c with alpha a (straight, not premultiplied).
func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

// rttChart draws a device's round trips over the week: a band from the
// fastest to the slowest answer and a line through the medians.
type rttChart struct {
	widget.BaseWidget
	pts      []store.RTTPoint
	from, to time.Time
}

func newRTTChart() *rttChart {
	c := &rttChart{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *rttChart) set(pts []store.RTTPoint, from, to time.Time) {
	c.pts, c.from, c.to = pts, from, to
	c.Refresh()
}

// MinSize keeps the plot readable on a phone.
func (c *rttChart) MinSize() fyne.Size { return fyne.NewSize(240, 120) }

// CreateRenderer makes the plot's drawing.
func (c *rttChart) CreateRenderer() fyne.WidgetRenderer {
	r := &rttRenderer{c: c}
	r.bg = canvas.NewRectangle(color.Transparent)
	r.bg.StrokeWidth = 1
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.mid = canvas.NewLine(color.Transparent)
	r.title = canvas.NewText("", color.Transparent)
	r.stats = canvas.NewText("", color.Transparent)
	r.Refresh()
	return r
}

type rttRenderer struct {
	c     *rttChart
	size  fyne.Size
	plot  chart.RTTPlot
	bg    *canvas.Rectangle
	mid   *canvas.Line
	title *canvas.Text
	stats *canvas.Text
	bands pool[*canvas.Rectangle]
	dots  pool[*canvas.Rectangle]
	lines pool[*canvas.Line]
	ticks pool[*canvas.Text]
	objs  []fyne.CanvasObject
}

func (r *rttRenderer) Layout(size fyne.Size) {
	r.size = size
	r.Refresh()
}

func (r *rttRenderer) MinSize() fyne.Size           { return r.c.MinSize() }
func (r *rttRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *rttRenderer) Destroy()                     {}

// Refresh lays the plot out from the points with chart.PlotRTT.
func (r *rttRenderer) Refresh() {
	fg := theme.Color(theme.ColorNameForeground)
	primary := theme.Color(theme.ColorNamePrimary)
	grid := theme.Color(theme.ColorNameSeparator)
	pad := theme.Padding()
	textSize := theme.CaptionTextSize()
	size := r.size

	r.bg.StrokeColor = grid
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.bg.Resize(size)

	// The scale comes from the points, and the plot's height from
	// whether the stats fit beside the title: the scale is worked out
	// first, at the width alone.
	scale := chart.PlotRTT(r.c.pts, r.c.from, r.c.to, size.Width-2*pad, 1, int((size.Width-2*pad)/rttColumn))
	r.title.Text, r.title.Color, r.title.TextSize = "Round trips, last 7 days · scale "+formatRTT(scale.Scale), fg, textSize
	r.stats.Text = "no answers"
	if scale.Samples > 0 {
		r.stats.Text = fmt.Sprintf("median %s of %d", formatRTT(scale.Median), scale.Samples)
	}
	r.stats.Color, r.stats.TextSize = fg, textSize
	lineH := r.title.MinSize().Height
	lines := captionLines(r.title, r.stats, size.Width, pad)
	plotTop := lines*lineH + pad
	plot := fyne.NewSize(size.Width-2*pad, size.Height-plotTop-lineH-pad/2)
	origin := fyne.NewPos(pad, plotTop)
	p := chart.PlotRTT(r.c.pts, r.c.from, r.c.to, plot.Width, plot.Height, int(plot.Width/rttColumn))
	r.plot = p
	r.mid.StrokeColor, r.mid.StrokeWidth = grid, 1
	r.mid.Position1 = origin.AddXY(0, plot.Height/2)
	r.mid.Position2 = origin.AddXY(plot.Width, plot.Height/2)

	band := withAlpha(primary, 0x40)
	r.bands.resize(len(p.Bands), func() *canvas.Rectangle { return canvas.NewRectangle(band) })
	for i, b := range p.Bands {
		rect := r.bands.items[i]
		rect.FillColor = band
		rect.Move(origin.AddXY(b.X, b.Y))
		rect.Resize(fyne.NewSize(b.W, max(b.H, 1)))
	}
	segs := 0
	for _, l := range p.Lines {
		segs += len(l) - 1
	}
	r.lines.resize(segs, func() *canvas.Line { return canvas.NewLine(primary) })
	i := 0
	for _, l := range p.Lines {
		for j := 1; j < len(l); j++ {
			seg := r.lines.items[i]
			seg.StrokeColor, seg.StrokeWidth = primary, 2
			seg.Position1 = origin.AddXY(l[j-1].X, l[j-1].Y)
			seg.Position2 = origin.AddXY(l[j].X, l[j].Y)
			i++
		}
	}
	r.dots.resize(len(p.Dots), func() *canvas.Rectangle { return canvas.NewRectangle(primary) })
	for i, d := range p.Dots {
		dot := r.dots.items[i]
		dot.FillColor = primary
		dot.Move(origin.AddXY(d.X-2, d.Y-2))
		dot.Resize(fyne.NewSize(4, 4))
	}
	ticks := chart.DayTicks(r.c.from, r.c.to, time.Local, plot.Width)
	r.ticks.resize(len(ticks), func() *canvas.Text { return canvas.NewText("", fg) })
	for i, t := range ticks {
		txt := r.ticks.items[i]
		txt.Text, txt.Color, txt.TextSize = t.Label, fg, textSize*0.9
		w := txt.MinSize().Width
		txt.Move(origin.AddXY(min(max(t.X-w/2, 0), plot.Width-w), plot.Height+1))
	}

	r.objs = append(r.objs[:0], r.bg, r.mid, r.title, r.stats)
	r.objs = r.bands.add(r.objs)
	r.objs = r.lines.add(r.objs)
	r.objs = r.dots.add(r.objs)
	r.objs = r.ticks.add(r.objs)
	for _, o := range r.objs {
		o.Refresh()
	}
}

// pool keeps a renderer's canvas objects from one refresh to the next:
// items are those in use, made those ever made.
type pool[T fyne.CanvasObject] struct {
	items []T
	made  []T
}

// resize makes the pool hold n objects, making new ones with mk.
func (p *pool[T]) resize(n int, mk func() T) {
	for len(p.made) < n {
		p.made = append(p.made, mk())
	}
	p.items = p.made[:n]
}

// add appends the pool's objects in use to objs.
func (p *pool[T]) add(objs []fyne.CanvasObject) []fyne.CanvasObject {
	for _, o := range p.items {
		objs = append(objs, o)
	}
	return objs
}
