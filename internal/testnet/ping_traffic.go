package testnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Packet is one frame a Sniffer saw leave its interface, decoded as far
// as a test needs to sort the traffic of a scan into classes.
type Packet struct {
	Src, Dst netip.Addr // IP addresses; a link-local one without zone
	// Proto is the IP protocol (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6), or 0
	// for a frame that is not IP (ARP).
	Proto            int
	ICMPType         int    // ICMP or ICMPv6 type; -1 otherwise
	SrcPort, DstPort uint16 // TCP and UDP
	TCPFlags         byte   // TCP
	Payload          []byte // after the TCP, UDP or ICMP header
}

// Sniffer records every frame that leaves one interface of a namespace,
// through a packet socket (AF_PACKET, as tcpdump uses) opened inside it.
type Sniffer struct {
	fd   int
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	packets []Packet
	frames  int // outgoing frames seen, decoded or not
}

// StartSniffer starts recording what leaves ifname in ns, and stops when
// the test ends (or at Stop).
func StartSniffer(t testing.TB, ns *NS, ifname string) *Sniffer {
	t.Helper()
	s := &Sniffer{fd: -1, done: make(chan struct{})}
	var err error
	ns.Do(func() { s.fd, err = openSniffer(ifname) })
	if err != nil {
		t.Fatalf("sniffer on %s in %s: %v", ifname, ns.Name, err)
	}
	s.wg.Add(1)
	go s.read()
	t.Cleanup(s.Stop)
	return s
}

// openSniffer opens a packet socket bound to ifname, in the calling
// thread's namespace, whose reads time out so that Stop is noticed.
func openSniffer(ifname string) (int, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return -1, err
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, err
	}
	tv := unix.NsecToTimeval((50 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (s *Sniffer) read() {
	defer s.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		select {
		case <-s.done:
			return
		default:
		}
		n, from, err := unix.Recvfrom(s.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Pkttype != unix.PACKET_OUTGOING {
			continue
		}
		// The packet keeps slices of the frame: a copy, as buf is reused.
		p, ok := decodeFrame(append([]byte(nil), buf[:n]...))
		s.mu.Lock()
		s.frames++
		if ok {
			s.packets = append(s.packets, p)
		}
		s.mu.Unlock()
	}
}

// Stop ends the recording; Packets still returns what was seen.
func (s *Sniffer) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.wg.Wait()
	unix.Close(s.fd)
}

// Packets returns what left the interface so far.
func (s *Sniffer) Packets() []Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Packet(nil), s.packets...)
}

// Frames returns how many frames left the interface so far, decoded or
// not.
func (s *Sniffer) Frames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames
}

// decodeFrame reads an Ethernet frame (one 802.1Q tag at most).
func decodeFrame(b []byte) (Packet, bool) {
	p := Packet{ICMPType: -1}
	if len(b) < 14 {
		return p, false
	}
	etherType := binary.BigEndian.Uint16(b[12:14])
	b = b[14:]
	if etherType == 0x8100 && len(b) >= 4 {
		etherType = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	var l4 []byte
	switch etherType {
	case 0x0800:
		if len(b) < 20 || b[0]>>4 != 4 {
			return p, false
		}
		ihl := int(b[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if ihl < 20 || total < ihl || len(b) < total {
			return p, false
		}
		p.Src = netip.AddrFrom4([4]byte(b[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		p.Proto = int(b[9])
		l4 = b[ihl:total]
	case 0x86dd:
		if len(b) < 40 || b[0]>>4 != 6 {
			return p, false
		}
		plen := int(binary.BigEndian.Uint16(b[4:6]))
		if len(b) < 40+plen {
			return p, false
		}
		p.Src = netip.AddrFrom16([16]byte(b[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		next, rest := int(b[6]), b[40:40+plen]
		// Hop-by-hop options (MLD reports carry one) come before ICMPv6.
		for next == 0 && len(rest) >= 8 {
			hl := (int(rest[1]) + 1) * 8
			if len(rest) < hl {
				return p, false
			}
			next, rest = int(rest[0]), rest[hl:]
		}
		p.Proto, l4 = next, rest
	default:
		return p, true // ARP and the like: counted, not IP
	}
	switch p.Proto {
	case 1, 58:
		if len(l4) < 8 {
			return p, false
		}
		p.ICMPType, p.Payload = int(l4[0]), l4[8:]
	case 6:
		if len(l4) < 20 {
			return p, false
		}
		p.SrcPort, p.DstPort = binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])
		off := int(l4[12]>>4) * 4
		p.TCPFlags = l4[13]
		if off >= 20 && off <= len(l4) {
			p.Payload = l4[off:]
		}
	case 17:
		if len(l4) < 8 {
			return p, false
		}
		p.SrcPort, p.DstPort = binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])
		p.Payload = l4[8:]
	}
	return p, true
}

// TCP flags of Packet.TCPFlags.
const (
	TCPFlagSYN = 0x02
	TCPFlagACK = 0x10
)

// String shows a packet briefly, for test logs.
func (p Packet) String() string {
	switch p.Proto {
	case 6, 17:
		return fmt.Sprintf("proto %d %s:%d -> %s:%d flags %#x", p.Proto, p.Src, p.SrcPort, p.Dst, p.DstPort, p.TCPFlags)
	case 1, 58:
		return fmt.Sprintf("icmp type %d %s -> %s", p.ICMPType, p.Src, p.Dst)
	case 0:
		return "not IP"
	}
	return fmt.Sprintf("proto %d %s -> %s", p.Proto, p.Src, p.Dst)
}
