package dnssd

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"
)

func TestParseTXT(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want map[string]string
	}{
		{nil, nil},
		{[]string{"txtvers=1", "rp=ipp/print"}, nil},
		{[]string{"md=Chromecast Ultra", "fn=Living Room TV", "id=abc"}, map[string]string{"md": "Chromecast Ultra", "fn": "Living Room TV"}},
		{[]string{"usb_MFG=Brother", "USB_MDL=HL-L2350DW"}, map[string]string{"usb_mfg": "Brother", "usb_mdl": "HL-L2350DW"}},
		{[]string{"md=a", "MD=b"}, map[string]string{"md": "a"}}, // first occurrence wins
		{[]string{"md", "md=late"}, nil},                               // a boolean md hides later ones
		{[]string{"=x", "fn", "model="}, nil},                          // no key, no value, empty value
		{[]string{"fn=  padded  "}, map[string]string{"fn": "padded"}}, // trimmed
		{[]string{"fn=a\x00b\u202ec"}, map[string]string{"fn": "abc"}}, // control and bidi dropped
		{[]string{"f\x01n=x", "fn=ok"}, map[string]string{"fn": "ok"}}, // bad key skipped
		{[]string{"note=" + strings.Repeat("é", 100)}, map[string]string{"note": strings.Repeat("é", MaxValueLen/2)}},
	} {
		got := ParseTXT(c.in)
		if len(got) != len(c.want) {
			t.Errorf("ParseTXT(%q) = %q, want %q", c.in, got, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("ParseTXT(%q)[%s] = %q, want %q", c.in, k, got[k], v)
			}
		}
	}
}

func TestSplitInstance(t *testing.T) {
	for _, c := range []struct {
		in, typ, inst string
		ok            bool
	}{
		{`Living\ Room\ TV._googlecast._tcp.local.`, "_googlecast._tcp", "Living Room TV", true},
		{`Dots\.in\.name._http._tcp.local.`, "_http._tcp", "Dots.in.name", true},
		{`K\195\188che._raop._tcp.local.`, "_raop._tcp", "Küche", true},
		{`X._IPP._TCP.LOCAL.`, "_ipp._tcp", "X", true},
		{`X._printer._sub._http._tcp.local.`, "", "", false}, // a subtype
		{`_ipp._tcp.local.`, "", "", false},
		{`X._ipp._sctp.local.`, "", "", false},
		{`X._ipp._tcp.example.`, "", "", false},
		{`X.ipp._tcp.local.`, "", "", false},
		{`\000._ipp._tcp.local.`, "", "", false}, // cleans to nothing
		{`X._123._tcp.local.`, "", "", false},
	} {
		typ, inst, ok := splitInstance(c.in)
		if typ != c.typ || inst != c.inst || ok != c.ok {
			t.Errorf("splitInstance(%q) = %q, %q, %v; want %q, %q, %v", c.in, typ, inst, ok, c.typ, c.inst, c.ok)
		}
	}
}

// pkt packs rrs (zone-file lines) into a multicast response from src.
func pkt(t testing.TB, src string, rrs ...string) packet {
	t.Helper()
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}}
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	data, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return packet{from: netip.AddrPortFrom(netip.MustParseAddr(src), DefaultPort), shared: true, data: data}
}

func newTestSession() *session {
	return newSession(&Config{Scanned: func(a netip.Addr) bool { return strings.HasPrefix(a.String(), "198.18.") }, MaxHosts: 4}, 77)
}

