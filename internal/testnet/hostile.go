package testnet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// Garbage names one kind of bad answer a Hostile responder sends for every
// echo request to an address that is not live. None of them proves the
// probed address up; a scanner that counts one as a live host lies.
type Garbage int

// The kinds of garbage, after what broken stacks, middleboxes and attackers
// on the path really send.
const (
	// Truncated is an echo reply cut short: two with the right identifier
	// and sequence number, one with only 4 bytes of payload and one with
	// none. (Anything shorter than the 8-byte ICMP header never reaches a
	// socket: Linux drops it before raw sockets see it.)
	Truncated Garbage = iota
	// BadChecksum is a perfect copy of the right reply whose ICMP checksum
	// is off by one. Linux verifies it for ping sockets, but hands raw
	// sockets every packet as it came.
	BadChecksum
	// WrongID is the right reply with another echo identifier.
	WrongID
	// WrongSeq is the right reply with a sequence number never sent.
	WrongSeq
	// WrongPayload is the right reply with the first payload byte (where
	// probe keeps its tag) flipped.
	WrongPayload
	// Spoofed is the right reply, coming from an address that was never
	// probed (HostileConfig.SpoofFrom).
	Spoofed
	// Late is the right reply, held back by HostileConfig.LateDelay: past
	// the prober's deadline.
	Late
	// ForeignError is destination unreachable about someone else's packet:
	// one quoting the request with another identifier, one quoting the
	// request as if it had gone to a never-probed address, and one quoting
	// a UDP datagram.
	ForeignError
	numGarbage
)

var garbageNames = [...]string{"truncated", "bad-checksum", "wrong-id", "wrong-seq", "wrong-payload",
	"spoofed", "late", "foreign-error"}

func (g Garbage) String() string {
	if g >= 0 && g < numGarbage {
		return garbageNames[g]
	}
	return "garbage(" + strconv.Itoa(int(g)) + ")"
}

// AllGarbage lists every kind of garbage.
func AllGarbage() []Garbage {
	gs := make([]Garbage, numGarbage)
	for i := range gs {
		gs[i] = Garbage(i)
	}
	return gs
}

// HostileConfig says how a Hostile responder treats echo requests.
type HostileConfig struct {
	// Live addresses get one correct echo reply per request (plus
	// Duplicate copies). Every other address that reaches the responder
	// gets garbage only.
	Live []netip.Addr
	// Garbage is what the other addresses get, every kind once per
	// request. Nil means AllGarbage.
	Garbage []Garbage
	// Duplicate sends every reply and every piece of garbage this many
	// extra times.
	Duplicate int
	// LateDelay holds Late replies back; default 2s.
	LateDelay time.Duration
	// SpoofFrom is where Spoofed replies and foreign errors claim to come
	// from; addresses the prober never sends to. Default 198.19.254.0/24.
	SpoofFrom netip.Prefix
}

// HostileStats count what a Hostile responder saw and sent.
type HostileStats struct {
	LiveRequests, DeadRequests int64 // echo requests received
	Correct                    int64 // correct replies sent to live addresses, duplicates included
	Garbage                    [numGarbage]int64
	Flood                      int64 // unsolicited packets sent by Flood
	SendErrors                 int64 // packets the kernel refused to send
}

// GarbageTotal is the number of garbage packets sent, flood excluded.
func (s HostileStats) GarbageTotal() int64 {
	var n int64
	for _, v := range s.Garbage {
		n += v
	}
	return n
}

// Packets is every packet sent that is not a correct reply.
func (s HostileStats) Packets() int64 { return s.GarbageTotal() + s.Flood }

func (s HostileStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests live=%d dead=%d; correct=%d", s.LiveRequests, s.DeadRequests, s.Correct)
	for g, n := range s.Garbage {
		fmt.Fprintf(&b, " %s=%d", Garbage(g), n)
	}
	fmt.Fprintf(&b, " flood=%d send_errors=%d", s.Flood, s.SendErrors)
	return b.String()
}

