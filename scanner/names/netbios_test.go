package names

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"
	"unicode/utf8"
)

// sambaReply is a node status response captured from Samba, as published
// in the tests of the Rust crate netbios-parser. It answered a request for
// the name MSHOME<00>; the name here is replaced by the wildcard we ask for
// (bytes 12 to 45), the rest is as captured: seven names, and statistics
// all zero, so no MAC address.
func sambaReply(t testing.TB) []byte {
	t.Helper()
	const capture = `
		7c 26 84 00 00 00 00 01 00 00 00 00 20 45 4e 46
		44 45 49 45 50 45 4e 45 46 43 41 43 41 43 41 43
		41 43 41 43 41 43 41 43 41 43 41 41 41 00 00 21
		00 01 00 00 00 00 00 ad 07 48 4d 4e 48 44 2d 54
		49 31 4b 4c 53 20 20 20 00 04 00 48 4d 4e 48 44
		2d 54 49 31 4b 4c 53 20 20 20 03 04 00 48 4d 4e
		48 44 2d 54 49 31 4b 4c 53 20 20 20 20 04 00 01
		02 5f 5f 4d 53 42 52 4f 57 53 45 5f 5f 02 01 84
		00 4d 53 48 4f 4d 45 20 20 20 20 20 20 20 20 20
		1d 04 00 4d 53 48 4f 4d 45 20 20 20 20 20 20 20
		20 20 1e 84 00 4d 53 48 4f 4d 45 20 20 20 20 20
		20 20 20 20 00 84 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00`
	b, err := hex.DecodeString(strings.Join(strings.Fields(capture), ""))
	if err != nil {
		t.Fatal(err)
	}
	copy(b[12:], nbWildcard)
	return b
}

const sambaID = 0x7c26

// testEntry is a name table entry for encodeNodeStatus.
type testEntry struct {
	name   string // up to 15 bytes, padded with spaces
	suffix byte
	flags  uint16
}

// encodeNodeStatus builds a node status response as Windows sends it: the
// wildcard name, no question, and 46 bytes of statistics opening with mac.
func encodeNodeStatus(id uint16, entries []testEntry, mac net.HardwareAddr) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0) // response, authoritative; AN=1
	b = append(b, nbWildcard...)
	b = append(b, 0, nbTypeStat, 0, nbClassIN, 0, 0, 0, 0)
	stats := make([]byte, 46)
	copy(stats, mac)
	b = binary.BigEndian.AppendUint16(b, uint16(1+len(entries)*nbEntryLen+len(stats)))
	b = append(b, byte(len(entries)))
	for _, e := range entries {
		name := []byte(e.name + strings.Repeat(" ", 15))[:15]
		b = append(b, name...)
		b = append(b, e.suffix)
		b = binary.BigEndian.AppendUint16(b, e.flags)
	}
	return append(b, stats...)
}

var (
	desktopMAC     = net.HardwareAddr{0x00, 0x50, 0x56, 0xaa, 0xbb, 0xcc}
	desktopEntries = []testEntry{
		{"WORKGROUP", 0x00, nbNameGroup | 0x0400},
		{"DESKTOP-42", 0x00, 0x0400},
		{"DESKTOP-42", 0x20, 0x0400},
		{"WORKGROUP", 0x1e, nbNameGroup | 0x0400},
	}
)

func TestNodeStatusRequest(t *testing.T) {
	// What nmblookup -A and nbtscan send, with id 0x1234.
	// The name is "*" and 15 NULs: 'C','K' then 30 'A's (libdsm's
	// NETBIOS_WILDCARD, nbtscan's question).
	want, _ := hex.DecodeString("123400000001000000000000" +
		"20" + "434b" + strings.Repeat("41", 30) + "00" + "00210001")
	if got := nodeStatusRequest(0x1234); !bytes.Equal(got, want) {
		t.Errorf("request\n got %x\nwant %x", got, want)
	}
}

