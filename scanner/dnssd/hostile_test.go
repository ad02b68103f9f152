package dnssd

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"netscanner/internal/testnet"
)

// hostileLAN is a LAN of responders written for this test, one scenario
// each (see TestHostileLAN), plus a silent victim whose address others
// claim.
var hostileSpecs = []testnet.BridgedSpec{
	{Label: "victim", MAC: "00:11:22:00:00:10", Addr4: "198.18.100.10"},
	{Label: "split", MAC: "00:11:22:00:00:20", Addr4: "198.18.100.20"},
	{Label: "trickle", MAC: "00:11:22:00:00:21", Addr4: "198.18.100.21"},
	{Label: "badtxt", MAC: "00:11:22:00:00:22", Addr4: "198.18.100.22"},
	{Label: "huge", MAC: "00:11:22:00:00:23", Addr4: "198.18.100.23"},
	{Label: "port", MAC: "00:11:22:00:00:24", Addr4: "198.18.100.24"},
	{Label: "many", MAC: "00:11:22:00:00:25", Addr4: "198.18.100.25"},
	{Label: "outside", MAC: "00:11:22:00:00:30", Addr4: "198.18.100.30"},
	{Label: "liar", MAC: "00:11:22:00:00:66", Addr4: "198.18.100.66"},
	{Label: "thief", MAC: "00:11:22:00:00:67", Addr4: "198.18.100.67"},
}

// addrRR is the address record a host gives its own name over the
// family of the query it answers: A over IPv4, AAAA (its link-local
// address) over IPv6.
func addrRR(h *testnet.BridgedHost, name string, v6 bool) string {
	if v6 {
		return fmt.Sprintf("%s 120 IN AAAA %s", name, h.LinkLocal)
	}
	return fmt.Sprintf("%s 120 IN A %s", name, h.Addr4)
}

func asksPTR(q *dns.Msg, typ string) bool { return testnet.Asks(q, typ+".local.", dns.TypePTR) }

