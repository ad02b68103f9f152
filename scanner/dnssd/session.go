package dnssd

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"netscanner/scanner/names"
)

// topClassBit is the QU bit of a question's class and the cache-flush bit
// of a record's (RFC 6762 sections 5.4 and 10.2).
const topClassBit = 1 << 15

// followDelay is how long after a host's answer it is asked for what the
// answer left out: the rest often follows on its own within a few
// milliseconds.
const followDelay = 60 * time.Millisecond

// maxQuestions caps the questions of one query packet, so that it stays
// inside one Ethernet frame.
const maxQuestions = 48

// Reasons a response is rejected.
var (
	errOversized = fmt.Errorf("response longer than %d bytes", maxDatagram)
	errPort      = errors.New("response not from the mDNS port")
	errID        = errors.New("response with another query's id")
)

// packet is one datagram read, with where it came from.
type packet struct {
	from   netip.AddrPort // source; a link-local address carries its link's Name as zone
	ep     *endpoint      // the socket it came in on
	link   int            // and the link, an index into ep's links
	shared bool           // read on the shared socket on port 5353
	data   []byte
}

// instance is what one source said about one service instance.
type instance struct {
	fqdn   string // owner name in presentation form, as asked for
	typ    string // "_ipp._tcp"
	name   string // cleaned instance label
	hasSRV bool
	target string // lower-case SRV target
	port   uint16
	hasTXT bool
	txt    map[string]string
}

// source is everything one address said, kept apart from every other's.
type source struct {
	addr    netip.Addr // normalised as packet.from
	ep      *endpoint  // where it was heard, and where it is asked
	link    int
	inst    map[string]*instance // by lower-case owner name
	order   []string             // keys of inst in arrival order
	addrs   map[string][]netip.Addr
	tries   int       // direct follow-up queries sent
	next    time.Time // when the next one may go; zero: none due
	foreign int       // instances whose target's addresses exclude addr
	shown   []Service // last list published
}

// session is the state of one round, owned by one goroutine.
type session struct {
	scanned  func(netip.Addr) bool
	maxHosts int
	id       uint16
	types    map[string]bool // asked, or queued to be asked
	queued   []string        // types to ask the group for next
	sources  map[netip.Addr]*source
	nInst    int // instances of all sources
	stats    Stats
}

func newSession(cfg *Config, id uint16) *session {
	s := &session{
		scanned:  cfg.Scanned,
		maxHosts: cfg.MaxHosts,
		id:       id,
		types:    make(map[string]bool),
		sources:  make(map[netip.Addr]*source),
	}
	for _, t := range slices.Concat(DefaultTypes, cfg.Types) {
		s.addType(strings.ToLower(t))
	}
	return s
}

// addType queues a service type ("_x._tcp") to be asked for, once.
func (s *session) addType(t string) {
	if s.types[t] {
		return
	}
	if len(s.types) >= MaxTypes {
		s.stats.Capped++
		return
	}
	s.types[t] = true
	s.queued = append(s.queued, t)
}

// takeQueued returns the questions for the queued types (the meta query
// first, when first is set) and empties the queue.
func (s *session) takeQueued(first bool) []dns.Question {
	var qs []dns.Question
	if first {
		qs = append(qs, ptrQuestion(MetaQuery))
	}
	for _, t := range s.queued {
		qs = append(qs, ptrQuestion(t+"."+localDomain))
	}
	s.queued = nil
	return qs
}

func ptrQuestion(name string) dns.Question {
	return dns.Question{Name: name, Qtype: dns.TypePTR, Qclass: dns.ClassINET}
}

// handle reads one datagram and returns the source it changed, or nil.
func (s *session) handle(p packet) *source {
	s.stats.Received++
	if !s.scanned(p.from.Addr()) {
		s.stats.NotScanned++
		return nil
	}
	m, err := s.check(p)
	if err != nil {
		if err != errNotResponse {
			s.stats.Rejected++
			s.stats.LastReject = fmt.Errorf("%s: %w", p.from, err)
		}
		return nil
	}
	s.stats.Accepted++
	if m.Truncated {
		// What did arrive is still the sender's own word; the follow-up
		// queries ask again for whatever is missing.
		s.stats.Truncated++
	}
	src := s.sources[p.from.Addr()]
	if src == nil {
		if len(s.sources) >= s.maxHosts {
			s.stats.Capped++
			return nil
		}
		src = &source{addr: p.from.Addr(), ep: p.ep, link: p.link, inst: make(map[string]*instance), addrs: make(map[string][]netip.Addr)}
		s.sources[src.addr] = src
	}
	changed := false
	for _, sec := range [][]dns.RR{m.Answer, m.Extra} {
		for _, rr := range sec {
			if s.record(src, rr) {
				changed = true
			}
		}
	}
	if !changed {
		return nil
	}
	return src
}

var errNotResponse = errors.New("not a response")

// check decides whether p is a response worth reading and unpacks it.
func (s *session) check(p packet) (*dns.Msg, error) {
	if len(p.data) > maxDatagram {
		return nil, errOversized
	}
	if p.from.Port() != DefaultPort {
		// Responders answer from 5353, to legacy queries too (RFC 6762
		// section 6.7); anything else is not a responder.
		return nil, errPort
	}
	m := new(dns.Msg)
	if err := m.Unpack(p.data); err != nil {
		return nil, fmt.Errorf("malformed: %w", err)
	}
	switch {
	case !m.Response:
		return nil, errNotResponse
	case m.Opcode != dns.OpcodeQuery:
		return nil, fmt.Errorf("opcode %d in response", m.Opcode)
	case m.Rcode != dns.RcodeSuccess:
		return nil, fmt.Errorf("rcode %d in response", m.Rcode)
	case m.Id != 0 && (p.shared || m.Id != s.id):
		// Responses to queries from port 5353 carry id 0; a reply to
		// a legacy query carries its id (or 0, as some responders send).
		return nil, errID
	}
	return m, nil
}

