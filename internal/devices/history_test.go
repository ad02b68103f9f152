package devices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netscanner/internal/store"
	"netscanner/scanner"
)

// appMemory copies the app memory file today's app writes (made by its
// Save: internal/store/testdata/app-memory-v1.json) into a new folder.
func appMemory(t *testing.T) (jsonPath, historyPath string) {
	t.Helper()
	data, err := os.ReadFile("../store/testdata/app-memory-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jsonPath = filepath.Join(dir, "netscanner.json")
	if err := os.WriteFile(jsonPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return jsonPath, filepath.Join(dir, "data", "netscanner", "history.db")
}

func openHist(t *testing.T, jsonPath, historyPath string) *Store {
	t.Helper()
	s, err := OpenWithHistory(context.Background(), jsonPath, historyPath)
	if err != nil {
		t.Fatalf("OpenWithHistory: %v", err)
	}
	if s.History() == nil {
		t.Fatal("no history database")
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestMemoryMovesIntoHistory: the first start with a history imports the
// file's devices, labels and first and last seen; later starts import
// nothing again, and what the user does lands in the history.
func TestMemoryMovesIntoHistory(t *testing.T) {
	jsonPath, historyPath := appMemory(t)
	before, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	s := openHist(t, jsonPath, historyPath)
	if s.Len() != 4 {
		t.Fatalf("%d devices after the import, want 4", s.Len())
	}
	pi, ok := s.Device("mac:b8:27:eb:00:00:0a")
	first, _ := time.Parse(time.RFC3339, "2026-03-14T09:26:53Z")
	last, _ := time.Parse(time.RFC3339, "2026-03-15T11:26:53Z")
	if !ok || pi.Label != "Kitchen Pi" || !pi.FirstSeen.Equal(first) || !pi.LastSeen.Equal(last) || pi.Name != "raspberrypi.local" {
		t.Fatalf("the Pi after the import: %+v %v", pi, ok)
	}
	if d, ok := s.Device("ip:198.19.5.5"); !ok || d.Name != "far.example" {
		t.Errorf("the host behind a router: %+v %v", d, ok)
	}
	// The same devices are what `netscanner devices` reads.
	devs, err := s.History().Devices(context.Background())
	if err != nil || len(devs) != 4 {
		t.Fatalf("history devices: %d, %v", len(devs), err)
	}
	if set := s.Settings(); set.Timeout != time.Second || set.Rate != 1000 {
		t.Errorf("settings from the file: %+v", set)
	}

	// A label and a scan, then a restart.
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	phone := host("198.18.100.23", "da:a1:19:00:00:17")
	s.SetLabel(phone, "Anna's phone", now)
	newHost := host("198.18.100.77", "00:1a:2b:3c:4d:77")
	scanned := netip.MustParsePrefix("198.18.100.0/24")
	s.RecordScan([]*scanner.Host{phone, newHost}, now, scanned.Contains)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(jsonPath)
	if !strings.Contains(string(after), `"Kitchen Pi"`) || strings.Contains(string(after), "00:1a:2b:3c:4d:77") {
		t.Errorf("the file should keep its old devices as they were, and no new ones:\n%s", after)
	}
	devicesOf := func(data []byte) string {
		var f struct {
			Devices json.RawMessage `json:"devices"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, f.Devices); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if devicesOf(after) != devicesOf(before) {
		t.Errorf("the file's devices changed on Save:\n%s\n%s", devicesOf(before), devicesOf(after))
	}
	s.Close()

	s2 := openHist(t, jsonPath, historyPath)
	if s2.Len() != 5 {
		t.Errorf("%d devices after a restart, want 5 (imported once)", s2.Len())
	}
	if d, _ := s2.Device("mac:da:a1:19:00:00:17"); d.Label != "Anna's phone" || !d.LastSeen.Equal(now) {
		t.Errorf("the phone after a restart: %+v", d)
	}
	if d, _ := s2.Device("mac:b8:27:eb:00:00:0a"); d.Label != "Kitchen Pi" {
		t.Errorf("the Pi after a restart: %+v", d)
	}
	// The scan covered the router and the Pi, which did not answer; the
	// host behind the router was not covered.
	h := s2.History()
	ctx := context.Background()
	for key, misses := range map[string]int{"mac:b8:27:eb:00:00:0a": 1, "mac:00:1a:2b:3c:4d:01": 1, "ip:198.19.5.5": 0, "mac:da:a1:19:00:00:17": 0} {
		d, err := h.DeviceByKey(ctx, key)
		if err != nil || d.Misses != misses {
			t.Errorf("%s: misses %d, %v; want %d", key, d.Misses, err, misses)
		}
	}
}

// TestMemoryLinksPrivateMAC: a phone back with a new private MAC is the
// device the app knew, under either key.
func TestMemoryLinksPrivateMAC(t *testing.T) {
	jsonPath, historyPath := appMemory(t)
	s := openHist(t, jsonPath, historyPath)
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	fresh := host("198.18.100.42", "6e:11:22:33:44:55")
	fresh.Hostname, fresh.Names = "pixel-7.local", []string{"pixel-7.local"}
	s.SetLabel(host("198.18.100.23", "da:a1:19:00:00:17"), "Anna's phone", now)
	s.RecordScan([]*scanner.Host{fresh}, now, func(netip.Addr) bool { return false })
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"mac:6e:11:22:33:44:55", "mac:da:a1:19:00:00:17"} {
		if d, ok := s.Device(key); !ok || d.Label != "Anna's phone" || d.Key != "mac:6e:11:22:33:44:55" {
			t.Errorf("Device(%s) = %+v, %v", key, d, ok)
		}
	}
	keys := s.Keys()
	if !keys["mac:6e:11:22:33:44:55"] || !keys["mac:da:a1:19:00:00:17"] || s.Len() != 4 {
		t.Errorf("keys %v, %d devices", keys, s.Len())
	}
}

// TestMemoryBesideAWatcher: while another process records the history,
// the app still reads it and labels devices in it, says why its scans are
// not added, and adds none.
func TestMemoryBesideAWatcher(t *testing.T) {
	jsonPath, historyPath := appMemory(t)
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Dir(historyPath), 0o700); err != nil {
		t.Fatal(err)
	}
	watcher, err := store.Open(ctx, historyPath, store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	s, err := OpenWithHistory(ctx, jsonPath, historyPath)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "this app's scans are not added") {
		t.Fatalf("beside a watcher: %v", err)
	}
	defer s.Close()
	if s.History() == nil || s.Len() != 4 {
		t.Fatalf("beside a watcher: history %v, %d devices", s.History(), s.Len())
	}
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	s.RecordScan([]*scanner.Host{host("198.18.100.77", "00:1a:2b:3c:4d:77")}, now, nil)
	s.SetLabel(host("198.18.100.77", "00:1a:2b:3c:4d:77"), "new TV", now)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	d, err := watcher.DeviceByKey(ctx, "mac:00:1a:2b:3c:4d:77")
	if err != nil || d.Label != "new TV" {
		t.Errorf("the watcher's view of the app's label: %+v, %v", d, err)
	}
	if sum, _ := watcher.RTTSummary(ctx, d.ID, now.Add(-time.Hour), now.Add(time.Hour)); sum.Scans != 0 {
		t.Errorf("the app recorded %d scans beside a watcher", sum.Scans)
	}
}

// TestMemoryWithoutHistory: a history path that cannot be used leaves
// the devices in the file, as before there was a history, and says so.
func TestMemoryWithoutHistory(t *testing.T) {
	jsonPath, _ := appMemory(t)
	dir := t.TempDir() // a folder, not a database
	s, err := OpenWithHistory(context.Background(), jsonPath, dir)
	if !errors.Is(err, store.ErrBadPath) || !strings.Contains(err.Error(), "remembered in netscanner.json instead") {
		t.Fatalf("bad history path: %v", err)
	}
	if s.History() != nil || s.Len() != 4 {
		t.Fatalf("fallback: history %v, %d devices", s.History(), s.Len())
	}
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	s.Record([]*scanner.Host{host("198.18.100.77", "00:1a:2b:3c:4d:77")}, now)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenStore(jsonPath)
	if err != nil || again.Len() != 5 {
		t.Errorf("the file after the fallback: %d devices, %v", again.Len(), err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close without history: %v", err)
	}
}
