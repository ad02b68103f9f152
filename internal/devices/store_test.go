package devices

import (
	"bytes"
	"net"
	"net/netip"
	"netscanner/internal/store"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"netscanner/probe"
	"netscanner/scanner"

	"netscanner/internal/settings"
	"netscanner/scanner/targets"
)

func host(addr, mac string) *scanner.Host {
	h := &scanner.Host{Addr: netip.MustParseAddr(addr)}
	if mac != "" {
		h.MAC, _ = net.ParseMAC(mac)
	}
	return h
}

func TestDeviceKey(t *testing.T) {
	for _, tc := range []struct {
		h    *scanner.Host
		want string
	}{
		{host("198.18.0.1", "AA:BB:CC:DD:EE:01"), "mac:aa:bb:cc:dd:ee:01"},
		{host("198.18.0.1", ""), "ip:198.18.0.1"},
		{host("198.18.0.1", "00:00:00:00:00:00"), "ip:198.18.0.1"},
		{host("198.18.0.1", "ff:ff:ff:ff:ff:ff"), "ip:198.18.0.1"},
		{host("2001:db8::1", "01:00:5e:00:00:01"), "ip:2001:db8::1"},
	} {
		if got := DeviceKey(tc.h); got != tc.want {
			t.Errorf("DeviceKey(%v %v) = %q, want %q", tc.h.Addr, tc.h.MAC, got, tc.want)
		}
	}
}

func TestStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "store.json")
	s, err := OpenStore(path)
	if err != nil || s.Len() != 0 {
		t.Fatalf("missing file: %v, %d devices", err, s.Len())
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Record([]*scanner.Host{host("198.18.0.1", "aa:bb:cc:dd:ee:01"), host("198.18.0.7", "")}, t0)
	s.SetLabel(host("198.18.0.7", ""), "  printer\x07 upstairs ", t0)
	set := settings.DefaultSettings()
	set.Timeout, set.Retries, set.Rate, set.Ports, set.Method, set.Lookups = 2*time.Second, 3, 250, []uint16{22, 80}, probe.TCP, false
	s.SetSettings(set)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}

	s2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s2.Settings(), set) {
		t.Errorf("settings %+v, want %+v", s2.Settings(), set)
	}
	if d, _ := s2.Device("ip:198.18.0.7"); d.Label != "printer upstairs" {
		t.Errorf("label %q", d.Label)
	}
	if d, _ := s2.Device("mac:aa:bb:cc:dd:ee:01"); !d.FirstSeen.Equal(t0) || d.Addr != "198.18.0.1" {
		t.Errorf("device %+v", d)
	}

	// The printer's MAC becomes known: it moves to its MAC key with its label.
	t1 := t0.Add(time.Hour)
	s2.Record([]*scanner.Host{host("198.18.0.7", "aa:bb:cc:dd:ee:07")}, t1)
	if _, ok := s2.Device("ip:198.18.0.7"); ok {
		t.Error("address entry kept after the MAC became known")
	}
	d, ok := s2.Device("mac:aa:bb:cc:dd:ee:07")
	if !ok || d.Label != "printer upstairs" || !d.FirstSeen.Equal(t0) || !d.LastSeen.Equal(t1) {
		t.Errorf("moved device %+v", d)
	}
}

func TestStoreMissing(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "s.json"))
	t0 := time.Unix(1e9, 0)
	s.Record([]*scanner.Host{host("198.18.0.1", "aa:bb:cc:dd:ee:01"), host("198.18.0.2", ""), host("198.18.1.9", "")}, t0)
	in24 := func(a netip.Addr) bool { return netip.MustParsePrefix("198.18.0.0/24").Contains(a) }
	got := s.Missing(in24, map[string]bool{}, map[netip.Addr]bool{netip.MustParseAddr("198.18.0.1"): true})
	if len(got) != 1 || got[0].Addr != "198.18.0.2" {
		t.Errorf("missing = %+v", got)
	}
}

func TestOpenStoreDamaged(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"garbage":   "\x00\x01not json",
		"truncated": `{"version":1,"devices":[`,
		"version":   `{"version":99}`,
		"trailing":  `{"version":1} {}`,
		"wrongtype": `{"version":1,"devices":{"a":1}}`,
	} {
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenStore(path)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if s == nil || s.Len() != 0 || !reflect.DeepEqual(s.Settings(), settings.DefaultSettings()) {
			t.Errorf("%s: store not empty", name)
		}
		if b, _ := os.ReadFile(path + ".bad"); string(b) != data {
			t.Errorf("%s: copy of the damaged file = %q", name, b)
		}
	}
}

func TestParseStoreRepairs(t *testing.T) {
	data := `{"version":1,
	 "settings":{"timeout_ms":-5,"retries":99,"rate":0,"ports":[0,22,65535],"method":"carrier-pigeon"},
	 "devices":[
	  {"key":"mac:forged","mac":"AA-BB-CC-DD-EE-01","addr":"::ffff:198.18.0.1","label":"` + strings.Repeat("é", 100) + `","first_seen":"2025-01-02T00:00:00Z","last_seen":"2024-01-01T00:00:00Z"},
	  {"key":"ip:x","addr":"not an address"},
	  {"key":"ip:198.18.0.2","addr":"198.18.0.2","name":"bad\u0000name\u001b[31m"}
	 ]}`
	devs, set, err := ParseStore([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	def := settings.DefaultSettings()
	if set.Timeout != def.Timeout || set.Retries != targets.MaxRetries || set.Rate != def.Rate || set.Method != probe.Auto || !set.Lookups {
		t.Errorf("settings not repaired: %+v", set)
	}
	if !reflect.DeepEqual(set.Ports, []uint16{22, 65535}) {
		t.Errorf("ports %v", set.Ports)
	}
	if len(devs) != 2 {
		t.Fatalf("devices %v", devs)
	}
	d := devs["mac:aa:bb:cc:dd:ee:01"]
	if d == nil || d.Addr != "198.18.0.1" || len([]rune(d.Label)) != store.MaxLabel || d.LastSeen.Before(d.FirstSeen) {
		t.Errorf("device not repaired: %+v", d)
	}
	if d := devs["ip:198.18.0.2"]; d == nil || d.Name != "badname[31m" {
		t.Errorf("control characters kept: %+v", d)
	}
}

// FuzzParseStore: whatever the file holds, parsing never panics, and what
// it accepts survives a save and a second parse unchanged.
func FuzzParseStore(f *testing.F) {
	s := NewStore("")
	s.Record([]*scanner.Host{host("198.18.0.1", "aa:bb:cc:dd:ee:01"), host("2001:db8::5", "")}, time.Unix(1e9, 0).UTC())
	s.SetLabel(host("198.18.0.1", "aa:bb:cc:dd:ee:01"), "router", time.Unix(1e9, 0).UTC())
	seed, _ := s.Marshal()
	f.Add(seed)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"settings":{"rate":1e309},"devices":[{"mac":"zz"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		devs, set, err := ParseStore(data)
		if err != nil {
			return
		}
		if set.Check() != nil {
			t.Fatalf("accepted settings out of range: %+v: %v", set, set.Check())
		}
		s := &Store{devices: devs, settings: set}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		devs2, set2, err := ParseStore(out)
		if err != nil {
			t.Fatalf("own output refused: %v\n%s", err, out)
		}
		s2 := &Store{devices: devs2, settings: set2}
		out2, _ := s2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}