// record takes one resource record from src and reports whether it
// changed what src is known to have said.
func (s *session) record(src *source, rr dns.RR) bool {
	h := rr.Header()
	if h.Class&^topClassBit != dns.ClassINET || h.Ttl == 0 {
		// Another class, or a goodbye: nothing to add.
		return false
	}
	owner := strings.ToLower(h.Name)
	switch rr := rr.(type) {
	case *dns.PTR:
		if owner == MetaQuery {
			if t, ok := serviceType(strings.ToLower(rr.Ptr)); ok && !s.types[t] {
				s.addType(t)
			}
			return false
		}
		t, ok := serviceType(owner)
		if !ok {
			return false // a reverse-address or subtype PTR
		}
		if typ, _, ok := splitInstance(rr.Ptr); !ok || typ != t {
			return false
		}
		_, added := s.instance(src, rr.Ptr)
		return added
	case *dns.SRV:
		in, _ := s.instance(src, h.Name)
		if in == nil {
			return false
		}
		target, ok := hostName(rr.Target)
		if !ok || in.hasSRV && in.target == target && in.port == rr.Port {
			return false
		}
		in.hasSRV, in.target, in.port = true, target, rr.Port
		return true
	case *dns.TXT:
		in, _ := s.instance(src, h.Name)
		if in == nil || in.hasTXT {
			return false
		}
		in.hasTXT, in.txt = true, ParseTXT(txtStrings(rr.Txt))
		return true
	case *dns.A:
		if a, ok := netip.AddrFromSlice(rr.A); ok {
			return s.address(src, owner, a.Unmap())
		}
	case *dns.AAAA:
		if a, ok := netip.AddrFromSlice(rr.AAAA); ok && !a.Is4In6() {
			return s.address(src, owner, a)
		}
	}
	return false
}

// instance returns src's instance named fqdn, making it if new (and
// within the caps); added says whether it was made.
func (s *session) instance(src *source, fqdn string) (in *instance, added bool) {
	key := strings.ToLower(fqdn)
	if in := src.inst[key]; in != nil {
		return in, false
	}
	typ, name, ok := splitInstance(fqdn)
	if !ok {
		return nil, false
	}
	if len(src.inst) >= MaxServicesPerHost || s.nInst >= MaxServices {
		s.stats.Capped++
		return nil, false
	}
	s.nInst++
	in = &instance{fqdn: fqdn, typ: typ, name: name}
	src.inst[key] = in
	src.order = append(src.order, key)
	return in, true
}

// address records that src gave name the address a.
func (s *session) address(src *source, name string, a netip.Addr) bool {
	name, ok := hostName(name)
	if !ok || !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	list, known := src.addrs[name]
	if slices.Contains(list, a) {
		return false
	}
	switch {
	case !known && len(src.addrs) >= MaxNamesPerHost, len(list) >= MaxAddrsPerName:
		s.stats.Capped++
		return false
	}
	src.addrs[name] = append(list, a)
	return true
}

// owns reports whether src gave some host name its own address.
func (src *source) owns() bool {
	for _, list := range src.addrs {
		if slices.Contains(list, src.addr.WithZone("")) {
			return true
		}
	}
	return false
}

// hasFamily reports whether list holds an address of src's family.
func (src *source) hasFamily(list []netip.Addr) bool {
	for _, a := range list {
		if a.Is6() == src.addr.Is6() {
			return true
		}
	}
	return false
}

// services returns what src is credited with (see the package doc), in
// arrival order, and counts the instances whose target names addresses
// other than src's.
func (src *source) services() []Service {
	var out []Service
	self := src.addr.WithZone("")
	owns := src.owns()
	src.foreign = 0
	for _, key := range src.order {
		in := src.inst[key]
		switch {
		case in.hasSRV:
			list := src.addrs[in.target]
			if !slices.Contains(list, self) {
				if src.hasFamily(list) {
					src.foreign++
				}
				continue
			}
		case in.typ == "_device-info._tcp" && in.hasTXT && owns:
		default:
			continue
		}
		svc := Service{Type: in.typ, Instance: in.name, Port: in.port, TXT: in.txt}
		if in.hasSRV {
			svc.Host = names.Clean(names.Unescape(in.target))
		}
		out = append(out, svc)
	}
	return out
}

// questions returns what to ask src directly, one group per instance:
// SRV and TXT of instances it named without them, and its address for
// targets it gave none for.
func (src *source) questions() [][]dns.Question {
	var (
		out  [][]dns.Question
		seen []dns.Question
		n    int
	)
	addrType := dns.TypeA
	if src.addr.Is6() {
		addrType = dns.TypeAAAA
	}
	for _, key := range src.order {
		in := src.inst[key]
		var qs []dns.Question
		add := func(name string, t uint16) {
			q := dns.Question{Name: name, Qtype: t, Qclass: dns.ClassINET}
			if n < maxQuestions && !slices.Contains(seen, q) {
				qs, seen, n = append(qs, q), append(seen, q), n+1
			}
		}
		if !in.hasSRV && in.typ != "_device-info._tcp" {
			add(in.fqdn, dns.TypeSRV)
		}
		if !in.hasTXT {
			add(in.fqdn, dns.TypeTXT)
		}
		if in.hasSRV && !src.hasFamily(src.addrs[in.target]) {
			add(in.target, addrType)
		}
		if len(qs) > 0 {
			out = append(out, qs)
		}
	}
	return out
}
