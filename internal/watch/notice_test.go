package watch

import (
	"net/netip"
	"testing"
	"time"

	"netscanner/scanner"
)

func TestNotices(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC)
	dev := func(addr, name, vendor string) Device {
		return Device{Host: scanner.Host{Addr: netip.MustParseAddr(addr), Hostname: name, Vendor: vendor}}
	}
	printer := dev("198.18.0.9", "office-printer", "Brother Industries")
	phone := dev("198.18.0.5", "", "Apple, Inc.")
	phone.Missed, phone.LastSeen = 3, at.Add(-15*time.Minute)

	got := Notices([]Event{
		{Kind: Joined, Time: at, Device: printer},
		{Kind: Changed, Time: at, Device: printer},
		{Kind: Back, Time: at, Device: printer},
		{Kind: Left, Time: at, Device: phone},
	}, time.UTC)
	want := []Notice{
		{Joined, "New device: office-printer", "198.18.0.9 · Brother Industries · joined the network at 14:05."},
		{Left, "198.18.0.5 left", "Not seen in the last 3 scans; last seen at 13:50."},
	}
	if len(got) != len(want) {
		t.Fatalf("notices %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("notice %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// A first scan of a busy network is one notification; names from
	// the network are quoted when they hold control characters.
	var many []Event
	for i, name := range []string{"a", "b", "evil\x1b[2J", "d", "e", "f"} {
		many = append(many, Event{Kind: Joined, Time: at, Device: dev("198.18.0."+string(rune('1'+i)), name, "")})
	}
	got = Notices(many, time.UTC)
	if len(got) != 1 || got[0].Title != "6 new devices on the network" || got[0].Body != `a, b, "evil\x1b[2J", d, and 2 more.` {
		t.Errorf("many = %+v", got)
	}
	if got := Notices(many[:1], time.UTC); len(got) != 1 || got[0].Body != "198.18.0.1 · joined the network at 14:05." {
		t.Errorf("one = %+v", got)
	}
	if got := Notices(nil, time.UTC); got != nil {
		t.Errorf("none = %+v", got)
	}
	left := []Event{{Kind: Left, Device: phone}, {Kind: Left, Device: printer}}
	if got := Notices(left, time.UTC); len(got) != 1 || got[0].Title != "2 devices left the network" ||
		got[0].Body != "198.18.0.5, office-printer." {
		t.Errorf("left = %+v", got)
	}
}
