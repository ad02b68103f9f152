package names

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"netscanner/internal/testnet"
)

// The lab: a scanner namespace and a host namespace on one link.
//
//	scanner 198.18.6.1/24 2001:db8:6::1/64 --veth-- host 198.18.6.2/24 (and .3) 2001:db8:6::2/64
var (
	scan4   = netip.MustParseAddr("198.18.6.1")
	scan6   = netip.MustParseAddr("2001:db8:6::1")
	host4   = netip.MustParseAddr("198.18.6.2")
	host6   = netip.MustParseAddr("2001:db8:6::2")
	alias4  = netip.MustParseAddr("198.18.6.3") // the host's second address
	silent4 = netip.MustParseAddr("198.18.6.9") // on the link, nobody there
	dnsAddr = netip.MustParseAddrPort("198.18.6.2:53")
	mdns4   = netip.MustParseAddr("224.0.0.251")
	mdns6   = netip.MustParseAddr("ff02::fb")
)

// hostileBudget is the Timeout of a query that only bad replies answer:
// long enough for several to arrive on a loaded machine.
const hostileBudget = 700 * time.Millisecond

// answerBudget is the Timeout where an answer is expected: an answer ends
// the wait, so it costs nothing unless the machine is slow.
const answerBudget = 3 * time.Second

type lab struct {
	scan, host     *testnet.NS
	scanIf, hostIf string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	scan, host := testnet.NewNS(t, "names"), testnet.NewNS(t, "nhost")
	sIf, hIf := testnet.Link(t, scan, host, "198.18.6.1/24", "198.18.6.2/24", "2001:db8:6::1/64", "2001:db8:6::2/64")
	host.Run("ip", "addr", "add", "198.18.6.3/24", "dev", hIf)
	return &lab{scan: scan, host: host, scanIf: sIf, hostIf: hIf}
}

// resolver returns a Resolver whose sockets open in the scanner namespace,
// and whose DNS queries go to dnsAddr, also from there: never to this
// machine's own resolver.
func (l *lab) resolver(timeout time.Duration) *Resolver {
	return &Resolver{
		Timeout: timeout,
		DNS: &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (c net.Conn, err error) {
				if nerr := testnet.Do(l.scan.Name, func() {
					c, err = (&net.Dialer{}).DialContext(ctx, network, dnsAddr.String())
				}); nerr != nil {
					return nil, nerr
				}
				return c, err
			},
		},
		InNet: func(fn func()) error { return testnet.Do(l.scan.Name, fn) },
	}
}

// testReply is one datagram a responder sends back, from src if valid
// (else the kernel picks the source).
type testReply struct {
	b   []byte
	src netip.Addr
}

// handler decides the replies to one request sent to dst.
type handler func(req []byte, dst netip.Addr) []testReply

// responder answers UDP requests on one port inside the host namespace.
type responder struct {
	c4    *ipv4.PacketConn
	c6    *ipv6.PacketConn
	wg    sync.WaitGroup
	count atomic.Int64 // requests received
}

