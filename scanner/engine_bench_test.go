package scanner

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// BenchmarkScanFake sweeps a /16 of simulated hosts that all answer at
// once, unpaced, and reports the engine's cost per host: the time of the
// whole sweep and the allocations per address (the fake Conn's own work,
// a heap push and a channel send per request, included).
//
// Every host answers, so a sweep ends with its last answer and never
// waits out a timeout: the figure is CPU, not waiting.
func BenchmarkScanFake(b *testing.B) {
	tg := mustTargets(b, "198.18.0.0/16")
	hosts := make(map[netip.Addr]fakeHost, tg.Len())
	for a := range tg.All() {
		hosts[a] = fakeHost{}
	}
	cfg := Config{Timeout: 10 * time.Second, Retries: 1, RetryInterval: 5 * time.Second, Rate: 1e9}
	found := 0
	emit := func(e Event) {
		if e.Kind == HostFound {
			found++
		}
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		c := newFakeConn(hosts, 1024, 0, 0)
		c.lean = true
		found = 0
		sum, err := Scan(context.Background(), c, tg, cfg, emit)
		c.Close()
		if err != nil || found != tg.Len() || sum.Alive != tg.Len() {
			b.Fatalf("found %d of %d: %+v, %v", found, tg.Len(), sum, err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	perRun := float64(b.N) * float64(tg.Len())
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perRun, "ns/host")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/perRun, "allocs/host")
}
