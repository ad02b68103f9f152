package chart

import (
	"testing"
	"time"

	"netscanner/internal/store"
)

func TestNiceCeil(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		-time.Second:            0,
		0:                       0,
		time.Millisecond:        time.Millisecond,
		1100 * time.Microsecond: 2 * time.Millisecond,
		3 * time.Millisecond:    5 * time.Millisecond,
		7 * time.Millisecond:    10 * time.Millisecond,
		120 * time.Millisecond:  200 * time.Millisecond,
	} {
		if got := NiceCeil(in); got != want {
			t.Errorf("NiceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestPresenceBars(t *testing.T) {
	b := func(scans, present int) store.Bucket { return store.Bucket{Scans: scans, Present: present} }
	// Ten buckets over 100×30: two here, one half here, two away, one
	// with no scan, then here again through the end.
	buckets := []store.Bucket{b(4, 4), b(4, 4), b(4, 2), b(4, 0), b(4, 0), b(0, 0), b(3, 3), b(3, 3), b(3, 3), b(3, 3)}
	bars := PresenceBars(buckets, 100, 30)
	want := []Bar{
		{Rect: Rect{0, 0, 20, 30}, State: Here, Share: 1, First: 0, Last: 1},
		{Rect: Rect{20, 15, 10, 15}, State: Here, Share: 0.5, First: 2, Last: 2},
		{Rect: Rect{30, 28, 20, 2}, State: Away, First: 3, Last: 4},
		{Rect: Rect{50, 14, 10, 2}, State: NoData, First: 5, Last: 5},
		{Rect: Rect{60, 0, 40, 30}, State: Here, Share: 1, First: 6, Last: 9},
	}
	if len(bars) != len(want) {
		t.Fatalf("bars %+v", bars)
	}
	for i := range want {
		if bars[i] != want[i] {
			t.Errorf("bar %d = %+v, want %+v", i, bars[i], want[i])
		}
	}
	// Bars tile the width without gaps or overlaps.
	x := float32(0)
	for _, bar := range bars {
		if bar.X != x {
			t.Errorf("bar at %v, want %v", bar.X, x)
		}
		x += bar.W
	}
	if x != 100 {
		t.Errorf("bars end at %v", x)
	}
	// A brief visit (1 of 12 scans) is still a third of the height.
	if bars := PresenceBars([]store.Bucket{b(12, 1)}, 10, 30); len(bars) != 1 || bars[0].H != 10 || bars[0].Y != 20 {
		t.Errorf("brief visit %+v", bars)
	}
	if PresenceBars(nil, 100, 30) != nil || PresenceBars(buckets, 0, 30) != nil {
		t.Error("bars from nothing")
	}
	if share, scans := PresentShare(buckets); scans != 32 || share != 22.0/32 {
		t.Errorf("share %v of %d", share, scans)
	}
	if share, scans := PresentShare([]store.Bucket{b(0, 0)}); share != 0 || scans != 0 {
		t.Errorf("share %v of %d", share, scans)
	}
}

func TestPlotRTT(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(10 * time.Hour)
	pt := func(h float64, ms float64) store.RTTPoint {
		return store.RTTPoint{Time: from.Add(time.Duration(h * float64(time.Hour))), RTT: time.Duration(ms * float64(time.Millisecond))}
	}
	pts := []store.RTTPoint{
		pt(0.2, 2), pt(0.5, 4), pt(0.7, 3), // column 0: 2..4, median 3
		pt(1.5, 4),             // column 1
		pt(5.5, 8),             // column 5, alone
		pt(8.1, 1), pt(9.9, 1), // columns 8 and 9
		pt(-1, 100), pt(11, 100), // outside: ignored
		{Time: from.Add(time.Hour), RTT: 0}, // no round trip: ignored
	}
	p := PlotRTT(pts, from, to, 100, 50, 10)
	if p.Scale != 10*time.Millisecond || p.Samples != 7 || p.Median != 3*time.Millisecond {
		t.Fatalf("scale %v samples %d median %v", p.Scale, p.Samples, p.Median)
	}
	// 3 ms of 10 is 30% up a 50-high box: y 35.
	wantLines := [][]Point{{{5, 35}, {15, 30}}, {{85, 45}, {95, 45}}}
	if len(p.Lines) != 2 {
		t.Fatalf("lines %v", p.Lines)
	}
	for i, l := range wantLines {
		if len(p.Lines[i]) != len(l) {
			t.Fatalf("line %d = %v, want %v", i, p.Lines[i], l)
		}
		for j := range l {
			if p.Lines[i][j] != l[j] {
				t.Errorf("line %d point %d = %v, want %v", i, j, p.Lines[i][j], l[j])
			}
		}
	}
	if len(p.Dots) != 1 || p.Dots[0] != (Point{55, 10}) {
		t.Errorf("dots %v", p.Dots)
	}
	if len(p.Bands) != 1 || p.Bands[0] != (Rect{0, 30, 10, 10}) {
		t.Errorf("bands %v", p.Bands)
	}
	// Fewer columns than asked when the box is narrow; nothing from
	// nothing.
	if p := PlotRTT(pts, from, to, 4, 50, 10); len(p.Lines)+len(p.Dots) == 0 || p.Lines != nil && len(p.Lines[0]) > 4 {
		t.Errorf("narrow plot %+v", p)
	}
	if p := PlotRTT(nil, from, to, 100, 50, 10); p.Scale != time.Millisecond || p.Samples != 0 || p.Lines != nil {
		t.Errorf("empty plot %+v", p)
	}
	if p := PlotRTT(pts, to, from, 100, 50, 10); p.Samples != 0 {
		t.Errorf("backwards plot %+v", p)
	}
	// A slow outlier sets the scale; nothing is drawn above the box.
	p = PlotRTT([]store.RTTPoint{pt(1, 1), pt(2, 130)}, from, to, 100, 50, 10)
	if p.Scale != 200*time.Millisecond {
		t.Errorf("scale %v", p.Scale)
	}
	for _, l := range p.Lines {
		for _, q := range l {
			if q.Y < 0 || q.Y > 50 {
				t.Errorf("point %v outside the box", q)
			}
		}
	}
}

func TestTicks(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	// 13:30 local to 13:30 the next day: ticks at 18:00, 00:00, 06:00, 12:00.
	from := time.Date(2026, 12, 1, 13, 30, 0, 0, loc)
	to := from.Add(24 * time.Hour)
	ticks := HourTicks(from, to, 6, loc, 240)
	want := []Tick{{45, "18:00"}, {105, "00:00"}, {165, "06:00"}, {225, "12:00"}}
	if len(ticks) != len(want) {
		t.Fatalf("ticks %v", ticks)
	}
	for i := range want {
		if ticks[i] != want[i] {
			t.Errorf("tick %d = %v, want %v", i, ticks[i], want[i])
		}
	}
	// A week from Tuesday 13:30: six midnights, Wed to Mon.
	days := DayTicks(from, from.AddDate(0, 0, 7), loc, 168)
	if len(days) != 7 || days[0].Label != "Wed" || days[0].X != 10.5 || days[6].Label != "Tue" {
		t.Errorf("days %v", days)
	}
	if ticks := HourTicks(from, from.Add(-time.Hour), 6, loc, 100); ticks != nil {
		t.Errorf("backwards ticks %v", ticks)
	}
}
