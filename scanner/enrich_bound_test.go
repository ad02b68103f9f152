package scanner

import (
	"context"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"netscanner/probe"
	"netscanner/scanner/names"
	"netscanner/scanner/targets"
)

// gate holds the calls of one kind of enrichment work until it is
// opened, and keeps count of how many are in at once.
type gate struct {
	open        chan struct{}
	in, most    atomic.Int64
	calls, once atomic.Int64
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

// enter counts a call in and holds it until the gate opens or ctx ends;
// it reports whether the gate opened.
func (g *gate) enter(ctx context.Context) bool {
	g.calls.Add(1)
	n := g.in.Add(1)
	defer g.in.Add(-1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-g.open:
		return true
	case <-ctx.Done():
		return false
	}
}

// release opens the gate, once.
func (g *gate) release() {
	if g.once.Add(1) == 1 {
		close(g.open)
	}
}

// eventually polls cond until it holds, and reports whether it did
// within a while.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// waitFor is eventually for the test's goroutine: it fails the test
// when cond does not come to hold.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestEnrichBounded finds far more hosts at once than enrichment runs
// jobs for, as a sweep of a /16 does, and holds every kind of work at a
// gate: the jobs in flight must fill their limits and never pass them,
// the goroutines must stay a few hundred, however many hosts wait, every
// host must be reported the moment it is found, and once the gates open,
// every host must be enriched in full.
func TestEnrichBounded(t *testing.T) {
	const hosts = 600 // well above every limit
	ports := []uint16{22, 80, 443}
	macs, lookups, dials := newGate(), newGate(), newGate()
	sweepDone := make(chan struct{})
	t.Cleanup(func() { macs.release(); lookups.release(); dials.release() })

	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, byte(8 + i/250), byte(1 + i%250)}) }
	mac := func(a netip.Addr) net.HardwareAddr {
		b := a.As4()
		return net.HardwareAddr{0, 0x50, 0x56, b[1], b[2], b[3]}
	}
	env := &enrichEnv{
		lookupMAC: func(ctx context.Context, a netip.Addr) (net.HardwareAddr, error) {
			if !macs.enter(ctx) {
				return nil, ctx.Err()
			}
			return mac(a), nil
		},
		lookupNames: func(ctx context.Context, a netip.Addr) names.Result {
			if !lookups.enter(ctx) {
				return names.Result{}
			}
			return names.Result{Names: []names.Name{{Name: "h-" + a.String(), Source: names.SourceMDNS}}}
		},
		dial: func(ctx context.Context, _, address string) (net.Conn, error) {
			if !dials.enter(ctx) {
				return nil, ctx.Err()
			}
			if netip.MustParseAddrPort(address).Port() == 22 {
				c, s := net.Pipe()
				s.Close()
				return c, nil
			}
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		},
	}
	sweep := func(emit func(Event)) (Summary, error) {
		for i := range hosts {
			emit(Event{Kind: HostFound, Host: Host{Addr: addr(i), Reason: "echo-reply"}})
		}
		<-sweepDone // the sweep lasts until the test has seen what it wants
		return Summary{Total: 1000, Alive: hosts}, nil
	}

	var found atomic.Int64
	rec := newRecorder(t)
	emit := func(ev Event) {
		if ev.Kind == HostFound {
			found.Add(1)
		}
		rec.emit(ev)
	}
	base := runtime.NumGoroutine()
	// Beside the jobs: the sweep, the scan's goroutine and this test's.
	const slack = 16
	type outcome struct {
		sum Summary
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		sum, err := scanEnriched(t.Context(), probe.Raw, mustTargets(t, "198.18.8.0/22"),
			Enrich{Names: true, Ports: ports, Wait: time.Hour, env: env}, emit, sweep)
		out <- outcome{sum, err}
	}()

	// Every host is reported at once, while enrichHosts link jobs look
	// up MACs and the rest wait in line.
	waitFor(t, "every host found", func() bool { return found.Load() == hosts })
	waitFor(t, "the link jobs' slots to fill", func() bool { return macs.in.Load() >= enrichHosts })
	time.Sleep(20 * time.Millisecond) // time for a job beyond the limit to show up
	if n := macs.in.Load(); n != enrichHosts {
		t.Errorf("%d link jobs at once, want %d", n, enrichHosts)
	}
	if g := runtime.NumGoroutine() - base; g > enrichHosts+slack {
		t.Errorf("%d goroutines for %d link jobs, with %d hosts waiting", g, enrichHosts, hosts-enrichHosts)
	}

	// The MACs are in: names and ports are next.
	macs.release()
	waitFor(t, "the names jobs' slots to fill", func() bool { return lookups.in.Load() >= nameLookups })
	waitFor(t, "the connects' slots to fill", func() bool { return dials.in.Load() >= portConnects })
	time.Sleep(20 * time.Millisecond)
	if g := runtime.NumGoroutine() - base; g > enrichHosts+nameLookups+portConnects+slack {
		t.Errorf("%d goroutines for %d link jobs, %d names jobs and %d connects", g, enrichHosts, nameLookups, portConnects)
	}
	lookups.release()
	dials.release()
	close(sweepDone)

	var o outcome
	select {
	case o = <-out:
	case <-time.After(30 * time.Second):
		t.Fatal("enrichment did not end")
	}
	got := rec.check(o.sum, o.err)
	if len(got) != hosts {
		t.Fatalf("%d hosts, want %d", len(got), hosts)
	}
	for a, h := range got {
		want := []Reason{"echo-reply", "neighbour", "mdns", "tcp-open", "tcp-rst"}
		if !slices.Equal(h.MAC, mac(a)) || h.Hostname != "h-"+a.String() || !slices.Equal(h.Ports, []Port{{22, "ssh"}}) ||
			!slices.Equal(slices.Sorted(slices.Values(h.Reasons)), slices.Sorted(slices.Values(want))) {
			t.Errorf("%s not fully enriched: %+v", a, h)
		}
	}
	if m := macs.most.Load(); m > enrichHosts {
		t.Errorf("%d link jobs at once, limit %d", m, enrichHosts)
	}
	if m := lookups.most.Load(); m > nameLookups {
		t.Errorf("%d name lookups at once, limit %d", m, nameLookups)
	}
	if m := dials.most.Load(); m > portConnects {
		t.Errorf("%d connects at once, limit %d", m, portConnects)
	}
	if c := lookups.calls.Load(); c != hosts {
		t.Errorf("%d name lookups for %d hosts", c, hosts)
	}
	if c := dials.calls.Load(); c != hosts*int64(len(ports)) {
		t.Errorf("%d connects for %d hosts of %d ports", c, hosts, len(ports))
	}
}