// TestSessionCredit checks the crediting rule without a network: records
// in separate packets come together per source, and never across
// sources.
func TestSessionCredit(t *testing.T) {
	s := newTestSession()
	a, b := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.0.3")
	src := s.handle(pkt(t, "198.18.0.2", `_ipp._tcp.local. 4500 IN PTR P._ipp._tcp.local.`))
	if src == nil || len(src.services()) != 0 {
		t.Fatal("a PTR alone credits a service")
	}
	if qs := src.questions(); len(qs) != 1 || len(qs[0]) != 2 || qs[0][0].Qtype != dns.TypeSRV || qs[0][1].Qtype != dns.TypeTXT {
		t.Errorf("questions after PTR: %v", qs)
	}
	s.handle(pkt(t, "198.18.0.2", `P._ipp._tcp.local. 120 IN SRV 0 0 631 p.local.`))
	if qs := src.questions(); len(qs) != 1 || qs[0][0].Qtype != dns.TypeTXT || qs[0][1] != (dns.Question{Name: "p.local.", Qtype: dns.TypeA, Qclass: dns.ClassINET}) {
		t.Errorf("questions after SRV: %v", qs)
	}
	// Another source gives p.local an address: it counts for nothing.
	s.handle(pkt(t, "198.18.0.3", `p.local. 120 IN A 198.18.0.2`))
	if len(src.services()) != 0 {
		t.Error("another source's address record completed the service")
	}
	// Its own address record, but for another address: foreign.
	s.handle(pkt(t, "198.18.0.2", `p.local. 120 IN A 198.18.0.9`))
	if len(src.services()) != 0 || src.foreign != 1 {
		t.Errorf("claimed address credited: %+v, foreign %d", src.services(), src.foreign)
	}
	s.handle(pkt(t, "198.18.0.2", `p.local. 120 IN A 198.18.0.2`, `P._ipp._tcp.local. 4500 IN TXT "ty=Brother HL" "product=(HL)"`))
	got := src.services()
	if len(got) != 1 || got[0].Instance != "P" || got[0].Host != "p.local" || got[0].Port != 631 || got[0].TXT["ty"] != "Brother HL" {
		t.Fatalf("services: %+v", got)
	}
	if len(src.questions()) != 0 {
		t.Errorf("questions when complete: %v", src.questions())
	}
	if s.sources[b] == nil || len(s.sources[b].services()) != 0 || s.sources[a] != src {
		t.Error("sources mixed up")
	}

	// A goodbye, another class and a non-local name change nothing.
	before := s.stats.Accepted
	if s.handle(pkt(t, "198.18.0.3", `_ipp._tcp.local. 0 IN PTR Q._ipp._tcp.local.`, `_ipp._tcp.local. 120 CH PTR Q._ipp._tcp.local.`,
		`Q._ipp._tcp.example. 120 IN SRV 0 0 1 q.local.`)) != nil || s.stats.Accepted != before+1 {
		t.Error("ignored records changed something")
	}
	// _device-info has no SRV: credited once the sender owns an address.
	src3 := s.handle(pkt(t, "198.18.0.3", `Mac._device-info._tcp.local. 4500 IN TXT "model=MacBookPro18,3"`))
	if len(src3.services()) != 0 {
		t.Error("_device-info credited before its sender named its own address")
	}
	s.handle(pkt(t, "198.18.0.3", `mac.local. 120 IN A 198.18.0.3`))
	if got := src3.services(); len(got) != 1 || got[0].Type != "_device-info._tcp" || got[0].TXT["model"] != "MacBookPro18,3" || got[0].Port != 0 {
		t.Errorf("_device-info: %+v", got)
	}
	// The meta query's answers queue new types, once.
	s.queued = nil
	s.handle(pkt(t, "198.18.0.3", MetaQuery+` 4500 IN PTR _foo-bar._tcp.local.`, MetaQuery+` 4500 IN PTR _ipp._tcp.local.`, MetaQuery+` 4500 IN PTR bogus.local.`))
	if len(s.queued) != 1 || s.queued[0] != "_foo-bar._tcp" {
		t.Errorf("queued %v", s.queued)
	}
}

