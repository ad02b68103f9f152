package oui

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"netscanner/scanner/oui/internal/ieee"
)

func mac(t testing.TB, s string) net.HardwareAddr {
	t.Helper()
	m, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The expected names are copied from the CSVs of ieee-data 20220827.1.
func TestLookupKnown(t *testing.T) {
	r := Default()
	tests := []struct{ mac, want string }{
		{"b8:27:eb:12:34:56", "Raspberry Pi Foundation"},
		{"dc:a6:32:00:00:01", "Raspberry Pi Trading Ltd"},
		{"00:50:56:c0:00:08", "VMware, Inc."},
		{"3c:07:54:aa:bb:cc", "Apple, Inc."},
		{"00:1b:63:00:00:00", "Apple, Inc."},
		{"04:0e:3c:11:22:33", "HP Inc."},
		{"9c:7b:ef:11:22:33", "Hewlett Packard"},
		{"74:83:c2:01:02:03", "Ubiquiti Networks Inc."},
		{"24:a4:3c:ff:ff:ff", "Ubiquiti Networks Inc."},
		// No-break spaces in the CSV become plain ones.
		{"44:b2:95:00:00:00", "Sichuan AI-Link Technology Co., Ltd."},
		// Assigned three times in the 1980s: every name is kept.
		{"08:00:30:00:00:00", "CERN / NETWORK RESEARCH CORPORATION / ROYAL MELBOURNE INST OF TECH"},
		// An EUI-64 address uses the same prefixes.
		{"b8:27:eb:ff:fe:12:34:56", "Raspberry Pi Foundation"},
	}
	for _, tt := range tests {
		got, ok := r.Lookup(mac(t, tt.mac))
		if !ok || got.Name != tt.want || got.Private {
			t.Errorf("Lookup(%s) = %+v, %v; want %q", tt.mac, got, ok, tt.want)
		}
	}
}

// MA-M and MA-S blocks sit inside MA-L blocks registered to the IEEE
// itself; the longer prefix must win, and an address in an unassigned
// sub-block falls back to the MA-L owner.
func TestLongestPrefixWins(t *testing.T) {
	r := Default()
	tests := []struct{ mac, want string }{
		{"20:85:93:b0:00:01", "IOG Products LLC"},            // MA-M 208593B
		{"20:85:93:c1:23:45", "Regloplas AG"},                // MA-M 208593C
		{"20:85:93:f0:00:01", "IEEE Registration Authority"}, // 208593F unassigned: MA-L
		{"70:b3:d5:f2:f0:01", "TELEPLATFORMS"},               // MA-S 70B3D5F2F
		{"70:b3:d5:f2:d0:01", "ID Lock AS"},                  // MA-S 70B3D5F2D
		{"70:b3:d5:f2:00:01", "IEEE Registration Authority"}, // 70B3D5F20 unassigned: MA-L
		{"00:50:c2:00:00:01", "T.L.S. Corp."},                // IAB 0050C2000
		{"74:1a:e0:90:00:00", "Private"},                     // MA-M whose owner asked to stay unnamed
	}
	for _, tt := range tests {
		got, ok := r.Lookup(mac(t, tt.mac))
		if !ok || got.Name != tt.want {
			t.Errorf("Lookup(%s) = %+v, %v; want %q", tt.mac, got, ok, tt.want)
		}
	}
}

func TestLookupSpecial(t *testing.T) {
	r := Default()
	// Locally administered: second-lowest bit of the first octet, whatever
	// the rest says (this one would otherwise be a Raspberry Pi).
	for _, s := range []string{"ba:27:eb:12:34:56", "02:00:00:00:00:00", "da:a1:19:00:00:01", "0a:00:00:00:00:00:00:01"} {
		got, ok := r.Lookup(mac(t, s))
		if !ok || !got.Private || got.Name != PrivateName {
			t.Errorf("Lookup(%s) = %+v, %v; want a private address", s, got, ok)
		}
	}
	rejects := map[string]net.HardwareAddr{
		"multicast":      mac(t, "01:00:5e:00:00:fb"),
		"IPv6 multicast": mac(t, "33:33:00:00:00:01"),
		"broadcast":      mac(t, "ff:ff:ff:ff:ff:ff"),
		"odd multicast":  mac(t, "b9:27:eb:12:34:56"),
		"all zero":       mac(t, "00:00:00:00:00:00"),
		"nil":            nil,
		"empty":          {},
		"short":          {0xb8, 0x27, 0xeb},
		"five bytes":     {0xb8, 0x27, 0xeb, 0, 0},
		"seven bytes":    {0xb8, 0x27, 0xeb, 0, 0, 0, 0},
		"infiniband":     mac(t, "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"),
		"unassigned":     unassigned(t, r),
	}
	for what, m := range rejects {
		if got, ok := r.Lookup(m); ok {
			t.Errorf("%s %v: got %+v, want no maker", what, m, got)
		}
	}
}

// unassigned finds a universally administered unicast prefix with no
// assignment, so the test does not depend on which ones the IEEE hands out
// next.
func unassigned(t *testing.T, r *Registry) net.HardwareAddr {
	for p := 0x0c0000; p < 0x0cffff; p++ {
		m := net.HardwareAddr{byte(p >> 16), byte(p >> 8), byte(p), 0x12, 0x34, 0x56}
		if _, ok := r.Lookup(m); !ok {
			return m
		}
	}
	t.Fatal("every prefix in 0C:xx:xx is assigned")
	return nil
}

func TestEmbeddedSource(t *testing.T) {
	s := EmbeddedSource()
	r := Default()
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if r.Len() != s.Assignments || s.Assignments < 40000 {
		t.Errorf("table has %d prefixes, source says %d", r.Len(), s.Assignments)
	}
	if len(r.ends) != s.Names {
		t.Errorf("table has %d names, source says %d", len(r.ends), s.Names)
	}
	if len(s.Files) != 4 || s.Updated == "" || s.Package == "" {
		t.Errorf("incomplete source: %+v", s)
	}
	if Default() != r {
		t.Error("Default returned a different registry the second time")
	}
}

// TestRegenerate checks that the committed table is what the generator
// makes from the installed lists, so nobody edits it by hand or forgets to
// regenerate after changing the generator.
func TestRegenerate(t *testing.T) {
	if _, err := os.Stat(filepath.Join(ieee.DefaultDir, "oui.csv")); err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("ieee-data is not installed (%v); apt-get install ieee-data to run this test", err)
		}
		t.Fatalf("CI=true but ieee-data is missing: %v", err)
	}
	o, err := ieee.Generate(ieee.DefaultDir)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(embedded))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// Compare the uncompressed tables: gzip's bytes may change with the Go
	// release, the content must not.
	if !bytes.Equal(committed, o.Raw) {
		t.Errorf("%s differs from what the installed lists (%s) give; run go generate ./scanner/oui/",
			ieee.TableFile, ieee.PackageVersion())
	}
	src, err := os.ReadFile(ieee.SourceFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, o.Source) {
		t.Errorf("%s differs from what the installed lists give; run go generate ./scanner/oui/\ncommitted:\n%s\nregenerated:\n%s",
			ieee.SourceFile, src, o.Source)
	}
}

