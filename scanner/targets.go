package scanner

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math/big"
	"math/bits"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ErrTooManyHosts is wrapped by the error ParseTargets returns when the
// targets add up to more addresses than TargetOptions.MaxHosts allows.
var ErrTooManyHosts = errors.New("too many hosts")

// ErrNoTargets is wrapped by the error returned when there is nothing to
// scan: an empty target list, or no local network to default to.
var ErrNoTargets = errors.New("no targets")

// TargetError explains why a target was refused. Input is the offending
// target as typed (empty when the refusal is about the targets as a whole,
// such as their total size); Err, when set, is a sentinel such as
// ErrTooManyHosts or the underlying cause, such as a resolver error.
type TargetError struct {
	Input  string
	Reason string
	Err    error
}

func (e *TargetError) Error() string {
	if e.Input == "" {
		return "targets: " + e.Reason
	}
	// %q keeps control characters and NUL bytes out of terminals and logs;
	// the cut keeps a megabyte of fuzz from becoming a megabyte of error.
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	return fmt.Sprintf("target %q: %s", in, e.Reason)
}

// Unwrap returns the sentinel or cause, so that errors.Is(err,
// ErrTooManyHosts) works.
func (e *TargetError) Unwrap() error { return e.Err }

// TargetOptions tunes ParseTargets. The zero value is ready to use.
type TargetOptions struct {
	// MaxHosts refuses target sets with more addresses than this;
	// 0 means DefaultMaxHosts.
	MaxHosts int
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// Limits on input that no honest target list reaches.
const (
	maxNameLen     = 253  // longest DNS name, without its trailing dot
	maxNames       = 1024 // distinct host names in one call
	lookupParallel = 8    // host name lookups in flight at once
	maxV6PrefixLen = 112  // widest IPv6 prefix: 65,536 addresses
)

// Range is a run of consecutive addresses, First <= Last, both of one
// family.
type Range struct {
	First, Last netip.Addr
}

// Targets is a set of addresses to scan, held as a sorted list of disjoint,
// non-adjacent ranges (single zoned or special addresses excepted; see
// mergeRanges). That keeps a /16 at one entry instead of 65,536,
// makes duplicates across inputs vanish when the ranges are merged, and
// lets Contains answer with a binary search.
//
// A Targets is immutable once built and safe for concurrent use.
type Targets struct {
	ranges []Range
	n      int
	notes  []string
	names  map[netip.Addr]string
}

// ParseTargets turns what a user typed into a set of addresses. Each
// element of spec may hold several targets separated by commas or white
// space. A target is one of:
//
//	198.18.0.7                     an IPv4 address
//	2001:db8::7, fe80::1%eth0      an IPv6 address; a zone only on link-local ones
//	198.18.0.0/24, 2001:db8::/120  a prefix (IPv6 no wider than /112)
//	198.18.0.10-50                 a range within one /24, by last octet
//	198.18.0.10-198.18.1.20        a range between two addresses of one family
//	printer.lan                    a host name: every A and AAAA address it has
//
// The network and broadcast addresses of an IPv4 prefix shorter than /31
// are skipped, and so are multicast addresses (224.0.0.0/4, ff00::/8), the
// limited broadcast 255.255.255.255 and the unspecified addresses wherever
// a prefix, range or host name covers them: only a user who types one of
// them alone gets it (a note says what was skipped). Otherwise ranges and
// single addresses are taken literally. A prefix
// written with host bits set, such as 198.18.0.7/24 copied from `ip addr`,
// is taken as its network (198.18.0.0/24) and a note says so; see Notes.
// IPv4-mapped IPv6 addresses are taken as the IPv4 address they carry.
//
// Targets that overlap are scanned once. Every target is checked before
// any name is looked up, and any refusal returns a *TargetError and no
// Targets at all: a scan never runs on part of what was asked for.
func ParseTargets(ctx context.Context, spec []string, opt TargetOptions) (*Targets, error) {
	limit := opt.MaxHosts
	switch {
	case limit < 0:
		return nil, fmt.Errorf("scanner: TargetOptions.MaxHosts is %d; want 0 (the default) or more", limit)
	case limit == 0:
		limit = DefaultMaxHosts
	}
	res := opt.Resolver
	if res == nil {
		res = net.DefaultResolver
	}

	b := builder{limit: limit}
	var names []string
	seen := map[string]bool{}
	for _, s := range spec {
		for _, tok := range strings.FieldsFunc(s, isSeparator) {
			name, err := b.addToken(tok)
			if err != nil {
				return nil, err
			}
			if name == "" || seen[strings.ToLower(name)] {
				continue
			}
			seen[strings.ToLower(name)] = true
			names = append(names, name)
			if len(names) > maxNames {
				return nil, &TargetError{Input: name, Reason: fmt.Sprintf("more than %d host names; pass addresses or prefixes instead", maxNames)}
			}
		}
	}
	if b.tokens == 0 {
		return nil, &TargetError{Reason: "no targets given", Err: ErrNoTargets}
	}
	if err := b.resolve(ctx, res, names); err != nil {
		return nil, err
	}
	return b.finish()
}

// isSeparator splits one argument into several targets.
func isSeparator(r rune) bool { return r == ',' || unicode.IsSpace(r) }

// builder collects ranges from targets and merges them at the end.
type builder struct {
	limit  int
	tokens int
	ranges []Range
	notes  []string
	names  map[netip.Addr]string
	alone  map[netip.Addr]bool // addresses typed on their own, which are scanned even if special
}

// addToken checks one target and adds its addresses. A host name is
// returned for later lookup instead.
func (b *builder) addToken(tok string) (name string, err error) {
	b.tokens++
	if err := checkChars(tok); err != nil {
		return "", err
	}
	fail := func(format string, args ...any) error {
		return &TargetError{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}

	// A zone may hold '-' and '.', so a zoned address is taken whole
	// before anything tries to split it.
	if strings.Contains(tok, "%") {
		a, err := netip.ParseAddr(tok)
		if err != nil {
			return "", fail("not a valid IPv6 address: %s", netipReason(err))
		}
		if !validZone.MatchString(a.Zone()) {
			return "", fail("zone %q is not an interface name (1-15 of A-Z a-z 0-9 _ . -); a zone goes only on a single link-local address", a.Zone())
		}
		if a.Is4In6() || !a.IsLinkLocalUnicast() {
			return "", fail("a zone (%%%s) is allowed only on a link-local address (fe80::/10)", a.Zone())
		}
		b.typedAlone(a)
		return "", b.add(tok, Range{a, a})
	}

	if strings.Contains(tok, "/") {
		p, note, err := parsePrefix(tok)
		if err != nil {
			return "", err
		}
		if note != "" {
			b.notes = append(b.notes, note)
		}
		return "", b.add(tok, prefixRange(p))
	}

	if a, err := netip.ParseAddr(tok); err == nil {
		a = a.Unmap()
		b.typedAlone(a)
		return "", b.add(tok, Range{a, a})
	}

	// Addresses never hold '-', so only the first one can end a range's
	// start; if what precedes it is no address, this is a host name such
	// as my-printer.lan.
	if i := strings.IndexByte(tok, '-'); i > 0 {
		if first, err := netip.ParseAddr(tok[:i]); err == nil {
			r, err := parseRange(tok, first.Unmap(), tok[i+1:])
			if err != nil {
				return "", err
			}
			return "", b.add(tok, r)
		}
	}

	if err := checkName(tok); err != nil {
		return "", err
	}
	return strings.TrimSuffix(tok, "."), nil
}

// add adds one target's addresses, refusing a single target that is
// already too big by itself, so the message can name it.
func (b *builder) add(tok string, r Range) error {
	if n := rangeSize(r); n > uint64(b.limit) {
		return tooMany(tok, sizeString(r), b.limit)
	}
	b.ranges = append(b.ranges, r)
	return nil
}

func tooMany(tok, count string, limit int) error {
	what := "targets add up to " + count + " addresses"
	if tok != "" {
		what = count + " addresses"
	}
	return &TargetError{
		Input:  tok,
		Reason: fmt.Sprintf("%s, more than --max-hosts %d allows; raise --max-hosts to scan them all", what, limit),
		Err:    ErrTooManyHosts,
	}
}

// resolve looks up every name, a few at a time, and adds all of their
// addresses. Any name that does not resolve fails the whole call; the
// first such name in input order is reported, so the error does not
// depend on which lookup happened to finish first.
func (b *builder) resolve(ctx context.Context, res *net.Resolver, names []string) error {
	if len(names) == 0 {
		return nil
	}
	type answer struct {
		addrs []netip.Addr
		err   error
	}
	answers := make([]answer, len(names))
	sem := make(chan struct{}, lookupParallel)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			answers[i].addrs, answers[i].err = res.LookupNetIP(ctx, "ip", name)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("resolving targets: %w", err)
	}

	b.names = map[netip.Addr]string{}
	for i, name := range names {
		ans := answers[i]
		if ans.err == nil && len(ans.addrs) == 0 {
			ans.err = errors.New("no addresses")
		}
		if ans.err != nil {
			reason := "does not resolve: " + ans.err.Error()
			var dnsErr *net.DNSError
			if errors.As(ans.err, &dnsErr) && dnsErr.IsNotFound {
				reason = "does not resolve: no such host"
			}
			return &TargetError{Input: name, Reason: reason, Err: ans.err}
		}
		for _, a := range ans.addrs {
			a = a.Unmap()
			if err := b.add(name, Range{a, a}); err != nil {
				return err
			}
			if _, dup := b.names[a]; !dup {
				b.names[a] = name
			}
		}
	}
	return nil
}

// typedAlone records that a was typed as a target by itself.
func (b *builder) typedAlone(a netip.Addr) {
	if b.alone == nil {
		b.alone = map[netip.Addr]bool{}
	}
	b.alone[a] = true
}

// special are addresses that no prefix, range or host name sends to: a
// request there reaches every host of a link or group at once (or, for the
// unspecified address, this machine itself), so a sweep would flood others'
// networks and credit the answers to the wrong address. A user who types
// one of them alone gets it.
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
	for _, sp := range special {
		if n := skipped[sp.what]; n > 0 {
			b.notes = append(b.notes, fmt.Sprintf("skipped %s %s address%s that a prefix, range or name covers; give one alone to scan it",
				groupDigits(n), sp.what, map[bool]string{true: "", false: "es"}[n == 1]))
			skipped[sp.what] = 0 // unspecified is listed twice, once per family
		}
	}
	return mergeRanges(ranges)
}