// TestSessionCheck covers what is refused before a record is read.
func TestSessionCheck(t *testing.T) {
	s := newTestSession()
	ok := pkt(t, "198.18.0.2", `x.local. 120 IN A 198.18.0.2`)
	for name, c := range map[string]struct {
		mut  func(p *packet, m *dns.Msg)
		want bool
	}{
		"ok":               {func(*packet, *dns.Msg) {}, true},
		"not scanned":      {func(p *packet, _ *dns.Msg) { p.from = netip.MustParseAddrPort("192.0.2.1:5353") }, false},
		"wrong port":       {func(p *packet, _ *dns.Msg) { p.from = netip.AddrPortFrom(p.from.Addr(), 5354) }, false},
		"query":            {func(_ *packet, m *dns.Msg) { m.Response = false }, false},
		"rcode":            {func(_ *packet, m *dns.Msg) { m.Rcode = dns.RcodeNameError }, false},
		"opcode":           {func(_ *packet, m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }, false},
		"id on shared":     {func(_ *packet, m *dns.Msg) { m.Id = 77 }, false},
		"our id on legacy": {func(p *packet, m *dns.Msg) { p.shared = false; m.Id = 77 }, true},
		"id on legacy":     {func(p *packet, m *dns.Msg) { p.shared = false; m.Id = 78 }, false},
		"oversized":        {func(p *packet, _ *dns.Msg) { p.data = make([]byte, maxDatagram+1) }, false},
		"garbage":          {func(p *packet, _ *dns.Msg) { p.data = []byte{1, 2, 3} }, false},
	} {
		p := ok
		m := new(dns.Msg)
		if err := m.Unpack(p.data); err != nil {
			t.Fatal(err)
		}
		p.data = nil
		c.mut(&p, m)
		if p.data == nil {
			p.data, _ = m.Pack()
		}
		s := newTestSession()
		got := s.handle(p) != nil
		if got != c.want {
			t.Errorf("%s: taken %v, want %v (stats %+v)", name, got, c.want, s.stats)
		}
	}
	_ = s
}

// TestSessionCaps checks the limits on hosts, names and addresses.
func TestSessionCaps(t *testing.T) {
	s := newTestSession()
	for i := range 6 {
		s.handle(pkt(t, netip.AddrFrom4([4]byte{198, 18, 0, byte(10 + i)}).String(), `x.local. 120 IN A 198.18.0.1`))
	}
	if len(s.sources) != 4 || s.stats.Capped != 2 {
		t.Errorf("%d sources, %d capped; want MaxHosts 4", len(s.sources), s.stats.Capped)
	}
	var rrs []string
	for i := range MaxNamesPerHost + 3 {
		rrs = append(rrs, "n"+strings.Repeat("x", i)+".local. 120 IN A 198.18.0.10")
	}
	for i := range MaxAddrsPerName + 3 {
		rrs = append(rrs, "x.local. 120 IN A "+netip.AddrFrom4([4]byte{198, 18, 1, byte(i)}).String())
	}
	s.handle(pkt(t, "198.18.0.10", rrs...))
	src := s.sources[netip.MustParseAddr("198.18.0.10")]
	if len(src.addrs) > MaxNamesPerHost || len(src.addrs["x.local."]) > MaxAddrsPerName {
		t.Errorf("names %d, addrs of x %d", len(src.addrs), len(src.addrs["x.local."]))
	}
	for k := range src.addrs {
		if !utf8.ValidString(k) {
			t.Errorf("key %q", k)
		}
	}
}

// TestSessionTotalCap checks the cap on the instances of all sources.
func TestSessionTotalCap(t *testing.T) {
	s := newSession(&Config{Scanned: func(netip.Addr) bool { return true }, MaxHosts: 100}, 0)
	hosts := MaxServices/MaxServicesPerHost + 6
	for i := range hosts {
		var rrs []string
		for j := range MaxServicesPerHost {
			rrs = append(rrs, fmt.Sprintf("_http._tcp.local. 120 IN PTR s%d._http._tcp.local.", j))
		}
		s.handle(pkt(t, netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}).String(), rrs...))
	}
	total := 0
	for _, src := range s.sources {
		total += len(src.inst)
	}
	if len(s.sources) != hosts || total != MaxServices || s.nInst != MaxServices {
		t.Errorf("%d sources, %d instances in all (%d counted); want %d and %d", len(s.sources), total, s.nInst, hosts, MaxServices)
	}
}
