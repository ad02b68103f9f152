package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The generated history: a year of scans every 5 minutes of a home with
// 100 devices, the size docs/benchmarks.md promises to stay under 200 MB.
const (
	benchDevices  = 100
	benchInterval = 5 * time.Minute
	benchDays     = 365
)

// benchHabit is when a generated device is about: always (router, NAS,
// TV), in the daytime (phones and laptops, with dozes), or now and then
// (a guest, a console).
type benchHabit int

const (
	alwaysOn benchHabit = iota
	daytime
	sometimes
)

func habitOf(i int) benchHabit {
	switch {
	case i < 30:
		return alwaysOn
	case i < 70:
		return daytime
	}
	return sometimes
}

// benchPresent says whether device i answers the scan at t; with all
// set, every device always does (the largest history a year can make).
func benchPresent(r *rand.Rand, i int, t time.Time, all bool) bool {
	if all {
		return true
	}
	switch habitOf(i) {
	case alwaysOn:
		return r.IntN(200) != 0 // a lost reply now and then
	case daytime:
		h := t.Hour()
		return h >= 7 && h < 23 && r.IntN(10) != 0 // a phone dozes
	}
	// Present for a few hours on some days.
	day := t.YearDay()
	return (day*7+i)%5 == 0 && t.Hour() >= 18 && t.Hour() < 22
}

func benchObservation(i int, r *rand.Rand, day int) Observation {
	// A DHCP lease that changes every 30 days or so for the daytime
	// devices, so identities change now and then as in life.
	host := byte(10 + i)
	if habitOf(i) == daytime {
		host = byte(10 + i + (day/30)%3*100)
	}
	return Observation{
		Addr:     netip.AddrFrom4([4]byte{198, 18, 100, host}),
		MAC:      net.HardwareAddr{0xb8, 0x27, 0xeb, 0x00, 0x01, byte(i)},
		RTT:      time.Duration(200+r.IntN(40_000)) * time.Microsecond,
		Hostname: fmt.Sprintf("device-%02d.local", i),
		Names:    []string{fmt.Sprintf("device-%02d.local", i), fmt.Sprintf("DEVICE-%02d", i)},
		Vendor:   "Raspberry Pi Foundation",
		Kind:     "computer",
	}
}

