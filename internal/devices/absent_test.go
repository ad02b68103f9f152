package devices

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netscanner/scanner"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		-time.Hour:                      "just now",
		0:                               "just now",
		59 * time.Second:                "just now",
		12*time.Minute + 30*time.Second: "12 min ago",
		3*time.Hour + 59*time.Minute:    "3 h ago",
		47 * time.Hour:                  "47 h ago",
		50 * time.Hour:                  "2 days ago",
		40 * 24 * time.Hour:             "40 days ago",
	} {
		if got := Ago(now, now.Add(-d)); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
	if got := Ago(now, time.Time{}); got != "never" {
		t.Errorf("Ago(zero) = %q", got)
	}
}

// TestAway lists remembered devices missing from the list, with a
// history database behind the store (older MACs resolve) and without.
func TestAway(t *testing.T) {
	for _, withHistory := range []bool{false, true} {
		dir := t.TempDir()
		hist := ""
		if withHistory {
			hist = filepath.Join(dir, "history.db")
		}
		s, err := OpenWithHistory(t.Context(), filepath.Join(dir, "s.json"), hist)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		mac := func(x string) net.HardwareAddr { m, _ := net.ParseMAC(x); return m }
		now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		hosts := []*scanner.Host{
			{Addr: netip.MustParseAddr("198.18.0.1"), MAC: mac("00:11:22:33:44:01"), Hostname: "router.lan", Vendor: "Ubiquiti Inc"},
			{Addr: netip.MustParseAddr("198.18.0.5"), MAC: mac("00:11:22:33:44:05"), Hostname: "annas-iphone", Vendor: "Apple, Inc."},
			{Addr: netip.MustParseAddr("198.18.0.9"), Hostname: "printer"}, // no MAC: known by address
		}
		s.Record(hosts[:1], now.Add(-2*time.Hour))
		s.Record(hosts[1:], now.Add(-time.Hour))
		s.SetLabel(hosts[1], "Anna's phone", now)

		// The router answers now; the phone and the printer are away.
		m := NewModel()
		m.Annotate = func(r *Row) { r.Key = DeviceKey(&r.Host) }
		m.Apply([]scanner.Event{{Kind: scanner.HostFound, Host: *hosts[0]}})
		away := s.Away(m.Hosts(), "")
		var keys []string
		for _, d := range away {
			keys = append(keys, d.Key)
		}
		if got := strings.Join(keys, " "); !strings.Contains(got, "mac:00:11:22:33:44:05") || !strings.Contains(got, "ip:198.18.0.9") ||
			strings.Contains(got, ":01") || len(keys) != 2 {
			t.Errorf("history %v: away = %v", withHistory, keys)
		}
		if got := s.Away(m.Hosts(), "ANNA"); len(got) != 1 || got[0].Label != "Anna's phone" {
			t.Errorf("history %v: filtered away = %+v", withHistory, got)
		}
		if got := s.Away(m.Hosts(), "away print"); len(got) != 1 || got[0].Addr != "198.18.0.9" {
			t.Errorf("history %v: 'away print' = %+v", withHistory, got)
		}
		// A device whose address answers (under another key) is not away.
		m.Apply([]scanner.Event{{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.9")}}})
		if got := s.Away(m.Hosts(), ""); len(got) != 1 {
			t.Errorf("history %v: away after the printer answered = %+v", withHistory, got)
		}
	}
}
