package settings

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestSettingsCheckAndClamp(t *testing.T) {
	if err := DefaultSettings().Check(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	bad := []Settings{
		{Timeout: 0, Rate: 10, Method: "auto"},
		{Timeout: 2 * time.Minute, Rate: 10, Method: "auto"},
		{Timeout: time.Second, Retries: -1, Rate: 10, Method: "auto"},
		{Timeout: time.Second, Rate: math.NaN(), Method: "auto"},
		{Timeout: time.Second, Rate: math.Inf(1), Method: "auto"},
		{Timeout: time.Second, Rate: 200000, Method: "auto"},
		{Timeout: time.Second, Rate: 10, Method: "smoke"},
		{Timeout: time.Second, Rate: 10, Method: "auto", Ports: []uint16{0, 22}},
		{Timeout: time.Second, Rate: 10, Method: "auto", Ports: make([]uint16, 1025)},
	}
	for _, s := range bad {
		if s.Check() == nil {
			t.Errorf("accepted %+v", s)
		}
		if err := s.Clamp().Check(); err != nil {
			t.Errorf("Clamp(%+v) still bad: %v", s, err)
		}
	}
	if c := DefaultSettings().Config(); c.Timeout != time.Second || c.Rate <= 0 || c.Enrich == nil {
		t.Errorf("config %+v", c)
	}
}

func TestParseFormFields(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"1000", time.Second, ""},
		{" 50 ", 50 * time.Millisecond, ""},
		{"0", 0, "timeout 0s: want more than 0"},
		{"60001", 0, "timeout 1m0.001s: want more than 0 and at most 1m0s"},
		{"99999999999999999", 0, "want a number of milliseconds from 1 to 60000"},
		{"-5", 0, "want a number of milliseconds"},
		{"1e3", 0, "want a number of milliseconds"},
	} {
		got, err := ParseTimeoutMillis(tc.in)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) || (err == nil && got != tc.want) {
			t.Errorf("ParseTimeoutMillis(%q) = %v, %v; want %v, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	for _, tc := range []struct{ in, err string }{
		{"1000", ""}, {"0.5", ""}, {"0", "want more than 0"}, {"NaN", "want more than 0"},
		{"200000", "floods most networks"}, {"fast", "want a number of requests per second"},
	} {
		if _, err := ParseRate(tc.in); (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseRate(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestFileRoundTrip(t *testing.T) {
	s := DefaultSettings()
	s.Ports = []uint16{}
	s.Lookups = false
	back := FromFile(s.ToFile())
	if back.Timeout != s.Timeout || back.Retries != s.Retries || back.Rate != s.Rate || back.Lookups || back.Ports == nil || len(back.Ports) != 0 {
		t.Errorf("round trip: %+v -> %+v", s, back)
	}
	if d := FromFile(File{}); d.Lookups != true || len(d.Ports) == 0 {
		t.Errorf("an empty file does not give the defaults: %+v", d)
	}
}
