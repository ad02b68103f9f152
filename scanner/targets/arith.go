package targets

import (
	"encoding/binary"
	"math/big"
	"math/bits"
	"net/netip"
	"strconv"
)

// groupDigits writes n with thousands separators: 16,777,214.
func groupDigits(n uint64) string { return groupString(strconv.FormatUint(n, 10)) }

// GroupDigits writes n with thousands separators, as the package's
// messages do: 16,777,214.
func GroupDigits(n uint64) string { return groupDigits(n) }

// groupString puts thousands separators into a string of digits.
func groupString(s string) string {
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// u128 is an address as a number, so that sizes, masks and alignments are
// plain arithmetic. An IPv4 address uses the low 32 bits.
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func fromU128(u u128, is4 bool) netip.Addr {
	if is4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(u.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

func (u u128) or(v u128) u128   { return u128{u.hi | v.hi, u.lo | v.lo} }
func (u u128) and(v u128) u128  { return u128{u.hi & v.hi, u.lo & v.lo} }
func (u u128) xor(v u128) u128  { return u128{u.hi ^ v.hi, u.lo ^ v.lo} }
func (u u128) isZero() bool     { return u.hi == 0 && u.lo == 0 }
func (u u128) less(v u128) bool { return u.hi < v.hi || u.hi == v.hi && u.lo < v.lo }

func (u u128) sub(v u128) u128 {
	lo, borrow := bits.Sub64(u.lo, v.lo, 0)
	hi, _ := bits.Sub64(u.hi, v.hi, borrow)
	return u128{hi, lo}
}

func (u u128) addOne() u128 {
	lo, carry := bits.Add64(u.lo, 1, 0)
	return u128{u.hi + carry, lo}
}

func (u u128) onesCount() int { return bits.OnesCount64(u.hi) + bits.OnesCount64(u.lo) }

func (u u128) trailingZeros() int {
	if u.lo != 0 {
		return bits.TrailingZeros64(u.lo)
	}
	return 64 + bits.TrailingZeros64(u.hi) // 128 for zero
}

// lowOnes is a number whose n low bits are set.
func lowOnes(n int) u128 {
	switch {
	case n <= 0:
		return u128{}
	case n < 64:
		return u128{0, 1<<n - 1}
	case n < 128:
		return u128{1<<(n-64) - 1, ^uint64(0)}
	}
	return u128{^uint64(0), ^uint64(0)}
}

// hostMask has the host bits of p set.
func hostMask(p netip.Prefix) u128 { return lowOnes(p.Addr().BitLen() - p.Bits()) }

// rangeSize counts the addresses in r, saturating at the largest uint64
// (only an IPv6 range can exceed it).
func rangeSize(r Range) uint64 {
	d := toU128(r.Last).sub(toU128(r.First))
	if d.hi != 0 || d.lo == ^uint64(0) {
		return ^uint64(0)
	}
	return d.lo + 1
}

// sizeString counts the addresses in r exactly, for messages.
func sizeString(r Range) string {
	d := toU128(r.Last).sub(toU128(r.First))
	if d.hi == 0 && d.lo != ^uint64(0) {
		return groupDigits(d.lo + 1)
	}
	n := new(big.Int).SetUint64(d.hi)
	n.Lsh(n, 64).Add(n, new(big.Int).SetUint64(d.lo)).Add(n, big.NewInt(1))
	return groupString(n.String())
}

func satAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return ^uint64(0)
	}
	return s
}

// exactPrefix reports whether r is exactly one CIDR prefix: its ends
// differ only in some low bits, all clear in First and all set in Last.
func exactPrefix(r Range) (netip.Prefix, bool) {
	if !r.First.IsValid() || !r.Last.IsValid() || r.First.BitLen() != r.Last.BitLen() {
		return netip.Prefix{}, false
	}
	f, l := toU128(r.First), toU128(r.Last)
	x := f.xor(l)
	if !x.and(x.addOne()).isZero() || !f.and(x).isZero() || f.or(x) != l {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(r.First, r.First.BitLen()-x.onesCount()), true
}

// appendPrefixes splits r into the fewest aligned prefixes: at each step,
// the largest block that starts at the current address (limited by its
// alignment) and does not run past Last.
func appendPrefixes(out []netip.Prefix, r Range) []netip.Prefix {
	is4, bitLen := r.First.Is4(), r.First.BitLen()
	cur, last := toU128(r.First), toU128(r.Last)
	for {
		k := min(cur.trailingZeros(), bitLen)
		for ; k > 0; k-- {
			end := cur.or(lowOnes(k))
			if !last.less(end) {
				break
			}
		}
		out = append(out, netip.PrefixFrom(fromU128(cur, is4), bitLen-k))
		end := cur.or(lowOnes(k))
		if end == last {
			return out
		}
		cur = end.addOne()
	}
}
