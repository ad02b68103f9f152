package chart

import "netscanner/internal/store"

// Presence says what a stretch of a timeline shows.
type Presence int

// The states of a timeline's stretch.
const (
	// NoData: no scan covered the device then; nothing is claimed.
	NoData Presence = iota
	// Away: scans covered the device and none found it.
	Away
	// Here: scans found the device, in Bar.Share of them.
	Here
)

// String names the state, for tests and traces.
func (p Presence) String() string {
	switch p {
	case Away:
		return "away"
	case Here:
		return "here"
	}
	return "no data"
}

// Bar is one stretch of a presence timeline: consecutive buckets in one
// state, and for Here with one share.
type Bar struct {
	Rect
	State Presence
	// Share is the part of the stretch's scans that found the device,
	// 0 to 1.
	Share float64
	// First and Last index the buckets the bar covers.
	First, Last int
}

// lineH is how tall a bar is drawn for NoData and Away: a thin line, so
// presence stands out.
const lineH = 2

// PresenceBars lays out a timeline's buckets (store.Timeline: equal
// slots, oldest first) across a w×h box: one column per bucket,
// consecutive buckets in the same state merged into one bar. A bucket
// where the device was here is a bar rising from the bottom, as tall as
// the share of its scans that found it (but at least a third of h, so a
// brief visit stays visible); an away bucket is a thin line at the
// bottom; a bucket with no scan is a thin line in the middle.
func PresenceBars(buckets []store.Bucket, w, h float32) []Bar {
	n := len(buckets)
	if n == 0 || w <= 0 || h <= 0 {
		return nil
	}
	col := w / float32(n)
	var out []Bar
	for i, b := range buckets {
		state, share := NoData, 0.0
		switch {
		case b.Scans <= 0:
		case b.Present <= 0:
			state = Away
		default:
			state = Here
			share = min(float64(b.Present)/float64(b.Scans), 1)
		}
		if k := len(out) - 1; k >= 0 && out[k].State == state && out[k].Share == share {
			out[k].Last = i
			out[k].W = float32(i+1)*col - out[k].X
			continue
		}
		bar := Bar{State: state, Share: share, First: i, Last: i}
		bar.X, bar.W = float32(i)*col, col
		switch state {
		case NoData:
			bar.Y, bar.H = (h-lineH)/2, min(lineH, h)
		case Away:
			bar.Y, bar.H = h-min(lineH, h), min(lineH, h)
		case Here:
			bar.H = max(float32(share)*h, h/3)
			bar.Y = h - bar.H
		}
		out = append(out, bar)
	}
	return out
}

// PresentShare is the part of the scans over all buckets that found the
// device, 0 to 1, and the number of scans; 0, 0 when none covered it.
func PresentShare(buckets []store.Bucket) (share float64, scans int) {
	present := 0
	for _, b := range buckets {
		scans += b.Scans
		present += b.Present
	}
	if scans == 0 {
		return 0, 0
	}
	return float64(present) / float64(scans), scans
}
