package names

import (
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const (
	testQName = "2.6.18.198.in-addr.arpa."
	testID    = 0x5151
)

// mdnsReply builds the answer a responder gives a one-shot querier (RFC
// 6762 section 6.7): the query's id and question, and a PTR record from
// owner to target. edit, if not nil, changes the message before packing.
func mdnsReply(tb testing.TB, id uint16, owner, target string, edit func(*dns.Msg)) []byte {
	tb.Helper()
	m := new(dns.Msg)
	m.Id = id
	m.Response, m.Authoritative = true, true
	m.Question = []dns.Question{{Name: testQName, Qtype: dns.TypePTR, Qclass: dns.ClassINET}}
	m.Answer = []dns.RR{&dns.PTR{
		Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 10},
		Ptr: target,
	}}
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseMDNSReply(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"unicast reply", mdnsReply(t, testID, testQName, "printer.local.", nil), "printer.local"},
		{"multicast style", mdnsReply(t, 0, testQName, "printer.local.", func(m *dns.Msg) {
			// id 0, no question, the cache-flush bit in the class.
			m.Question = nil
			m.Answer[0].Header().Class |= topClassBit
		}), "printer.local"},
		{"question with QU bit", mdnsReply(t, testID, testQName, "printer.local.", func(m *dns.Msg) {
			m.Question[0].Qclass |= topClassBit
		}), "printer.local"},
		{"owner in other case", mdnsReply(t, testID, strings.ToUpper(testQName), "printer.local.", nil), "printer.local"},
		{"ours among others", mdnsReply(t, testID, testQName, "printer.local.", func(m *dns.Msg) {
			other := &dns.PTR{Hdr: dns.RR_Header{Name: "9.6.18.198.in-addr.arpa.", Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "liar.local."}
			a := &dns.A{Hdr: dns.RR_Header{Name: "printer.local.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(198, 18, 6, 2)}
			m.Answer = append([]dns.RR{other, a}, m.Answer...)
		}), "printer.local"},
		{"UTF-8", mdnsReply(t, testID, testQName, "J\\195\\182rgs-Mac.local.", nil), "Jörgs-Mac.local"},
		{"escapes and controls", mdnsReply(t, testID, testQName,
			"\\007evil\\226\\128\\174\\ name\\.x.local.", nil), "evil name.x.local"},
		{"invalid UTF-8", mdnsReply(t, testID, testQName, "a\\255b.local.", nil), "a\uFFFDb.local"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseMDNSReply(c.b, testID, testQName)
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestParseMDNSReplyRejects(t *testing.T) {
	good := mdnsReply(t, testID, testQName, "printer.local.", nil)
	reply := func(edit func(*dns.Msg)) []byte { return mdnsReply(t, testID, testQName, "printer.local.", edit) }
	cases := []struct {
		name string
		b    []byte
		want error // nil: any error
	}{
		{"empty", nil, nil},
		{"garbage", []byte("hello, world"), nil},
		{"query", reply(func(m *dns.Msg) { m.Response = false }), errNotReply},
		{"wrong id", mdnsReply(t, testID+1, testQName, "printer.local.", nil), errWrongID},
		{"opcode", reply(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), nil},
		{"NXDOMAIN", reply(func(m *dns.Msg) { m.Rcode = dns.RcodeNameError }), nil},
		{"another question", reply(func(m *dns.Msg) { m.Question[0].Name = "9.6.18.198.in-addr.arpa." }), errQuestion},
		{"question of another type", reply(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeA }), errQuestion},
		{"question of another class", reply(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), errQuestion},
		{"two questions", reply(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), errQuestion},
		{"name for another address", mdnsReply(t, testID, "9.6.18.198.in-addr.arpa.", "printer.local.", nil), nil},
		{"suffix of our name", mdnsReply(t, testID, "x."+testQName, "printer.local.", nil), nil},
		{"no answer", reply(func(m *dns.Msg) { m.Answer = nil }), nil},
		{"answer in additional section", reply(func(m *dns.Msg) { m.Extra, m.Answer = m.Answer, nil }), nil},
		{"class CHAOS", reply(func(m *dns.Msg) { m.Answer[0].Header().Class = dns.ClassCHAOS }), nil},
		{"empty name", mdnsReply(t, testID, testQName, "\\000\\001.", nil), nil},
		{"root name", mdnsReply(t, testID, testQName, ".", nil), nil},
		{"oversized", append(append([]byte(nil), good...), make([]byte, maxDatagram)...), errOversized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseMDNSReply(c.b, testID, testQName)
			if err == nil {
				t.Fatalf("accepted: %q", got)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	for n := range len(good) {
		if got, err := parseMDNSReply(good[:n], testID, testQName); err == nil {
			t.Errorf("%d of %d bytes accepted: %q", n, len(good), got)
		}
	}
}

func TestUnescape(t *testing.T) {
	cases := map[string]string{
		"plain.local.":       "plain.local.",
		`a\.b\ c\\d.`:        `a.b c\d.`,
		`\065\066\067`:       "ABC",
		`\256x`:              "256x", // not a byte: the digits stand for themselves
		`\12`:                "12",
		`trailing\`:          `trailing\`,
		`\195\182`:           "ö",
		`\000\031\127\255x.`: "\x00\x1f\x7f\xffx.",
	}
	for in, want := range cases {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMDNSReply(f *testing.F) {
	f.Add(mdnsReply(f, testID, testQName, "printer.local.", nil))
	f.Add(mdnsReply(f, 0, testQName, "printer.local.", func(m *dns.Msg) {
		m.Question = nil
		m.Answer[0].Header().Class |= topClassBit
		m.Extra = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "printer.local.", Rrtype: dns.TypeA, Class: dns.ClassINET | topClassBit}, A: net.IPv4(198, 18, 6, 2)}}
	}))
	f.Add(mdnsReply(f, testID, testQName, "J\\195\\182rg\\007\\226\\128\\174.local.", nil))
	f.Add(mdnsReply(f, testID, "9.6.18.198.in-addr.arpa.", "liar.local.", nil))
	compressed := new(dns.Msg)
	compressed.SetQuestion(testQName, dns.TypePTR)
	compressed.Response = true
	compressed.Answer = []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: testQName, Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "x.6.18.198.in-addr.arpa."}}
	compressed.Compress = true
	if b, err := compressed.Pack(); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var id uint16
		if len(b) >= 2 {
			id = binary.BigEndian.Uint16(b)
		}
		name, err := parseMDNSReply(b, id, testQName)
		if err != nil {
			return
		}
		checkClean(t, name)
		if name == "" {
			t.Fatal("accepted an empty name")
		}
		// An independent look at what was accepted.
		var m dns.Msg
		if m.Unpack(b) != nil || !m.Response || len(b) > maxDatagram {
			t.Fatal("accepted a message that is not a well-formed response")
		}
		found := false
		for _, rr := range m.Answer {
			if p, ok := rr.(*dns.PTR); ok && strings.EqualFold(p.Hdr.Name, testQName) && clean(unescape(p.Ptr)) == name {
				found = true
			}
		}
		if !found {
			t.Fatalf("name %q is not the target of a PTR record for %s", name, testQName)
		}
		// Only id 0, that of multicast responses, may answer any query.
		if id != 0 {
			if _, err := parseMDNSReply(b, id^0x8000, testQName); !errors.Is(err, errWrongID) {
				t.Fatalf("reply with id %#x accepted for id %#x (err %v)", id, id^0x8000, err)
			}
		}
	})
}

func BenchmarkParseMDNSReply(b *testing.B) {
	reply := mdnsReply(b, testID, testQName, "printer.local.", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseMDNSReply(reply, testID, testQName); err != nil {
			b.Fatal(err)
		}
	}
}