// startResponder listens on port in the host namespace, for IPv4 and, if
// v6, IPv6, joins the multicast groups among groups on the host's link,
// and answers with h until the test ends.
func startResponder(t *testing.T, l *lab, port string, v6 bool, groups []netip.Addr, h handler) *responder {
	t.Helper()
	r := &responder{}
	var err error
	l.host.Do(func() {
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(l.hostIf); err != nil {
			return
		}
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp4", "0.0.0.0:"+port); err != nil {
			return
		}
		r.c4 = ipv4.NewPacketConn(pc)
		if err = r.c4.SetControlMessage(ipv4.FlagDst, true); err != nil {
			return
		}
		for _, g := range groups {
			if g.Is4() {
				if err = r.c4.JoinGroup(ifi, &net.UDPAddr{IP: g.AsSlice()}); err != nil {
					return
				}
			}
		}
		if !v6 {
			return
		}
		if pc, err = net.ListenPacket("udp6", "[::]:"+port); err != nil {
			return
		}
		r.c6 = ipv6.NewPacketConn(pc)
		if err = r.c6.SetControlMessage(ipv6.FlagDst, true); err != nil {
			return
		}
		for _, g := range groups {
			if g.Is6() {
				if err = r.c6.JoinGroup(ifi, &net.UDPAddr{IP: g.AsSlice()}); err != nil {
					return
				}
			}
		}
	})
	t.Cleanup(func() {
		if r.c4 != nil {
			r.c4.Close()
		}
		if r.c6 != nil {
			r.c6.Close()
		}
		r.wg.Wait()
	})
	if err != nil {
		t.Fatalf("responder on port %s: %v", port, err)
	}
	r.wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, cm, src, err := r.c4.ReadFrom(buf)
			if err != nil {
				return
			}
			r.count.Add(1)
			dst, _ := netip.AddrFromSlice(cm.Dst)
			for _, rep := range h(buf[:n], dst.Unmap()) {
				var out *ipv4.ControlMessage
				if rep.src.IsValid() {
					out = &ipv4.ControlMessage{Src: rep.src.AsSlice()}
				}
				if _, err := r.c4.WriteTo(rep.b, out, src); err != nil {
					t.Errorf("responder: %v", err)
				}
			}
		}
	})
	if r.c6 != nil {
		r.wg.Go(func() {
			buf := make([]byte, 2048)
			for {
				n, cm, src, err := r.c6.ReadFrom(buf)
				if err != nil {
					return
				}
				r.count.Add(1)
				dst, _ := netip.AddrFromSlice(cm.Dst)
				for _, rep := range h(buf[:n], dst) {
					var out *ipv6.ControlMessage
					if rep.src.IsValid() {
						out = &ipv6.ControlMessage{Src: rep.src.AsSlice()}
					}
					if _, err := r.c6.WriteTo(rep.b, out, src); err != nil {
						t.Errorf("responder: %v", err)
					}
				}
			}
		})
	}
	return r
}

// reverseName is addr's PTR owner name.
func reverseName(t testing.TB, addr netip.Addr) string {
	t.Helper()
	n, err := dns.ReverseAddr(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mdnsQuery parses req as an mDNS PTR query of one question.
func mdnsQuery(req []byte) (*dns.Msg, bool) {
	q := new(dns.Msg)
	if q.Unpack(req) != nil || q.Response || len(q.Question) != 1 || q.Question[0].Qtype != dns.TypePTR {
		return nil, false
	}
	return q, true
}

// legacyAnswer is what an RFC 6762 responder sends a one-shot querier: the
// query's id and question, and the PTR record.
func legacyAnswer(q *dns.Msg, owner, target string) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	m.Answer = []dns.RR{&dns.PTR{
		Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 10},
		Ptr: target,
	}}
	return m
}

func pack(t testing.TB, m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Error(err)
	}
	return b
}

// printer answers PTR queries for the host's own addresses with
// "printer.local.", as Avahi or mDNSResponder would; via filters the
// queries it hears by destination: "multicast", "unicast" or "" for both.
func printer(t testing.TB, via string) handler {
	own := map[string]bool{}
	for _, a := range []netip.Addr{host4, host6} {
		own[reverseName(t, a)] = true
	}
	return func(req []byte, dst netip.Addr) []testReply {
		q, ok := mdnsQuery(req)
		if !ok || !own[strings.ToLower(q.Question[0].Name)] ||
			via == "multicast" && !dst.IsMulticast() || via == "unicast" && dst.IsMulticast() {
			return nil
		}
		return []testReply{{b: pack(t, legacyAnswer(q, q.Question[0].Name, "printer.local."))}}
	}
}

