package store

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)

func openAt(t *testing.T, path string, mode Mode, c *clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{Mode: mode, Now: c.now})
	if err != nil {
		t.Fatalf("Open(%s, %v): %v", path, mode, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	c := &clock{t: t0}
	return openAt(t, filepath.Join(t.TempDir(), "history.db"), ModeRecord, c), c
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func obs(addr, mac string, rtt time.Duration, names ...string) Observation {
	o := Observation{Addr: netip.MustParseAddr(addr), RTT: rtt, Names: names}
	if mac != "" {
		o.MAC = mustMAC(mac)
	}
	if len(names) > 0 {
		o.Hostname = names[0]
	}
	return o
}

// record records one scan at the clock's time and moves the clock on by
// five minutes.
func record(t *testing.T, s *Store, c *clock, covered func(netip.Addr) bool, o ...Observation) ScanResult {
	t.Helper()
	res, err := s.RecordScan(context.Background(), Scan{Started: c.t, Finished: c.t.Add(time.Second), Targets: "198.18.0.0/24"}, o, covered)
	if err != nil {
		t.Fatalf("RecordScan: %v", err)
	}
	c.t = c.t.Add(5 * time.Minute)
	return res
}

func TestOpenCreatesSchema(t *testing.T) {
	s, _ := newStore(t)
	var ver, id int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&ver); err != nil || ver != schemaVersion() {
		t.Fatalf("user_version %d, %v; want %d", ver, err, schemaVersion())
	}
	if err := s.db.QueryRow("PRAGMA application_id").Scan(&id); err != nil || id != appID {
		t.Fatalf("application_id %#x, %v", id, err)
	}
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q, %v; want wal", mode, err)
	}
	for _, table := range []string{"meta", "devices", "device_macs", "scans", "identities", "observations"} {
		var n int
		if err := s.db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: %d, %v", table, n, err)
		}
	}
	// Opening again migrates nothing and keeps what is there.
	path := s.Path()
	s.Close()
	s2 := openAt(t, path, ModeRecord, &clock{t: t0})
	if err := s2.db.QueryRow("PRAGMA user_version").Scan(&ver); err != nil || ver != schemaVersion() {
		t.Fatalf("reopened: user_version %d, %v", ver, err)
	}
}