// testTable builds a small table through the real encoder.
func testTable(t testing.TB) []byte {
	raw, err := ieee.Encode([]ieee.Assignment{
		{Prefix: 0xB827EB, Bits: 24, Name: "Raspberry Pi Foundation"},
		{Prefix: 0xFCFFFF, Bits: 24, Name: "Outer"},
		{Prefix: 0xFCFFFF0, Bits: 28, Name: "Middle"},
		{Prefix: 0xFCFFFF00A, Bits: 36, Name: "Inner"},
		{Prefix: 0xFCFFFF00B, Bits: 36, Name: "Raspberry Pi Foundation"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParseRoundTrip(t *testing.T) {
	if magic != ieee.Magic || maxName != ieee.MaxName {
		t.Fatal("the encoder and the decoder disagree on the format's constants")
	}
	r, err := Parse(ieee.Compress(testTable(t)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 5 || len(r.ends) != 4 {
		t.Fatalf("Len = %d, names = %d; want 5 and 4", r.Len(), len(r.ends))
	}
	for s, want := range map[string]string{
		"b8:27:eb:00:00:00": "Raspberry Pi Foundation",
		"fc:ff:ff:10:00:00": "Outer",
		"fc:ff:ff:00:00:00": "Middle",
		"fc:ff:ff:00:9f:ff": "Middle",
		"fc:ff:ff:00:a0:00": "Inner",
		"fc:ff:ff:00:af:ff": "Inner",
		"fc:ff:ff:00:b0:00": "Raspberry Pi Foundation",
		"fc:ff:ff:00:c0:00": "Middle",
		"b8:27:ec:00:00:00": "",
	} {
		got, ok := r.Lookup(mac(t, s))
		if got.Name != want || ok != (want != "") {
			t.Errorf("Lookup(%s) = %q, %v; want %q", s, got.Name, ok, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := testTable(t)
	hdr := []byte(magic)
	tests := map[string][]byte{
		"nil":            nil,
		"not gzip":       []byte("OUI\x01 but not compressed"),
		"truncated gzip": ieee.Compress(good)[:40],
		"old version":    ieee.Compress(append([]byte("OUI\x00"), good[4:]...)),
		"trailing bytes": ieee.Compress(append(good[:len(good):len(good)], 0)),
		"truncated":      ieee.Compress(good[:len(good)-1]),
		"huge count":     ieee.Compress(append(hdr, 0xff, 0xff, 0xff, 0xff, 0x0f)),
		"overlong varint": ieee.Compress(append(hdr,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)),
		"empty name":      ieee.Compress(append(hdr, 1, 0, 0, 0, 0)),
		"bad UTF-8":       ieee.Compress(append(hdr, 1, 1, 0xff, 0, 0, 0)),
		"index too big":   ieee.Compress(append(hdr, 1, 1, 'A', 1, 5, 1, 0, 0)),
		"not rising":      ieee.Compress(append(hdr, 1, 1, 'A', 2, 5, 0, 0, 0, 0, 0)),
		"prefix too wide": ieee.Compress(append(hdr, 1, 1, 'A', 1, 0x80, 0x80, 0x80, 0x08, 0, 0, 0)),
		"decompression bomb": func() []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(hdr)
			zw.Write(make([]byte, maxRaw))
			zw.Close()
			return buf.Bytes()
		}(),
	}
	for what, b := range tests {
		r, err := Parse(b)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", what, err)
		}
		if _, ok := r.Lookup(mac(t, "b8:27:eb:00:00:00")); ok || r.Len() != 0 {
			t.Errorf("%s: a table that failed to decode still finds makers", what)
		}
	}
	// The smallest valid table: no names, no prefixes.
	if r, err := Parse(ieee.Compress(append(hdr, 0, 0, 0, 0))); err != nil || r.Len() != 0 {
		t.Errorf("empty table: %v, Len %d", err, r.Len())
	}
}

// FuzzParse feeds Parse arbitrary bytes, most of which fail at gzip.
func FuzzParse(f *testing.F) {
	good := testTable(f)
	f.Add(ieee.Compress(good))
	f.Add(ieee.Compress(good)[:30])
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		check(t, r, err)
	})
}

// FuzzDecode reaches the table format itself, below gzip.
func FuzzDecode(f *testing.F) {
	good := testTable(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(magic + "\x00\x00\x00\x00"))
	f.Add([]byte(magic + "\x01\x01A\x02\x05\x00\x03\x00\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &Registry{}
		r.once.Do(func() { r.err = r.decode(b) })
		check(t, r, r.err)
	})
}

func check(t *testing.T, r *Registry, err error) {
	if err != nil {
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		if r.Len() != 0 {
			t.Fatal("failed table has entries")
		}
		return
	}
	for _, tab := range r.tabs {
		for i, p := range tab.prefixes {
			m := make(net.HardwareAddr, 6)
			v := p << (48 - tab.bits)
			for j := range m {
				m[j] = byte(v >> (40 - 8*j))
			}
			got, ok := r.Lookup(m)
			if m[0]&3 != 0 || allZero(m) {
				continue // group and local addresses never reach the table
			}
			if !ok || !utf8.ValidString(got.Name) || got.Name == "" {
				t.Fatalf("prefix %d of table /%d: Lookup(%v) = %q, %v", i, tab.bits, m, got.Name, ok)
			}
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	r := Default()
	macs := []net.HardwareAddr{
		mac(b, "b8:27:eb:12:34:56"), // MA-L: three searches
		mac(b, "70:b3:d5:f2:f0:01"), // MA-S: one search
		mac(b, "0c:00:00:00:00:01"), // unassigned
		mac(b, "da:a1:19:00:00:01"), // private: no search
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Lookup(macs[i%len(macs)])
	}
}

// BenchmarkDecode is the one-off cost of the first lookup.
func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(embedded); err != nil {
			b.Fatal(err)
		}
	}
}