// generateYear writes benchDays of history into a new database at path.
// The first day goes through RecordScan, which creates the devices and
// their identities; the rest is the same rows written in the same order
// (scans in time order, each scan's observations in one transaction per
// day), in bulk, because ten million RecordScan calls would take the
// better part of an hour. The database's layout on disk, which is what
// its size depends on, is the same.
func generateYear(tb testing.TB, path string, days int, all bool) (end time.Time) {
	tb.Helper()
	ctx := context.Background()
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{t: start}
	s, err := Open(ctx, path, Options{Mode: ModeRecord, Retention: 400 * 24 * time.Hour, Now: c.now})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 2))
	perDay := int(24 * time.Hour / benchInterval)
	scanAt := func(n int) time.Time { return start.Add(time.Duration(n) * benchInterval) }
	// identity of device i on day d: RecordScan made it on day 0, the
	// bulk writer makes one per lease change.
	identities := map[[2]int]int64{}
	for n := range perDay {
		t := scanAt(n)
		var o []Observation
		for i := range benchDevices {
			if n == 0 || benchPresent(r, i, t, all) {
				o = append(o, benchObservation(i, r, 0))
			}
		}
		res, err := s.RecordScan(ctx, Scan{Started: t, Finished: t.Add(2 * time.Second), Targets: "198.18.100.0/24", Method: "raw", Total: 254}, o, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for _, sn := range res.Seen {
			var id int64
			if err := s.db.QueryRow("SELECT identity_id FROM devices WHERE id = ?", sn.Device.ID).Scan(&id); err != nil {
				tb.Fatal(err)
			}
			identities[[2]int{int(sn.Device.ID), 0}] = id
		}
	}
	devID := make([]int64, benchDevices)
	for i := range benchDevices {
		d, err := s.DeviceByKey(ctx, macKey(strings.ToLower(benchObservation(i, r, 0).MAC.String())))
		if err != nil {
			tb.Fatal(err)
		}
		devID[i] = d.ID
	}
	for day := 1; day < days; day++ {
		tx, err := s.db.Begin()
		if err != nil {
			tb.Fatal(err)
		}
		for n := day * perDay; n < (day+1)*perDay; n++ {
			t := scanAt(n)
			var scanID int64
			if err := tx.QueryRow(`INSERT INTO scans (started, finished, targets, method, total, alive) VALUES (?, ?, '198.18.100.0/24', 'raw', 254, 0) RETURNING id`,
				ms(t), ms(t.Add(2*time.Second))).Scan(&scanID); err != nil {
				tb.Fatal(err)
			}
			var q strings.Builder
			q.WriteString("INSERT INTO observations (device_id, scan_id, rtt_us, identity_id) VALUES ")
			args := make([]any, 0, 4*benchDevices)
			for i := range benchDevices {
				if i > 0 {
					q.WriteString(",")
				}
				q.WriteString("(?, ?, ?, ?)")
				id := devID[i]
				if benchPresent(r, i, t, all) {
					o := benchObservation(i, r, day)
					key := [2]int{int(id), (day / 30) % 3}
					if habitOf(i) != daytime {
						key[1] = 0
					}
					ident, ok := identities[key]
					if !ok {
						sg := group([]Observation{o})[0]
						if err := tx.QueryRow(`INSERT INTO identities (device_id, digest, addr, mac, hostname, names, vendor, kind, model, friendly_name, services, addrs, last_scan)
VALUES (?, ?, ?, ?, ?, '[]', ?, ?, '', '', '[]', '[]', ?) RETURNING id`, id, sg.id.digest(), sg.id.Addr, sg.id.MAC, sg.id.Hostname, sg.id.Vendor, sg.id.Kind, scanID).Scan(&ident); err != nil {
							tb.Fatal(err)
						}
						identities[key] = ident
					}
					args = append(args, id, scanID, o.RTT.Microseconds(), ident)
				} else {
					args = append(args, id, scanID, nil, nil)
				}
			}
			if _, err := tx.Exec(q.String(), args...); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		tb.Fatal(err)
	}
	return scanAt(days * perDay)
}

// diskSize is the database with its WAL and shared-memory files: what
// the history costs on disk.
func diskSize(tb testing.TB, path string) int64 {
	var total int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// BenchmarkHistoryYear generates a year of 5-minute history for 100
// devices (about 10.5 million observations), reports its size on disk,
// then times the queries the CLI and the app make of it.
//
//	go test -tags migrated_fynedo -run '^$' -bench BenchmarkHistoryYear -benchtime 20x ./internal/store/
//
// NETSCANNER_BENCH_DAYS shortens the year for a quick look.
func BenchmarkHistoryYear(b *testing.B) {
	days := benchDays
	if v := os.Getenv("NETSCANNER_BENCH_DAYS"); v != "" {
		if _, err := fmt.Sscan(v, &days); err != nil || days < 8 {
			b.Fatalf("NETSCANNER_BENCH_DAYS=%q: want a number of days, at least 8", v)
		}
	}
	path := filepath.Join(b.TempDir(), "history.db")
	began := time.Now()
	end := generateYear(b, path, days, false)
	size := diskSize(b, path)
	b.Logf("generated %d days x %d devices (%d scans) in %v: %.1f MB on disk",
		days, benchDevices, days*int(24*time.Hour/benchInterval), time.Since(began).Round(time.Second), float64(size)/1e6)

	ctx := context.Background()
	s, err := Open(ctx, path, Options{Mode: ModeRead})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	phone, err := s.Find(ctx, "device-42.local") // a daytime device
	if err != nil {
		b.Fatal(err)
	}
	week := end.Add(-7 * 24 * time.Hour)

	b.Run("size", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(size)/1e6, "MB")
		b.ReportMetric(float64(size)/float64(days*int(24*time.Hour/benchInterval)*benchDevices), "B/observation")
	})
	b.Run("week-timeline", func(b *testing.B) {
		for b.Loop() {
			bk, err := s.Timeline(ctx, phone.ID, week, end, time.Hour)
			if err != nil || len(bk) != 168 {
				b.Fatalf("%d buckets, %v", len(bk), err)
			}
		}
	})
	b.Run("day-timeline", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Timeline(ctx, phone.ID, end.Add(-24*time.Hour), end, 15*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("week-rtt-series", func(b *testing.B) {
		for b.Loop() {
			if p, err := s.RTTSeries(ctx, phone.ID, week, end); err != nil || len(p) == 0 {
				b.Fatalf("%d points, %v", len(p), err)
			}
		}
	})
	b.Run("90-day-history", func(b *testing.B) { // what `netscanner history DEVICE` reads
		from := end.Add(-90 * 24 * time.Hour)
		for b.Loop() {
			if _, err := s.Periods(ctx, phone.ID, from, end, 3*benchInterval); err != nil {
				b.Fatal(err)
			}
			if _, err := s.RTTSummary(ctx, phone.ID, from, end); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("devices", func(b *testing.B) {
		for b.Loop() {
			if d, err := s.Devices(ctx); err != nil || len(d) != benchDevices {
				b.Fatalf("%d devices, %v", len(d), err)
			}
		}
	})
	s.Close()

	// Recording one more scan into the full year, as a watcher does
	// every five minutes.
	b.Run("record-scan", func(b *testing.B) {
		c := &clock{t: end}
		w, err := Open(ctx, path, Options{Mode: ModeRecord, Retention: 400 * 24 * time.Hour, Now: c.now})
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		r := rand.New(rand.NewPCG(3, 4))
		for b.Loop() {
			var o []Observation
			for i := range benchDevices {
				if benchPresent(r, i, c.t, false) {
					o = append(o, benchObservation(i, r, days))
				}
			}
			if _, err := w.RecordScan(ctx, Scan{Started: c.t}, o, nil); err != nil {
				b.Fatal(err)
			}
			c.t = c.t.Add(benchInterval)
		}
	})

	// Pruning a shortened retention's backlog: one batch, a day of scans
	// (28,800 observations), at the oldest end of the year.
	b.Run("prune-batch", func(b *testing.B) {
		w, err := Open(ctx, path, Options{Mode: ModeRecord})
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		for b.Loop() {
			if n, err := w.pruneBatch(ctx, ms(end)); err != nil || n != pruneBatch {
				b.Fatalf("pruned %d, %v", n, err)
			}
		}
	})
}

// BenchmarkHistoryYearAllPresent is the year of BenchmarkHistoryYear with
// every device present in every scan: the most a year of 100 devices can
// take, since a present observation is larger than an absent one.
func BenchmarkHistoryYearAllPresent(b *testing.B) {
	path := filepath.Join(b.TempDir(), "history.db")
	generateYear(b, path, benchDays, true)
	size := diskSize(b, path)
	for b.Loop() {
	}
	b.ReportMetric(float64(size)/1e6, "MB")
	b.ReportMetric(float64(size)/float64(benchDays*int(24*time.Hour/benchInterval)*benchDevices), "B/observation")
}
