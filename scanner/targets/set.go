package targets

import (
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strings"
)

// Range is a run of consecutive addresses, First <= Last, both of one
// family.
type Range struct {
	First, Last netip.Addr
}

// Set is a set of addresses to scan, held as a sorted list of disjoint,
// non-adjacent ranges (single zoned or special addresses excepted; see
// mergeRanges). That keeps a /16 at one entry instead of 65,536,
// makes duplicates across inputs vanish when the ranges are merged, and
// lets Contains answer with a binary search.
//
// A Set is immutable once built and safe for concurrent use.
type Set struct {
	ranges []Range
	n      int
	notes  []string
	names  map[netip.Addr]string
}

// Len is the number of addresses in the set.
func (t *Set) Len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// All yields every address in ascending order (IPv4 first), computing each
// from the one before, so that iterating a /16 allocates nothing per
// address.
func (t *Set) All() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		if t == nil {
			return
		}
		for _, r := range t.ranges {
			for a := r.First; ; a = a.Next() {
				if !yield(a) {
					return
				}
				if a == r.Last {
					break
				}
			}
		}
	}
}

// Contains reports whether a is one of the targets. The engine uses it to
// ignore replies from addresses it never probed. An IPv4-mapped address
// counts as its IPv4 address; a zoned address matches only a target with
// the same zone.
func (t *Set) Contains(a netip.Addr) bool {
	if t == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	// The first range not entirely below a is the only one that can hold it.
	i, _ := slices.BinarySearchFunc(t.ranges, a, func(r Range, a netip.Addr) int {
		return compareAddr(r.Last, a)
	})
	return i < len(t.ranges) && compareAddr(t.ranges[i].First, a) <= 0
}

// Ranges returns the set as sorted, disjoint, non-adjacent runs of
// addresses (single zoned or special addresses excepted). The slice is a
// copy.
func (t *Set) Ranges() []Range {
	if t == nil {
		return nil
	}
	return slices.Clone(t.ranges)
}

// Prefixes returns the set as the fewest CIDR prefixes that cover exactly
// its addresses, in ascending order. A zone does not survive: a prefix has
// none.
func (t *Set) Prefixes() []netip.Prefix {
	if t == nil {
		return nil
	}
	var out []netip.Prefix
	for _, r := range t.ranges {
		out = appendPrefixes(out, r)
	}
	return out
}

// Notes returns remarks about how the input was understood, such as a
// prefix with host bits set being taken as its network. A front end shows
// them; they never mean something was refused.
func (t *Set) Notes() []string {
	if t == nil {
		return nil
	}
	return slices.Clone(t.notes)
}

// Name returns the host name the user typed that resolved to a, or "" if
// a came from an address, prefix or range.
func (t *Set) Name(a netip.Addr) string {
	if t == nil {
		return ""
	}
	return t.names[a.Unmap()]
}

// maxStringParts bounds String: a list of a thousand hosts is summed up,
// not printed.
const maxStringParts = 8

// String describes the set compactly, as targets Parse would take
// back: "198.18.0.0/24" for a /24 without its network and broadcast
// addresses, "198.18.0.10-50" for a run inside one /24. Beyond a few runs
// it ends with "(+N more)".
func (t *Set) String() string {
	if t.Len() == 0 {
		return "(no targets)"
	}
	var sb strings.Builder
	for i, r := range t.ranges {
		if i == maxStringParts-1 && len(t.ranges) > maxStringParts {
			fmt.Fprintf(&sb, " (+%d more)", len(t.ranges)-i)
			break
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(formatRange(r))
	}
	return sb.String()
}

// formatRange writes one run in the shortest form that parses back to it.
func formatRange(r Range) string {
	if r.First == r.Last {
		return r.First.String()
	}
	if r.First.Is4() {
		// A prefix shorter than /31 scans without its ends; one that
		// covers its ends exactly must be written as a range.
		if p, ok := exactPrefix(Range{r.First.Prev(), r.Last.Next()}); ok && p.Bits() > 0 && p.Bits() < 31 {
			return p.String()
		}
		if p, ok := exactPrefix(r); ok && p.Bits() >= 31 {
			return p.String()
		}
		f, l := r.First.As4(), r.Last.As4()
		if f[0] == l[0] && f[1] == l[1] && f[2] == l[2] {
			return fmt.Sprintf("%s-%d", r.First, l[3])
		}
	} else if p, ok := exactPrefix(r); ok && p.Bits() >= maxV6PrefixLen {
		return p.String()
	}
	return r.First.String() + "-" + r.Last.String()
}

// groupDigits writes n with thousands separators: 16,777,214.

// mergeRanges sorts ranges and joins those that overlap or touch, in
// place. Zoned addresses are only ever single addresses and are never
// joined into runs, and neither is a special address typed alone (see
// special), so every merged range can be written back as a target.
func mergeRanges(rs []Range) []Range {
	slices.SortFunc(rs, func(a, b Range) int { return compareAddr(a.First, b.First) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.First.Zone() != "" || r.First.Zone() != "" || specialSingle(*last) || specialSingle(r) {
				if r == *last {
					continue
				}
			} else if compareAddr(r.First, last.Last) <= 0 || last.Last.Next() == r.First {
				if compareAddr(r.Last, last.Last) > 0 {
					last.Last = r.Last
				}
				continue
			}
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// compareAddr orders addresses by family, then zone, then value, so that
// addresses of one zone form one contiguous run. (netip's Compare puts the
// zone last, which would interleave zones inside a range.)
func compareAddr(a, b netip.Addr) int {
	za, zb := a.Zone(), b.Zone()
	if za == zb {
		return a.Compare(b) // the common case: neither has a zone
	}
	if c := a.BitLen() - b.BitLen(); c != 0 {
		return c
	}
	if c := strings.Compare(za, zb); c != 0 {
		return c
	}
	return a.WithZone("").Compare(b.WithZone(""))
}

// ScanRange is the run of addresses Parse scans for prefix p: all of
// them, except the network and broadcast addresses of an IPv4 prefix
// shorter than /31 (RFC 3021 gives a /31 no such addresses).
func ScanRange(p netip.Prefix) Range { return prefixRange(p.Masked()) }

// Size is the number of addresses in r, saturating at the largest uint64
// (only an IPv6 range can exceed it).
func (r Range) Size() uint64 { return rangeSize(r) }

// CountIn is how many of the set's addresses without a zone lie in r.
func (t *Set) CountIn(r Range) uint64 {
	if t == nil {
		return 0
	}
	var have uint64
	for _, tr := range t.ranges {
		if tr.First.Is4() != r.First.Is4() || tr.First.Zone() != "" {
			continue
		}
		first, last := tr.First, tr.Last
		if compareAddr(first, r.First) < 0 {
			first = r.First
		}
		if compareAddr(last, r.Last) > 0 {
			last = r.Last
		}
		if compareAddr(first, last) <= 0 {
			have = satAdd(have, rangeSize(Range{first, last}))
		}
	}
	return have
}
