package store

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// readAppMemory reads the devices of the app's JSON memory as it has
// been saved since version 1 (netscanner.json in Fyne's storage). The
// app's own parser lives with the app; this one reads only what the test
// needs, to feed ImportLegacy the records of a real file.
func readAppMemory(t *testing.T, path string) []LegacyDevice {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Version int            `json:"version"`
		Devices []LegacyDevice `json:"devices"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		t.Fatalf("%s: version %d, %v", path, f.Version, err)
	}
	return f.Devices
}

// TestImportAppMemory imports a file the app of today wrote
// (testdata/app-memory-v1.json, made by app.Store.Save): every device
// arrives with its label and first and last seen, once.
func TestImportAppMemory(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	devs := readAppMemory(t, "testdata/app-memory-v1.json")
	res, err := s.ImportLegacy(ctx, "netscanner.json", devs)
	if err != nil || res != (ImportResult{Imported: 4}) {
		t.Fatalf("ImportLegacy = %+v, %v", res, err)
	}
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, w := range []struct {
		key, label, addr, name, vendor, first, last string
	}{
		{"mac:00:1a:2b:3c:4d:01", "", "198.18.100.1", "router.lan", "Example Networks", "2026-03-14T09:26:53Z", "2026-05-03T09:26:53Z"},
		{"mac:da:a1:19:00:00:17", "Anna’s phone", "198.18.100.23", "Pixel-7.local", "", "2026-03-15T11:26:53Z", "2026-05-03T09:26:53Z"},
		{"mac:b8:27:eb:00:00:0a", "Kitchen Pi", "198.18.100.10", "raspberrypi.local", "Raspberry Pi Foundation", "2026-03-14T09:26:53Z", "2026-03-15T11:26:53Z"},
		{"ip:198.19.5.5", "", "198.19.5.5", "far.example", "", "2026-03-14T09:26:53Z", "2026-03-14T09:26:53Z"},
	} {
		d, err := s.DeviceByKey(ctx, w.key)
		if err != nil {
			t.Errorf("%s: %v", w.key, err)
			continue
		}
		if d.Label != w.label || d.Addr != w.addr || d.Hostname != w.name || d.Vendor != w.vendor ||
			!d.FirstSeen.Equal(ts(w.first)) || !d.LastSeen.Equal(ts(w.last)) {
			t.Errorf("%s imported as %+v", w.key, d)
		}
	}

	// Once only.
	if res, err := s.ImportLegacy(ctx, "netscanner.json", devs); err != nil || !res.Already {
		t.Errorf("second import = %+v, %v", res, err)
	}
	// The imported devices are known to the next scan: the Pi is not
	// new, keeps its label and first seen, and its last seen moves on.
	c.t = ts("2026-06-01T10:00:00Z")
	sc := record(t, s, c, nil, obs("198.18.100.10", "b8:27:eb:00:00:0a", time.Millisecond, "raspberrypi.local"))
	pi := sc.Seen[0]
	if pi.Match != MatchMAC || pi.Device.Label != "Kitchen Pi" || !pi.Device.FirstSeen.Equal(ts("2026-03-14T09:26:53Z")) ||
		!pi.Device.LastSeen.Equal(ts("2026-06-01T10:00:00Z")) {
		t.Errorf("imported Pi on the next scan: %+v", pi)
	}
	// The imported phone, back with a new private MAC, is linked by the
	// host name the old memory kept.
	sc = record(t, s, c, nil, obs("198.18.100.42", "6e:11:22:33:44:55", time.Millisecond, "pixel-7.local"))
	if ph := sc.Seen[0]; ph.Match != MatchLinked || ph.Device.Label != "Anna’s phone" {
		t.Errorf("imported phone with a new private MAC: %+v", ph)
	}
}

// TestImportMerges imports into a store that already knows a device: its
// history stays, it gains the old label and the earlier first seen.
func TestImportMerges(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	record(t, s, c, nil, obs("198.18.100.10", "b8:27:eb:00:00:0a", time.Millisecond))
	old := t0.Add(-30 * 24 * time.Hour)
	res, err := s.ImportLegacy(ctx, "old", []LegacyDevice{
		{Key: "mac:b8:27:eb:00:00:0a", MAC: "B8:27:EB:00:00:0A", Addr: "198.18.100.10", Label: "Kitchen Pi", FirstSeen: old, LastSeen: old},
		{Key: "junk", MAC: "not a mac", Addr: "nor an address"},
		{Key: "mac:ff:ff:ff:ff:ff:ff", MAC: "ff:ff:ff:ff:ff:ff"},
		{Key: "ip:198.18.1.1", Addr: "198.18.1.1", Label: "\x1b[2Jevil", LastSeen: old, FirstSeen: old.Add(time.Hour)},
	})
	if err != nil || res != (ImportResult{Imported: 1, Merged: 1}) {
		t.Fatalf("ImportLegacy = %+v, %v", res, err)
	}
	d, _ := s.DeviceByKey(ctx, "mac:b8:27:eb:00:00:0a")
	if d.Label != "Kitchen Pi" || !d.FirstSeen.Equal(old) || !d.LastSeen.Equal(t0) {
		t.Errorf("merged device %+v", d)
	}
	e, _ := s.DeviceByKey(ctx, "ip:198.18.1.1")
	if e.Label != "[2Jevil" || e.LastSeen.Before(e.FirstSeen) {
		t.Errorf("repaired device %+v", e)
	}
}
