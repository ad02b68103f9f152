package app

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/chart"
)

// graphSamples is how many pings the live graph shows: a minute at one a
// second.
const graphSamples = 60

// pingSample is one ping of the live graph.
type pingSample struct {
	rtt  time.Duration
	lost bool
}

// pingSeries is the last graphSamples pings, oldest first. It is the
// graph's data and arithmetic, kept apart from drawing so it is tested
// without a window.
type pingSeries struct {
	samples []pingSample
}

// Add appends one ping, dropping the oldest beyond graphSamples.
func (s *pingSeries) Add(rtt time.Duration, lost bool) {
	if len(s.samples) == graphSamples {
		copy(s.samples, s.samples[1:])
		s.samples = s.samples[:graphSamples-1]
	}
	s.samples = append(s.samples, pingSample{rtt, lost})
}

// Len is the number of pings held.
func (s *pingSeries) Len() int { return len(s.samples) }

// Stats returns the last answered round trip, the average of answered
// ones, and the share of pings lost, 0 to 1.
func (s *pingSeries) Stats() (last, avg time.Duration, loss float64) {
	var sum time.Duration
	n, lost := 0, 0
	for _, p := range s.samples {
		if p.lost {
			lost++
			continue
		}
		last = p.rtt
		sum += p.rtt
		n++
	}
	if n > 0 {
		avg = sum / time.Duration(n)
	}
	if len(s.samples) > 0 {
		loss = float64(lost) / float64(len(s.samples))
	}
	return last, avg, loss
}

// Scale returns the top of the graph's axis: the next "nice" value (1, 2
// or 5 times a power of ten) at or above the slowest answer, and at least
// one millisecond.
func (s *pingSeries) Scale() time.Duration {
	top := time.Duration(0)
	for _, p := range s.samples {
		if !p.lost && p.rtt > top {
			top = p.rtt
		}
	}
	return chart.NiceCeil(max(top, time.Millisecond))
}

// Points maps the answered pings into a w×h box: x by slot (the newest at
// the right edge), y by round trip (zero at the bottom, Scale at the top).
// Lost pings are returned as the x of their slot.
func (s *pingSeries) Points(w, h float32) (pts []fyne.Position, lost []float32) {
	top := float32(s.Scale())
	step := w / float32(graphSamples-1)
	off := graphSamples - len(s.samples) // empty slots on the left
	for i, p := range s.samples {
		x := float32(off+i) * step
		if p.lost {
			lost = append(lost, x)
			continue
		}
		y := h - float32(p.rtt)/top*h
		pts = append(pts, fyne.NewPos(x, max(0, min(h, y))))
	}
	return pts, lost
}

// pingGraph draws a pingSeries: a line through the answered pings, a red
// bar for each lost one, the axis top and the stats.
type pingGraph struct {
	widget.BaseWidget
	series pingSeries
}

func newPingGraph() *pingGraph {
	g := &pingGraph{}
	g.ExtendBaseWidget(g)
	return g
}

// Add records one ping and redraws.
func (g *pingGraph) Add(rtt time.Duration, lost bool) {
	g.series.Add(rtt, lost)
	g.Refresh()
}

// MinSize keeps the graph readable on a phone.
func (g *pingGraph) MinSize() fyne.Size { return fyne.NewSize(240, 120) }

// CreateRenderer makes the graph's drawing.
func (g *pingGraph) CreateRenderer() fyne.WidgetRenderer {
	r := &graphRenderer{g: g}
	r.bg = canvas.NewRectangle(color.Transparent)
	r.bg.StrokeWidth = 1
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.mid = canvas.NewLine(color.Transparent)
	r.top = canvas.NewText("", color.Transparent)
	r.stats = canvas.NewText("", color.Transparent)
	r.Refresh()
	return r
}

type graphRenderer struct {
	g     *pingGraph
	size  fyne.Size
	bg    *canvas.Rectangle
	mid   *canvas.Line // half-scale grid line
	top   *canvas.Text
	stats *canvas.Text
	lines []*canvas.Line
	lost  []*canvas.Rectangle
	objs  []fyne.CanvasObject
}

func (r *graphRenderer) Layout(size fyne.Size) {
	r.size = size
	r.Refresh()
}

