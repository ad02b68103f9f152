package app

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint16
		bad  bool
	}{
		{"", nil, false},
		{"80", []uint16{80}, false},
		{"443, 80 22,22", []uint16{22, 80, 443}, false},
		{"8000-8003", []uint16{8000, 8001, 8002, 8003}, false},
		{"0", nil, true},
		{"65536", nil, true},
		{"http", nil, true},
		{"10-5", nil, true},
		{"5-", nil, true},
		{"1-65535", nil, true},
	} {
		got, err := ParsePorts(tc.in)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePorts(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestFormatPortsRoundTrip(t *testing.T) {
	ports := []uint16{22, 80, 8000, 8001, 8002, 9100}
	s := FormatPorts(ports)
	if s != "22, 80, 8000-8002, 9100" {
		t.Errorf("FormatPorts = %q", s)
	}
	back, err := ParsePorts(s)
	if err != nil || !slices.Equal(back, ports) {
		t.Errorf("round trip %v %v", back, err)
	}
}

func TestSettingsCheckAndClamp(t *testing.T) {
	if err := DefaultSettings().Check(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	bad := []Settings{
		{Timeout: time.Millisecond, Rate: 10, Method: "auto"},
		{Timeout: time.Second, Retries: -1, Rate: 10, Method: "auto"},
		{Timeout: time.Second, Rate: math.NaN(), Method: "auto"},
		{Timeout: time.Second, Rate: 10, Method: "smoke"},
	}
	for _, s := range bad {
		if s.Check() == nil {
			t.Errorf("accepted %+v", s)
		}
		if err := s.clamp().Check(); err != nil {
			t.Errorf("clamp(%+v) still bad: %v", s, err)
		}
	}
	if c := DefaultSettings().Config(); c.Timeout != time.Second || c.Rate <= 0 {
		t.Errorf("config %+v", c)
	}
}
