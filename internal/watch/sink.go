package watch

import "time"

// Sink receives what a Watcher learns: the CLI's printer, the
// integrations and the app each implement it. A Watcher calls its sinks
// from its own goroutine, one call at a time, in order: a scan's events
// first, then its Scanned report. A sink that may block (a network
// client) must queue and return.
type Sink interface {
	// Event is called for each event, as soon as the scan that caused
	// it has been written to the store.
	Event(Event)
	// Scanned is called once per scan, after its events, and after a
	// failed scan too (Report.Err set).
	Scanned(Report)
}

// Report is one scan, as sinks see it.
type Report struct {
	Time     time.Time     // when the scan started
	Duration time.Duration // how long the scan took, writing included
	// Err is why the scan or its write failed; the devices' presence
	// is then as it was before the scan.
	Err error
	// Devices is every device this watcher knows, present or not, in
	// the store's order. Sinks must not modify it.
	Devices []Device
	// Present counts the devices with Present set.
	Present int
	// Answered counts the hosts that answered this scan.
	Answered int
}

// SinkFuncs adapts two functions into a Sink; either may be nil.
type SinkFuncs struct {
	OnEvent func(Event)
	OnScan  func(Report)
}

// Event calls OnEvent.
func (s SinkFuncs) Event(e Event) {
	if s.OnEvent != nil {
		s.OnEvent(e)
	}
}

// Scanned calls OnScan.
func (s SinkFuncs) Scanned(r Report) {
	if s.OnScan != nil {
		s.OnScan(r)
	}
}
