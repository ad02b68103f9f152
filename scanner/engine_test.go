package scanner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"netscanner/probe"
	"netscanner/scanner/targets"
)

// events collects what a scan emitted and checks, as it goes, that emit
// is never called from two goroutines at once.
type events struct {
	t      testing.TB
	list   []Event
	inside atomic.Int32
	// onEvent, if set, runs inside emit (on the scan's goroutine).
	onEvent func(Event)
}

func (e *events) emit(ev Event) {
	if e.inside.Add(1) != 1 {
		e.t.Errorf("emit called concurrently")
	}
	defer e.inside.Add(-1)
	e.list = append(e.list, ev)
	if e.onEvent != nil {
		e.onEvent(ev)
	}
}

// check verifies what every scan must get right, and returns the hosts
// found by address.
//
//   - Finished comes exactly once, last, with the Summary Scan returned.
//   - Progress counts never go back, stay within Total, and reach Total
//     at most once: in the last Progress, just before Finished.
//     A scan that returned no error reaches Total.
//   - No host is reported twice, and Summary.Alive counts them.
func (e *events) check(sum Summary, err error, total int) map[netip.Addr]Host {
	t := e.t
	t.Helper()
	found := map[netip.Addr]Host{}
	if len(e.list) == 0 || e.list[len(e.list)-1].Kind != Finished {
		t.Fatalf("last event is not Finished: %v", e.list)
	}
	lastDone, atTotal, lastProgress := 0, 0, -1
	for i, ev := range e.list {
		switch ev.Kind {
		case Finished:
			if i != len(e.list)-1 {
				t.Errorf("Finished at event %d of %d", i, len(e.list))
			}
			if *ev.Summary != sum {
				t.Errorf("Finished carries %+v, Scan returned %+v", *ev.Summary, sum)
			}
		case Progress:
			lastProgress = i
			if ev.Total != total {
				t.Errorf("Progress Total %d, want %d", ev.Total, total)
			}
			if ev.Done < lastDone || ev.Done > ev.Total {
				t.Errorf("Progress %d/%d after %d", ev.Done, ev.Total, lastDone)
			}
			lastDone = ev.Done
			if ev.Done == ev.Total {
				atTotal++
			}
		case HostFound:
			if _, dup := found[ev.Host.Addr]; dup {
				t.Errorf("host %s reported twice", ev.Host.Addr)
			}
			found[ev.Host.Addr] = ev.Host
		default:
			t.Errorf("unexpected event kind %d", ev.Kind)
		}
	}
	if lastProgress != len(e.list)-2 {
		t.Errorf("the event before Finished is not Progress")
	}
	if atTotal > 1 {
		t.Errorf("Progress reached Total %d times", atTotal)
	}
	if err == nil && atTotal != 1 {
		t.Errorf("complete scan: Progress reached Total %d times, want once", atTotal)
	}
	if sum.Alive != len(found) {
		t.Errorf("Summary.Alive %d, %d hosts reported", sum.Alive, len(found))
	}
	if sum.Total != total {
		t.Errorf("Summary.Total %d, want %d", sum.Total, total)
	}
	return found
}