func TestMDNS(t *testing.T) {
	l := newLab(t)
	for _, via := range []string{"", "multicast", "unicast"} {
		for _, addr := range []netip.Addr{host4, host6} {
			t.Run(addr.String()+"/"+via, func(t *testing.T) {
				startResponder(t, l, "5353", true, []netip.Addr{mdns4, mdns6}, printer(t, via))
				name, err := l.resolver(answerBudget).MDNS(t.Context(), addr)
				if err != nil || name != "printer.local" {
					t.Fatalf("MDNS(%s) = %q, %v; want printer.local", addr, name, err)
				}
			})
		}
	}

	t.Run("first query lost", func(t *testing.T) {
		// The first send reaches the host twice, by multicast and by
		// unicast; only the second send is answered.
		good := printer(t, "")
		var seen atomic.Int64
		startResponder(t, l, "5353", true, []netip.Addr{mdns4, mdns6}, func(req []byte, dst netip.Addr) []testReply {
			if seen.Add(1) <= 2 {
				return nil
			}
			return good(req, dst)
		})
		name, err := l.resolver(1500*time.Millisecond).MDNS(t.Context(), host4)
		if err != nil || name != "printer.local" {
			t.Fatalf("MDNS = %q, %v; want printer.local from the resent query", name, err)
		}
	})

	// Hostile replies, each a function of the query.
	otherRev := reverseName(t, silent4)
	hostile := map[string]func(q *dns.Msg) testReply{
		"name for another address": func(q *dns.Msg) testReply {
			return testReply{b: pack(t, legacyAnswer(q, otherRev, "printer.local."))}
		},
		"wrong question": func(q *dns.Msg) testReply {
			m := legacyAnswer(q, q.Question[0].Name, "printer.local.")
			m.Question[0].Name = otherRev
			return testReply{b: pack(t, m)}
		},
		"wrong id": func(q *dns.Msg) testReply {
			m := legacyAnswer(q, q.Question[0].Name, "printer.local.")
			m.Id = q.Id ^ 0x0100
			if m.Id == 0 {
				m.Id = 1
			}
			return testReply{b: pack(t, m)}
		},
		"from another address": func(q *dns.Msg) testReply {
			return testReply{b: pack(t, legacyAnswer(q, q.Question[0].Name, "printer.local.")), src: alias4}
		},
		"truncated": func(q *dns.Msg) testReply {
			b := pack(t, legacyAnswer(q, q.Question[0].Name, "printer.local."))
			return testReply{b: b[:len(b)-3]}
		},
		"oversized": func(q *dns.Msg) testReply {
			b := pack(t, legacyAnswer(q, q.Question[0].Name, "printer.local."))
			return testReply{b: append(b, make([]byte, maxDatagram)...)}
		},
		"NXDOMAIN": func(q *dns.Msg) testReply {
			m := legacyAnswer(q, q.Question[0].Name, "printer.local.")
			m.Rcode = dns.RcodeNameError
			return testReply{b: pack(t, m)}
		},
	}
	for name, bad := range hostile {
		t.Run("hostile/"+name, func(t *testing.T) {
			startResponder(t, l, "5353", false, []netip.Addr{mdns4}, func(req []byte, dst netip.Addr) []testReply {
				if q, ok := mdnsQuery(req); ok {
					return []testReply{bad(q)}
				}
				return nil
			})
			got, err := l.resolver(hostileBudget).MDNS(t.Context(), host4)
			var te *TimeoutError
			if !errors.As(err, &te) || te.Rejected == 0 || got != "" {
				t.Fatalf("MDNS = %q, %v; want a *TimeoutError with rejected replies", got, err)
			}
			t.Logf("%v", err)
		})
	}
	t.Run("hostile then good", func(t *testing.T) {
		good := printer(t, "unicast")
		startResponder(t, l, "5353", false, []netip.Addr{mdns4}, func(req []byte, dst netip.Addr) []testReply {
			q, ok := mdnsQuery(req)
			if !ok || dst.IsMulticast() {
				return nil
			}
			var out []testReply
			for _, bad := range hostile {
				out = append(out, bad(q))
			}
			return append(out, good(req, dst)...)
		})
		name, err := l.resolver(answerBudget).MDNS(t.Context(), host4)
		if err != nil || name != "printer.local" {
			t.Fatalf("MDNS = %q, %v; want printer.local after the bad replies", name, err)
		}
	})
	t.Run("no responder", func(t *testing.T) {
		for _, addr := range []netip.Addr{host4, host6, silent4} {
			name, err := l.resolver(300*time.Millisecond).MDNS(t.Context(), addr)
			var te *TimeoutError
			if !errors.As(err, &te) || te.Rejected != 0 || te.Source != SourceMDNS || name != "" {
				t.Errorf("MDNS(%s) = %q, %v; want a plain *TimeoutError", addr, name, err)
			}
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := l.resolver(time.Minute).MDNS(ctx, silent4)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestOnLink(t *testing.T) {
	l := newLab(t)
	type want struct {
		ifName string
		local  netip.Addr
		err    bool
	}
	cases := map[string]want{
		host4.String():        {ifName: l.scanIf, local: scan4},
		host6.String():        {ifName: l.scanIf, local: scan6},
		"198.18.9.9":          {},                 // off-link
		"fe80::2%" + l.scanIf: {ifName: l.scanIf}, // the zone says
		"fe80::2":             {},                 // which link?
		"fe80::2%nosuchif":    {err: true},
		scan4.String():        {}, // ourselves
		netip.MustParseAddr("127.0.0.1").String(): {},
	}
	l.scan.Do(func() {
		for in, w := range cases {
			ifi, local, err := onLink(netip.MustParseAddr(in))
			name := ""
			if ifi != nil {
				name = ifi.Name
			}
			if name != w.ifName || local != w.local || (err != nil) != w.err {
				t.Errorf("onLink(%s) = %q, %v, %v; want %q, %v, error %v", in, name, local, err, w.ifName, w.local, w.err)
			}
		}
	})
}

// startNetBIOS answers node status requests with h.
func startNetBIOS(t *testing.T, l *lab, h func(id uint16) []testReply) {
	startResponder(t, l, "137", false, nil, func(req []byte, _ netip.Addr) []testReply {
		if len(req) != 50 {
			return nil
		}
		id := uint16(req[0])<<8 | uint16(req[1])
		if string(req) != string(nodeStatusRequest(id)) {
			return nil
		}
		return h(id)
	})
}

func TestNetBIOS(t *testing.T) {
	l := newLab(t)
	t.Run("desktop", func(t *testing.T) {
		startNetBIOS(t, l, func(id uint16) []testReply {
			return []testReply{{b: encodeNodeStatus(id, desktopEntries, desktopMAC)}}
		})
		name, mac, err := l.resolver(answerBudget).NetBIOS(t.Context(), host4)
		if err != nil || name != "DESKTOP-42" || mac.String() != "00:50:56:aa:bb:cc" {
			t.Fatalf("NetBIOS = %q, %v, %v; want DESKTOP-42, 00:50:56:aa:bb:cc", name, mac, err)
		}
	})
	t.Run("no workstation name", func(t *testing.T) {
		startNetBIOS(t, l, func(id uint16) []testReply {
			return []testReply{{b: encodeNodeStatus(id, desktopEntries[:1], desktopMAC)}}
		})
		name, mac, err := l.resolver(answerBudget).NetBIOS(t.Context(), host4)
		if !errors.Is(err, ErrNoName) || name != "" || mac.String() != desktopMAC.String() {
			t.Fatalf("NetBIOS = %q, %v, %v; want ErrNoName with the MAC", name, mac, err)
		}
	})
	hostile := map[string]func(id uint16) testReply{
		"wrong id": func(id uint16) testReply { return testReply{b: encodeNodeStatus(id+1, desktopEntries, desktopMAC)} },
		"from another address": func(id uint16) testReply {
			return testReply{b: encodeNodeStatus(id, desktopEntries, desktopMAC), src: alias4}
		},
		"truncated": func(id uint16) testReply {
			b := encodeNodeStatus(id, desktopEntries, desktopMAC)
			return testReply{b: b[:60]}
		},
		"another name": func(id uint16) testReply {
			b := encodeNodeStatus(id, desktopEntries, desktopMAC)
			b[nbHdrLen+2] = 'B'
			return testReply{b: b}
		},
		"oversized": func(id uint16) testReply {
			return testReply{b: append(encodeNodeStatus(id, desktopEntries, desktopMAC), make([]byte, maxDatagram)...)}
		},
	}
	for name, bad := range hostile {
		t.Run("hostile/"+name, func(t *testing.T) {
			startNetBIOS(t, l, func(id uint16) []testReply { return []testReply{bad(id)} })
			got, mac, err := l.resolver(hostileBudget).NetBIOS(t.Context(), host4)
			var te *TimeoutError
			if !errors.As(err, &te) || te.Rejected == 0 || got != "" || mac != nil {
				t.Fatalf("NetBIOS = %q, %v, %v; want a *TimeoutError with rejected replies", got, mac, err)
			}
			t.Logf("%v", err)
		})
	}
	t.Run("no responder", func(t *testing.T) {
		for _, addr := range []netip.Addr{host4, silent4} {
			name, _, err := l.resolver(300*time.Millisecond).NetBIOS(t.Context(), addr)
			var te *TimeoutError
			if !errors.As(err, &te) || te.Rejected != 0 || name != "" {
				t.Errorf("NetBIOS(%s) = %q, %v; want a plain *TimeoutError", addr, name, err)
			}
		}
	})
	t.Run("IPv6", func(t *testing.T) {
		if _, _, err := l.resolver(answerBudget).NetBIOS(t.Context(), host6); !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("err = %v, want errors.ErrUnsupported", err)
		}
	})
}

// startDNS serves PTR records from zone (owner: targets) on dnsAddr in
// the host namespace; other names get NXDOMAIN.
func startDNS(t *testing.T, l *lab, zone map[string][]string) {
	t.Helper()
	var pc net.PacketConn
	var err error
	l.host.Do(func() { pc, err = net.ListenPacket("udp4", dnsAddr.String()) })
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{
		PacketConn:        pc,
		NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(req)
			if len(req.Question) == 1 {
				q := req.Question[0]
				targets, ok := zone[strings.ToLower(q.Name)]
				if !ok {
					m.Rcode = dns.RcodeNameError
				} else if q.Qtype == dns.TypePTR {
					for _, target := range targets {
						m.Answer = append(m.Answer, &dns.PTR{
							Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60},
							Ptr: target,
						})
					}
				}
			}
			_ = w.WriteMsg(m)
		}),
	}
	served := make(chan error, 1)
	go func() { served <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-served:
		t.Fatalf("DNS server: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-served
	})
}

