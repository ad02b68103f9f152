package probe

import (
	"net/netip"
	"testing"
	"time"
)

// BenchmarkMarshalEcho measures building one echo request, tag included:
// the per-packet work a sweep's sender does besides the sendto itself.
func BenchmarkMarshalEcho(b *testing.B) {
	me := identity{id: 0x1234, key: newTagKey()}
	for _, dst := range []netip.Addr{netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("2001:db8::1")} {
		name := "v4"
		if dst.Is6() {
			name = "v6"
		}
		b.Run(name, func(b *testing.B) {
			seq := uint16(0)
			for b.Loop() {
				seq++
				_ = marshalEcho(dst.Is6(), &me, dst, seq, time.Duration(seq))
			}
		})
	}
}