func TestParseNodeStatus(t *testing.T) {
	t.Run("windows", func(t *testing.T) {
		st, err := parseNodeStatus(encodeNodeStatus(7, desktopEntries, desktopMAC), 7)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.hostName(); got != "DESKTOP-42" {
			t.Errorf("hostName = %q, want DESKTOP-42 (the unique <00>, not the group before it)", got)
		}
		if st.mac.String() != desktopMAC.String() {
			t.Errorf("mac = %v, want %v", st.mac, desktopMAC)
		}
		if len(st.names) != 4 || st.names[0].name != "WORKGROUP" || st.names[3].suffix != 0x1e {
			t.Errorf("names = %+v", st.names)
		}
	})
	t.Run("samba capture", func(t *testing.T) {
		st, err := parseNodeStatus(sambaReply(t), sambaID)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.hostName(); got != "HMNHD-TI1KLS" {
			t.Errorf("hostName = %q, want HMNHD-TI1KLS", got)
		}
		if st.mac != nil {
			t.Errorf("mac = %v, want nil for Samba's zeros", st.mac)
		}
		if len(st.names) != 7 || st.names[3].name != "__MSBROWSE__" || st.names[3].suffix != 0x01 {
			t.Errorf("names = %+v (want the control bytes around __MSBROWSE__ dropped)", st.names)
		}
	})
	t.Run("question repeated", func(t *testing.T) {
		b := encodeNodeStatus(9, desktopEntries, desktopMAC)
		b[5] = 1 // QD=1
		q := nodeStatusRequest(9)[nbHdrLen:]
		// The answer's name becomes a pointer to the question's.
		b = slicesConcat(b[:nbHdrLen], q, []byte{0xc0, nbHdrLen}, b[nbHdrLen+len(nbWildcard):])
		st, err := parseNodeStatus(b, 9)
		if err != nil || st.hostName() != "DESKTOP-42" {
			t.Fatalf("got %q, %v", st.hostName(), err)
		}
	})
	t.Run("short statistics", func(t *testing.T) {
		b := encodeNodeStatus(9, desktopEntries, desktopMAC)
		b = b[:len(b)-46+5]
		binary.BigEndian.PutUint16(b[nbHdrLen+len(nbWildcard)+8:], uint16(1+4*nbEntryLen+5))
		st, err := parseNodeStatus(b, 9)
		if err != nil || st.mac != nil || st.hostName() != "DESKTOP-42" {
			t.Fatalf("got %q, %v, %v; want the names and no MAC", st.hostName(), st.mac, err)
		}
	})
	t.Run("hostile name", func(t *testing.T) {
		b := encodeNodeStatus(9, []testEntry{{"EVIL\x1b[2J\u202eX", 0x00, 0}}, nil)
		st, err := parseNodeStatus(b, 9)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.hostName(); got != "EVIL[2JX" {
			t.Errorf("hostName = %q, want escape and bidi override dropped", got)
		}
	})
}