// TestMigrationsStepByStep runs each migration from an empty file, as
// Open does, and checks that a later migration starts from the version
// the one before left: the shape a future migration plugs into.
func TestMigrationsStepByStep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for v, m := range migrations() {
		var cur int
		if err := db.QueryRow("PRAGMA user_version").Scan(&cur); err != nil || cur != v {
			t.Fatalf("before migration %d: version %d, %v", v+1, cur, err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := m(ctx, tx); err != nil {
			t.Fatalf("migration %d: %v", v+1, err)
		}
		if _, err := tx.Exec("PRAGMA user_version = " + string(rune('0'+v+1))); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("PRAGMA application_id = 1314082376"); err != nil { // appID
		t.Fatal(err)
	}
	db.Close()
	s := openAt(t, path, ModeRecord, &clock{t: t0})
	c := &clock{t: t0}
	res := record(t, s, c, nil, obs("198.18.0.7", "b8:27:eb:00:00:07", time.Millisecond, "pi.local"))
	if len(res.Seen) != 1 || res.Seen[0].Match != MatchNew {
		t.Fatalf("first scan on a step-migrated database: %+v", res)
	}
}

func TestRecordScanLifecycle(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	pi := obs("198.18.0.7", "b8:27:eb:00:00:07", 700*time.Microsecond, "pi.local")
	router := obs("198.18.0.1", "00:1a:2b:3c:4d:01", 300*time.Microsecond, "router.lan")
	remote := obs("198.19.5.5", "", 9*time.Millisecond, "far.example")

	res := record(t, s, c, nil, pi, router, remote)
	if len(res.Seen) != 3 || len(res.Missed) != 0 {
		t.Fatalf("first scan: %d seen, %d missed", len(res.Seen), len(res.Missed))
	}
	for _, sn := range res.Seen {
		if sn.Match != MatchNew {
			t.Errorf("%s: match %v, want new", sn.Device.Key, sn.Match)
		}
	}
	if k := res.Seen[2].Device.Key; k != "ip:198.19.5.5" {
		t.Errorf("device without MAC keyed %q", k)
	}

	// The Pi misses two scans, then comes back at another address.
	for i := 1; i <= 2; i++ {
		res = record(t, s, c, nil, router, remote)
		if len(res.Missed) != 1 || res.Missed[0].Device.Key != "mac:b8:27:eb:00:00:07" || res.Missed[0].Device.Misses != i {
			t.Fatalf("scan %d: missed %+v", i+1, res.Missed)
		}
		if res.Seen[0].Match != MatchMAC || res.Seen[1].Match != MatchAddress {
			t.Errorf("scan %d: matches %v %v", i+1, res.Seen[0].Match, res.Seen[1].Match)
		}
	}
	moved := pi
	moved.Addr = netip.MustParseAddr("198.18.0.8")
	res = record(t, s, c, nil, moved, router, remote)
	back := res.Seen[0]
	if back.Match != MatchMAC || back.MissesBefore != 2 || !back.Device.Present || back.Device.Misses != 0 {
		t.Fatalf("back: %+v", back)
	}
	if len(back.Changes) != 1 || back.Changes[0] != (Change{Field: "addr", Old: "198.18.0.7", New: "198.18.0.8"}) {
		t.Errorf("changes %+v, want the address", back.Changes)
	}

	// A scan that does not cover the Pi's address records no absence.
	res = record(t, s, c, func(a netip.Addr) bool { return a.Is4() && a.As4()[3] == 1 }, router)
	if len(res.Missed) != 0 {
		t.Errorf("uncovered device missed: %+v", res.Missed)
	}
	// A cancelled scan records who answered and nobody as missed.
	if r, err := s.RecordScan(ctx, Scan{Started: c.t, Cancelled: true}, []Observation{router}, nil); err != nil || len(r.Missed) != 0 {
		t.Errorf("cancelled scan: %+v, %v", r, err)
	}

	devs, err := s.Devices(ctx)
	if err != nil || len(devs) != 3 {
		t.Fatalf("Devices: %d, %v", len(devs), err)
	}
	d, err := s.DeviceByKey(ctx, "mac:B8:27:EB:00:00:07")
	if err != nil || d.Addr != "198.18.0.8" || d.Hostname != "pi.local" || !d.FirstSeen.Equal(t0) {
		t.Fatalf("DeviceByKey: %+v, %v", d, err)
	}
	sum, err := s.RTTSummary(ctx, d.ID, t0, c.t)
	if err != nil || sum.Scans != 4 || sum.Present != 2 || sum.Samples != 2 || sum.Median != 700*time.Microsecond {
		t.Errorf("RTTSummary %+v, %v", sum, err)
	}
}

func TestOneDevicePerMAC(t *testing.T) {
	s, c := newStore(t)
	mac := "b8:27:eb:00:00:07"
	v6 := obs("fe80::ba27:ebff:fe00:7", mac, 2*time.Millisecond)
	v4 := obs("198.18.0.7", mac, time.Millisecond, "pi.local")
	res := record(t, s, c, nil, v6, v4)
	if len(res.Seen) != 1 {
		t.Fatalf("IPv4 and IPv6 of one MAC: %d devices", len(res.Seen))
	}
	sn := res.Seen[0]
	if sn.Device.Addr != "198.18.0.7" || len(sn.Observations) != 2 || sn.Device.Hostname != "pi.local" {
		t.Errorf("merged device %+v", sn)
	}
	var rtt int64
	if err := s.db.QueryRow("SELECT rtt_us FROM observations").Scan(&rtt); err != nil || rtt != 1000 {
		t.Errorf("stored rtt %d, %v; want the IPv4 one, 1000 µs", rtt, err)
	}
}

func TestAddressDeviceGainsMAC(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	record(t, s, c, nil, obs("198.18.0.9", "", time.Millisecond))
	d, err := s.DeviceByKey(ctx, "ip:198.18.0.9")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabel(ctx, d.ID, "printer"); err != nil {
		t.Fatal(err)
	}
	res := record(t, s, c, nil, obs("198.18.0.9", "00:80:77:00:00:09", time.Millisecond))
	sn := res.Seen[0]
	if sn.Match != MatchAddress || sn.Device.ID != d.ID || sn.Device.Key != "mac:00:80:77:00:00:09" || sn.Device.Label != "printer" {
		t.Fatalf("device known by address, now by MAC: %+v", sn)
	}
}

func TestLinkedPrivateMAC(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	old := obs("198.18.0.23", "da:a1:19:00:00:17", 4*time.Millisecond, "Pixel-7.local")
	res := record(t, s, c, nil, old)
	id := res.Seen[0].Device.ID
	if err := s.SetLabel(ctx, id, "Anna's phone"); err != nil {
		t.Fatal(err)
	}
	record(t, s, c, nil) // away

	// Back with a new private MAC and another address, same mDNS name.
	fresh := obs("198.18.0.42", "6e:11:22:33:44:55", 5*time.Millisecond, "pixel-7.local")
	res = record(t, s, c, nil, fresh)
	sn := res.Seen[0]
	if sn.Match != MatchLinked || sn.Device.ID != id || sn.Link == nil {
		t.Fatalf("new private MAC: %+v", sn)
	}
	if got, want := sn.Link.Describe(sn.Device.Title()), "same device as Anna's phone, new private MAC (mDNS name pixel-7.local)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if sn.MissesBefore != 1 || sn.Device.MAC != "6e:11:22:33:44:55" || len(sn.Device.MACs) != 2 || sn.Device.MACs[0] != "6e:11:22:33:44:55" {
		t.Errorf("linked device %+v", sn.Device)
	}
	for _, key := range []string{"mac:da:a1:19:00:00:17", "mac:6e:11:22:33:44:55"} {
		if d, err := s.DeviceByKey(ctx, key); err != nil || d.ID != id {
			t.Errorf("DeviceByKey(%s) = %d, %v; want %d", key, d.ID, err, id)
		}
	}
	var linkedBy string
	if err := s.db.QueryRow("SELECT linked_by FROM device_macs WHERE mac = '6e:11:22:33:44:55'").Scan(&linkedBy); err != nil || linkedBy != "mDNS name pixel-7.local" {
		t.Errorf("linked_by %q, %v", linkedBy, err)
	}

	// A third random MAC with the same name while the phone answers
	// under its own is another device.
	other := obs("198.18.0.50", "7a:00:00:00:00:01", time.Millisecond, "pixel-7.local")
	res = record(t, s, c, nil, fresh, other)
	if res.Seen[1].Match != MatchNew {
		t.Errorf("lookalike present alongside the phone: %v, want new", res.Seen[1].Match)
	}
}

func TestLockRefusesSecondRecorder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history.db")
	ctx := context.Background()
	first := openAt(t, path, ModeRecord, &clock{t: t0})
	_, err := Open(ctx, path, Options{Mode: ModeRecord})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second recorder: %v, want a LockedError", err)
	}
	if !strings.Contains(err.Error(), "only one watcher") || le.PID <= 0 {
		t.Errorf("message %q (pid %d) should say who holds it and why", err, le.PID)
	}
	// Readers and editors still work.
	r := openAt(t, path, ModeRead, &clock{t: t0})
	if _, err := r.Devices(ctx); err != nil {
		t.Errorf("reader beside a recorder: %v", err)
	}
	e := openAt(t, path, ModeEdit, &clock{t: t0})
	if _, err := e.RecordScan(ctx, Scan{}, nil, nil); !errors.Is(err, ErrMode) {
		t.Errorf("editor recording: %v, want ErrMode", err)
	}
	if _, err := r.ImportLegacy(ctx, "x", nil); !errors.Is(err, ErrMode) {
		t.Errorf("reader importing: %v, want ErrMode", err)
	}
	first.Close()
	again, err := Open(ctx, path, Options{Mode: ModeRecord})
	if err != nil {
		t.Fatalf("recorder after the first closed: %v", err)
	}
	again.Close()
}

