package targets

import (
	"fmt"
	"net/netip"
	"slices"
)

// special are addresses that no prefix, range or host name sends to: a
// request there reaches every host of a link or group at once (or, for the
// unspecified address, this machine itself), so a sweep would flood others'
// networks and credit the answers to the wrong address. Typed alone, the
// unspecified address is scanned, and a broadcast or multicast one only
// with Options.AllowBroadcast (see checkAlone). The broadcast addresses of
// Options.Networks join them per Parse (builder.broadcasts).
var special = []struct {
	r    Range
	what string
}{
	{Range{netip.IPv4Unspecified(), netip.IPv4Unspecified()}, "unspecified"},
	{Range{netip.MustParseAddr("224.0.0.0"), netip.MustParseAddr("239.255.255.255")}, "multicast"},
	{Range{netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("255.255.255.255")}, "broadcast"},
	{Range{netip.IPv6Unspecified(), netip.IPv6Unspecified()}, "unspecified"},
	{Range{netip.MustParseAddr("ff00::"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}, "multicast"},
}

// specialSingle reports whether r is one special address.
func specialSingle(r Range) bool {
	if r.First != r.Last {
		return false
	}
	for _, sp := range special {
		if r.First.Is4() == sp.r.First.Is4() && !r.First.Less(sp.r.First) && !sp.r.Last.Less(r.First) {
			return true
		}
	}
	return false
}

// skipSpecial merges ranges and removes the special addresses, except
// those typed alone, and notes what it skipped.
func (b *builder) skipSpecial(ranges []Range) []Range {
	// Special addresses typed alone come back at the end; until then they
	// must not count as skipped twice.
	ranges = mergeRanges(slices.DeleteFunc(ranges, specialSingle))
	covered := func(a netip.Addr) bool {
		for _, r := range ranges {
			if a.Is4() == r.First.Is4() && !a.Less(r.First) && !r.Last.Less(a) {
				return true
			}
		}
		return false
	}
	var back []netip.Addr // special addresses typed alone that a range also covers
	for a := range b.alone {
		if specialSingle(Range{a, a}) && covered(a) {
			back = append(back, a)
		}
	}
	skipped := map[string]uint64{}
	for _, sp := range special {
		var out []Range
		for _, r := range ranges {
			if r.First.Zone() != "" || r.First.Is4() != sp.r.First.Is4() ||
				r.Last.Less(sp.r.First) || sp.r.Last.Less(r.First) {
				out = append(out, r)
				continue
			}
			lo, hi := r.First, r.Last
			if sp.r.First.Compare(lo) > 0 {
				lo = sp.r.First
			}
			if sp.r.Last.Compare(hi) < 0 {
				hi = sp.r.Last
			}
			skipped[sp.what] = satAdd(skipped[sp.what], rangeSize(Range{lo, hi}))
			if r.First.Less(lo) {
				out = append(out, Range{r.First, lo.Prev()})
			}
			if hi.Less(r.Last) {
				out = append(out, Range{hi.Next(), r.Last})
			}
		}
		ranges = out
	}
	for a := range b.alone {
		if specialSingle(Range{a, a}) {
			ranges = append(ranges, Range{a, a})
		}
	}
	for _, a := range back {
		for _, sp := range special {
			if specialSingle(Range{a, a}) && a.Is4() == sp.r.First.Is4() && !a.Less(sp.r.First) && !sp.r.Last.Less(a) {
				skipped[sp.what]--
			}
		}
	}
	var directed uint64
	for a := range b.broadcasts {
		if b.alone[a] {
			continue
		}
		var out []Range
		for _, r := range ranges {
			if r.First.Zone() != "" || r.First.Is4() != a.Is4() || a.Less(r.First) || r.Last.Less(a) {
				out = append(out, r)
				continue
			}
			directed++
			if r.First.Less(a) {
				out = append(out, Range{r.First, a.Prev()})
			}
			if a.Less(r.Last) {
				out = append(out, Range{a.Next(), r.Last})
			}
		}
		ranges = out
	}
	if directed > 0 {
		b.notes = append(b.notes, fmt.Sprintf("skipped %s broadcast address%s of this machine's networks that a prefix, range or name covers",
			groupDigits(directed), map[bool]string{true: "", false: "es"}[directed == 1]))
	}
	for _, sp := range special {
		if n := skipped[sp.what]; n > 0 {
			b.notes = append(b.notes, fmt.Sprintf("skipped %s %s address%s that a prefix, range or name covers; give one alone to scan it%s",
				groupDigits(n), sp.what, map[bool]string{true: "", false: "es"}[n == 1], b.aloneHint(sp.what)))
			skipped[sp.what] = 0 // unspecified is listed twice, once per family
		}
	}
	return mergeRanges(ranges)
}

// aloneHint completes the note on skipped special addresses of a kind:
// typed alone, a broadcast or multicast address also needs
// AllowBroadcast.
func (b *builder) aloneHint(what string) string {
	if what == "unspecified" || b.allowBroadcast {
		return ""
	}
	return " with --allow-broadcast"
}

// checkAlone applies the rules for an address typed alone: a link-local
// IPv6 address needs its zone, and a broadcast or multicast address needs
// AllowBroadcast.
func (b *builder) checkAlone(tok string, a netip.Addr) error {
	fail := func(format string, args ...any) error {
		return &Error{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}
	if a.Is6() && a.Zone() == "" && a.IsLinkLocalUnicast() {
		return fail("%s", linkLocalNoZone)
	}
	if b.allowBroadcast {
		return nil
	}
	const allow = "answers for it, so it is sent to only with --allow-broadcast"
	switch n, directed := b.broadcasts[a.WithZone("")]; {
	case a.IsMulticast():
		return fail("is a multicast group; every member %s", allow)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fail("is the broadcast address of the link; every host on it %s", allow)
	case directed:
		return fail("is the broadcast address of %s; every host on it %s", n, allow)
	}
	return nil
}

// Broadcast returns the directed broadcast address of an IPv4 prefix
// shorter than /31 (its last address), which every host of that network
// answers for.
func Broadcast(p netip.Prefix) (netip.Addr, bool) {
	if !p.IsValid() || !p.Addr().Is4() || p.Bits() >= 31 {
		return netip.Addr{}, false
	}
	p = p.Masked()
	return fromU128(toU128(p.Addr()).or(hostMask(p)), true), true
}