func mustTargets(t testing.TB, spec ...string) *targets.Set {
	t.Helper()
	tg, err := targets.Parse(context.Background(), spec, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// sortedAddrs lists a set's addresses in order, for messages.
func sortedAddrs[V any](m map[netip.Addr]V) []netip.Addr {
	var out []netip.Addr
	for a := range m {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// TestScanFake sweeps a /24 of simulated hosts that answer at once, late,
// twice, after a lost request, with errors, or with replies that answer
// nothing, among addresses that stay silent and strays from addresses
// never probed.
func TestScanFake(t *testing.T) {
	cfg := Config{Timeout: 300 * time.Millisecond, Retries: 1, RetryInterval: 100 * time.Millisecond, Rate: 500}
	// Give-up comes at RetryInterval+Timeout after the first request.
	tooLate := cfg.RetryInterval + cfg.Timeout + 250*time.Millisecond

	hosts := map[netip.Addr]fakeHost{}
	want := map[netip.Addr]bool{}
	for i := 1; i <= 10; i++ {
		a := ip(fmt.Sprintf("198.18.1.%d", i))
		hosts[a] = fakeHost{Delay: time.Duration(i) * time.Millisecond, TTL: 64}
		want[a] = true
	}
	live := func(s string, h fakeHost) { hosts[ip(s)], want[ip(s)] = h, true }
	dead := func(s string, h fakeHost) { hosts[ip(s)] = h }
	live("198.18.1.11", fakeHost{Dup: 3})                                            // duplicates
	live("198.18.1.12", fakeHost{DropFirst: 1, Delay: 10 * time.Millisecond})        // found by its retry
	dead("198.18.1.13", fakeHost{DropFirst: 2})                                      // needs a second retry
	dead("198.18.1.14", fakeHost{Delay: tooLate})                                    // answers after give-up
	dead("198.18.1.15", fakeHost{ICMPErr: true})                                     // unreachable
	dead("198.18.1.16", fakeHost{Refuse: true})                                      // kernel refuses to send
	live("198.18.1.17", fakeHost{Reason: "tcp-rst"})                                 // reason passed through
	live("198.18.1.18", fakeHost{Delay: 150 * time.Millisecond})                     // answers first request after retry
	dead("198.18.1.19", fakeHost{SeqOffset: 100})                                    // answers with a sequence never sent
	dead("198.18.1.20", fakeHost{SeqOffset: 100, ICMPErr: true})                     // error about a request never sent
	dead("198.18.1.21", fakeHost{SeqOffset: 1, Answers: 1, Delay: time.Millisecond}) // seq of a retry not yet sent

	c := newFakeConn(hosts, 0, 0, 0)
	defer c.Close()
	// Strays: answers from addresses never probed, and one for a target
	// before it is probed (.250 goes out near the end of the sweep).
	c.inject(time.Millisecond, probe.Reply{Addr: ip("198.18.2.5"), Seq: 1, Method: probe.Raw})
	c.inject(2*time.Millisecond, probe.Reply{Addr: ip("198.18.2.6"), Seq: 1, Err: &probe.ICMPError{Type: 3, Code: 1}})
	c.inject(3*time.Millisecond, probe.Reply{Addr: ip("198.18.1.250"), Seq: 0})
	c.inject(4*time.Millisecond, probe.Reply{Addr: ip("198.18.1.250"), Seq: 1})

	tg := mustTargets(t, "198.18.1.0/24")
	ev := &events{t: t}
	sum, err := Scan(context.Background(), c, tg, cfg, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	found := ev.check(sum, err, 254)
	if sum.Cancelled || sum.Method != probe.Raw {
		t.Errorf("summary %+v", sum)
	}
	for a := range want {
		if _, ok := found[a]; !ok {
			t.Errorf("live host %s not found", a)
		}
	}
	for a := range found {
		if !want[a] {
			t.Errorf("found %s, which is not live", a)
		}
	}

	// What was reported about a host is what it answered.
	if h := found[ip("198.18.1.5")]; h.RTT != 5*time.Millisecond || h.TTL != 64 || h.Reason != "echo-reply" || h.Method != probe.Raw {
		t.Errorf("198.18.1.5 reported as %+v", h)
	}
	if h := found[ip("198.18.1.17")]; h.Reason != "tcp-rst" {
		t.Errorf("198.18.1.17 reason %q, want tcp-rst", h.Reason)
	}

	// Every address got at most 1+Retries requests, with consecutive
	// sequence numbers from one base; silent ones got exactly that many.
	base := c.sent(ip("198.18.1.1"))[0]
	for a := range tg.All() {
		seqs := c.sent(a)
		if len(seqs) == 0 || len(seqs) > 1+cfg.Retries {
			t.Errorf("%s got %d requests", a, len(seqs))
			continue
		}
		for i, s := range seqs {
			if s != base+uint16(i) {
				t.Errorf("%s request %d has seq %d, want %d", a, i, s, base+uint16(i))
			}
		}
		if _, known := hosts[a]; !known && len(seqs) != 1+cfg.Retries {
			t.Errorf("silent %s got %d requests, want %d", a, len(seqs), 1+cfg.Retries)
		}
	}
	for _, a := range []string{"198.18.1.15", "198.18.1.16"} {
		if n := len(c.sent(ip(a))); n != 1 {
			t.Errorf("%s answered its first request with an error, yet got %d requests", a, n)
		}
	}
	// The late answers and the strays really reached the scan (Replies
	// is unbuffered, so delivered means read) and were ignored.
	for _, a := range []string{"198.18.1.14", "198.18.2.5", "198.18.2.6", "198.18.1.250", "198.18.1.19", "198.18.1.21"} {
		if c.deliveredTo(ip(a)) == 0 {
			t.Errorf("the reply for %s never reached the scan; the test proves nothing about it", a)
		}
	}
}

// TestScanNoRetries checks that Retries 0 sends one request per host, so
// a host that drops it is missed.
func TestScanNoRetries(t *testing.T) {
	hosts := map[netip.Addr]fakeHost{
		ip("198.18.1.1"): {},
		ip("198.18.1.2"): {DropFirst: 1},
	}
	c := newFakeConn(hosts, 16, 0, 0)
	defer c.Close()
	tg := mustTargets(t, "198.18.1.1-8")
	ev := &events{t: t}
	sum, err := Scan(context.Background(), c, tg, Config{Timeout: 100 * time.Millisecond, Rate: 1000}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	found := ev.check(sum, err, 8)
	if len(found) != 1 || found[ip("198.18.1.1")].Addr != ip("198.18.1.1") {
		t.Errorf("found %v, want only 198.18.1.1", sortedAddrs(found))
	}
	for a := range tg.All() {
		if n := len(c.sent(a)); n != 1 {
			t.Errorf("%s got %d requests, want 1", a, n)
		}
	}
}

// TestScanBlockingSend uses a Conn whose Send blocks while its pool is
// full and whose Replies has no buffer, as exec and tcp do: a pool slot
// frees only once its answer was read. A scan that read answers and sent
// requests on one goroutine would deadlock here.
func TestScanBlockingSend(t *testing.T) {
	hosts := map[netip.Addr]fakeHost{}
	want := map[netip.Addr]bool{}
	for i := 1; i <= 40; i += 2 {
		a := ip(fmt.Sprintf("198.18.1.%d", i))
		hosts[a] = fakeHost{Delay: time.Duration(i%7) * time.Millisecond, Dup: i % 3}
		want[a] = true
	}
	c := newFakeConn(hosts, 0, 3, 50*time.Millisecond)
	c.method = probe.TCP
	defer c.Close()
	tg := mustTargets(t, "198.18.1.1-40")
	ev := &events{t: t}
	sum, err := Scan(context.Background(), c, tg, Config{Timeout: 200 * time.Millisecond, Retries: 1, RetryInterval: 100 * time.Millisecond, Rate: 10000}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	found := ev.check(sum, err, 40)
	if len(found) != len(want) {
		t.Errorf("found %d hosts, want %d: %v", len(found), len(want), sortedAddrs(found))
	}
	for a, h := range found {
		if !want[a] {
			t.Errorf("found %s, which is not live", a)
		}
		if h.Method != probe.TCP {
			t.Errorf("%s method %q, want tcp", a, h.Method)
		}
	}
	c.mu.Lock()
	blocked := c.blocked
	c.mu.Unlock()
	if blocked == 0 {
		t.Error("Send never found the pool full; the test proves nothing")
	}
}

// TestScanCancel cancels a scan of silent hosts whose timeout is an hour:
// Scan must stop sending at once and return without waiting it out.
func TestScanCancel(t *testing.T) {
	c := newFakeConn(nil, 16, 0, 0)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const cancelAt = 20
	c.onSend = func(n int) {
		if n == cancelAt {
			cancel()
		}
	}
	ev := &events{t: t}
	sum, err := Scan(ctx, c, mustTargets(t, "198.18.1.0/24"), Config{Timeout: time.Hour, Rate: 1000}, ev.emit)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if !sum.Cancelled {
		t.Error("Summary.Cancelled not set")
	}
	ev.check(sum, err, 254)
	sends, inSend := c.counts()
	if sends != cancelAt || inSend != 0 {
		t.Errorf("after cancel: %d requests sent (want %d), %d Sends still running", sends, cancelAt, inSend)
	}
}

// TestScanCancelBlockedSend cancels a scan while its sender is stuck in a
// Send waiting for a pool slot that frees only in an hour.
func TestScanCancelBlockedSend(t *testing.T) {
	c := newFakeConn(nil, 0, 1, time.Hour)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &events{t: t}
	go func() {
		// Cancel once the second Send is waiting for the slot the first
		// one holds.
		for {
			c.mu.Lock()
			stuck := c.sends == 1 && c.inSend == 1 && c.blocked == 1
			c.mu.Unlock()
			if stuck {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	sum, err := Scan(ctx, c, mustTargets(t, "198.18.1.0/24"), Config{Timeout: time.Hour, Rate: 1000}, ev.emit)
	if !errors.Is(err, context.Canceled) || !sum.Cancelled {
		t.Errorf("got %+v, %v; want a cancelled scan", sum, err)
	}
	ev.check(sum, err, 254)
}

// TestScanDeadline ends a scan by a context deadline while it waits for
// silent hosts.
func TestScanDeadline(t *testing.T) {
	c := newFakeConn(map[netip.Addr]fakeHost{ip("198.18.1.1"): {}}, 16, 0, 0)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	ev := &events{t: t}
	sum, err := Scan(ctx, c, mustTargets(t, "198.18.1.1-4"), Config{Timeout: time.Hour, Rate: 1000}, ev.emit)
	if !errors.Is(err, context.DeadlineExceeded) || !sum.Cancelled {
		t.Errorf("got %+v, %v; want a scan ended by its deadline", sum, err)
	}
	found := ev.check(sum, err, 4)
	if len(found) != 1 {
		t.Errorf("found %v before the deadline, want 198.18.1.1", sortedAddrs(found))
	}
	// 198.18.1.1 answered; the other three were still waiting.
	if last := ev.list[len(ev.list)-2]; last.Done != 1 {
		t.Errorf("last Progress %d/%d, want 1/4", last.Done, last.Total)
	}
}

// TestScanConnClosed closes the Conn under a running scan.
func TestScanConnClosed(t *testing.T) {
	c := newFakeConn(nil, 16, 0, 0)
	c.onSend = func(n int) {
		if n == 5 {
			go c.Close()
		}
	}
	ev := &events{t: t}
	sum, err := Scan(context.Background(), c, mustTargets(t, "198.18.1.0/24"), Config{Timeout: time.Hour, Rate: 1000}, ev.emit)
	if err == nil || sum.Cancelled {
		t.Fatalf("got %+v, %v; want a failed scan", sum, err)
	}
	if !errors.Is(err, ErrConnClosed) && !errors.Is(err, errClosed) {
		t.Errorf("err = %v, want one about the closed Conn", err)
	}
	ev.check(sum, err, 254)
}

// TestScanSendFails checks that a Send failing for a reason other than
// its destination ends the scan with that error.
func TestScanSendFails(t *testing.T) {
	c := newFakeConn(map[netip.Addr]fakeHost{ip("198.18.1.3"): {Fail: true}}, 16, 0, 0)
	defer c.Close()
	ev := &events{t: t}
	sum, err := Scan(context.Background(), c, mustTargets(t, "198.18.1.0/24"), Config{Timeout: time.Hour, Rate: 1000}, ev.emit)
	if err == nil || !strings.Contains(err.Error(), "socket broke") || sum.Cancelled {
		t.Errorf("got %+v, %v; want the Send error", sum, err)
	}
	ev.check(sum, err, 254)
	if sends, _ := c.counts(); sends != 3 {
		t.Errorf("%d requests sent, want 3 (none after the failure)", sends)
	}
}

// TestScanTwoScansOneConn runs two scans back to back on one Conn. The
// first scan's late answer arrives during the second and must not count
// there: the sequence numbers differ.
func TestScanTwoScansOneConn(t *testing.T) {
	a := ip("198.18.1.1")
	c := newFakeConn(map[netip.Addr]fakeHost{a: {Delay: 300 * time.Millisecond, Answers: 1}}, 0, 0, 0)
	defer c.Close()
	tg := mustTargets(t, a.String())

	ev1 := &events{t: t}
	sum1, err := Scan(context.Background(), c, tg, Config{Timeout: 100 * time.Millisecond, Rate: 1000}, ev1.emit)
	if err != nil {
		t.Fatal(err)
	}
	if found := ev1.check(sum1, err, 1); len(found) != 0 {
		t.Errorf("first scan found %v before the answer was due", sortedAddrs(found))
	}
	ev2 := &events{t: t}
	sum2, err := Scan(context.Background(), c, tg, Config{Timeout: time.Second, Rate: 1000}, ev2.emit)
	if err != nil {
		t.Fatal(err)
	}
	seqs := c.sent(a)
	if len(seqs) != 2 {
		t.Fatalf("sent %v, want one request per scan", seqs)
	}
	if seqs[0] == seqs[1] {
		t.Skip("both scans drew the same random sequence base (1 in 65536)")
	}
	if found := ev2.check(sum2, err, 1); len(found) != 0 {
		t.Errorf("second scan took the first scan's answer: found %v", sortedAddrs(found))
	}
	if c.deliveredTo(a) != 1 {
		t.Error("the late answer never reached the second scan; the test proves nothing")
	}
}

// TestScanNoTargets checks that an empty target set is an error, with
// Finished all the same.
func TestScanNoTargets(t *testing.T) {
	c := newFakeConn(nil, 1, 0, 0)
	defer c.Close()
	ev := &events{t: t}
	sum, err := Scan(context.Background(), c, nil, Config{}, ev.emit)
	if !errors.Is(err, targets.ErrNoTargets) {
		t.Errorf("err = %v, want targets.ErrNoTargets", err)
	}
	if len(ev.list) != 1 || ev.list[0].Kind != Finished || sum.Total != 0 {
		t.Errorf("events %v, summary %+v; want Finished alone", ev.list, sum)
	}
}

func TestConfigDefaults(t *testing.T) {
	def := DefaultConfig()
	tests := []struct {
		name string
		in   Config
		want Config
		err  string
	}{
		{"zero is DefaultConfig", Config{}, def, ""},
		{"zero retries stay zero", Config{Timeout: 2 * time.Second}, Config{Timeout: 2 * time.Second, RetryInterval: def.RetryInterval, Rate: def.Rate}, ""},
		{"interval capped at timeout", Config{Timeout: 100 * time.Millisecond, RetryInterval: time.Second, Retries: 2, Rate: 5},
			Config{Timeout: 100 * time.Millisecond, RetryInterval: 100 * time.Millisecond, Retries: 2, Rate: 5}, ""},
		{"negative timeout", Config{Timeout: -1}, Config{}, "Timeout"},
		{"negative retries", Config{Retries: -1}, Config{}, "Retries"},
		{"too many retries", Config{Retries: targets.MaxRetries + 1}, Config{}, "Retries"},
		{"negative interval", Config{RetryInterval: -1}, Config{}, "RetryInterval"},
		{"negative rate", Config{Rate: -5}, Config{}, "Rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.withDefaults()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want one about %s", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestScanInvalidConfig checks that a bad Config fails before anything is
// sent, with Finished all the same.
func TestScanInvalidConfig(t *testing.T) {
	c := newFakeConn(nil, 1, 0, 0)
	defer c.Close()
	ev := &events{t: t}
	_, err := Scan(context.Background(), c, mustTargets(t, "198.18.1.1"), Config{Retries: -1}, ev.emit)
	if err == nil {
		t.Fatal("no error for Retries -1")
	}
	if sends, _ := c.counts(); sends != 0 {
		t.Errorf("%d requests sent with an invalid Config", sends)
	}
	if len(ev.list) != 1 || ev.list[0].Kind != Finished {
		t.Errorf("events %v, want Finished alone", ev.list)
	}
}

// TestScanSweep16 sweeps a /16 at a million requests a second and checks
// that the scan's goroutines and heap stay bounded: there is no goroutine
// or timer per address.
func TestScanSweep16(t *testing.T) {
	if testing.Short() {
		t.Skip("a /16 takes a while under -race")
	}
	hosts := map[netip.Addr]fakeHost{}
	tg := mustTargets(t, "198.18.0.0/16")
	i := 0
	for a := range tg.All() {
		if i%61 == 0 {
			hosts[a] = fakeHost{Delay: time.Duration(i%4) * time.Millisecond}
		}
		i++
	}
	c := newFakeConn(hosts, 1024, 0, 0)
	defer c.Close()

	runtime.GC()
	before := runtime.NumGoroutine()
	maxG, maxHeap := 0, uint64(0)
	ev := &events{t: t}
	ev.onEvent = func(e Event) {
		if e.Kind != Progress {
			return
		}
		maxG = max(maxG, runtime.NumGoroutine())
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		maxHeap = max(maxHeap, ms.HeapInuse)
	}
	cfg := Config{Timeout: 200 * time.Millisecond, Retries: 1, RetryInterval: 50 * time.Millisecond, Rate: 1_000_000}
	sum, err := Scan(context.Background(), c, tg, cfg, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	found := ev.check(sum, err, 65534)
	if len(found) != len(hosts) {
		t.Errorf("found %d of %d live hosts", len(found), len(hosts))
	}
	t.Logf("%d hosts in %v; goroutines %d before, at most %d during; heap in use at most %d MB",
		sum.Total, sum.Elapsed.Round(time.Millisecond), before, maxG, maxHeap>>20)
	if maxG > before+2 {
		t.Errorf("up to %d goroutines during the scan, %d before: want at most 2 more", maxG, before)
	}
	if maxHeap > 60<<20 {
		t.Errorf("heap in use reached %d MB, want under 60", maxHeap>>20)
	}
}
