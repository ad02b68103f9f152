package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// maxBuckets bounds a timeline: a year in hours is 8,760.
const maxBuckets = 10000

// sample is one observation of a device, in time order.
type sample struct {
	at      int64 // scan start, Unix ms
	present bool
	rtt     int64 // µs; 0 when unknown or absent
}

// samplesQuery reads a device's observations in a range of scans and of
// time (TestQueryPlans checks that it stays on the primary key).
const samplesQuery = `
SELECT s.started, o.identity_id IS NOT NULL, coalesce(o.rtt_us, 0)
FROM observations o JOIN scans s ON s.id = o.scan_id
WHERE o.device_id = ?1 AND o.scan_id BETWEEN ?2 AND ?3 AND s.started >= ?4 AND s.started < ?5
ORDER BY o.scan_id`

// samples calls fn for each observation of device id in scans that
// started in [from, to), in time order.
func (s *Store) samples(ctx context.Context, id int64, from, to time.Time, fn func(sample)) error {
	if !to.After(from) {
		return nil
	}
	var lo, hi sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT min(id), max(id) FROM scans WHERE started >= ? AND started < ?`, ms(from), ms(to)).Scan(&lo, &hi)
	if err != nil || !lo.Valid {
		return err
	}
	// The scan id range makes this one contiguous stretch of the
	// observations' primary key, read in key order (no sort); the time
	// test keeps it right if the clock ever went backwards, and then
	// the samples are put in time order here.
	rows, err := s.db.QueryContext(ctx, samplesQuery, id, lo.Int64, hi.Int64, ms(from), ms(to))
	if err != nil {
		return err
	}
	defer rows.Close()
	var all []sample
	for rows.Next() {
		var sm sample
		if err := rows.Scan(&sm.at, &sm.present, &sm.rtt); err != nil {
			return err
		}
		all = append(all, sm)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	byTime := func(a, b sample) int { return cmp.Compare(a.at, b.at) }
	if !slices.IsSortedFunc(all, byTime) {
		slices.SortStableFunc(all, byTime)
	}
	for _, sm := range all {
		fn(sm)
	}
	return nil
}

// AutoGap, given to Periods as maxGap, ends a run at any pause longer
// than three times the usual spacing of the device's scans: a watcher
// stopped overnight does not make the device present all night.
const AutoGap time.Duration = -1

// Periods returns the device's runs of presence and absence over the
// scans that started in [from, to), oldest first. A pause in scanning
// longer than maxGap ends a run (0: pauses never do; AutoGap: three times
// the median spacing of the scans).
func (s *Store) Periods(ctx context.Context, id int64, from, to time.Time, maxGap time.Duration) ([]Period, error) {
	var all []sample
	if err := s.samples(ctx, id, from, to, func(sm sample) { all = append(all, sm) }); err != nil {
		return nil, fmt.Errorf("device %d's periods: %w", id, err)
	}
	gap := maxGap.Milliseconds()
	if maxGap == AutoGap {
		gap = 3 * medianSpacing(all)
	}
	var out []Period
	for i, sm := range all {
		n := len(out)
		split := gap > 0 && i > 0 && sm.at-all[i-1].at > gap
		if n == 0 || out[n-1].Present != sm.present || split {
			out = append(out, Period{Start: fromMS(sm.at), Present: sm.present})
			n++
		}
		p := &out[n-1]
		p.End = fromMS(sm.at)
		p.Scans++
	}
	return out, nil
}

// medianSpacing is the median time between consecutive samples, in ms; 0
// with fewer than two.
func medianSpacing(all []sample) int64 {
	if len(all) < 2 {
		return 0
	}
	d := make([]int64, len(all)-1)
	for i := range d {
		d[i] = all[i+1].at - all[i].at
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// RTTSummary sums up the device's scans and round trips in [from, to).
func (s *Store) RTTSummary(ctx context.Context, id int64, from, to time.Time) (RTTSummary, error) {
	var sum RTTSummary
	var rtts []int64
	err := s.samples(ctx, id, from, to, func(sm sample) {
		sum.Scans++
		if sm.present {
			sum.Present++
			if sm.rtt > 0 {
				rtts = append(rtts, sm.rtt)
			}
		}
	})
	if err != nil {
		return sum, fmt.Errorf("device %d's round trips: %w", id, err)
	}
	if len(rtts) == 0 {
		return sum, nil
	}
	slices.Sort(rtts)
	var total int64
	for _, v := range rtts {
		total += v
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	n := len(rtts)
	sum.Samples = n
	sum.Min, sum.Max = us(rtts[0]), us(rtts[n-1])
	sum.Mean = us(total / int64(n))
	sum.Median = us(rtts[(n-1)/2])
	sum.P95 = us(rtts[min(n-1, (n*95+99)/100-1)])
	return sum, nil
}

// Timeline splits [from, to) into slots of width and counts, in each,
// the scans that covered the device and those that found it: presence
// bars for a day (width an hour, say) or a week.
func (s *Store) Timeline(ctx context.Context, id int64, from, to time.Time, width time.Duration) ([]Bucket, error) {
	if width <= 0 || !to.After(from) {
		return nil, fmt.Errorf("timeline: want a positive width and from before to, got %v over %v..%v", width, from, to)
	}
	n := (to.Sub(from) + width - 1) / width
	if n > maxBuckets {
		return nil, fmt.Errorf("timeline: %d slots of %v, at most %d", n, width, maxBuckets)
	}
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = from.Add(time.Duration(i) * width)
	}
	err := s.samples(ctx, id, from, to, func(sm sample) {
		i := int64(fromMS(sm.at).Sub(from) / width)
		if i < 0 || i >= int64(len(out)) {
			return
		}
		out[i].Scans++
		if sm.present {
			out[i].Present++
		}
	})
	if err != nil {
		return nil, fmt.Errorf("device %d's timeline: %w", id, err)
	}
	return out, nil
}

// RTTSeries returns every round trip the device answered with in scans
// that started in [from, to), oldest first: the points of an RTT plot.
func (s *Store) RTTSeries(ctx context.Context, id int64, from, to time.Time) ([]RTTPoint, error) {
	var out []RTTPoint
	err := s.samples(ctx, id, from, to, func(sm sample) {
		if sm.present && sm.rtt > 0 {
			out = append(out, RTTPoint{Time: fromMS(sm.at), RTT: time.Duration(sm.rtt) * time.Microsecond})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("device %d's round trips: %w", id, err)
	}
	return out, nil
}
