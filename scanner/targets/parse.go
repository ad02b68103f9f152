package targets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Options tunes Parse. The zero value is ready to use.
type Options struct {
	// MaxHosts refuses target sets with more addresses than this;
	// 0 means DefaultMaxHosts.
	MaxHosts int
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// Networks are this machine's networks (scanner.LocalNetworks'
	// prefixes). The broadcast address of each IPv4 one shorter than /31
	// is a broadcast address like 255.255.255.255: a range, a wider
	// prefix or a name that covers it skips it, and typed alone it is
	// refused unless AllowBroadcast is set.
	Networks []netip.Prefix
	// AllowBroadcast accepts a broadcast or multicast address typed alone
	// (--allow-broadcast). Every host of a link or group answers such a
	// request, so without it they are refused, and never swept.
	AllowBroadcast bool
}

// Parse turns what a user typed into a set of addresses. Each
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
// limited broadcast 255.255.255.255, the broadcast addresses of
// opt.Networks and the unspecified addresses wherever a prefix, range or
// host name covers them (a note says what was skipped). Typed alone, the
// unspecified address is scanned, while a broadcast or multicast address
// is refused unless opt.AllowBroadcast is set. A link-local IPv6 address
// must carry its interface as a zone (fe80::1%eth0): without one no
// request would leave, so it is refused, and so is a link-local prefix or
// range, which cannot carry one. Otherwise ranges and single addresses
// are taken literally. A prefix
// written with host bits set, such as 198.18.0.7/24 copied from `ip addr`,
// is taken as its network (198.18.0.0/24) and a note says so; see Notes.
// IPv4-mapped IPv6 addresses are taken as the IPv4 address they carry.
//
// Targets that overlap are scanned once. Every target is checked before
// any name is looked up, and any refusal returns a *Error and no
// Set at all: a scan never runs on part of what was asked for.
func Parse(ctx context.Context, spec []string, opt Options) (*Set, error) {
	limit := opt.MaxHosts
	switch {
	case limit < 0:
		return nil, fmt.Errorf("scanner: Options.MaxHosts is %d; want 0 (the default) or more", limit)
	case limit == 0:
		limit = DefaultMaxHosts
	}
	res := opt.Resolver
	if res == nil {
		res = net.DefaultResolver
	}

	b := newBuilder(limit, opt)
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
				return nil, &Error{Input: name, Reason: fmt.Sprintf("more than %d host names; pass addresses or prefixes instead", maxNames)}
			}
		}
	}
	if b.tokens == 0 {
		return nil, &Error{Reason: "no targets given", Err: ErrNoTargets}
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
	// broadcasts are the directed broadcast addresses of Options.Networks,
	// each with its network.
	broadcasts     map[netip.Addr]netip.Prefix
	allowBroadcast bool
}

func newBuilder(limit int, opt Options) builder {
	b := builder{limit: limit, allowBroadcast: opt.AllowBroadcast}
	for _, p := range opt.Networks {
		if a, ok := Broadcast(p); ok {
			if b.broadcasts == nil {
				b.broadcasts = map[netip.Addr]netip.Prefix{}
			}
			b.broadcasts[a] = p.Masked()
		}
	}
	return b
}

// addToken checks one target and adds its addresses. A host name is
// returned for later lookup instead.
func (b *builder) addToken(tok string) (name string, err error) {
	b.tokens++
	if err := checkChars(tok); err != nil {
		return "", err
	}
	fail := func(format string, args ...any) error {
		return &Error{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}

	// A zone may hold '-' and '.', so a zoned address is taken whole
	// before anything tries to split it.
	if strings.Contains(tok, "%") {
		a, err := netip.ParseAddr(tok)
		if err != nil {
			return "", fail("not a valid IPv6 address: %s", netipReason(err))
		}
		if err := CheckZone(a.Zone()); err != nil {
			return "", fail("%v; a zone goes only on a single link-local address", err)
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
		if p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
			return "", fail("%s", linkLocalNoZone)
		}
		if note != "" {
			b.notes = append(b.notes, note)
		}
		return "", b.add(tok, prefixRange(p))
	}

	if a, err := netip.ParseAddr(tok); err == nil {
		a = a.Unmap()
		if err := b.checkAlone(tok, a); err != nil {
			return "", err
		}
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
			if r.First.Is6() && (r.First.IsLinkLocalUnicast() || r.Last.IsLinkLocalUnicast()) {
				return "", fail("%s", linkLocalNoZone)
			}
			return "", b.add(tok, r)
		}
	}

	if err := checkName(tok); err != nil {
		return "", err
	}
	return strings.TrimSuffix(tok, "."), nil
}

