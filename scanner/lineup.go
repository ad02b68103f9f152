package scanner

import "net/netip"

// lineUp admits enrichment jobs, one per host, at most limit at a time, in
// the order they come; the rest wait in line as bare addresses, holding no
// goroutine, no socket and no stack. It belongs to the scan's goroutine,
// which alone starts and ends jobs, so it needs no lock: a semaphore would
// make that goroutine block, and it must keep streaming events.
type lineUp struct {
	limit   int
	running int
	waiting []netip.Addr
}

// add lines up a job for addr and reports whether it may start now; if
// so, it counts as running until done.
func (q *lineUp) add(addr netip.Addr) bool {
	if q.running < q.limit {
		q.running++
		return true
	}
	q.waiting = append(q.waiting, addr)
	return false
}

// done ends a running job and returns the next in line, which now counts
// as running, if one is waiting.
func (q *lineUp) done() (netip.Addr, bool) {
	if len(q.waiting) == 0 {
		q.running--
		return netip.Addr{}, false
	}
	next := q.waiting[0]
	q.waiting = q.waiting[1:]
	return next, true
}

// drop empties the line and returns the jobs that were waiting in it,
// oldest first; running jobs still end through done.
func (q *lineUp) drop() []netip.Addr {
	w := q.waiting
	q.waiting = nil
	return w
}

// busy reports whether any job is running or waiting.
func (q *lineUp) busy() bool { return q.running > 0 || len(q.waiting) > 0 }