func (r *graphRenderer) MinSize() fyne.Size { return r.g.MinSize() }

func (r *graphRenderer) Objects() []fyne.CanvasObject { return r.objs }

func (r *graphRenderer) Destroy() {}

// Refresh re-lays the drawing from the series. Line and bar objects are
// reused from one refresh to the next.
func (r *graphRenderer) Refresh() {
	fg := theme.Color(theme.ColorNameForeground)
	primary := theme.Color(theme.ColorNamePrimary)
	danger := theme.Color(theme.ColorNameError)
	grid := theme.Color(theme.ColorNameSeparator)
	size := r.size
	pad := theme.Padding()
	textSize := theme.CaptionTextSize()

	r.bg.StrokeColor = grid
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.bg.Resize(size)

	s := &r.g.series
	last, avg, loss := s.Stats()
	r.top.Text = "Live ping · scale " + formatRTT(s.Scale())
	r.top.Color, r.top.TextSize = fg, textSize
	r.top.Move(fyne.NewPos(pad, pad/2))
	r.stats.Text = "waiting for the first answer…"
	if s.Len() > 0 {
		r.stats.Text = fmt.Sprintf("last %s · avg %s · lost %.0f%%", formatRTT(last), formatRTT(avg), loss*100)
	}
	r.stats.Color, r.stats.TextSize = fg, textSize
	// The stats go right of the title, or under it when the graph is
	// too narrow for both on one line.
	lines := float32(1)
	statsW := r.stats.MinSize().Width
	if r.top.MinSize().Width+statsW+3*pad <= size.Width {
		r.stats.Move(fyne.NewPos(size.Width-pad-statsW, pad/2))
	} else {
		lines = 2
		r.stats.Move(fyne.NewPos(pad, pad/2+r.top.MinSize().Height))
	}

	// The plot sits below the text.
	plotTop := lines*r.top.MinSize().Height + pad
	plot := fyne.NewSize(size.Width-2*pad, size.Height-plotTop-pad)
	origin := fyne.NewPos(pad, plotTop)

	r.mid.StrokeColor, r.mid.StrokeWidth = grid, 1
	r.mid.Position1 = fyne.NewPos(origin.X, origin.Y+plot.Height/2)
	r.mid.Position2 = fyne.NewPos(origin.X+plot.Width, origin.Y+plot.Height/2)

	pts, lost := s.Points(plot.Width, plot.Height)
	for len(r.lines) < max(len(pts)-1, 0) {
		r.lines = append(r.lines, canvas.NewLine(primary))
	}
	r.lines = r.lines[:max(len(pts)-1, 0)]
	for i, l := range r.lines {
		l.StrokeColor, l.StrokeWidth = primary, 2
		l.Position1 = pts[i].Add(origin)
		l.Position2 = pts[i+1].Add(origin)
	}
	if c, ok := danger.(color.NRGBA); ok {
		c.A = 0x70 // lost pings mark their slot without hiding the line
		danger = c
	} else {
		cr, cg, cb, _ := danger.RGBA()
		danger = color.NRGBA{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), 0x70}
	}
	for len(r.lost) < len(lost) {
		r.lost = append(r.lost, canvas.NewRectangle(danger))
	}
	r.lost = r.lost[:len(lost)]
	barW := max(2, plot.Width/graphSamples/2)
	for i, b := range r.lost {
		b.FillColor = danger
		b.Move(fyne.NewPos(origin.X+lost[i]-barW/2, origin.Y))
		b.Resize(fyne.NewSize(barW, plot.Height))
	}
	// A lone answer has no line to draw: show it as a dot.
	if len(pts) == 1 {
		r.lost = append(r.lost, canvas.NewRectangle(primary))
		dot := r.lost[len(r.lost)-1]
		dot.Move(pts[0].Add(origin).SubtractXY(2, 2))
		dot.Resize(fyne.NewSize(4, 4))
	}

	r.objs = append(r.objs[:0], r.bg, r.mid, r.top, r.stats)
	for _, b := range r.lost {
		r.objs = append(r.objs, b)
		b.Refresh()
	}
	for _, l := range r.lines {
		r.objs = append(r.objs, l)
		l.Refresh()
	}
	for _, o := range r.objs[:4] {
		o.Refresh()
	}
}