func TestFind(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	res := record(t, s, c, nil,
		obs("198.18.0.7", "b8:27:eb:00:00:07", time.Millisecond, "pi.local", "PI-NAS"),
		obs("198.18.0.8", "b8:27:eb:00:00:08", time.Millisecond, "twin.local"),
		obs("198.18.0.9", "b8:27:eb:00:00:09", time.Millisecond, "twin.local"),
	)
	pi := res.Seen[0].Device.ID
	if err := s.SetLabel(ctx, pi, "Kitchen Pi"); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"b8:27:eb:00:00:07", "B8-27-EB-00-00-07", "mac:b8:27:eb:00:00:07", "198.18.0.7", "kitchen pi", "PI-NAS", "pi.local"} {
		if d, err := s.Find(ctx, ref); err != nil || d.ID != pi {
			t.Errorf("Find(%q) = %d, %v; want %d", ref, d.ID, err, pi)
		}
	}
	if _, err := s.Find(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(nobody): %v", err)
	}
	var ae *AmbiguousError
	if _, err := s.Find(ctx, "twin.local"); !errors.As(err, &ae) || len(ae.Matches) != 2 {
		t.Errorf("Find(twin.local): %v, want ambiguous between 2", err)
	}
}

func TestCleanStoredText(t *testing.T) {
	s, c := newStore(t)
	o := obs("198.18.0.7", "b8:27:eb:00:00:07", time.Millisecond, "evil\x1b[31m.local\x00"+strings.Repeat("x", 1000))
	res := record(t, s, c, nil, o)
	d := res.Seen[0].Device
	if strings.ContainsAny(d.Hostname, "\x1b\x00") || len(d.Hostname) > maxText {
		t.Errorf("hostname stored as %q", d.Hostname)
	}
	if err := s.SetLabel(context.Background(), d.ID, " \x07"+strings.Repeat("é", 100)); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Device(context.Background(), d.ID)
	if d.Label != strings.Repeat("é", MaxLabel) {
		t.Errorf("label stored as %q", d.Label)
	}
}

