// Package ieee reads the IEEE registration authority's assignment lists, as
// Debian's ieee-data package installs them, and encodes them into the table
// format that package oui embeds and decodes.
//
// It is used by the generator (oui/gen) and by oui's tests, never by the
// program itself, so CSV parsing costs the shipped binary nothing.
package ieee

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultDir is where Debian's ieee-data package installs the lists.
const DefaultDir = "/usr/share/ieee-data"

// Magic opens every raw table; the byte after "OUI" is the format version.
const Magic = "OUI\x01"

// File is one of the CSV lists.
type File struct {
	Name     string // file name in the directory, such as "oui.csv"
	Registry string // value of the Registry column, such as "MA-L"
	Bits     int    // prefix length of its assignments
	Date     string // modification time of the file, YYYY-MM-DD in UTC
	Rows     int    // data rows read
}

// Files lists the lists read, in the order they are read.
func Files() []File {
	return []File{
		{Name: "oui.csv", Registry: "MA-L", Bits: 24},
		{Name: "mam.csv", Registry: "MA-M", Bits: 28},
		{Name: "oui36.csv", Registry: "MA-S", Bits: 36},
		{Name: "iab.csv", Registry: "IAB", Bits: 36},
	}
}

// Assignment is one registered prefix.
type Assignment struct {
	Prefix uint64 // the assigned bits, right-aligned
	Bits   int    // how many leading bits of the address are assigned
	Name   string // normalised organisation name
}

// Data is everything read from a directory of lists.
type Data struct {
	Files       []File
	Assignments []Assignment // sorted by Bits, then Prefix; unique
}

// Read parses the four lists in dir. A prefix listed more than once (the
// IEEE assigned a few early blocks twice) keeps every distinct name, joined
// with " / " in sorted order, so the result does not depend on row order.
func Read(dir string) (*Data, error) {
	type key struct {
		bits   int
		prefix uint64
	}
	names := map[key][]string{}
	d := &Data{}
	for _, f := range Files() {
		path := filepath.Join(dir, f.Name)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		f.Date = fi.ModTime().UTC().Format("2006-01-02")
		rows, err := readCSV(path, f)
		if err != nil {
			return nil, err
		}
		f.Rows = len(rows)
		for _, a := range rows {
			k := key{a.Bits, a.Prefix}
			if !slices.Contains(names[k], a.Name) {
				names[k] = append(names[k], a.Name)
			}
		}
		d.Files = append(d.Files, f)
	}
	for k, ns := range names {
		slices.Sort(ns)
		d.Assignments = append(d.Assignments, Assignment{Prefix: k.prefix, Bits: k.bits, Name: strings.Join(ns, " / ")})
	}
	slices.SortFunc(d.Assignments, func(a, b Assignment) int {
		if a.Bits != b.Bits {
			return a.Bits - b.Bits
		}
		return compare(a.Prefix, b.Prefix)
	})
	return d, nil
}

func compare(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readCSV reads one list. Columns: Registry, Assignment, Organization Name,
// Organization Address.
func readCSV(path string, f File) ([]Assignment, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = 4
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if header[0] != "Registry" || header[1] != "Assignment" || header[2] != "Organization Name" {
		return nil, fmt.Errorf("%s: unexpected header %q", path, header)
	}
	digits := f.Bits / 4
	var out []Assignment
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if rec[0] != f.Registry {
			return nil, fmt.Errorf("%s:%d: registry %q, want %q", path, line, rec[0], f.Registry)
		}
		if len(rec[1]) != digits {
			return nil, fmt.Errorf("%s:%d: assignment %q is not %d hex digits", path, line, rec[1], digits)
		}
		p, err := strconv.ParseUint(rec[1], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: assignment %q: %w", path, line, rec[1], err)
		}
		name := Normalise(rec[2])
		if name == "" {
			return nil, fmt.Errorf("%s:%d: assignment %s has no organisation name", path, line, rec[1])
		}
		out = append(out, Assignment{Prefix: p, Bits: f.Bits, Name: name})
	}
}

// Normalise trims a name and collapses every run of white space (including
// the no-break and en spaces some registrants typed) to one space.
func Normalise(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
}

// MaxName is the longest organisation name the format accepts, in bytes.
const MaxName = 1 << 10

// Encode writes the raw (uncompressed) table:
//
//	"OUI\x01"
//	uvarint n, then n names: uvarint length, UTF-8 bytes (sorted, unique)
//	for each prefix length, shortest first: 24 (MA-L), 28 (MA-M),
//	36 (MA-S and IAB):
//	    uvarint count, then count pairs of
//	    uvarint delta (prefix minus the previous prefix; the first is
//	    absolute, later ones are at least 1, so prefixes strictly rise),
//	    uvarint index into the names
//
// Assignments must be sorted and unique as Read leaves them.
func Encode(as []Assignment) ([]byte, error) {
	var names []string
	for _, a := range as {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	index := make(map[string]uint64, len(names))

	b := []byte(Magic)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for i, n := range names {
		if len(n) == 0 || len(n) > MaxName || !utf8.ValidString(n) {
			return nil, fmt.Errorf("name %q: empty, too long or not UTF-8", n)
		}
		index[n] = uint64(i)
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	for _, bits := range [...]int{24, 28, 36} {
		var group []Assignment
		for _, a := range as {
			if a.Bits == bits {
				group = append(group, a)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(group)))
		var prev uint64
		for i, a := range group {
			if a.Prefix >= 1<<bits {
				return nil, fmt.Errorf("prefix %X does not fit in %d bits", a.Prefix, bits)
			}
			if i > 0 && a.Prefix <= prev {
				return nil, errors.New("assignments not sorted and unique")
			}
			delta := a.Prefix
			if i > 0 {
				delta -= prev
			}
			b = binary.AppendUvarint(b, delta)
			b = binary.AppendUvarint(b, index[a.Name])
			prev = a.Prefix
		}
	}
	return b, nil
}

// Compress gzips a raw table. The output depends only on raw (and on the
// Go release's compressor), never on the time or the machine.
func Compress(raw []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(raw)                                            // a bytes.Buffer never fails
	zw.Close()
	return buf.Bytes()
}
