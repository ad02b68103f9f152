package targets

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// tgtZone is what the in-test DNS server knows. Every other name is
// NXDOMAIN.
var tgtZone = map[string][]netip.Addr{
	"host1.test.":  {netip.MustParseAddr("198.18.7.1")},
	"dual.test.":   {netip.MustParseAddr("198.18.7.2"), netip.MustParseAddr("2001:db8::7:2")},
	"multi.test.":  {netip.MustParseAddr("198.18.7.3"), netip.MustParseAddr("198.18.7.4"), netip.MustParseAddr("198.18.7.5")},
	"v6only.test.": {netip.MustParseAddr("2001:db8::7:9")},
	"nodata.test.": {},
}

// tgtResolver starts a DNS server for tgtZone on 127.0.0.1 and returns
// a resolver that sends every query there, whatever /etc/resolv.conf says,
// so no test ever asks real DNS.
func tgtResolver(tb testing.TB) *net.Resolver {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(tgtAnswer)}
	go func() { _ = srv.ActivateAndServe() }()
	tb.Cleanup(func() { _ = srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

func tgtAnswer(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	addrs, ok := tgtZone[strings.ToLower(q.Name)]
	if !ok {
		m.Rcode = dns.RcodeNameError
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	for _, a := range addrs {
		switch {
		case a.Is4() && q.Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: a.AsSlice()})
		case a.Is6() && q.Qtype == dns.TypeAAAA:
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: a.AsSlice()})
		}
	}
	_ = w.WriteMsg(m)
}

type targetCase struct {
	in          []string
	max         int
	n           int    // want Len
	first, last string // want first and last address yielded
	err         string // want an error containing this
	sentinel    error  // and wrapping this
}

