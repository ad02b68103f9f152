package settings

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"netscanner/scanner"
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
	s.LinkLocal = false
	back := FromFile(s.ToFile())
	if back.Timeout != s.Timeout || back.Retries != s.Retries || back.Rate != s.Rate || back.Lookups || back.LinkLocal || back.Ports == nil || len(back.Ports) != 0 {
		t.Errorf("round trip: %+v -> %+v", s, back)
	}
	if d := FromFile(File{}); d.Lookups != true || d.LinkLocal != true || len(d.Ports) == 0 {
		t.Errorf("an empty file does not give the defaults: %+v", d)
	}
}

// TestConfigSwitches: the app's switches make the same enrichment as the
// command line's (scanner.Traffic, the one place for the rule), so that
// "off" silences the same packets in both (docs/packets.md).
func TestConfigSwitches(t *testing.T) {
	for _, tc := range []struct {
		lookups, linkLocal bool
		ports              []uint16
		want               scanner.Traffic
	}{
		{true, true, scanner.DefaultPorts(), scanner.DefaultTraffic()},
		{false, true, scanner.DefaultPorts(), scanner.Traffic{NoNames: true, Ports: scanner.DefaultPorts()}},
		{true, false, scanner.DefaultPorts(), scanner.Traffic{NoLinkLocal: true, Ports: scanner.DefaultPorts()}},
		{true, true, []uint16{}, scanner.Traffic{}},
	} {
		s := DefaultSettings()
		s.Lookups, s.LinkLocal, s.Ports = tc.lookups, tc.linkLocal, tc.ports
		got, want := s.Config().Enrich, tc.want.Enrich()
		if got.Names != want.Names || got.LinkLocal != want.LinkLocal || !slices.Equal(got.Ports, want.Ports) {
			t.Errorf("settings %+v: enrich %+v, want %+v", s, got, want)
		}
	}
	if e := (scanner.Traffic{NoNames: true, NoLinkLocal: true}).Enrich(); e.Names || e.LinkLocal || len(e.Ports) != 0 {
		t.Errorf("every switch off: %+v", e)
	}
}
