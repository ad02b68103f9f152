package testnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ImpostorConfig says how an Impostor answers. Every address must lie in
// 198.18.0.0/15 or 2001:db8::/32.
type ImpostorConfig struct {
	// Honest addresses answer their own requests correctly, after
	// HonestDelay: late enough that the impostors' lies arrive first.
	Honest      []netip.Addr
	HonestDelay time.Duration
	// EchoFor maps a probed address to another (probed) address that
	// answers in its place: each request to the key gets its correct echo
	// reply (identifier, sequence and payload intact), sent from the
	// value. The key itself stays silent.
	EchoFor map[netip.Addr]netip.Addr
	// ErrorFor maps a probed address to another: each request to the key
	// gets a destination unreachable, sent from the key, that quotes the
	// request as if it had gone to the value. The key stays silent
	// otherwise.
	ErrorFor map[netip.Addr]netip.Addr
}

// ImpostorStats count what an Impostor sent.
type ImpostorStats struct {
	Honest, ForgedEcho, ForgedError, SendErrors int64
}

// Impostor is a responder in which probed addresses answer for each other:
// a host that replies to a ping of its neighbour, or an error that blames
// the wrong destination. Every packet it sends is one a real request
// caused, with that request's identifier, sequence number and payload, so
// only a check that binds an answer to its request's destination (the
// payload tag of probe) can tell the lie. It speaks IPv4 and IPv6 and
// takes over echo handling in its namespace, as Responder does.
type Impostor struct {
	cfg    ImpostorConfig
	honest map[netip.Addr]bool
	c4     *ipv4.RawConn
	c6     *ipv6.PacketConn

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the read loops
	timers sync.WaitGroup // honest replies in their delay

	ipID                                atomic.Uint32
	honestN, echoN, errorN, sendErrorsN atomic.Int64
}

// impostorNets are the only networks an Impostor may put in its packets.
var impostorNets = []netip.Prefix{benchNet, lanOK6}

func inImpostorNets(a netip.Addr) bool {
	for _, p := range impostorNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// StartImpostor starts an Impostor in ns (where a LAN's Router owns the
// addresses, as NewResponderLAN makes it) and closes it when t ends.
func StartImpostor(t testing.TB, ns *NS, cfg ImpostorConfig) *Impostor {
	t.Helper()
	im := &Impostor{cfg: cfg, honest: map[netip.Addr]bool{}}
	check := func(as ...netip.Addr) {
		for _, a := range as {
			if !a.IsValid() || a.Zone() != "" || !inImpostorNets(a) {
				t.Fatalf("impostor: address %s lies outside %v", a, impostorNets)
			}
		}
	}
	for _, a := range cfg.Honest {
		check(a)
		im.honest[a] = true
	}
	for _, m := range []map[netip.Addr]netip.Addr{cfg.EchoFor, cfg.ErrorFor} {
		for k, v := range m {
			check(k, v)
			if k.Is4() != v.Is4() {
				t.Fatalf("impostor: %s and %s are of different families", k, v)
			}
		}
	}
	open := func() (err error) {
		im.c4, im.c6, err = openResponderSockets()
		return err
	}
	ignore := []string{"net.ipv4.icmp_echo_ignore_all", "net.ipv6.icmp.echo_ignore_all"}
	if err := takeOverEcho("impostor", ns.Name, ignore, open); err != nil {
		t.Fatal(err)
	}
	im.ctx, im.cancel = context.WithCancel(context.Background())
	im.wg.Add(2)
	go func() {
		defer im.wg.Done()
		serveEcho4(im.ctx, im.c4, im.answer)
	}()
	go im.serve6()
	t.Cleanup(im.Close)
	return im
}

// Close stops the Impostor; honest replies still in their delay are
// dropped.
func (im *Impostor) Close() {
	im.cancel()
	im.c4.Close()
	im.c6.Close()
	im.wg.Wait()
	im.timers.Wait()
}

// Stats reports what the Impostor has sent so far.
func (im *Impostor) Stats() ImpostorStats {
	return ImpostorStats{Honest: im.honestN.Load(), ForgedEcho: im.echoN.Load(),
		ForgedError: im.errorN.Load(), SendErrors: im.sendErrorsN.Load()}
}

func (im *Impostor) serve6() {
	defer im.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, cm, src, err := im.c6.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || im.ctx.Err() != nil {
				return
			}
			continue
		}
		p := buf[:n]
		if len(p) < 8 || p[0] != byte(ipv6.ICMPTypeEchoRequest) || p[1] != 0 || cm == nil {
			continue
		}
		probed, ok1 := netip.AddrFromSlice(cm.Dst)
		from, ok2 := netip.AddrFromSlice(src.(*net.IPAddr).IP)
		if ok1 && ok2 {
			im.answer(probed, from, p)
		}
	}
}

// answer sends what one echo request (an ICMP message from from to
// probed) earns. req is only valid during the call.
func (im *Impostor) answer(probed, from netip.Addr, req []byte) {
	reply := im.echoReply(probed, req)
	if im.honest[probed] {
		im.timers.Add(1)
		time.AfterFunc(im.cfg.HonestDelay, func() {
			defer im.timers.Done()
			if im.ctx.Err() == nil {
				im.send(probed, from, reply, &im.honestN)
			}
		})
	}
	if other, ok := im.cfg.EchoFor[probed]; ok {
		im.send(other, from, reply, &im.echoN)
	}
	if other, ok := im.cfg.ErrorFor[probed]; ok {
		im.send(probed, from, im.unreachable(from, other, req), &im.errorN)
	}
}

// echoReply is the correct reply to req.
func (im *Impostor) echoReply(probed netip.Addr, req []byte) []byte {
	if probed.Is4() {
		return echoReply(req)
	}
	r := append([]byte(nil), req...)
	r[0], r[1] = byte(ipv6.ICMPTypeEchoReply), 0
	r[2], r[3] = 0, 0 // the kernel adds the checksum
	return r
}

// unreachable is a destination unreachable (host or address unreachable)
// that quotes req as sent from src to dst.
func (im *Impostor) unreachable(src, dst netip.Addr, req []byte) []byte {
	if dst.Is4() {
		return unreachable(src, dst, 1, req)
	}
	q := make([]byte, ipv6.HeaderLen+len(req))
	q[0] = 6 << 4
	q[4], q[5] = byte(len(req)>>8), byte(len(req))
	q[6], q[7] = 58, 64
	s, d := src.As16(), dst.As16()
	copy(q[8:24], s[:])
	copy(q[24:40], d[:])
	copy(q[ipv6.HeaderLen:], req)
	// Type 1 code 3, address unreachable; 4 unused bytes; the kernel
	// fills in the checksum.
	return append([]byte{1, 3, 0, 0, 0, 0, 0, 0}, q...)
}

// send puts one ICMP message from src to dst on the wire, counting it.
func (im *Impostor) send(src, dst netip.Addr, msg []byte, n *atomic.Int64) {
	var err error
	switch {
	case !inImpostorNets(src) || !inImpostorNets(dst):
		err = fmt.Errorf("impostor: refusing to send %s -> %s", src, dst)
	case src.Is6():
		cm := &ipv6.ControlMessage{Src: src.AsSlice()}
		_, err = im.c6.WriteTo(msg, cm, &net.IPAddr{IP: dst.AsSlice()})
	default:
		err = writeIP4(im.c4, icmp4Packet(src, dst, uint16(im.ipID.Add(1)), msg))
	}
	if err != nil {
		im.sendErrorsN.Add(1)
		return
	}
	n.Add(1)
}
