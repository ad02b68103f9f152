package names

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// NetBIOS name service wire format, RFC 1002.
const (
	// nbWildcard is the name "*" padded with 15 NULs, first-level encoded
	// (each nibble plus 'A') behind its length byte and before the root
	// label: the name a node status request asks every node to accept.
	nbWildcard = "\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00"
	nbTypeStat = 0x21 // NBSTAT: node status
	nbClassIN  = 0x01
	nbHdrLen   = 12
	nbEntryLen = 18 // 15-byte name, suffix byte, 16-bit flags
	nbMACLen   = 6  // the unit ID that opens the statistics

	nbFlagResponse = 0x8000
	nbOpcodeMask   = 0x7800
	nbRcodeMask    = 0x000f

	// Name flags of a node status entry.
	nbNameGroup      = 0x8000 // a group name, shared by several nodes
	nbNameDeregister = 0x1000 // being deregistered
	nbNameConflict   = 0x0800 // in conflict with another node's
)

// Name suffixes (the 16th byte) of interest.
const (
	nbSuffixWorkstation = 0x00
	nbSuffixServer      = 0x20
)

// NetBIOS sends addr a node status request (NBSTAT, as `nmblookup -A` and
// `nbtstat -A` do) and returns the host's workstation name from the name
// table in the reply, with the MAC address the reply reports (nil if none
// or all zeros, as Samba sends). NetBIOS runs over IPv4 only; an IPv6
// address yields an error matching errors.ErrUnsupported.
//
// The reply must come from addr's NetBIOS port and carry the request's id
// and name. If it lists no unique workstation (<00>) or server (<20>) name,
// the error matches ErrNoName and the MAC address is still returned. A
// silent host costs the whole Timeout and yields a *TimeoutError.
func (r *Resolver) NetBIOS(ctx context.Context, addr netip.Addr) (name string, mac net.HardwareAddr, err error) {
	if !addr.IsValid() {
		return "", nil, errors.New("names: netbios: invalid address")
	}
	addr = addr.Unmap()
	if !addr.Is4() {
		return "", nil, fmt.Errorf("names: netbios %s: NetBIOS runs over IPv4 only: %w", addr, errors.ErrUnsupported)
	}
	port := r.NetBIOSPort
	if port <= 0 || port > 0xffff {
		port = DefaultNetBIOSPort
	}
	ctx, cancel := r.budget(ctx)
	defer cancel()

	var conn *net.UDPConn
	err = r.setup(func() (err error) {
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{})
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("names: netbios %s: %w", addr, err)
	}
	defer conn.Close()

	id := dns.Id()
	dst := netip.AddrPortFrom(addr, uint16(port))
	var st nodeStatus
	x := exchange{
		conn:  conn,
		query: nodeStatusRequest(id),
		dsts:  []netip.AddrPort{dst},
		from:  dst,
		accept: func(b []byte) (err error) {
			st, err = parseNodeStatus(b, id)
			return err
		},
	}
	rejected, last, err := x.run(ctx)
	if err != nil {
		return "", nil, timeoutOr(SourceNetBIOS, addr, rejected, last, err)
	}
	if name = st.hostName(); name == "" {
		return "", st.mac, fmt.Errorf("%w: netbios %s: no workstation name among %d", ErrNoName, addr, len(st.names))
	}
	return name, st.mac, nil
}

// nodeStatusRequest builds a node status request: a header with one
// question and no flags (no broadcast, no recursion), then the question.
func nodeStatusRequest(id uint16) []byte {
	b := make([]byte, 0, nbHdrLen+len(nbWildcard)+4)
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) // flags, QD=1, AN, NS, AR
	b = append(b, nbWildcard...)
	return append(b, 0, nbTypeStat, 0, nbClassIN)
}

// nodeStatus is a parsed node status response.
type nodeStatus struct {
	names []nbName
	mac   net.HardwareAddr // nil if absent or all zeros
}

// nbName is one entry of a node's name table.
type nbName struct {
	name   string // cleaned, padding removed
	suffix byte   // what the name stands for: <00> workstation, <20> server...
	flags  uint16
}

