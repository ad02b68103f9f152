package settings

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"netscanner/scanner/targets"
)

func TestParseWatchInterval(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"5", 5 * time.Minute, ""},
		{" 1.5 ", 90 * time.Second, ""},
		{"30s", 30 * time.Second, ""},
		{"2h", 2 * time.Hour, ""},
		{"168h", targets.MaxWatchInterval, ""},
		{"9s", 0, "bad interval 9s: scanning more often than every 10s"},
		{"0", 0, "bad interval 0s"},
		{"-5", 0, "bad interval -5m0s"},
		{"169h", 0, "bad interval 169h0m0s: want 10s to 168h0m0s"},
		{"", 0, `watch interval "": want a number of minutes`},
		{"often", 0, `watch interval "often": want a number of minutes`},
		{"NaN", 0, `watch interval "NaN"`},
		{"1e300", 0, `watch interval "1e300"`},
	} {
		got, err := ParseWatchInterval(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		}
	}
	// The command line's words: the same rule refuses the same input.
	if _, err := ParseWatchInterval("9s"); !errors.Is(err, targets.ErrWatchInterval) {
		t.Errorf("9s: %v does not wrap targets.ErrWatchInterval", err)
	}
}

func TestWatchIntervalSetting(t *testing.T) {
	d := DefaultSettings()
	if d.WatchInterval != targets.DefaultWatchInterval {
		t.Errorf("default %v", d.WatchInterval)
	}
	bad := d
	bad.WatchInterval = time.Second
	if err := bad.Check(); !errors.Is(err, targets.ErrWatchInterval) {
		t.Errorf("Check(1s) = %v", err)
	}
	if got := bad.Clamp().WatchInterval; got != targets.MinWatchInterval {
		t.Errorf("Clamp(1s) = %v", got)
	}
	bad.WatchInterval = 30 * 24 * time.Hour
	if got := bad.Clamp().WatchInterval; got != targets.MaxWatchInterval {
		t.Errorf("Clamp(30d) = %v", got)
	}

	// Round trip, and files from before the setting, or edited by hand.
	s := d
	s.WatchInterval = 90 * time.Second
	if got := FromFile(s.ToFile()).WatchInterval; got != 90*time.Second {
		t.Errorf("round trip %v", got)
	}
	for text, want := range map[string]time.Duration{
		`{}`:                                  targets.DefaultWatchInterval,
		`{"watch_interval_s": 600}`:           10 * time.Minute,
		`{"watch_interval_s": 1}`:             targets.MinWatchInterval,
		`{"watch_interval_s": -5}`:            targets.DefaultWatchInterval,
		`{"watch_interval_s": 9000000000000}`: targets.MaxWatchInterval,
	} {
		var f File
		if err := json.Unmarshal([]byte(text), &f); err != nil {
			t.Fatal(err)
		}
		if got := FromFile(f).WatchInterval; got != want {
			t.Errorf("%s: %v, want %v", text, got, want)
		}
	}
}
