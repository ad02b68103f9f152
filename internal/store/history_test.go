package store

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// presence records a history from a pattern, one scan per character
// five minutes apart: 'x' the device answered (with RTT index+1 ms), '.'
// it was missed, ' ' it was not covered (another network was scanned).
func presence(t *testing.T, s *Store, c *clock, pattern string) {
	t.Helper()
	for i, ch := range pattern {
		var o []Observation
		if ch == 'x' {
			o = append(o, obs("198.18.0.7", "b8:27:eb:00:00:07", time.Duration(i+1)*time.Millisecond, "pi.local"))
		}
		covered := func(netip.Addr) bool { return ch != ' ' }
		record(t, s, c, covered, o...)
	}
}

// utc prints periods with their times in UTC, as the test's are.
func utc(ps []Period) string {
	for i := range ps {
		ps[i].Start, ps[i].End = ps[i].Start.UTC(), ps[i].End.UTC()
	}
	return fmt.Sprint(ps)
}

func TestPeriodsTimelineSeries(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	presence(t, s, c, "xxx..xx xx.")
	d, err := s.DeviceByKey(ctx, "mac:b8:27:eb:00:00:07")
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 5 * time.Minute) }
	end := c.t

	periods, err := s.Periods(ctx, d.ID, t0, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Period{
		{at(0), at(2), true, 3},
		{at(3), at(4), false, 2},
		{at(5), at(9), true, 4}, // the uncovered scan 7 is no absence
		{at(10), at(10), false, 1},
	}
	if utc(periods) != fmt.Sprint(want) {
		t.Errorf("Periods:\n got %v\nwant %v", periods, want)
	}
	// A pause in scanning longer than maxGap splits a run.
	periods, _ = s.Periods(ctx, d.ID, t0, end, 9*time.Minute)
	if len(periods) != 5 || !periods[2].End.Equal(at(6)) || !periods[3].Start.Equal(at(8)) {
		t.Errorf("Periods with a 9-minute gap limit: %v", periods)
	}
	// AutoGap: three times the usual 5 minutes; the 10-minute pause at
	// scan 7 is not long enough, a pause of an hour is.
	if p, _ := s.Periods(ctx, d.ID, t0, end, AutoGap); len(p) != 4 {
		t.Errorf("Periods with AutoGap: %v", p)
	}
	c.t = c.t.Add(time.Hour)
	presence(t, s, c, "x")
	if p, _ := s.Periods(ctx, d.ID, t0, c.t, AutoGap); len(p) != 5 || p[4].Scans != 1 || !p[4].Present {
		t.Errorf("Periods with AutoGap after an hour's pause: %v", p)
	}
	// A window that starts inside a run.
	periods, _ = s.Periods(ctx, d.ID, at(1), at(4), 0)
	if utc(periods) != fmt.Sprint([]Period{{at(1), at(2), true, 2}, {at(3), at(3), false, 1}}) {
		t.Errorf("Periods in a window: %v", periods)
	}

	buckets, err := s.Timeline(ctx, d.ID, t0, t0.Add(time.Hour), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	wantB := []Bucket{{t0, 3, 3}, {at(3), 3, 1}, {at(6), 2, 2}, {at(9), 2, 1}}
	for i := range buckets {
		buckets[i].Start = buckets[i].Start.UTC()
	}
	if fmt.Sprint(buckets) != fmt.Sprint(wantB) {
		t.Errorf("Timeline:\n got %v\nwant %v", buckets, wantB)
	}
	if _, err := s.Timeline(ctx, d.ID, t0, t0.Add(365*24*time.Hour), time.Minute); err == nil {
		t.Error("Timeline of half a million slots accepted")
	}
	if _, err := s.Timeline(ctx, d.ID, t0, t0.Add(time.Hour), 0); err == nil {
		t.Error("Timeline of width 0 accepted")
	}

	series, err := s.RTTSeries(ctx, d.ID, t0, end)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, p := range series {
		got = append(got, int(p.RTT/time.Millisecond))
	}
	if fmt.Sprint(got) != "[1 2 3 6 7 9 10]" || !series[3].Time.Equal(at(5)) {
		t.Errorf("RTTSeries: %v (%v)", got, series)
	}

	sum, err := s.RTTSummary(ctx, d.ID, t0, end)
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	if sum != (RTTSummary{Scans: 10, Present: 7, Samples: 7, Min: ms, Median: 6 * ms, P95: 10 * ms, Max: 10 * ms, Mean: 38 * ms / 7 / time.Microsecond * time.Microsecond}) {
		t.Errorf("RTTSummary %+v", sum)
	}
	if sum, _ := s.RTTSummary(ctx, d.ID, end, end.Add(time.Hour)); sum != (RTTSummary{}) {
		t.Errorf("RTTSummary of an empty window: %+v", sum)
	}
}

func TestRetention(t *testing.T) {
	c := &clock{t: t0}
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(context.Background(), path, Options{Mode: ModeRecord, Retention: 10 * 24 * time.Hour, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// 20 days of hourly scans; the clock stays at the first day while
	// they are written, so nothing is pruned yet.
	for day := range 20 {
		for h := range 24 {
			at := t0.Add(time.Duration(day*24+h) * time.Hour)
			o := []Observation{obs("198.18.0.7", "b8:27:eb:00:00:07", time.Millisecond, fmt.Sprintf("pi-%d.local", day))}
			if _, err := s.RecordScan(ctx, Scan{Started: at}, o, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(q string) (n int) {
		if err := s.db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("SELECT count(*) FROM scans"); n != 480 {
		t.Fatalf("%d scans before pruning", n)
	}
	c.t = t0.Add(20 * 24 * time.Hour) // now: 10 days are past the retention
	n, err := s.Prune(ctx)
	if err != nil || n != 240 {
		t.Fatalf("Prune = %d, %v; want 240", n, err)
	}
	if n := count("SELECT count(*) FROM scans"); n != 240 {
		t.Errorf("%d scans after pruning", n)
	}
	if n := count("SELECT count(*) FROM observations"); n != 240 {
		t.Errorf("%d observations after pruning", n)
	}
	// One identity per day's name: the pruned days' are gone.
	if n := count("SELECT count(*) FROM identities"); n != 10 {
		t.Errorf("%d identities after pruning, want 10", n)
	}
	// The device is kept, with its first seen.
	d, err := s.DeviceByKey(ctx, "mac:b8:27:eb:00:00:07")
	if err != nil || !d.FirstSeen.Equal(t0) {
		t.Errorf("device after pruning: %+v, %v", d, err)
	}
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v", n, err)
	}
	if (DefaultRetention != 90*24*time.Hour) || s.retention != 10*24*time.Hour {
		t.Errorf("retention %v, default %v", s.retention, DefaultRetention)
	}
}

// TestPruneIsBounded checks that one Prune does a bounded share of a
// long backlog and the rest follows on later calls.
func TestPruneIsBounded(t *testing.T) {
	c := &clock{t: t0}
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(context.Background(), path, Options{Mode: ModeRecord, Retention: time.Hour, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	tx, _ := s.db.Begin()
	for i := range 5 * pruneBatch {
		if _, err := tx.Exec("INSERT INTO scans (started, finished) VALUES (?, ?)", ms(t0)+int64(i), ms(t0)+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	c.t = t0.Add(48 * time.Hour)
	total := 0
	for range 10 {
		n, err := s.pruneBatch(ctx, ms(c.t.Add(-time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		if n > pruneBatch {
			t.Fatalf("one batch pruned %d scans, more than %d", n, pruneBatch)
		}
		total += n
	}
	if total != 5*pruneBatch {
		t.Errorf("batches pruned %d, want %d", total, 5*pruneBatch)
	}
}

// TestQueryPlans checks that the queries that touch many observations
// read a range of the primary key and sort nothing: on a year of history
// anything else is a scan of ten million rows.
func TestQueryPlans(t *testing.T) {
	s, _ := newStore(t)
	for name, q := range map[string]string{"samples": samplesQuery, "prune": pruneObservationsQuery} {
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+q, 1, 1, 2, 0, 9)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if !strings.Contains(all, "observations USING PRIMARY KEY (device_id=? AND scan_id>? AND scan_id<?)") &&
			!strings.Contains(all, "o USING PRIMARY KEY (device_id=? AND scan_id>? AND scan_id<?)") {
			t.Errorf("%s: plan %q does not read a key range", name, all)
		}
		if strings.Contains(all, "TEMP B-TREE") || strings.Contains(all, "SCAN observations") || strings.Contains(all, "SCAN o ") {
			t.Errorf("%s: plan %q sorts or scans", name, all)
		}
	}
}