func TestReverse(t *testing.T) {
	l := newLab(t)
	t.Run("no server", func(t *testing.T) {
		// Nothing on port 53 yet: the queries vanish, or are refused.
		_, err := l.resolver(300*time.Millisecond).Reverse(t.Context(), host4)
		if err == nil {
			t.Fatal("no error without a server")
		}
		t.Logf("%v", err)
	})
	t.Run("silent server", func(t *testing.T) {
		var pc net.PacketConn
		var err error
		l.host.Do(func() { pc, err = net.ListenPacket("udp4", dnsAddr.String()) })
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		names, err := l.resolver(300*time.Millisecond).Reverse(t.Context(), host4)
		var te *TimeoutError
		if !errors.As(err, &te) || te.Source != SourceDNS || names != nil {
			t.Fatalf("Reverse = %q, %v; want a *TimeoutError", names, err)
		}
	})

	startDNS(t, l, map[string][]string{
		"1.1.18.198.in-addr.arpa.": {"host1.test."},
		"4.6.18.198.in-addr.arpa.": {"a.test.", "A.TEST.", "b.test."},
	})
	r := l.resolver(answerBudget)
	names, err := r.Reverse(t.Context(), netip.MustParseAddr("198.18.1.1"))
	if err != nil || len(names) != 1 || names[0] != "host1.test" {
		t.Errorf("Reverse(198.18.1.1) = %q, %v; want [host1.test]", names, err)
	}
	names, err = r.Reverse(t.Context(), netip.MustParseAddr("198.18.6.4"))
	if err != nil || strings.Join(names, " ") != "a.test b.test" {
		t.Errorf("Reverse(198.18.6.4) = %q, %v; want [a.test b.test]", names, err)
	}
	names, err = r.Reverse(t.Context(), silent4)
	if !errors.Is(err, ErrNoName) || names != nil {
		t.Errorf("Reverse(%s) = %q, %v; want ErrNoName", silent4, names, err)
	}
}