var targetCases = []targetCase{
	// Single addresses.
	{in: []string{"198.18.0.7"}, n: 1, first: "198.18.0.7", last: "198.18.0.7"},
	{in: []string{"2001:db8::7"}, n: 1, first: "2001:db8::7", last: "2001:db8::7"},
	{in: []string{"fe80::1%eth0"}, n: 1, first: "fe80::1%eth0", last: "fe80::1%eth0"},
	{in: []string{"fe80::1%br-lan"}, n: 1, first: "fe80::1%br-lan", last: "fe80::1%br-lan"},
	{in: []string{"::ffff:198.18.0.9"}, n: 1, first: "198.18.0.9", last: "198.18.0.9"},
	{in: []string{"255.255.255.255"}, err: "is the broadcast address of the link; every host on it answers for it, so it is sent to only with --allow-broadcast"},

	// Prefixes.
	{in: []string{"198.18.0.0/24"}, n: 254, first: "198.18.0.1", last: "198.18.0.254"},
	{in: []string{"198.18.0.0/23"}, n: 510, first: "198.18.0.1", last: "198.18.1.254"},
	{in: []string{"198.18.0.0/30"}, n: 2, first: "198.18.0.1", last: "198.18.0.2"},
	{in: []string{"198.18.0.0/31"}, n: 2, first: "198.18.0.0", last: "198.18.0.1"},
	{in: []string{"198.18.0.5/32"}, n: 1, first: "198.18.0.5", last: "198.18.0.5"},
	{in: []string{"198.18.0.7/24"}, n: 254, first: "198.18.0.1", last: "198.18.0.254"},
	{in: []string{"198.18.0.0/16"}, n: 65534, first: "198.18.0.1", last: "198.18.255.254"},
	{in: []string{"198.18.0.0/24"}, max: 254, n: 254, first: "198.18.0.1", last: "198.18.0.254"},
	{in: []string{"10.0.0.0/8"}, max: 1 << 24, n: 1<<24 - 2, first: "10.0.0.1", last: "10.255.255.254"},
	{in: []string{"2001:db8::/120"}, n: 256, first: "2001:db8::", last: "2001:db8::ff"},
	{in: []string{"2001:db8::/112"}, n: 65536, first: "2001:db8::", last: "2001:db8::ffff"},
	{in: []string{"::ffff:198.18.0.0/120"}, n: 254, first: "198.18.0.1", last: "198.18.0.254"},

	// Ranges.
	{in: []string{"198.18.0.10-50"}, n: 41, first: "198.18.0.10", last: "198.18.0.50"},
	{in: []string{"198.18.0.10-10"}, n: 1, first: "198.18.0.10", last: "198.18.0.10"},
	{in: []string{"198.18.0.0-255"}, n: 256, first: "198.18.0.0", last: "198.18.0.255"},
	{in: []string{"198.18.0.250-198.18.1.5"}, n: 12, first: "198.18.0.250", last: "198.18.1.5"},
	{in: []string{"2001:db8::1-2001:db8::ff"}, n: 255, first: "2001:db8::1", last: "2001:db8::ff"},

	// Lists, separators and duplicates.
	{in: []string{"198.18.0.1,198.18.0.2 198.18.0.3"}, n: 3, first: "198.18.0.1", last: "198.18.0.3"},
	{in: []string{"  198.18.0.3 ,\t198.18.0.1\n,,"}, n: 2, first: "198.18.0.1", last: "198.18.0.3"},
	{in: []string{"198.18.0.1", "198.18.0.1"}, n: 1, first: "198.18.0.1", last: "198.18.0.1"},
	{in: []string{"198.18.0.0/24", "198.18.0.10-20"}, n: 254, first: "198.18.0.1", last: "198.18.0.254"},
	{in: []string{"198.18.0.0/24", "198.18.0.255"}, n: 255, first: "198.18.0.1", last: "198.18.0.255"},
	{in: []string{"198.18.0.1", "::ffff:198.18.0.1"}, n: 1, first: "198.18.0.1", last: "198.18.0.1"},
	{in: []string{"2001:db8::1", "198.18.0.1"}, n: 2, first: "198.18.0.1", last: "2001:db8::1"},
	{in: []string{"fe80::1%eth0", "fe80::1%eth1", "fe80::1%eth0"}, n: 2, first: "fe80::1%eth0", last: "fe80::1%eth1"},

	// Host names, answered by the in-test DNS server.
	{in: []string{"host1.test"}, n: 1, first: "198.18.7.1", last: "198.18.7.1"},
	{in: []string{"HOST1.test."}, n: 1, first: "198.18.7.1", last: "198.18.7.1"},
	{in: []string{"dual.test"}, n: 2, first: "198.18.7.2", last: "2001:db8::7:2"},
	{in: []string{"v6only.test"}, n: 1, first: "2001:db8::7:9", last: "2001:db8::7:9"},
	{in: []string{"multi.test", "198.18.7.0/29", "host1.test"}, n: 6, first: "198.18.7.1", last: "198.18.7.6"},
	{in: []string{"nosuch.test"}, err: `target "nosuch.test": does not resolve: no such host`},
	{in: []string{"nodata.test"}, err: `target "nodata.test": does not resolve`},
	{in: []string{"host1.test", "nosuch.test", "nosuch2.test"}, err: `target "nosuch.test": does not resolve`},

	// Empty input.
	{in: nil, err: "targets: no targets given", sentinel: ErrNoTargets},
	{in: []string{"", " ,\t"}, err: "no targets given", sentinel: ErrNoTargets},

	// Too many.
	{in: []string{"198.18.0.0/15"}, err: `target "198.18.0.0/15": 131,070 addresses, more than --max-hosts 65536 allows`, sentinel: ErrTooManyHosts},
	{in: []string{"198.18.0.0/24"}, max: 253, err: "254 addresses, more than --max-hosts 253", sentinel: ErrTooManyHosts},
	{in: []string{"198.18.0.0/24", "198.18.1.0/24"}, max: 300, err: "targets: targets add up to 508 addresses, more than --max-hosts 300", sentinel: ErrTooManyHosts},
	{in: []string{"2001:db8::-2001:db8:ffff::"}, err: "79,226,953,588,444,722,964,369,244,161 addresses", sentinel: ErrTooManyHosts},
	{in: []string{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, err: "340,282,366,920,938,463,463,374,607,431,768,211,456 addresses", sentinel: ErrTooManyHosts},
	{in: []string{"10.0.0.0/8"}, err: "16,777,214 addresses", sentinel: ErrTooManyHosts},

	// Bad prefixes.
	{in: []string{"198.18.0.0/0"}, err: "/0 is every address"},
	{in: []string{"::/0"}, err: "/0 is every address"},
	{in: []string{"2001:db8::/64"}, err: "an IPv6 /64 is too wide to sweep; use /112"},
	{in: []string{"198.18.0.0/33"}, err: "prefix length 33 is longer than the 32 bits of an IPv4 address"},
	{in: []string{"198.18.0.0/x"}, err: `prefix length "x" is not a number`},
	{in: []string{"198.18.0.0/024"}, err: `prefix length "024" is not a number`},
	{in: []string{"198.18.0.0/24/8"}, err: `prefix length "24/8" is not a number`},
	{in: []string{"198.18.0.256/24"}, err: "not a valid prefix: IPv4 field has value >255"},

	// Bad ranges.
	{in: []string{"198.18.0.50-10"}, err: "range runs backwards: 198.18.0.50 comes after 198.18.0.10"},
	{in: []string{"198.18.1.0-198.18.0.255"}, err: "range runs backwards"},
	{in: []string{"198.18.0.1-2001:db8::1"}, err: "range mixes IPv4 and IPv6"},
	{in: []string{"2001:db8::1-ff"}, err: "an IPv6 range needs a full address after '-'"},
	{in: []string{"198.18.0.1-256"}, err: `range end "256" is neither an IPv4 address nor a last octet (0-255)`},
	{in: []string{"198.18.0.1-050"}, err: `range end "050" is neither`},
	{in: []string{"198.18.0.1-"}, err: `range end "" is neither`},
	{in: []string{"198.18.0.300-5"}, err: "not a valid range: IPv4 field has value >255"},

	// Bad addresses and zones.
	{in: []string{"198.18.0.256"}, err: "not a valid IPv4 address: IPv4 field has value >255"},
	{in: []string{"198.18.0"}, err: "not a valid IPv4 address: IPv4 address too short"},
	{in: []string{"2001:db8::g"}, err: "not a valid IPv6 address"},
	{in: []string{"2001:db8::1%eth0"}, err: "a zone (%eth0) is allowed only on a link-local address"},
	{in: []string{"::ffff:169.254.0.1%eth0"}, err: "allowed only on a link-local address"},
	{in: []string{"fe80::1%waytoolongforaname"}, err: `zone "waytoolongforaname" is not an interface name`},
	{in: []string{"fe80::1%eth0-fe80::2%eth0"}, err: "is not an interface name"},
	{in: []string{"198.18.0.1%eth0"}, err: "not a valid IPv6 address"},
	// Zone-less link-local targets reach no link: refused, naming the
	// zone syntax (issue 12; they used to be accepted and find nothing).
	{in: []string{"fe80::1"}, err: "needs its interface as a zone, as in fe80::1%eth0"},
	{in: []string{"fe80::/112"}, err: "needs its interface as a zone, as in fe80::1%eth0"},
	{in: []string{"fe80::1-fe80::9"}, err: "needs its interface as a zone, as in fe80::1%eth0"},
	{in: []string{"febf::1"}, err: "needs its interface as a zone"},
	{in: []string{"[2001:db8::1]"}, err: "write IPv6 addresses without brackets"},

	// Hostile or broken input.
	{in: []string{"-198.18.0.1"}, err: "starts with '-', so it could be taken for a flag"},
	{in: []string{"198.18.0.1", "--max-hosts=9"}, err: `target "--max-hosts=9": starts with '-'`},
	{in: []string{"198.18.0.1;reboot"}, err: `contains the shell metacharacter ';'`},
	{in: []string{"$(reboot)"}, err: `contains the shell metacharacter '$'`},
	{in: []string{"`id`"}, err: "contains the shell metacharacter '`'"},
	{in: []string{"a|b"}, err: `contains the shell metacharacter '|'`},
	{in: []string{"host\x00.test"}, err: `target "host\x00.test": contains a NUL byte`},
	{in: []string{"host\x01.test"}, err: `contains the control character '\x01'`},
	{in: []string{"bücher.test"}, err: "punycode"},
	{in: []string{"printer@home"}, err: `contains '@', which no address or host name has`},
	{in: []string{strings.Repeat("a", 300)}, err: "is 300 characters long"},
	{in: []string{strings.Repeat("abc.", 63) + "ab"}, err: "is 254 characters long; no host name is longer than 253"},
	{in: []string{strings.Repeat("a", 64) + ".test"}, err: "longer than 63 characters"},
	{in: []string{"foo..test"}, err: "not a valid host name: empty label"},
	{in: []string{"a-.test"}, err: `label "a-" starts or ends with '-'`},
	{in: []string{"host.123"}, err: `its last label "123" is all digits`},
	{in: []string{"198.18.0.1", "garbage!"}, err: `target "garbage!": contains the shell metacharacter '!'`},
}

func TestParseTargets(t *testing.T) {
	res := tgtResolver(t)
	for _, tc := range targetCases {
		name := strings.Join(tc.in, "|")
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			got, err := Parse(context.Background(), tc.in, Options{MaxHosts: tc.max, Resolver: res})
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %v (%d addresses), want error %q", tc.in, got, got.Len(), tc.err)
				}
				if got != nil {
					t.Errorf("Parse(%q) returned a partial result with its error", tc.in)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Errorf("Parse(%q) error:\n got %q\nwant it to contain %q", tc.in, err, tc.err)
				}
				var te *Error
				if !errors.As(err, &te) {
					t.Errorf("error %v is a %T, want a *Error", err, err)
				}
				if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
					t.Errorf("error %v does not wrap %v", err, tc.sentinel)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got.Len() != tc.n {
				t.Errorf("Len = %d, want %d", got.Len(), tc.n)
			}
			first, last, count := tgtIterate(got)
			if count != tc.n {
				t.Errorf("All yielded %d addresses, want %d", count, tc.n)
			}
			if first.String() != tc.first || last.String() != tc.last {
				t.Errorf("All ran %s to %s, want %s to %s", first, last, tc.first, tc.last)
			}
		})
	}
}