// linkLocalNoZone explains why a link-local IPv6 target needs a zone:
// fe80::/10 exists on every link at once, so without one the kernel has
// no link to send on, and the scan would find nothing and not say why.
const linkLocalNoZone = "a link-local address needs its interface as a zone, as in fe80::1%eth0 (a prefix or range cannot carry one)"

// add adds one target's addresses, refusing a single target that is
// already too big by itself, so the message can name it.
func (b *builder) add(tok string, r Range) error {
	if n := rangeSize(r); n > uint64(b.limit) {
		return tooMany(tok, sizeString(r), b.limit)
	}
	b.ranges = append(b.ranges, r)
	return nil
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
			return &Error{Input: name, Reason: reason, Err: ans.err}
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

// finish merges the ranges and checks the total.
func (b *builder) finish() (*Set, error) {
	ranges := b.skipSpecial(b.ranges)
	if len(ranges) == 0 {
		return nil, &Error{Reason: "nothing left to scan once multicast, broadcast and unspecified addresses are skipped", Err: ErrNoTargets}
	}
	var total uint64
	for _, r := range ranges {
		total = satAdd(total, rangeSize(r))
	}
	if total > uint64(b.limit) {
		return nil, tooMany("", groupDigits(total), b.limit)
	}
	return &Set{ranges: ranges, n: int(total), notes: b.notes, names: b.names}, nil
}

// parsePrefix parses a CIDR prefix with messages of its own: netip's are
// correct but terse, and a user deserves to hear which rule was broken.
func parsePrefix(tok string) (p netip.Prefix, note string, err error) {
	fail := func(format string, args ...any) (netip.Prefix, string, error) {
		return netip.Prefix{}, "", &Error{Input: tok, Reason: fmt.Sprintf(format, args...)}
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
		return Range{}, &Error{Input: tok, Reason: fmt.Sprintf(format, args...)}
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

// netipReason drops the `ParseAddr("...")` prefix of a netip error: the
// Error already names the input.
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

// FromPrefixes is the set of the scannable addresses of prefixes, as Parse
// takes a prefix (an IPv4 one shorter than /31 without its network and
// broadcast addresses), with notes to pass on, for a scan whose targets
// the program chose rather than the user typed (see
// scanner.DefaultTargets). The special-address rules of Parse apply, and
// so does opt.MaxHosts; opt.Resolver is not used.
func FromPrefixes(prefixes []netip.Prefix, notes []string, opt Options) (*Set, error) {
	limit := opt.MaxHosts
	if limit <= 0 {
		limit = DefaultMaxHosts
	}
	b := newBuilder(limit, opt)
	b.notes = append(b.notes, notes...)
	for _, p := range prefixes {
		if !p.IsValid() {
			continue
		}
		b.tokens++
		if err := b.add(p.String(), ScanRange(p)); err != nil {
			return nil, err
		}
	}
	if b.tokens == 0 {
		return nil, &Error{Reason: "no targets given", Err: ErrNoTargets}
	}
	return b.finish()
}

// ParseHost checks one host as ping takes it: a single address or a host
// name, never a prefix or range. It applies the rules Parse applies to a
// target typed alone (zones, link-local, broadcast and multicast, with
// opt.Networks and opt.AllowBroadcast), refuses the unspecified address,
// which is no host, and returns the address, or the name to look up.
// Refusals are a *Error with Parse's words for the same input.
func ParseHost(s string, opt Options) (addr netip.Addr, name string, err error) {
	if strings.TrimSpace(s) == "" {
		return netip.Addr{}, "", &Error{Reason: "empty host"}
	}
	if err := checkChars(s); err != nil {
		return netip.Addr{}, "", err
	}
	fail := func(format string, args ...any) error {
		return &Error{Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.Contains(s, "/") {
		if _, _, err := parsePrefix(s); err != nil {
			return netip.Addr{}, "", err
		}
		return netip.Addr{}, "", fail("is a network; ping takes single hosts (netscanner scan sweeps networks)")
	}
	if i := strings.IndexByte(s, '-'); i > 0 {
		if _, err := netip.ParseAddr(s[:i]); err == nil {
			return netip.Addr{}, "", fail("is a range; ping takes single hosts (netscanner scan sweeps ranges)")
		}
	}
	b := newBuilder(1, opt)
	if _, err := b.addToken(s); err != nil {
		return netip.Addr{}, "", err
	}
	if len(b.ranges) == 0 { // a host name, checked, for lookup
		return netip.Addr{}, strings.TrimSuffix(s, "."), nil
	}
	r := b.ranges[0]
	if r.First.IsUnspecified() {
		return netip.Addr{}, "", fail("is the unspecified address, not a host")
	}
	return r.First, "", nil
}