// Hostile is a responder that lies. It takes over echo handling in a
// namespace, as Responder does (the kernel's echo replies are turned off),
// answers its live addresses correctly and every other address with
// garbage, and can flood a victim with unsolicited ICMP. It speaks IPv4
// only and builds every packet, IP header included, itself.
//
// Every address it sends from or to must lie in 198.18.0.0/15.
type Hostile struct {
	cfg  HostileConfig
	live map[netip.Addr]bool
	c    *ipv4.RawConn

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the read loop
	timers sync.WaitGroup // late replies in their delay

	last  atomic.Pointer[[]byte] // latest echo request seen (ICMP message), for the flood
	ipID  atomic.Uint32
	spoof atomic.Uint32 // next offset into SpoofFrom

	liveReq, deadReq, correct, flood, sendErr atomic.Int64
	garbage                                   [numGarbage]atomic.Int64
}

// benchNet is the only network a Hostile responder may put in its packets.
var benchNet = netip.MustParsePrefix("198.18.0.0/15")

// ListenHostile starts a Hostile responder in the namespace called nsName.
// It sets net.ipv4.icmp_echo_ignore_all=1 there. The caller must Close it;
// tests use StartHostile.
func ListenHostile(nsName string, cfg HostileConfig) (*Hostile, error) {
	if cfg.Garbage == nil {
		cfg.Garbage = AllGarbage()
	}
	if cfg.LateDelay <= 0 {
		cfg.LateDelay = 2 * time.Second
	}
	if !cfg.SpoofFrom.IsValid() {
		cfg.SpoofFrom = netip.MustParsePrefix("198.19.254.0/24")
	}
	switch {
	case cfg.Duplicate < 0:
		return nil, fmt.Errorf("hostile: negative Duplicate %d", cfg.Duplicate)
	case !cfg.SpoofFrom.Addr().Is4() || !benchNet.Contains(cfg.SpoofFrom.Addr()) || cfg.SpoofFrom.Bits() < benchNet.Bits():
		return nil, fmt.Errorf("hostile: SpoofFrom %s lies outside %s", cfg.SpoofFrom, benchNet)
	}
	for _, g := range cfg.Garbage {
		if g < 0 || g >= numGarbage {
			return nil, fmt.Errorf("hostile: unknown garbage kind %d", int(g))
		}
	}
	h := &Hostile{cfg: cfg, live: make(map[netip.Addr]bool)}
	for _, a := range cfg.Live {
		if !a.Is4() || !benchNet.Contains(a) {
			return nil, fmt.Errorf("hostile: live address %s lies outside %s", a, benchNet)
		}
		h.live[a] = true
	}

	open := func() (err error) {
		h.c, err = openEcho4()
		return err
	}
	if err := takeOverEcho("hostile", nsName, []string{"net.ipv4.icmp_echo_ignore_all"}, open); err != nil {
		return nil, err
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go h.serve()
	return h, nil
}

// StartHostile is ListenHostile for a test: it fails t on error and closes
// the responder when t ends.
func StartHostile(t testing.TB, ns *NS, cfg HostileConfig) *Hostile {
	t.Helper()
	h, err := ListenHostile(ns.Name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// Close stops the responder and any flood, and waits for them; late replies
// still in their delay are dropped.
func (h *Hostile) Close() {
	h.cancel()
	h.c.Close()
	h.wg.Wait()
	h.timers.Wait()
}

// Stats reports what the responder has done so far.
func (h *Hostile) Stats() HostileStats {
	s := HostileStats{
		LiveRequests: h.liveReq.Load(), DeadRequests: h.deadReq.Load(),
		Correct: h.correct.Load(), Flood: h.flood.Load(), SendErrors: h.sendErr.Load(),
	}
	for i := range s.Garbage {
		s.Garbage[i] = h.garbage[i].Load()
	}
	return s
}

// serve answers echo requests until Close, keeping a copy of the latest
// for Flood.
func (h *Hostile) serve() {
	defer h.wg.Done()
	serveEcho4(h.ctx, h.c, func(probed, from netip.Addr, p []byte) {
		req := append([]byte(nil), p...)
		h.last.Store(&req)
		h.answer(probed, from, req)
	})
}

// answer sends what one echo request from from to probed earns.
func (h *Hostile) answer(probed, from netip.Addr, req []byte) {
	if h.live[probed] {
		h.liveReq.Add(1)
		h.sendN(probed, from, echoReply(req), &h.correct)
		return
	}
	h.deadReq.Add(1)
	for _, g := range h.cfg.Garbage {
		n := &h.garbage[g]
		switch g {
		case Truncated:
			for _, size := range []int{12, 8} {
				short := echoReply(req)[:min(len(req), size)]
				fixChecksum(short)
				h.sendN(probed, from, short, n)
			}
		case BadChecksum:
			r := echoReply(req)
			binary.BigEndian.PutUint16(r[2:], binary.BigEndian.Uint16(r[2:])+1)
			h.sendN(probed, from, r, n)
		case WrongID:
			r := echoReply(req)
			r[4] ^= 0x5a
			fixChecksum(r)
			h.sendN(probed, from, r, n)
		case WrongSeq:
			r := echoReply(req)
			r[6] ^= 0x80
			fixChecksum(r)
			h.sendN(probed, from, r, n)
		case WrongPayload:
			if len(req) > 8 {
				r := echoReply(req)
				r[8] ^= 0xff
				fixChecksum(r)
				h.sendN(probed, from, r, n)
			}
		case Spoofed:
			h.sendN(h.spoofAddr(), from, echoReply(req), n)
		case Late:
			r := echoReply(req)
			h.timers.Add(1)
			time.AfterFunc(h.cfg.LateDelay, func() {
				defer h.timers.Done()
				if h.ctx.Err() == nil {
					h.sendN(probed, from, r, n)
				}
			})
		case ForeignError:
			other := append([]byte(nil), req...)
			other[4] ^= 0xa5 // someone else's identifier
			fixChecksum(other)
			h.sendN(probed, from, unreachable(from, probed, 1, other), n)
			h.sendN(probed, from, unreachable(from, h.spoofAddr(), 1, req), n)
			udp := []byte{0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00}
			h.sendN(probed, from, unreachable(from, probed, 17, udp), n)
		}
	}
}

// sendN sends msg 1+Duplicate times, counting into n.
func (h *Hostile) sendN(src, dst netip.Addr, msg []byte, n *atomic.Int64) {
	for range 1 + h.cfg.Duplicate {
		if err := h.send(src, dst, msg); err != nil {
			h.sendErr.Add(1)
			return
		}
		n.Add(1)
	}
}

func (h *Hostile) spoofAddr() netip.Addr {
	p := h.cfg.SpoofFrom
	size := uint32(1) << min(32-p.Bits(), 31)
	off := h.spoof.Add(1) % size
	b := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) + off
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// packet builds an IPv4 datagram carrying an ICMP message.
func (h *Hostile) packet(src, dst netip.Addr, msg []byte) ([]byte, error) {
	if !benchNet.Contains(src) || !benchNet.Contains(dst) {
		return nil, fmt.Errorf("hostile: refusing to send %s -> %s outside %s", src, dst, benchNet)
	}
	return icmp4Packet(src, dst, uint16(h.ipID.Add(1)), msg), nil
}

func (h *Hostile) send(src, dst netip.Addr, msg []byte) error {
	b, err := h.packet(src, dst, msg)
	if err != nil {
		return err
	}
	return writeIP4(h.c, b)
}

// unreachable builds an ICMP host-unreachable message quoting a datagram
// that went from src to dst with the given protocol and payload.
func unreachable(src, dst netip.Addr, proto int, payload []byte) []byte {
	q := make([]byte, ipv4.HeaderLen+len(payload))
	ipHeader(q, src, dst, proto, len(payload), 1)
	copy(q[ipv4.HeaderLen:], payload)
	m := append([]byte{3, 1, 0, 0, 0, 0, 0, 0}, q...)
	fixChecksum(m)
	return m
}

// FloodStats is what one Flood did.
type FloodStats struct {
	Sent    int64
	Elapsed time.Duration
}

// Rate is the packets per second achieved.
func (s FloodStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Sent) / s.Elapsed.Seconds()
}

// floodBatch is how many packets go to the kernel in one sendmmsg.
const floodBatch = 64

// Flood sends unsolicited ICMP to victim at rate packets a second for d (or
// until ctx ends or the responder closes), and reports what it sent. The
// packets come from random addresses of SpoofFrom, which are never probed,
// and cycle through: echo replies with random identifiers; echo replies
// with the identifier of the latest request seen but a random payload;
// exact copies of the latest request's reply (identifier and tag right,
// sequence number random) with a correct and with a wrong checksum;
// destination unreachable quoting the latest request as if sent to a
// never-probed address; and bare echo reply headers with our identifier.
func (h *Hostile) Flood(ctx context.Context, victim netip.Addr, rate int, d time.Duration) (FloodStats, error) {
	if rate <= 0 || d <= 0 {
		return FloodStats{}, fmt.Errorf("hostile: flood needs a positive rate and duration, got %d/s for %v", rate, d)
	}
	if !victim.Is4() || !benchNet.Contains(victim) {
		return FloodStats{}, fmt.Errorf("hostile: flood victim %s lies outside %s", victim, benchNet)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	to := &net.IPAddr{IP: victim.AsSlice()}
	msgs := make([]ipv4.Message, floodBatch)
	start := time.Now()
	var sent int64
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; {
		select {
		case <-ctx.Done():
			return FloodStats{Sent: sent, Elapsed: time.Since(start)}, nil
		case <-h.ctx.Done():
			return FloodStats{Sent: sent, Elapsed: time.Since(start)}, nil
		case <-tick.C:
		}
		// A flood that fell behind (the machine is busy) catches up at
		// most one tick's worth at a time, and never runs past d.
		want := min(int64(time.Since(start).Seconds()*float64(rate))-sent, int64(rate/100+floodBatch))
		for want > 0 && ctx.Err() == nil {
			n := int(min(want, floodBatch))
			for j := range n {
				b, err := h.floodPacket(rng, i, victim)
				if err != nil {
					return FloodStats{Sent: sent, Elapsed: time.Since(start)}, err
				}
				i++
				msgs[j] = ipv4.Message{Buffers: [][]byte{b}, Addr: to}
			}
			w, err := h.c.WriteBatch(msgs[:n], 0)
			if err != nil {
				if h.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return FloodStats{Sent: sent, Elapsed: time.Since(start)}, nil
				}
				h.sendErr.Add(1)
				runtime.Gosched()
			}
			sent += int64(w)
			h.flood.Add(int64(w))
			want -= int64(max(w, 1))
		}
	}
}

// floodPacket builds the i-th packet of a flood.
func (h *Hostile) floodPacket(rng *rand.Rand, i int, victim netip.Addr) ([]byte, error) {
	var last []byte
	if p := h.last.Load(); p != nil {
		last = *p
	} else {
		last = make([]byte, 24)
		last[0] = byte(ipv4.ICMPTypeEcho)
		binary.BigEndian.PutUint16(last[4:], uint16(rng.Uint32()))
	}
	src := h.spoofAddr()
	var m []byte
	switch i % 6 {
	case 0: // a stranger's echo reply
		m = make([]byte, 8+16)
		binary.BigEndian.PutUint64(m[8:], rng.Uint64())
		binary.BigEndian.PutUint32(m[4:], rng.Uint32())
		fixChecksum(m)
	case 1: // our identifier, a random payload
		m = echoReply(last)
		for k := 8; k < len(m); k++ {
			m[k] = byte(rng.Uint32())
		}
		fixChecksum(m)
	case 2, 3: // our identifier and tag, a random sequence number
		m = echoReply(last)
		binary.BigEndian.PutUint16(m[6:], uint16(rng.Uint32()))
		fixChecksum(m)
		if i%6 == 3 {
			m[3] ^= 0x01
		}
	case 4: // an error quoting our request, sent elsewhere
		m = unreachable(victim, h.spoofAddr(), 1, last)
	default: // a header and nothing else
		m = echoReply(last[:8])
	}
	return h.packet(src, victim, m)
}

// MemSampler records the peak Go heap and resident set of this process
// while a test runs. ReadMemStats stops the world briefly, so it samples
// no more often than every interval.
type MemSampler struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64 // bytes of heap in use
}

// SampleMem starts sampling every interval until Stop.
func SampleMem(interval time.Duration) *MemSampler {
	s := &MemSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *MemSampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapInuse > s.peak.Load() {
		s.peak.Store(m.HeapInuse)
	}
}

// Stop ends sampling and returns the peak heap in use, in MiB, and the
// process's peak resident set (VmHWM) in MiB, or -1 if unknown.
func (s *MemSampler) Stop() (heapMB, hwmMB float64) {
	close(s.stop)
	<-s.done
	return float64(s.peak.Load()) / (1 << 20), VmHWM()
}

// VmHWM returns this process's peak resident set size in MiB from
// /proc/self/status, or -1 if it cannot be read.
func VmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					return kb / 1024
				}
			}
		}
	}
	return -1
}
