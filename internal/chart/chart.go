// Package chart is the arithmetic of the app's history charts: where the
// bars of a presence timeline go, how an RTT history maps into a plot,
// where the time ticks fall and what scale an axis gets. It knows nothing
// about widgets: app/timeline.go draws what it computes, and this package
// is tested without a window.
//
// Geometry is in the drawing's own units (Fyne's device-independent
// pixels), with the origin at the top left and y growing downwards.
package chart

import (
	"math"
	"time"
)

// Rect is an axis-aligned rectangle.
type Rect struct {
	X, Y, W, H float32
}

// Point is a point of a drawing.
type Point struct {
	X, Y float32
}

// NiceCeil rounds d up to 1, 2 or 5 times a power of ten nanoseconds: the
// top of an axis people read at a glance. Zero and negative durations
// give zero.
func NiceCeil(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	p := time.Duration(math.Pow(10, math.Floor(math.Log10(float64(d)))))
	for _, m := range []time.Duration{1, 2, 5, 10} {
		if d <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// xAt maps t within [from, to] to [0, w].
func xAt(t, from, to time.Time, w float32) float32 {
	span := to.Sub(from)
	if span <= 0 {
		return 0
	}
	f := float64(t.Sub(from)) / float64(span)
	return float32(min(max(f, 0), 1)) * w
}