// tgtIterate walks All, checking order, and returns its ends and length.
func tgtIterate(ts *Set) (first, last netip.Addr, n int) {
	for a := range ts.All() {
		if n == 0 {
			first = a
		}
		last = a
		n++
	}
	return first, last, n
}

func TestParseTargetsErrorNamesInput(t *testing.T) {
	_, err := Parse(context.Background(), []string{"198.18.0.1, 198.18.0.99-3"}, Options{})
	var te *Error
	if !errors.As(err, &te) || te.Input != "198.18.0.99-3" {
		t.Fatalf("error %v: want a *Error with Input 198.18.0.99-3", err)
	}
}

func TestParseTargetsNotes(t *testing.T) {
	ts, err := Parse(context.Background(), []string{"198.18.0.7/24", "198.18.1.0/24"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"198.18.0.7/24 has host bits set; scanning its network 198.18.0.0/24"}
	if got := ts.Notes(); !slices.Equal(got, want) {
		t.Errorf("Notes = %q, want %q", got, want)
	}
}

func TestParseTargetsNames(t *testing.T) {
	ts, err := Parse(context.Background(), []string{"dual.test", "198.18.0.1", "DUAL.test."}, Options{Resolver: tgtResolver(t)})
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]string{"198.18.7.2": "dual.test", "2001:db8::7:2": "dual.test", "198.18.0.1": ""} {
		if got := ts.Name(netip.MustParseAddr(a)); got != want {
			t.Errorf("Name(%s) = %q, want %q", a, got, want)
		}
	}
}

func TestParseTargetsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Parse(ctx, []string{"host1.test"}, Options{Resolver: tgtResolver(t)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	// Addresses need no lookup, so a dead context does not matter.
	if _, err := Parse(ctx, []string{"198.18.0.1"}, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestParseTargetsNegativeMax(t *testing.T) {
	if _, err := Parse(context.Background(), []string{"198.18.0.1"}, Options{MaxHosts: -1}); err == nil {
		t.Fatal("MaxHosts -1 accepted")
	}
}

func TestContains(t *testing.T) {
	ts, err := Parse(context.Background(), []string{"198.18.0.0/24", "198.18.2.9", "2001:db8::10-2001:db8::20", "fe80::1%eth0"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{
		"198.18.0.0":        false, // network address, skipped
		"198.18.0.1":        true,
		"198.18.0.254":      true,
		"198.18.0.255":      false, // broadcast
		"198.18.1.1":        false,
		"198.18.2.9":        true,
		"198.18.2.10":       false,
		"::ffff:198.18.0.5": true,
		"2001:db8::f":       false,
		"2001:db8::10":      true,
		"2001:db8::20":      true,
		"2001:db8::21":      false,
		"fe80::1%eth0":      true,
		"fe80::1%eth1":      false,
		"fe80::1":           false,
		"0.0.0.0":           false,
		"::":                false,
	} {
		if got := ts.Contains(netip.MustParseAddr(a)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", a, got, want)
		}
	}
	if ts.Contains(netip.Addr{}) {
		t.Error("Contains(zero Addr) = true")
	}
	var none *Set
	if none.Contains(netip.MustParseAddr("198.18.0.1")) || none.Len() != 0 {
		t.Error("a nil *Set is not empty")
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"198.18.0.0/24", "198.18.0.0/24"},
		{"198.18.0.0/31", "198.18.0.0/31"},
		{"198.18.0.0-255", "198.18.0.0-255"},
		{"198.18.0.10-50", "198.18.0.10-50"},
		{"198.18.0.250-198.18.1.5", "198.18.0.250-198.18.1.5"},
		{"198.18.0.0/24 198.18.0.255 198.18.5.5", "198.18.0.1-255, 198.18.5.5"},
		{"2001:db8::/120", "2001:db8::/120"},
		{"2001:db8::1-2001:db8::ff", "2001:db8::1-2001:db8::ff"},
		{"fe80::1%eth0 fe80::2%eth0", "fe80::1%eth0, fe80::2%eth0"},
		{"198.18.0.1 198.18.0.3 198.18.0.5 198.18.0.7 198.18.0.9 198.18.0.11 198.18.0.13 198.18.0.15 198.18.0.17 198.18.0.19",
			"198.18.0.1, 198.18.0.3, 198.18.0.5, 198.18.0.7, 198.18.0.9, 198.18.0.11, 198.18.0.13 (+3 more)"},
	} {
		ts, err := Parse(context.Background(), []string{tc.in}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := ts.String(); got != tc.want {
			t.Errorf("String of %s = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPrefixes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"198.18.0.0/31 198.18.0.2-3", []string{"198.18.0.0/30"}},
		{"198.18.0.0/24", []string{"198.18.0.1/32", "198.18.0.2/31", "198.18.0.4/30", "198.18.0.8/29", "198.18.0.16/28",
			"198.18.0.32/27", "198.18.0.64/26", "198.18.0.128/26", "198.18.0.192/27", "198.18.0.224/28", "198.18.0.240/29",
			"198.18.0.248/30", "198.18.0.252/31", "198.18.0.254/32"}},
		{"2001:db8::/112 198.18.0.9", []string{"198.18.0.9/32", "2001:db8::/112"}},
		// The top of the space; 255.255.255.255 itself is skipped unless
		// given alone (see TestTargetsSkipSpecial).
		{"255.255.255.252-254", []string{"255.255.255.252/31", "255.255.255.254/32"}},
	} {
		ts, err := Parse(context.Background(), []string{tc.in}, Options{MaxHosts: 1 << 17})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ts.Prefixes() {
			got = append(got, p.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Prefixes of %s = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestIterateAllocs shows that All computes addresses rather than storing
// them: sweeping a /16 costs a constant few allocations, not 65,534.
func TestIterateAllocs(t *testing.T) {
	ts, err := Parse(context.Background(), []string{"198.18.0.0/16"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	// AllocsPerRun counts the whole process's allocations, and a lookup
	// an earlier test cancelled may still be finishing in the resolver's
	// own goroutine: the least of three measurements is the iteration's.
	allocs := math.Inf(1)
	for range 3 {
		allocs = min(allocs, testing.AllocsPerRun(5, func() {
			n = 0
			for range ts.All() {
				n++
			}
		}))
	}
	if n != 65534 {
		t.Fatalf("yielded %d addresses, want 65534", n)
	}
	if allocs > 2 {
		t.Errorf("iterating a /16 made %.0f allocations, want at most 2", allocs)
	}
}

func BenchmarkIterateSlash16(b *testing.B) {
	ts, err := Parse(context.Background(), []string{"198.18.0.0/16"}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var last netip.Addr
	for b.Loop() {
		for a := range ts.All() {
			last = a
		}
	}
	if last != netip.MustParseAddr("198.18.255.254") {
		b.Fatalf("last address %s", last)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(ts.Len()), "ns/addr")
}

func BenchmarkContains(b *testing.B) {
	spec := make([]string, 0, 1000)
	for i := range 1000 {
		spec = append(spec, netip.AddrFrom4([4]byte{198, 18, byte(i / 128), byte(i%128) * 2}).String())
	}
	ts, err := Parse(context.Background(), spec, Options{})
	if err != nil {
		b.Fatal(err)
	}
	probe := netip.MustParseAddr("198.18.3.77")
	b.ReportAllocs()
	for b.Loop() {
		if ts.Contains(probe) {
			b.Fatal("odd address found")
		}
	}
}

func BenchmarkParseTargets(b *testing.B) {
	spec := []string{"198.18.0.0/16, 198.18.0.10-50 2001:db8::/112 198.18.3.7"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(context.Background(), spec, Options{MaxHosts: 1 << 20}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseTargets checks that no input panics or hangs, that every error
// is a *Error with no result, and that an accepted set is
// consistent: Len matches All, All ascends without repeats, Contains
// holds for all it yields, Prefixes cover exactly Len addresses, and String
// parses back to the same set.
func FuzzParseTargets(f *testing.F) {
	for _, tc := range targetCases {
		f.Add(strings.Join(tc.in, ","))
	}
	for _, s := range []string{
		"198.18.0.0/30 198.18.0.2-198.18.0.9", "0.0.0.0-0.0.0.3", "255.255.255.250-255",
		"fe80::1%a fe80::1%b", "::ffff:1.2.3.4/127", "1.2.3.4-1.2.3.4/8", "a-b-c.test", "%", "/", "-", "1-", ":::",
	} {
		f.Add(s)
	}
	res := tgtResolver(f)
	const limit = 1 << 17
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := Parse(context.Background(), []string{s}, Options{MaxHosts: limit, Resolver: res})
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is a %T, want a *Error", err, err)
			}
			if ts != nil {
				t.Fatalf("error %v came with a result", err)
			}
			return
		}
		n := ts.Len()
		if n < 1 || n > limit {
			t.Fatalf("accepted %q with Len %d", s, n)
		}
		_ = ts.String()
		if n > 4096 {
			return
		}
		count, prev := 0, netip.Addr{}
		for a := range ts.All() {
			if count > 0 && compareAddr(prev, a) >= 0 {
				t.Fatalf("%q: All yielded %s after %s", s, a, prev)
			}
			if !ts.Contains(a) {
				t.Fatalf("%q: Contains(%s) = false for a yielded address", s, a)
			}
			prev = a
			count++
		}
		if count != n {
			t.Fatalf("%q: Len %d, All yielded %d", s, n, count)
		}
		var covered uint64
		for _, p := range ts.Prefixes() {
			covered += uint64(1) << (p.Addr().BitLen() - p.Bits())
		}
		if covered != uint64(n) {
			t.Fatalf("%q: Prefixes cover %d addresses, Len is %d", s, covered, n)
		}
		if len(ts.Ranges()) <= maxStringParts {
			back, err := Parse(context.Background(), []string{ts.String()}, Options{MaxHosts: limit})
			if err != nil {
				t.Fatalf("%q: String %q does not parse back: %v", s, ts.String(), err)
			}
			if !slices.Equal(back.Ranges(), ts.Ranges()) {
				t.Fatalf("%q: String %q parses back to %v, want %v", s, ts.String(), back.Ranges(), ts.Ranges())
			}
		}
	})
}
