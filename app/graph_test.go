package app

import (
	"testing"
	"time"
)

func TestPingSeries(t *testing.T) {
	var s pingSeries
	if last, avg, loss := s.Stats(); last != 0 || avg != 0 || loss != 0 {
		t.Error("empty series has stats")
	}
	s.Add(2*time.Millisecond, false)
	s.Add(0, true)
	s.Add(4*time.Millisecond, false)
	last, avg, loss := s.Stats()
	if last != 4*time.Millisecond || avg != 3*time.Millisecond || loss < 0.33 || loss > 0.34 {
		t.Errorf("stats %v %v %v", last, avg, loss)
	}
	if got := s.Scale(); got != 5*time.Millisecond {
		t.Errorf("scale %v", got)
	}
	pts, lost := s.Points(590, 100)
	if len(pts) != 2 || len(lost) != 1 {
		t.Fatalf("points %v lost %v", pts, lost)
	}
	// Newest at the right edge; 4 ms of a 5 ms scale is 80% up.
	if pts[1].X != 590 || pts[1].Y != 20 || lost[0] != 580 {
		t.Errorf("points %v lost %v", pts, lost)
	}
	for range 100 {
		s.Add(time.Millisecond, false)
	}
	if s.Len() != graphSamples {
		t.Errorf("series holds %d", s.Len())
	}
	if _, _, loss := s.Stats(); loss != 0 {
		t.Error("old loss not forgotten")
	}
}

func TestFormatRTT(t *testing.T) {
	for in, want := range map[time.Duration]string{
		0:                       "–",
		50 * time.Microsecond:   "<0.1 ms",
		1234 * time.Microsecond: "1.2 ms",
		38 * time.Millisecond:   "38 ms",
		12 * time.Second:        "12 s",
	} {
		if got := formatRTT(in); got != want {
			t.Errorf("formatRTT(%v) = %q, want %q", in, got, want)
		}
	}
}
