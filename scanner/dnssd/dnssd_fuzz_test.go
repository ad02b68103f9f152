package dnssd

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// FuzzParseTXT: any TXT strings give only identity keys with short,
// clean values.
func FuzzParseTXT(f *testing.F) {
	f.Add("md=Chromecast", "fn=Living Room", "ty=\xff\x00\u202e")
	f.Add("MD=a", "md=b", "=")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for k, v := range ParseTXT([]string{a, b, c}) {
			if k != strings.ToLower(k) || !strings.Contains(strings.Join(IdentityKeys, " "), k) {
				t.Errorf("key %q", k)
			}
			if v == "" || len(v) > MaxValueLen || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\n\r\u202e") {
				t.Errorf("value %q", v)
			}
		}
	})
}

// FuzzSplitInstance: any name either fails or gives a valid type and a
// clean instance.
func FuzzSplitInstance(f *testing.F) {
	f.Add(`Living\ Room._googlecast._tcp.local.`)
	f.Add(`\255\.x._a-b._udp.LOCAL.`)
	f.Fuzz(func(t *testing.T, name string) {
		typ, inst, ok := splitInstance(name)
		if !ok {
			return
		}
		if _, ok := serviceType(typ + "." + localDomain); !ok || inst == "" || !utf8.ValidString(inst) {
			t.Errorf("splitInstance(%q) = %q, %q", name, typ, inst)
		}
	})
}

// FuzzHandle: any datagram from a scanned source is taken or refused,
// never a panic, and what is kept stays within the caps.
func FuzzHandle(f *testing.F) {
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}}
	for _, s := range []string{`_ipp._tcp.local. 4500 IN PTR P._ipp._tcp.local.`, `P._ipp._tcp.local. 120 IN SRV 0 0 631 p.local.`,
		`P._ipp._tcp.local. 120 IN TXT "ty=X"`, `p.local. 120 IN A 198.18.0.2`, MetaQuery + ` 120 IN PTR _x._tcp.local.`} {
		rr, _ := dns.NewRR(s)
		m.Answer = append(m.Answer, rr)
	}
	data, _ := m.Pack()
	f.Add(data, true)
	f.Add([]byte{0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c}, false)
	f.Fuzz(func(t *testing.T, data []byte, shared bool) {
		s := newSession(&Config{Scanned: func(netip.Addr) bool { return true }, MaxHosts: 2}, 0)
		for i := range 3 {
			src := s.handle(packet{from: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(i % 2)}), DefaultPort), shared: shared, data: data})
			if src == nil {
				continue
			}
			if len(src.inst) > MaxServicesPerHost || len(src.addrs) > MaxNamesPerHost {
				t.Fatalf("caps exceeded: %d instances, %d names", len(src.inst), len(src.addrs))
			}
			for _, svc := range src.services() {
				if svc.Instance == "" || !utf8.ValidString(svc.Instance) || !utf8.ValidString(svc.Host) {
					t.Fatalf("service %+v", svc)
				}
			}
			for _, qs := range src.questions() {
				if len(qs) > maxQuestions {
					t.Fatalf("%d questions", len(qs))
				}
			}
		}
		if len(s.types) > MaxTypes {
			t.Fatalf("%d types", len(s.types))
		}
	})
}