// hostName picks the name a node goes by: its first unique workstation
// (<00>) name, or failing that its first unique server (<20>) name,
// ignoring names in conflict or being released.
func (s nodeStatus) hostName() string {
	for _, suffix := range []byte{nbSuffixWorkstation, nbSuffixServer} {
		for _, n := range s.names {
			if n.suffix == suffix && n.flags&(nbNameGroup|nbNameConflict|nbNameDeregister) == 0 && n.name != "" {
				return n.name
			}
		}
	}
	return ""
}

// parseNodeStatus parses a node status response (RFC 1002 section
// 4.2.18) to the request id. It rejects anything else: a request, another
// id or opcode, an error code, a reply for another name or of another
// type, and a datagram too short for what it claims or longer than
// maxDatagram. Bytes after the answer are ignored.
func parseNodeStatus(b []byte, id uint16) (nodeStatus, error) {
	var st nodeStatus
	if len(b) > maxDatagram {
		return st, errOversized
	}
	if len(b) < nbHdrLen {
		return st, errTruncated
	}
	flags := binary.BigEndian.Uint16(b[2:])
	qd, an := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
	switch {
	case binary.BigEndian.Uint16(b) != id:
		return st, errWrongID
	case flags&nbFlagResponse == 0:
		return st, errNotReply
	case flags&nbOpcodeMask != 0:
		return st, fmt.Errorf("opcode %d in reply", flags&nbOpcodeMask>>11)
	case flags&nbRcodeMask != 0:
		return st, fmt.Errorf("rcode %d in reply", flags&nbRcodeMask)
	case an == 0:
		return st, errors.New("no answer in reply")
	case qd > 1:
		return st, errQuestion
	}
	rest := b[nbHdrLen:]
	// The RFC's response has no question section, and Windows and Samba
	// send none; a reply that repeats ours may then point back to it.
	pointerOK := false
	if qd == 1 {
		q := nodeStatusRequest(id)[nbHdrLen:]
		if len(rest) < len(q) {
			return st, errTruncated
		}
		if !asciiEqualFold(rest[:len(q)], string(q)) {
			return st, errQuestion
		}
		rest, pointerOK = rest[len(q):], true
	}
	n := min(len(rest), len(nbWildcard))
	switch {
	case pointerOK && len(rest) >= 2 && rest[0] == 0xc0 && rest[1] == nbHdrLen:
		rest = rest[2:]
	case !asciiEqualFold(rest[:n], nbWildcard[:n]):
		return st, errQuestion
	case n < len(nbWildcard):
		return st, errTruncated
	default:
		rest = rest[n:]
	}
	// Type, class, TTL, data length.
	if len(rest) < 10 {
		return st, errTruncated
	}
	if typ := binary.BigEndian.Uint16(rest); typ != nbTypeStat {
		return st, fmt.Errorf("record type %#x, not NBSTAT", typ)
	}
	if class := binary.BigEndian.Uint16(rest[2:]); class != nbClassIN {
		return st, fmt.Errorf("record class %#x, not IN", class)
	}
	rdlen := int(binary.BigEndian.Uint16(rest[8:]))
	rest = rest[10:]
	if len(rest) < rdlen || rdlen < 1 {
		return st, errTruncated
	}
	rd := rest[:rdlen]
	count := int(rd[0])
	table := rd[1:]
	if len(table) < count*nbEntryLen {
		return st, errTruncated
	}
	st.names = make([]nbName, 0, count)
	for e := range count {
		entry := table[e*nbEntryLen : (e+1)*nbEntryLen]
		st.names = append(st.names, nbName{
			name:   clean(strings.TrimRight(string(entry[:15]), " \x00")),
			suffix: entry[15],
			flags:  binary.BigEndian.Uint16(entry[16:]),
		})
	}
	// The statistics open with the unit ID. Some senders cut the block
	// short; a MAC address is taken only if all six bytes are there.
	if stats := table[count*nbEntryLen:]; len(stats) >= nbMACLen {
		if mac := stats[:nbMACLen]; !bytes.Equal(mac, make([]byte, nbMACLen)) {
			st.mac = net.HardwareAddr(bytes.Clone(mac))
		}
	}
	return st, nil
}

// asciiEqualFold compares b and s byte by byte, ignoring ASCII case only:
// encoded NetBIOS names are ASCII, and bytes.EqualFold's Unicode folding
// would match byte strings of other shapes.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