func slicesConcat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestParseNodeStatusRejects(t *testing.T) {
	good := encodeNodeStatus(0x4242, desktopEntries, desktopMAC)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	wildAt := nbHdrLen
	rrAt := wildAt + len(nbWildcard) // type, class, TTL, rdlength
	cases := []struct {
		name string
		b    []byte
		want error // nil: any error
	}{
		{"empty", nil, errTruncated},
		{"wrong id", mod(func(b []byte) []byte { b[1]++; return b }), errWrongID},
		{"request", mod(func(b []byte) []byte { b[2] = 0; return b }), errNotReply},
		{"opcode", mod(func(b []byte) []byte { b[2] |= 0x28; return b }), nil},
		{"rcode", mod(func(b []byte) []byte { b[3] |= 3; return b }), nil},
		{"no answer", mod(func(b []byte) []byte { b[7] = 0; return b }), nil},
		{"two questions", mod(func(b []byte) []byte { b[5] = 2; return b }), errQuestion},
		{"question claimed, other name there", mod(func(b []byte) []byte { b[5] = 1; return b }), errQuestion},
		{"another name", mod(func(b []byte) []byte { b[wildAt+1] = 'E'; return b }), errQuestion},
		{"pointer without question", mod(func(b []byte) []byte {
			return slicesConcat(b[:wildAt], []byte{0xc0, 12}, b[rrAt:])
		}), errQuestion},
		{"type NB", mod(func(b []byte) []byte { b[rrAt+1] = 0x20; return b }), nil},
		{"class", mod(func(b []byte) []byte { b[rrAt+3] = 3; return b }), nil},
		{"rdlength past end", mod(func(b []byte) []byte { b[rrAt+8] = 0xff; return b }), errTruncated},
		{"rdlength zero", mod(func(b []byte) []byte { b[rrAt+8], b[rrAt+9] = 0, 0; return b }), errTruncated},
		{"more names than data", mod(func(b []byte) []byte { b[rrAt+10] = 200; return b }), errTruncated},
		{"oversized", append(bytes.Clone(good), make([]byte, maxDatagram)...), errOversized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := parseNodeStatus(c.b, 0x4242)
			if err == nil {
				t.Fatalf("accepted: %+v", st)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Every cut short of the end lacks part of what the reply claims.
	for n := range len(good) {
		if st, err := parseNodeStatus(good[:n], 0x4242); err == nil {
			t.Errorf("%d of %d bytes accepted: %+v", n, len(good), st)
		}
	}
	// Bytes after the record are not part of it.
	if _, err := parseNodeStatus(append(bytes.Clone(good), 1, 2, 3), 0x4242); err != nil {
		t.Errorf("trailing bytes: %v", err)
	}
}

func TestHostName(t *testing.T) {
	cases := []struct {
		entries []testEntry
		want    string
	}{
		{[]testEntry{{"GROUP", 0, nbNameGroup}, {"PC", 0, 0}}, "PC"},
		{[]testEntry{{"OLD", 0, nbNameConflict}, {"GONE", 0, nbNameDeregister}, {"PC", 0, 0}}, "PC"},
		{[]testEntry{{"SRV", 0x20, 0}, {"MSG", 0x03, 0}}, "SRV"},
		{[]testEntry{{"SRV", 0x20, 0}, {"PC", 0x00, 0}}, "PC"},
		{[]testEntry{{"GROUP", 0, nbNameGroup}, {"MSG", 0x03, 0}}, ""},
		{[]testEntry{{"\x00\x01", 0, 0}, {"PC", 0, 0}}, "PC"},
		{nil, ""},
	}
	for _, c := range cases {
		st, err := parseNodeStatus(encodeNodeStatus(1, c.entries, nil), 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.hostName(); got != c.want {
			t.Errorf("%+v: hostName = %q, want %q", c.entries, got, c.want)
		}
	}
}

func FuzzParseNodeStatus(f *testing.F) {
	f.Add(encodeNodeStatus(0x4242, desktopEntries, desktopMAC))
	f.Add(sambaReply(f))
	f.Add(encodeNodeStatus(1, nil, nil))
	f.Add(nodeStatusRequest(5))
	f.Fuzz(func(t *testing.T, b []byte) {
		var id uint16
		if len(b) >= 2 {
			id = binary.BigEndian.Uint16(b) // let the fuzzer past the id check
		}
		st, err := parseNodeStatus(b, id)
		if len(b) >= nbHdrLen {
			if _, err := parseNodeStatus(b, id^1); !errors.Is(err, errWrongID) {
				t.Fatalf("wrong id: err = %v", err)
			}
		}
		if err != nil {
			return
		}
		if len(b) < nbHdrLen+len(nbWildcard)+11 || len(b) > maxDatagram {
			t.Fatalf("accepted %d bytes", len(b))
		}
		for _, n := range st.names {
			checkClean(t, n.name)
		}
		if st.mac != nil && (len(st.mac) != nbMACLen || bytes.Equal(st.mac, make([]byte, nbMACLen))) {
			t.Fatalf("mac %v", st.mac)
		}
		if h := st.hostName(); h != "" {
			checkClean(t, h)
		}
	})
}

// checkClean fails t unless name is fit to show.
func checkClean(t *testing.T, name string) {
	t.Helper()
	if len(name) > MaxNameLen || !utf8.ValidString(name) || clean(name) != name {
		t.Fatalf("name %q not clean", name)
	}
}

func BenchmarkParseNodeStatus(b *testing.B) {
	reply := encodeNodeStatus(7, desktopEntries, desktopMAC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseNodeStatus(reply, 7); err != nil {
			b.Fatal(err)
		}
	}
}