// TestEnrichLineCut: when Wait cuts enrichment off, the hosts still in
// line start no job, and every one of them is closed at once with what
// was known.
func TestEnrichLineCut(t *testing.T) {
	const hosts = 300
	lookups := newGate() // never opened: silent hosts
	env := &enrichEnv{
		lookupMAC: func(context.Context, netip.Addr) (net.HardwareAddr, error) { return macPi, nil },
		lookupNames: func(ctx context.Context, _ netip.Addr) names.Result {
			lookups.enter(ctx)
			return names.Result{}
		},
	}
	sweep := func(emit func(Event)) (Summary, error) {
		for i := range hosts {
			a := netip.AddrFrom4([4]byte{198, 18, byte(8 + i/250), byte(1 + i%250)})
			emit(Event{Kind: HostFound, Host: Host{Addr: a, Reason: "echo-reply"}})
		}
		// Wait runs from the sweep's end: by then every slot is taken.
		if !eventually(func() bool { return lookups.in.Load() >= nameLookups }) {
			t.Error("the names jobs' slots never filled")
		}
		return Summary{Total: 1000, Alive: hosts}, nil
	}
	rec := newRecorder(t)
	start := time.Now()
	sum, err := scanEnriched(t.Context(), probe.Raw, mustTargets(t, "198.18.8.0/22"),
		Enrich{Names: true, Wait: 100 * time.Millisecond, env: env}, rec.emit, sweep)
	got := rec.check(sum, err)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v with a 100ms Wait", took)
	}
	if len(got) != hosts {
		t.Fatalf("%d hosts, want %d", len(got), hosts)
	}
	for a, h := range got {
		if !slices.Equal(h.MAC, macPi) {
			t.Errorf("%s: MAC %v lost at the cut", a, h.MAC)
		}
	}
	if c, m := lookups.calls.Load(), lookups.most.Load(); c != nameLookups || m != nameLookups {
		t.Errorf("%d name lookups started, %d at once; want the first %d only", c, m, nameLookups)
	}
}

// TestProbePortsGoroutines: a host with many ports waiting for connect
// slots holds no goroutine per port.
func TestProbePortsGoroutines(t *testing.T) {
	g := newGate()
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		g.enter(ctx)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	ports := make([]uint16, targets.MaxPorts)
	for i := range ports {
		ports[i] = uint16(1 + i)
	}
	const slots = 4
	sem := semaphore.NewWeighted(slots)
	base := runtime.NumGoroutine()
	done := make(chan portResult, 1)
	go func() {
		done <- probePorts(t.Context(), dial, netip.MustParseAddr("198.18.7.4"), ports, time.Hour, sem)
	}()
	waitFor(t, "the slots to fill", func() bool { return g.in.Load() >= slots })
	time.Sleep(20 * time.Millisecond)
	if n := runtime.NumGoroutine() - base; n > slots+4 {
		t.Errorf("%d goroutines for %d connects in flight", n, slots)
	}
	g.release()
	res := <-done
	if !res.Refused || len(res.Open) != 0 || g.calls.Load() != targets.MaxPorts || g.most.Load() != slots {
		t.Errorf("result %+v after %d connects, %d at once", res, g.calls.Load(), g.most.Load())
	}
}

func TestLineUp(t *testing.T) {
	a := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}) }
	q := &lineUp{limit: 2}
	var started []netip.Addr
	for i := 1; i <= 5; i++ {
		if q.add(a(i)) {
			started = append(started, a(i))
		}
	}
	if !slices.Equal(started, []netip.Addr{a(1), a(2)}) || q.running != 2 {
		t.Fatalf("started %v, %d running", started, q.running)
	}
	if next, ok := q.done(); !ok || next != a(3) || q.running != 2 {
		t.Errorf("done: next %v %v, %d running", next, ok, q.running)
	}
	if w := q.drop(); !slices.Equal(w, []netip.Addr{a(4), a(5)}) {
		t.Errorf("dropped %v", w)
	}
	for range 2 {
		if next, ok := q.done(); ok {
			t.Errorf("done after drop started %v", next)
		}
	}
	if q.busy() || q.running != 0 {
		t.Errorf("still busy: %+v", q)
	}
	if !q.add(a(6)) {
		t.Error("an empty line does not start a job at once")
	}
}
