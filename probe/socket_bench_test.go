//go:build linux

package probe

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// benchmarkRoundTrip measures one Pinger round trip per op over loopback,
// in a namespace of the benchmark's own.
func benchmarkRoundTrip(b *testing.B, open func() (Conn, error)) {
	ns := testnet.NewNS(b, "bench")
	ns.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	pingLoopback(b, NewPinger(openIn(b, ns, open)))
}

// pingLoopback runs one round trip per op to 127.0.0.1 and to ::1.
func pingLoopback(b *testing.B, p *Pinger) {
	for _, dst := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()} {
		b.Run(dst.String(), func(b *testing.B) {
			// A lost reply fails the benchmark instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for b.Loop() {
				r, err := p.Ping(ctx, dst)
				if err != nil || r.Err != nil {
					b.Fatalf("ping %s: %v %v", dst, err, r.Err)
				}
			}
		})
	}
}

func BenchmarkRoundTripDgram(b *testing.B) {
	benchmarkRoundTrip(b, func() (Conn, error) { return OpenDgram(Options{}) })
}

func BenchmarkRoundTripRaw(b *testing.B) {
	benchmarkRoundTrip(b, func() (Conn, error) { return OpenRaw(Options{}) })
}

// The exec and tcp methods start their work (a ping process, a connect) on
// goroutines of their own, which run in this process's namespace rather
// than a test namespace; loopback is the only destination, so that is safe.
func benchmarkLoopback(b *testing.B, c Conn, err error) {
	testnet.Require(b)
	if err != nil {
		b.Fatal(err)
	}
	p := NewPinger(c)
	b.Cleanup(func() { p.Close() })
	pingLoopback(b, p)
}

func BenchmarkRoundTripExec(b *testing.B) {
	c, err := OpenExec(Options{})
	benchmarkLoopback(b, c, err)
}

func BenchmarkRoundTripTCP(b *testing.B) {
	// Port 1 (tcpmux) is closed on any sane machine: the answer is a reset.
	c, err := OpenTCP(Options{TCPPorts: []uint16{1}})
	benchmarkLoopback(b, c, err)
}
