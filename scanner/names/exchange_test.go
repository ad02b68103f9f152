package names

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// loopbackPair opens two UDP sockets on 127.0.0.1: one for the exchange,
// one for the host it asks.
func loopbackPair(t *testing.T) (mine, host *net.UDPConn) {
	t.Helper()
	open := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return open(), open()
}

func addrPort(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// TestExchangeSilentHostCostsNoBuffer: an exchange with a host that never
// answers waits out its deadline without a read buffer, the largest thing
// it could hold while it waits.
func TestExchangeSilentHostCostsNoBuffer(t *testing.T) {
	mine, host := loopbackPair(t)
	run := func() {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		defer cancel()
		x := exchange{conn: mine, query: []byte("q"), dsts: []netip.AddrPort{addrPort(host)}, from: addrPort(host),
			accept: func([]byte) error { return errors.New("no reply expected") }}
		if _, _, err := x.run(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("run = %v, want a deadline", err)
		}
		_ = mine.SetReadDeadline(time.Time{})
	}
	run() // warm up: first-use allocations of the runtime and net
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		run()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per >= maxDatagram {
		t.Errorf("a silent exchange allocated %d bytes, as much as a read buffer (%d)", per, maxDatagram+1)
	}
}

// TestExchangeReadsQueuedReply: a reply already queued when the exchange
// starts to wait is read at once, not missed until the next one.
func TestExchangeReadsQueuedReply(t *testing.T) {
	mine, host := loopbackPair(t)
	if _, err := host.WriteToUDPAddrPort([]byte("early"), addrPort(mine)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the datagram is queued on mine
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var got string
	x := exchange{conn: mine, query: []byte("q"), dsts: []netip.AddrPort{addrPort(host)}, from: addrPort(host),
		accept: func(b []byte) error { got = string(b); return nil }}
	start := time.Now()
	if _, _, err := x.run(ctx); err != nil || got != "early" {
		t.Fatalf("run = %v, read %q", err, got)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the queued reply was read after %v", took)
	}
}