// startAll gives the host every responder: DNS, mDNS and NetBIOS.
func startAll(t *testing.T, l *lab) {
	startDNS(t, l, map[string][]string{
		reverseName(t, host4): {"Printer.local.", "nas.test."},
	})
	startResponder(t, l, "5353", true, []netip.Addr{mdns4, mdns6}, printer(t, ""))
	startNetBIOS(t, l, func(id uint16) []testReply {
		return []testReply{{b: encodeNodeStatus(id, desktopEntries, desktopMAC)}}
	})
}

func TestLookup(t *testing.T) {
	l := newLab(t)
	startAll(t, l)
	r := l.resolver(answerBudget)

	got := r.Lookup(t.Context(), host4)
	want := []Name{{"Printer.local", SourceDNS}, {"nas.test", SourceDNS}, {"DESKTOP-42", SourceNetBIOS}}
	if !equalNames(got.Names, want) || got.MAC.String() != desktopMAC.String() {
		t.Errorf("Lookup(%s) = %+v; want %+v and MAC %v (mDNS's printer.local merged into DNS's)", host4, got, want, desktopMAC)
	}
	got = r.Lookup(t.Context(), host6)
	if want := []Name{{"printer.local", SourceMDNS}}; !equalNames(got.Names, want) || got.MAC != nil {
		t.Errorf("Lookup(%s) = %+v; want %+v", host6, got, want)
	}

	// A silent host costs the budget, no more.
	r = l.resolver(300 * time.Millisecond)
	start := time.Now()
	got = r.Lookup(t.Context(), silent4)
	if took := time.Since(start); len(got.Names) != 0 || got.MAC != nil || took > 3*time.Second {
		t.Errorf("Lookup(%s) = %+v after %v; want nothing, at the 300ms budget", silent4, got, took)
	}
}

