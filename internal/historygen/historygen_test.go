package historygen

import (
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"netscanner/internal/store"
	"netscanner/scanner"
)

func TestFill(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "h.db"), store.Options{Mode: store.ModeRecord, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mac, _ := net.ParseMAC("b8:27:eb:00:00:0a")
	devs := []Device{
		{Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.10"), MAC: mac}, Here: Hours(22, 2, time.UTC), RTT: 4 * time.Millisecond},
		{Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.11")}, Here: Since(now.Add(-2 * time.Hour))},
		{Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.12")}, Here: Until(now.Add(-23 * time.Hour))},
	}
	n, err := Fill(t.Context(), st, devs, now.Add(-24*time.Hour), now, time.Hour, 1)
	if err != nil || n != 24 {
		t.Fatalf("%d scans, %v", n, err)
	}
	present := map[string]int{}
	all, err := st.Devices(t.Context())
	if err != nil || len(all) != 3 {
		t.Fatalf("devices %v, %v", all, err)
	}
	for _, d := range all {
		b, err := st.Timeline(t.Context(), d.ID, now.Add(-24*time.Hour), now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		present[d.Addr] = b[0].Present
	}
	// 22:00 to 02:00 is four scans; since two hours ago two; until 23
	// hours ago the first one only.
	if present["198.18.0.10"] != 4 || present["198.18.0.11"] != 2 || present["198.18.0.12"] != 1 {
		t.Errorf("present %v", present)
	}
	rtts, err := st.RTTSeries(t.Context(), all[0].ID, now.Add(-24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rtts {
		if p.RTT < 3*time.Millisecond || p.RTT > 6*time.Millisecond {
			t.Errorf("round trip %v outside 4 ms ± a quarter", p.RTT)
		}
	}
	if _, err := Fill(t.Context(), st, devs, now, now, time.Hour, 1); err == nil {
		t.Error("empty range accepted")
	}
	if _, err := Fill(t.Context(), st, devs, now.Add(-time.Hour), now, 0, 1); err == nil {
		t.Error("zero interval accepted")
	}
}
