// Package historygen fills a history store with generated scans of
// made-up devices that come and go: for the app's timeline tests, and for
// the screenshots, which show a week of history a test LAN cannot live
// through. Nothing a user runs calls it.
package historygen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"netscanner/internal/store"
	"netscanner/scanner"
)

// Device is one generated device: what a scan finds when it is here, when
// that is, and how fast it answers.
type Device struct {
	Host scanner.Host
	// Here says whether the device answers a scan that starts at t.
	Here func(t time.Time) bool
	// RTT is its typical round trip; each answer varies around it.
	RTT time.Duration
}

// Always is here for every scan.
func Always(time.Time) bool { return true }

// Hours is here from the hour from to the hour to of each day, in loc
// (a phone that comes home in the evening: Hours(17, 8, loc)).
func Hours(from, to int, loc *time.Location) func(time.Time) bool {
	return func(t time.Time) bool {
		h := t.In(loc).Hour()
		if from <= to {
			return h >= from && h < to
		}
		return h >= from || h < to
	}
}

// Until is here before t only: a device that left.
func Until(end time.Time) func(time.Time) bool {
	return func(t time.Time) bool { return t.Before(end) }
}

// Since is here from t on: a device that joined.
func Since(start time.Time) func(time.Time) bool {
	return func(t time.Time) bool { return !t.Before(start) }
}

// Fill records a scan every `every` from `from` up to (not including) to
// into st (opened with store.ModeRecord), each finding the devices that
// are here then; every scan covers every device. Round trips vary within
// a quarter of their RTT either way, seeded by seed so that the same call
// writes the same history. It returns the number of scans written.
func Fill(ctx context.Context, st *store.Store, devs []Device, from, to time.Time, every time.Duration, seed uint64) (int, error) {
	if every <= 0 || !to.After(from) {
		return 0, fmt.Errorf("historygen: want a positive interval and from before to, got %v over %v..%v", every, from, to)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	n := 0
	for t := from; t.Before(to); t = t.Add(every) {
		var obs []store.Observation
		for i := range devs {
			d := &devs[i]
			if d.Here != nil && !d.Here(t) {
				continue
			}
			h := d.Host
			if d.RTT > 0 {
				h.RTT = d.RTT + time.Duration(rng.Int64N(int64(d.RTT)))/2 - d.RTT/4
			}
			obs = append(obs, store.FromHost(&h))
		}
		scan := store.Scan{Started: t, Finished: t.Add(2 * time.Second), Targets: "generated", Method: "raw", Total: 256}
		if _, err := st.RecordScan(ctx, scan, obs, nil); err != nil {
			return n, fmt.Errorf("historygen: scan at %v: %w", t, err)
		}
		n++
	}
	return n, nil
}