func equalNames(a, b []Name) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLookupAll(t *testing.T) {
	l := newLab(t)
	startAll(t, l)
	r := l.resolver(2 * time.Second)

	addrs := make(chan netip.Addr)
	go func() {
		defer close(addrs)
		for _, a := range []netip.Addr{host4, host6, silent4, alias4} {
			addrs <- a
		}
	}()
	got := map[netip.Addr]Result{} // no lock: calls never overlap
	var running atomic.Int64
	err := r.LookupAll(t.Context(), addrs, 2, func(a netip.Addr, res Result) {
		if n := running.Add(1); n > 1 {
			t.Errorf("%d calls of fn at once", n)
		}
		defer running.Add(-1)
		if _, dup := got[a]; dup {
			t.Errorf("%s reported twice", a)
		}
		got[a] = res
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d results, want 4: %+v", len(got), got)
	}
	if n := got[host4].Names; len(n) != 3 || n[2].Name != "DESKTOP-42" {
		t.Errorf("%s: %+v", host4, got[host4])
	}
	if n := got[host6].Names; len(n) != 1 || n[0].Name != "printer.local" {
		t.Errorf("%s: %+v", host6, got[host6])
	}
	if len(got[silent4].Names) != 0 {
		t.Errorf("%s: %+v", silent4, got[silent4])
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		never := make(chan netip.Addr) // never closed
		time.AfterFunc(50*time.Millisecond, cancel)
		if err := r.LookupAll(ctx, never, 0, func(netip.Addr, Result) {}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}
