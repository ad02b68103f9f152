package chart

import (
	"slices"
	"time"

	"netscanner/internal/store"
)

// RTTPlot is an RTT history laid out in a box: per column of time, a band
// from the fastest to the slowest answer and a line through the medians.
type RTTPlot struct {
	// Scale is the top of the axis (NiceCeil of the slowest answer, at
	// least a millisecond); the bottom is zero.
	Scale time.Duration
	// Lines are polylines through the columns' medians. A column without
	// an answer breaks the line: the device was away, or nobody looked.
	Lines [][]Point
	// Dots are the medians of columns with no neighbour to join.
	Dots []Point
	// Bands span each column's fastest to slowest answer.
	Bands []Rect
	// Samples is how many answers the plot holds; Median is their
	// median, zero when none.
	Samples int
	Median  time.Duration
}

// PlotRTT lays out the answers pts (store.RTTSeries: oldest first) taken
// in [from, to] across a w×h box split into columns of equal time (at
// most one per point of width; fewer columns draw a smoother line).
func PlotRTT(pts []store.RTTPoint, from, to time.Time, w, h float32, columns int) RTTPlot {
	var p RTTPlot
	columns = min(columns, int(w))
	if columns <= 0 || h <= 0 || !to.After(from) {
		return p
	}
	var slowest time.Duration
	cols := make([][]time.Duration, columns)
	var all []time.Duration
	span := to.Sub(from)
	for _, pt := range pts {
		if pt.Time.Before(from) || pt.Time.After(to) || pt.RTT <= 0 {
			continue
		}
		c := int(float64(pt.Time.Sub(from)) / float64(span) * float64(columns))
		c = min(c, columns-1)
		cols[c] = append(cols[c], pt.RTT)
		all = append(all, pt.RTT)
		slowest = max(slowest, pt.RTT)
	}
	p.Scale = NiceCeil(max(slowest, time.Millisecond))
	p.Samples = len(all)
	p.Median = median(all)
	y := func(d time.Duration) float32 {
		return h - float32(float64(min(d, p.Scale))/float64(p.Scale))*h
	}
	colW := w / float32(columns)
	var line []Point
	flush := func() {
		switch len(line) {
		case 0:
		case 1:
			p.Dots = append(p.Dots, line[0])
		default:
			p.Lines = append(p.Lines, line)
		}
		line = nil
	}
	for c, ds := range cols {
		if len(ds) == 0 {
			flush()
			continue
		}
		x := (float32(c) + 0.5) * colW
		lo, hi := slices.Min(ds), slices.Max(ds)
		if hi > lo {
			p.Bands = append(p.Bands, Rect{X: float32(c) * colW, Y: y(hi), W: colW, H: y(lo) - y(hi)})
		}
		line = append(line, Point{X: x, Y: y(median(ds))})
	}
	flush()
	return p
}

// median of ds, which it sorts; zero for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}