// TestReaderAfterRecorder reads a database no other process has open:
// its WAL and shared-memory files are gone, and a reader creates
// nothing it needs to write.
func TestReaderAfterRecorder(t *testing.T) {
	s, c := newStore(t)
	record(t, s, c, nil, obs("198.18.0.7", "b8:27:eb:00:00:07", time.Millisecond, "pi.local"))
	path := s.Path()
	s.Close()
	r := openAt(t, path, ModeRead, c)
	devs, err := r.Devices(context.Background())
	if err != nil || len(devs) != 1 {
		t.Fatalf("reader alone: %d devices, %v", len(devs), err)
	}
	if err := r.SetLabel(context.Background(), devs[0].ID, "x"); !errors.Is(err, ErrMode) {
		t.Errorf("reader labelling: %v, want ErrMode", err)
	}
}

func TestRemember(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	o := obs("198.18.0.5", "da:a1:19:00:00:05", 0, "phone.local")
	d, err := s.Remember(ctx, o, t0)
	if err != nil || d.Key != "mac:da:a1:19:00:00:05" || !d.FirstSeen.Equal(t0) || d.Hostname != "phone.local" {
		t.Fatalf("Remember new: %+v, %v", d, err)
	}
	if err := s.SetLabel(ctx, d.ID, "Anna's phone"); err != nil {
		t.Fatal(err)
	}
	again, err := s.Remember(ctx, o, t0.Add(time.Hour))
	if err != nil || again.ID != d.ID || again.Label != "Anna's phone" || !again.LastSeen.Equal(t0) {
		t.Errorf("Remember known: %+v, %v", again, err)
	}
	// The scan that found it is then no news.
	res := record(t, s, c, nil, o)
	if res.Seen[0].Match != MatchMAC || res.Seen[0].Device.Label != "Anna's phone" {
		t.Errorf("scan after Remember: %+v", res.Seen[0])
	}
	if _, err := s.Remember(ctx, Observation{}, t0); err == nil {
		t.Error("Remember of nothing succeeded")
	}
	r := openAt(t, s.Path(), ModeRead, c)
	if _, err := r.Remember(ctx, o, t0); !errors.Is(err, ErrMode) {
		t.Errorf("reader Remember: %v", err)
	}
}