// finish merges the ranges and checks the total.
func (b *builder) finish() (*Targets, error) {
	ranges := b.skipSpecial(b.ranges)
	if len(ranges) == 0 {
		return nil, &TargetError{Reason: "nothing left to scan once multicast, broadcast and unspecified addresses are skipped", Err: ErrNoTargets}
	}
	var total uint64
	for _, r := range ranges {
		total = satAdd(total, rangeSize(r))
	}
	if total > uint64(b.limit) {
		return nil, tooMany("", groupDigits(total), b.limit)
	}
	return &Targets{ranges: ranges, n: int(total), notes: b.notes, names: b.names}, nil
}

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

// validZone is what an interface name may look like on Linux.
var validZone = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)

// shellMeta are characters a shell would act on. None of them can be part
// of an address or a host name, and a target list may be pasted from or
// into a shell, so each is refused by name.
const shellMeta = "`~!#$^&*()=[]{}\\|;'\"<>?"

// checkChars refuses what no address or host name can hold, before any
// parsing: NUL bytes, a leading '-' (a flag in disguise), overlong input,
// shell metacharacters, control and non-ASCII characters.
func checkChars(tok string) error {
	fail := func(format string, args ...any) error {
		return &TargetError{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.IndexByte(tok, 0) >= 0 {
		return fail("contains a NUL byte")
	}
	if tok[0] == '-' {
		return fail("starts with '-', so it could be taken for a flag")
	}
	if len(tok) > maxNameLen+1 { // +1: a fully qualified name's final dot
		return fail("is %d characters long; no address or host name is longer than %d", len(tok), maxNameLen)
	}
	if len(tok) > 1 && tok[0] == '[' && tok[len(tok)-1] == ']' {
		return fail("write IPv6 addresses without brackets")
	}
	for _, r := range tok {
		switch {
		case r == utf8.RuneError:
			return fail("is not valid UTF-8")
		case strings.ContainsRune(shellMeta, r):
			return fail("contains the shell metacharacter %q", r)
		case r < ' ' || r == 0x7f:
			return fail("contains the control character %q", r)
		case r > unicode.MaxASCII:
			return fail("contains %q; write international host names in their xn-- (punycode) form", r)
		case !isTargetChar(r):
			return fail("contains %q, which no address or host name has", r)
		}
	}
	return nil
}

// isTargetChar reports whether r may appear in an address, prefix, range or
// host name.
func isTargetChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		strings.ContainsRune(".:/%_-", r)
}

// parsePrefix parses a CIDR prefix with messages of its own: netip's are
// correct but terse, and a user deserves to hear which rule was broken.
func parsePrefix(tok string) (p netip.Prefix, note string, err error) {
	fail := func(format string, args ...any) (netip.Prefix, string, error) {
		return netip.Prefix{}, "", &TargetError{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}
	i := strings.IndexByte(tok, '/')
	addrPart, bitsPart := tok[:i], tok[i+1:]
	a, err := netip.ParseAddr(addrPart)
	if err != nil {
		return fail("not a valid prefix: %s", netipReason(err))
	}
	plen, ok := parseDecimal(bitsPart, 128)
	if !ok {
		return fail("prefix length %q is not a number from 1 to %d", bitsPart, a.BitLen())
	}
	if a.Is4In6() && plen >= 96 {
		a, plen = a.Unmap(), plen-96
	}
	if plen > a.BitLen() {
		return fail("prefix length %d is longer than the %d bits of an IPv%s address", plen, a.BitLen(), family(a))
	}
	if plen == 0 {
		return fail("/0 is every address there is; refused")
	}
	if a.Is6() && plen < maxV6PrefixLen {
		return fail("an IPv6 /%d is too wide to sweep; use /%d (65,536 addresses) or narrower", plen, maxV6PrefixLen)
	}
	p = netip.PrefixFrom(a, plen)
	if m := p.Masked(); m != p {
		note = fmt.Sprintf("%s has host bits set; scanning its network %s", tok, m)
		p = m
	}
	return p, note, nil
}

// prefixRange is the run of addresses a prefix scans: all of them, except
// the network and broadcast addresses of an IPv4 prefix shorter than /31
// (RFC 3021 gives a /31 no such addresses).
func prefixRange(p netip.Prefix) Range {
	first := p.Addr()
	last := fromU128(toU128(first).or(hostMask(p)), first.Is4())
	if first.Is4() && p.Bits() < 31 {
		return Range{first.Next(), last.Prev()}
	}
	return Range{first, last}
}

// parseRange parses the end of a range whose first address is known.
func parseRange(tok string, first netip.Addr, end string) (Range, error) {
	fail := func(format string, args ...any) (Range, error) {
		return Range{}, &TargetError{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}
	var last netip.Addr
	if a, err := netip.ParseAddr(end); err == nil {
		last = a.Unmap() // no zone: a token with '%' never gets here
		if last.Is4() != first.Is4() {
			return fail("range mixes IPv4 and IPv6")
		}
	} else if octet, ok := parseDecimal(end, 255); ok && first.Is4() {
		b := first.As4()
		b[3] = byte(octet)
		last = netip.AddrFrom4(b)
	} else if first.Is6() {
		return fail("an IPv6 range needs a full address after '-': %s", netipReason(err))
	} else {
		return fail("range end %q is neither an IPv4 address nor a last octet (0-255)", end)
	}
	if last.Less(first) {
		return fail("range runs backwards: %s comes after %s", first, last)
	}
	return Range{first, last}, nil
}

// checkName accepts a DNS host name and explains anything else. Host
// names follow RFC 1123, with '_' allowed as many resolvers allow it.
// Digits and dots alone are a mistyped address, so "198.18.0.256" gets a
// message about addresses rather than a failed lookup; and no name may end
// in an all-digit label, as no top-level domain is numeric.
func checkName(tok string) error {
	fail := func(format string, args ...any) error {
		return &TargetError{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.Contains(tok, ":") {
		_, err := netip.ParseAddr(tok)
		return fail("not a valid IPv6 address: %s", netipReason(err))
	}
	if strings.Trim(tok, "0123456789.") == "" {
		_, err := netip.ParseAddr(tok)
		return fail("not a valid IPv4 address: %s", netipReason(err))
	}
	if i := strings.IndexByte(tok, '-'); i > 0 && strings.Trim(tok, "0123456789.-") == "" {
		_, err := netip.ParseAddr(tok[:i])
		return fail("not a valid range: %s", netipReason(err))
	}
	name := strings.TrimSuffix(tok, ".")
	if len(name) > maxNameLen {
		return fail("is %d characters long; no host name is longer than %d", len(name), maxNameLen)
	}
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; last != "" && strings.Trim(last, "0123456789") == "" {
		return fail("not a valid host name: its last label %q is all digits", last)
	}
	for _, l := range labels {
		switch {
		case l == "":
			return fail("not a valid host name: empty label")
		case len(l) > 63:
			return fail("not a valid host name: label %.20q... is longer than 63 characters", l)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fail("not a valid host name: label %q starts or ends with '-'", l)
		}
	}
	return nil
}

// netipReason drops the `ParseAddr("...")` prefix of a netip error: the
// TargetError already names the input.
func netipReason(err error) string {
	if err == nil {
		return "malformed"
	}
	s := err.Error()
	if i := strings.Index(s, "): "); i >= 0 {
		return s[i+3:]
	}
	return s
}

// parseDecimal parses a plain decimal number up to hi: digits only, no
// sign, no leading zero (which some tools read as octal).
func parseDecimal(s string, hi int) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= hi
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "4"
	}
	return "6"
}

// Len is the number of addresses in the set.
func (t *Targets) Len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// All yields every address in ascending order (IPv4 first), computing each
// from the one before, so that iterating a /16 allocates nothing per
// address.
func (t *Targets) All() iter.Seq[netip.Addr] {
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
func (t *Targets) Contains(a netip.Addr) bool {
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
func (t *Targets) Ranges() []Range {
	if t == nil {
		return nil
	}
	return slices.Clone(t.ranges)
}

// Prefixes returns the set as the fewest CIDR prefixes that cover exactly
// its addresses, in ascending order. A zone does not survive: a prefix has
// none.
func (t *Targets) Prefixes() []netip.Prefix {
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
func (t *Targets) Notes() []string {
	if t == nil {
		return nil
	}
	return slices.Clone(t.notes)
}

// Name returns the host name the user typed that resolved to a, or "" if
// a came from an address, prefix or range.
func (t *Targets) Name(a netip.Addr) string {
	if t == nil {
		return ""
	}
	return t.names[a.Unmap()]
}

// maxStringParts bounds String: a list of a thousand hosts is summed up,
// not printed.
const maxStringParts = 8

// String describes the set compactly, as targets ParseTargets would take
// back: "198.18.0.0/24" for a /24 without its network and broadcast
// addresses, "198.18.0.10-50" for a run inside one /24. Beyond a few runs
// it ends with "(+N more)".
func (t *Targets) String() string {
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
func groupDigits(n uint64) string { return groupString(strconv.FormatUint(n, 10)) }

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