// TestHostileLAN browses a LAN of responders that split their answers,
// send hostile, oversized or misdirected ones, or claim addresses they do
// not have, in one round: each host must be credited with exactly what it
// said about itself, from its own address.
func TestHostileLAN(t *testing.T) {
	lan := testnet.NewBridged(t, hostileSpecs...)
	victim := lan.Host("victim")
	reply := func(m *dns.Msg) []testnet.MDNSReply { return []testnet.MDNSReply{{Msg: m}} }

	// split answers each question with only its own record, each in a
	// packet of its own: the browser must ask for SRV, TXT and address.
	split := lan.Host("split")
	const splitInst = `Split\ Printer._ipp._tcp.local.` // as miekg/dns writes it
	splitR := testnet.StartMDNSResponder(t, split.NS, split.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		var out []testnet.MDNSReply
		if testnet.Asks(q, MetaQuery, dns.TypePTR) {
			out = append(out, reply(testnet.MDNSAnswer(t, MetaQuery+" 4500 IN PTR _ipp._tcp.local."))...)
		}
		if asksPTR(q, "_ipp._tcp") {
			out = append(out, reply(testnet.MDNSAnswer(t, "_ipp._tcp.local. 4500 IN PTR "+splitInst))...)
		}
		if testnet.Asks(q, splitInst, dns.TypeSRV) {
			out = append(out, reply(testnet.MDNSAnswer(t, `Split\ Printer._ipp._tcp.local. 120 IN SRV 0 0 631 split.local.`))...)
		}
		if testnet.Asks(q, splitInst, dns.TypeTXT) {
			out = append(out, reply(testnet.MDNSAnswer(t, `Split\ Printer._ipp._tcp.local. 4500 IN TXT "ty=HP LaserJet Pro M404dn" "product=(HP LaserJet Pro M404dn)"`))...)
		}
		if testnet.Asks(q, "split.local.", dns.TypeA) || testnet.Asks(q, "split.local.", dns.TypeAAAA) {
			out = append(out, reply(testnet.MDNSAnswer(t, addrRR(split, "split.local.", from.Addr().Is6())))...)
		}
		return out
	})

	// trickle sends everything unasked, but in three packets spread
	// over 80 ms, by multicast.
	trickle := lan.Host("trickle")
	testnet.StartMDNSResponder(t, trickle.NS, trickle.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_googlecast._tcp") || q.Question[0].Qclass&topClassBit != 0 {
			return nil // answers only the multicast (QM) query, by multicast
		}
		v6 := from.Addr().Is6()
		return []testnet.MDNSReply{
			{Msg: testnet.MDNSAnswer(t, `_googlecast._tcp.local. 4500 IN PTR Kitchen._googlecast._tcp.local.`)},
			{Msg: testnet.MDNSAnswer(t, `Kitchen._googlecast._tcp.local. 120 IN SRV 0 0 8009 cc-1234.local.`,
				`Kitchen._googlecast._tcp.local. 4500 IN TXT "md=Google Nest Mini" "fn=Kitchen speaker"`), After: 40 * time.Millisecond},
			{Msg: testnet.MDNSAnswer(t, addrRR(trickle, "cc-1234.local.", v6)), After: 80 * time.Millisecond},
		}
	})

	// badtxt's TXT record is hostile: control and bidi characters,
	// invalid UTF-8, repeated and oversized keys.
	badtxt := lan.Host("badtxt")
	long := strings.Repeat("x", 250)
	testnet.StartMDNSResponder(t, badtxt.NS, badtxt.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_raop._tcp") {
			return nil
		}
		m := testnet.MDNSAnswer(t, `_raop._tcp.local. 4500 IN PTR 0011223344@Evil._raop._tcp.local.`,
			`0011223344@Evil._raop._tcp.local. 120 IN SRV 0 0 7000 evil.local.`,
			addrRR(badtxt, "evil.local.", from.Addr().Is6()))
		m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: "0011223344@Evil._raop._tcp.local.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 4500},
			Txt: []string{
				"am=AppleTV\\007\\027[31m\u202eX",   // BEL, ESC and a right-to-left override
				"md=first", "MD=second", "md=third", // only the first counts
				"fn=\\255\\254bad", // invalid UTF-8
				"note=" + long,     // cut to MaxValueLen
				"ty",               // boolean: no value
				"=orphan",          // no key
				"model=",           // empty
			}})
		return reply(m)
	})

	// huge sends a datagram longer than any honest answer, then a
	// malformed one; neither may count.
	huge := lan.Host("huge")
	testnet.StartMDNSResponder(t, huge.NS, huge.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_http._tcp") || from.Addr().Is6() {
			return nil
		}
		m := testnet.MDNSAnswer(t, `_http._tcp.local. 4500 IN PTR Huge._http._tcp.local.`,
			`Huge._http._tcp.local. 120 IN SRV 0 0 80 huge.local.`, addrRR(huge, "huge.local.", false))
		for i := 0; i < 50; i++ {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: "Huge._http._tcp.local.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 4500},
				Txt: []string{"model=" + strings.Repeat("H", 200)}})
		}
		data, err := m.Pack()
		if err != nil || len(data) <= maxDatagram {
			t.Errorf("huge answer: %d bytes, %v", len(data), err)
		}
		garbage := append([]byte{0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0}, []byte("\xc0\x0c\xc0\x0c")...)
		return []testnet.MDNSReply{{Raw: data, To: from}, {Raw: garbage, To: from}}
	})

	// port answers correctly, but from a port other than 5353.
	port := lan.Host("port")
	testnet.StartMDNSResponder(t, port.NS, port.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_ssh._tcp") || from.Addr().Is6() {
			return nil
		}
		return []testnet.MDNSReply{{To: from, FromPort: 40000, Msg: testnet.MDNSAnswer(t, `_ssh._tcp.local. 4500 IN PTR port._ssh._tcp.local.`,
			`port._ssh._tcp.local. 120 IN SRV 0 0 22 port.local.`, addrRR(port, "port.local.", false))}}
	})

	// many announces more instances than a host may have kept.
	many := lan.Host("many")
	testnet.StartMDNSResponder(t, many.NS, many.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_hap._tcp") || from.Addr().Is6() {
			return nil
		}
		m := testnet.MDNSAnswer(t, addrRR(many, "many.local.", false))
		for i := range MaxServicesPerHost + 8 {
			inst := fmt.Sprintf("Lamp%02d._hap._tcp.local.", i)
			m.Answer = append(m.Answer,
				&dns.PTR{Hdr: dns.RR_Header{Name: "_hap._tcp.local.", Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 4500}, Ptr: inst},
				&dns.SRV{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 120}, Port: uint16(8000 + i), Target: "many.local."},
				&dns.TXT{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 4500}, Txt: []string{"md=Lamp", "ci=5"}})
		}
		return reply(m)
	})

	// outside answers well, but the scan does not cover its address.
	outside := lan.Host("outside")
	testnet.StartMDNSResponder(t, outside.NS, outside.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_smb._tcp") || from.Addr().Is6() {
			return nil
		}
		return reply(testnet.MDNSAnswer(t, `_smb._tcp.local. 4500 IN PTR Outside._smb._tcp.local.`,
			`Outside._smb._tcp.local. 120 IN SRV 0 0 445 outside.local.`, addrRR(outside, "outside.local.", false)))
	})

	// liar announces a Chromecast at the victim's address, and an
	// AirPlay device at its own and the victim's.
	liar := lan.Host("liar")
	testnet.StartMDNSResponder(t, liar.NS, liar.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_googlecast._tcp") || from.Addr().Is6() {
			return nil
		}
		return reply(testnet.MDNSAnswer(t,
			`_googlecast._tcp.local. 4500 IN PTR Fake._googlecast._tcp.local.`,
			`Fake._googlecast._tcp.local. 120 IN SRV 0 0 8009 victim.local.`,
			`Fake._googlecast._tcp.local. 4500 IN TXT "md=Chromecast Ultra" "fn=Not the victim"`,
			"victim.local. 120 IN A "+victim.Addr4.String(),
			`_airplay._tcp.local. 4500 IN PTR Liar._airplay._tcp.local.`,
			`Liar._airplay._tcp.local. 120 IN SRV 0 0 7000 liar.local.`,
			`Liar._airplay._tcp.local. 4500 IN TXT "model=AppleTV6,2"`,
			"liar.local. 120 IN A "+liar.Addr4.String(),
			"liar.local. 120 IN A "+victim.Addr4.String()))
	})

	// thief names the split host's name as its service's target, and
	// gives it no address: split's own address record must not make
	// thief's service split's.
	thief := lan.Host("thief")
	testnet.StartMDNSResponder(t, thief.NS, thief.If, func(q *dns.Msg, from netip.AddrPort) []testnet.MDNSReply {
		if !asksPTR(q, "_ipps._tcp") || from.Addr().Is6() {
			return nil
		}
		return reply(testnet.MDNSAnswer(t, `_ipps._tcp.local. 4500 IN PTR Stolen._ipps._tcp.local.`,
			`Stolen._ipps._tcp.local. 120 IN SRV 0 0 631 split.local.`,
			`Stolen._ipps._tcp.local. 4500 IN TXT "ty=Stolen Printer"`))
	})

	scanned := lanScanned(lan)
	b := browseIn(t, lan.Scanner, Config{Scanned: func(a netip.Addr) bool { return a != outside.Addr4 && scanned(a) }})
	st := b.Stats()
	all := b.All()
	t.Logf("stats %+v", st)
	for a, s := range all {
		t.Logf("%s: %+v", a, s)
	}
	ll := func(h *testnet.BridgedHost) netip.Addr { return h.LinkLocal.WithZone(lan.ScannerIf) }
	one := func(a netip.Addr, typ, inst string) Service {
		t.Helper()
		svcs := all[a]
		if len(svcs) != 1 || svcs[0].Type != typ || svcs[0].Instance != inst {
			t.Errorf("%s: %+v, want one %s %q", a, svcs, typ, inst)
			return Service{}
		}
		return svcs[0]
	}

	// Split answers come together, over both families.
	for _, a := range []netip.Addr{split.Addr4, ll(split)} {
		s := one(a, "_ipp._tcp", "Split Printer")
		if s.Host != "split.local" || s.Port != 631 || s.TXT["ty"] != "HP LaserJet Pro M404dn" || s.TXT["product"] != "(HP LaserJet Pro M404dn)" {
			t.Errorf("split %s: %+v", a, s)
		}
	}
	asked := map[uint16]bool{}
	for _, q := range splitR.Queries() {
		for _, qq := range q.Question {
			if strings.EqualFold(qq.Name, splitInst) || strings.EqualFold(qq.Name, "split.local.") {
				asked[qq.Qtype] = true
			}
		}
	}
	if !asked[dns.TypeSRV] || !asked[dns.TypeTXT] || !asked[dns.TypeA] || !asked[dns.TypeAAAA] {
		t.Errorf("split was not asked for SRV, TXT, A and AAAA: %v", asked)
	}
	for _, a := range []netip.Addr{trickle.Addr4, ll(trickle)} {
		s := one(a, "_googlecast._tcp", "Kitchen")
		if s.TXT["md"] != "Google Nest Mini" || s.TXT["fn"] != "Kitchen speaker" || s.Port != 8009 {
			t.Errorf("trickle %s: %+v", a, s)
		}
	}

	// Hostile TXT values are cleaned, the first of repeated keys wins.
	s := one(badtxt.Addr4, "_raop._tcp", "0011223344@Evil")
	want := map[string]string{"am": "AppleTV[31mX", "md": "first", "fn": "\ufffdbad", "note": strings.Repeat("x", MaxValueLen)}
	if len(s.TXT) != len(want) {
		t.Errorf("badtxt TXT %q, want %q", s.TXT, want)
	}
	for k, v := range want {
		if s.TXT[k] != v {
			t.Errorf("badtxt TXT[%s] = %q, want %q", k, s.TXT[k], v)
		}
	}

	// Oversized, malformed, wrong-port and uncovered answers count for
	// nothing.
	for _, h := range []*testnet.BridgedHost{huge, port, outside, victim, thief} {
		if svcs := all[h.Addr4]; svcs != nil {
			t.Errorf("%s (%s) credited with %+v", h.Label, h.Addr4, svcs)
		}
	}
	if st.Rejected < 3 || st.NotScanned < 1 {
		t.Errorf("want the huge, malformed and wrong-port answers rejected and outside's dropped: %+v", st)
	}

	// Caps hold.
	if n := len(all[many.Addr4]); n != MaxServicesPerHost || st.Capped == 0 {
		t.Errorf("many: %d services kept (cap %d), Capped %d", n, MaxServicesPerHost, st.Capped)
	}

	// The liar keeps what it said about its own address, nothing else.
	s = one(liar.Addr4, "_airplay._tcp", "Liar")
	if s.TXT["model"] != "AppleTV6,2" {
		t.Errorf("liar: %+v", s)
	}
	if st.Foreign < 1 {
		t.Errorf("the liar's Chromecast at the victim's address is not counted as foreign: %+v", st)
	}
	if len(all) != 3*2+1+1 {
		t.Errorf("%d addresses credited, want split, trickle and badtxt (two each), many and liar", len(all))
	}
}
