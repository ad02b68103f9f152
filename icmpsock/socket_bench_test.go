//go:build linux

package icmpsock

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
	p := NewPinger(openIn(b, ns, open))
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
