// Package oui names the maker of a network card from its MAC address, using
// the IEEE registration authority's public assignment lists.
//
// The lists (MA-L, MA-M, MA-S and the older IAB blocks) come from Debian's
// ieee-data package. A generator turns them into a compact table that is
// embedded in the binary and decoded on first use; EmbeddedSource tells which
// version of the lists that was.
//
// Cost, measured with Go 1.26 on linux/amd64 by building a program that
// parses and prints a MAC with and without one call to Default().Lookup:
// the binary grows by 679,859 bytes (2,563,316 to 3,243,175), or 589,824
// bytes with -ldflags='-s -w'. That is the 400 kB gzipped table plus
// compress/gzip, which a program linking net/http has anyway. Decoded, the
// table holds about 1.3 MB of memory; decoding takes about 15 ms, once, on
// the first lookup.
//
// A lookup takes the longest registered prefix: a 36-bit MA-S block wins
// over the 28-bit MA-M block it may sit in, which wins over the 24-bit MA-L
// block around it (for MA-M and MA-S blocks, that one is registered to the
// IEEE Registration Authority itself).
package oui

//go:generate go run ./gen

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"unicode/utf8"
)

// embedded is the gzipped table written by gen.
//
//go:embed registry.bin.gz
var embedded []byte

// Maker is who a MAC address belongs to.
type Maker struct {
	// Name is the organisation the IEEE registered the prefix to, with
	// spacing normalised. A few registrants asked the IEEE to hide their
	// name; their blocks read "Private", which is the IEEE's word and has
	// nothing to do with the Private field below.
	Name string
	// Private is true for a locally administered address: one the device
	// made up itself, as phones and laptops do on each Wi-Fi network to
	// avoid being tracked. It names no maker.
	Private bool
}

// PrivateName is the Name of a locally administered address.
const PrivateName = "private address (randomized)"

func (m Maker) String() string { return m.Name }

// Source describes the IEEE lists a Registry was built from.
type Source struct {
	Package     string // the Debian package and version, "ieee-data 20220827.1"
	Updated     string // the day the lists were downloaded from the IEEE, YYYY-MM-DD
	Files       []SourceFile
	Assignments int // prefixes in the table
	Names       int // distinct organisation names
}

// SourceFile is one of the lists read.
type SourceFile struct {
	Name     string // such as "oui.csv"
	Registry string // such as "MA-L"
	Bits     int    // prefix length of its assignments
	Date     string // the file's modification day, YYYY-MM-DD
	Rows     int    // data rows in the file
}

// EmbeddedSource describes the lists the table in this binary was built
// from.
func EmbeddedSource() Source { return embeddedSource() }

// Registry maps MAC address prefixes to makers. Its methods are safe for
// concurrent use.
type Registry struct {
	once sync.Once
	src  []byte // gzipped table, decoded on first use
	err  error

	// names holds every organisation name back to back; name i is
	// names[ends[i-1]:ends[i]]. One string instead of thousands keeps the
	// decoded table small and cheap for the garbage collector.
	names string
	ends  []uint32
	// tabs holds one table per prefix length, longest first, so the first
	// hit in Lookup is the longest match.
	tabs [3]table
}

// table is every assignment of one prefix length, sorted by prefix.
type table struct {
	bits     int
	prefixes []uint64
	name     []uint32 // index into the names, parallel to prefixes
}

// Default returns the registry built into the binary. The table is decoded
// the first time a lookup needs it, not at program start; every call
// returns the same Registry.
func Default() *Registry { return defaultRegistry() }

var defaultRegistry = sync.OnceValue(func() *Registry { return &Registry{src: embedded} })

// Parse decodes a gzipped table as written by the generator.
func Parse(b []byte) (*Registry, error) {
	r := &Registry{src: b}
	return r, r.load()
}

// Err reports whether the registry's table could not be decoded; a
// registry that failed to decode finds nothing.
func (r *Registry) Err() error { return r.load() }

// Len returns the number of prefixes in the registry.
func (r *Registry) Len() int {
	if r.load() != nil {
		return 0
	}
	n := 0
	for _, t := range r.tabs {
		n += len(t.prefixes)
	}
	return n
}

func (r *Registry) load() error {
	r.once.Do(func() {
		r.err = r.decompress()
		r.src = nil // the compressed bytes are no longer needed
	})
	return r.err
}

// maxRaw bounds the decompressed table, so that a hostile input cannot make
// Parse allocate without limit. The real table is under 1 MB.
const maxRaw = 16 << 20

// ErrFormat is wrapped by every error about a malformed table.
var ErrFormat = errors.New("oui: malformed table")

