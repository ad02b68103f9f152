package chart

import "time"

// Tick is a mark on a time axis.
type Tick struct {
	X     float32
	Label string
}

// HourTicks marks [from, to] every `every` hours of the local clock (in
// loc), at whole multiples of it ("00:00", "06:00", "12:00"...), across
// width w. every below one hour counts as one hour.
func HourTicks(from, to time.Time, every int, loc *time.Location, w float32) []Tick {
	every = max(every, 1)
	f := from.In(loc)
	t := time.Date(f.Year(), f.Month(), f.Day(), f.Hour(), 0, 0, 0, loc)
	for t.Before(from) || t.Hour()%every != 0 {
		t = t.Add(time.Hour)
	}
	var out []Tick
	for ; !t.After(to); t = t.Add(time.Duration(every) * time.Hour) {
		out = append(out, Tick{X: xAt(t, from, to, w), Label: t.Format("15:04")})
	}
	return out
}

// DayTicks marks every local midnight (in loc) within [from, to] across
// width w, labelled with the day that starts there ("Mon").
func DayTicks(from, to time.Time, loc *time.Location, w float32) []Tick {
	f := from.In(loc)
	t := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	if t.Before(from) {
		t = t.AddDate(0, 0, 1)
	}
	var out []Tick
	for ; !t.After(to); t = t.AddDate(0, 0, 1) {
		out = append(out, Tick{X: xAt(t, from, to, w), Label: t.Format("Mon")})
	}
	return out
}