func (r *Registry) decompress() error {
	zr, err := gzip.NewReader(bytes.NewReader(r.src))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	// gzip's trailer holds the uncompressed size: a hint that saves
	// ReadAll from growing its buffer step by step.
	var buf bytes.Buffer
	if n := len(r.src); n >= 4 {
		buf.Grow(int(min(binary.LittleEndian.Uint32(r.src[n-4:]), maxRaw+1)))
	}
	_, err = buf.ReadFrom(io.LimitReader(zr, maxRaw+1))
	raw := buf.Bytes()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if len(raw) > maxRaw {
		return fmt.Errorf("%w: more than %d bytes uncompressed", ErrFormat, maxRaw)
	}
	return r.decode(raw)
}

// magic opens every raw table; the byte after "OUI" is the format version.
const magic = "OUI\x01"

// maxName is the longest organisation name accepted, in bytes.
const maxName = 1 << 10

// decode reads the raw table format (see ieee.Encode, which writes it):
//
//	"OUI\x01"
//	uvarint n, then n names: uvarint length, UTF-8 bytes
//	for each prefix length 24, 28, 36:
//	    uvarint count, then count pairs of
//	    uvarint delta from the previous prefix (the first is absolute,
//	    later ones are at least 1), uvarint name index
//
// Every count is checked against the bytes left before anything is
// allocated, so garbage fails fast instead of exhausting memory.
func (r *Registry) decode(raw []byte) error {
	d := decoder{b: raw}
	if !bytes.HasPrefix(raw, []byte(magic)) {
		return fmt.Errorf("%w: bad magic or version", ErrFormat)
	}
	d.b = d.b[len(magic):]

	// A name takes at least 2 bytes: its length and one byte. The names
	// are gathered in one buffer of an upper-bound size, then copied into
	// a string of the exact size.
	n := d.count(2)
	names := make([]byte, 0, len(d.b))
	r.ends = make([]uint32, 0, n)
	for range n {
		l := d.uvarint()
		if d.err == nil && (l == 0 || l > maxName || l > uint64(len(d.b))) {
			d.fail("name length %d", l)
		}
		if d.err != nil {
			break
		}
		s := d.b[:l]
		d.b = d.b[l:]
		if !utf8.Valid(s) {
			d.fail("name %d is not UTF-8", len(r.ends))
			break
		}
		names = append(names, s...)
		r.ends = append(r.ends, uint32(len(names)))
	}
	r.names = string(names)

	// Stored shortest first; kept longest first.
	for i, bits := range []int{24, 28, 36} {
		t := table{bits: bits}
		n := d.count(2) // an entry takes at least 2 bytes
		t.prefixes = make([]uint64, 0, n)
		t.name = make([]uint32, 0, n)
		var prefix uint64
		for j := range n {
			delta, idx := d.uvarint(), d.uvarint()
			if d.err != nil {
				break
			}
			if j > 0 && delta == 0 {
				d.fail("prefixes not rising")
				break
			}
			prefix += delta
			if prefix < delta || prefix >= 1<<bits {
				d.fail("prefix %X does not fit in %d bits", prefix, bits)
				break
			}
			if idx >= uint64(len(r.ends)) {
				d.fail("name index %d out of range", idx)
				break
			}
			t.prefixes = append(t.prefixes, prefix)
			t.name = append(t.name, uint32(idx))
		}
		r.tabs[len(r.tabs)-1-i] = t
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		r.names, r.ends, r.tabs = "", nil, [3]table{}
	}
	return d.err
}

// decoder reads uvarints and remembers the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items that take at least size bytes each.
func (d *decoder) count(size int) int {
	c := d.uvarint()
	if d.err == nil && c > uint64(len(d.b)/size) {
		d.fail("count %d exceeds the %d bytes left", c, len(d.b))
	}
	if d.err != nil {
		return 0
	}
	return int(c)
}

// Lookup returns the maker of mac, an EUI-48 or EUI-64 address.
//
// A locally administered address yields a Maker with Private set and
// PrivateName as its name, and ok true: the answer is known, it is just
// not a maker. Group (multicast and broadcast) addresses, the all-zero
// address and input of any other length yield ok false, as does a unicast
// prefix nobody registered.
func (r *Registry) Lookup(mac net.HardwareAddr) (m Maker, ok bool) {
	if len(mac) != 6 && len(mac) != 8 {
		return Maker{}, false
	}
	if mac[0]&0x01 != 0 { // group bit: not a device's own address
		return Maker{}, false
	}
	if mac[0]&0x02 != 0 { // locally administered bit
		return Maker{Name: PrivateName, Private: true}, true
	}
	if allZero(mac) {
		return Maker{}, false
	}
	if r.load() != nil {
		return Maker{}, false
	}
	// The first 48 bits hold every prefix length, for EUI-64 too.
	v := uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 |
		uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
	for _, t := range r.tabs {
		if i, found := slices.BinarySearch(t.prefixes, v>>(48-t.bits)); found {
			return Maker{Name: r.name(t.name[i])}, true
		}
	}
	return Maker{}, false
}

func (r *Registry) name(i uint32) string {
	start := uint32(0)
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.names[start:r.ends[i]]
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
