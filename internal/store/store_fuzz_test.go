package store

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzRecordAndFind records what a hostile network may say about a device
// (names, maker, identity, services: any bytes) and looks devices up by
// what a user may type: recording never fails on it, what is stored is
// clean and bounded, and Find answers with a device or a clear error.
func FuzzRecordAndFind(f *testing.F) {
	f.Add("pi.local", "PI-NAS", "Raspberry Pi", "Kitchen", "x._ipp._tcp", "pi.local", byte(7))
	f.Add("", "", "", "", "", "", byte(0))
	f.Add("\x00\xff\x1b[31m", strings.Repeat("é", 300), "\n", "\t", "_", "b8:27:eb:00:00:07", byte(255))
	f.Add("a", "b", "c", "d", "e", "198.18.0.7", byte(1))
	s, err := Open(context.Background(), filepath.Join(f.TempDir(), "history.db"), Options{Mode: ModeRecord})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, hostname, name, vendor, friendly, service, ref string, last byte) {
		ctx := context.Background()
		at = at.Add(time.Minute)
		o := Observation{
			Addr: netip.AddrFrom4([4]byte{198, 18, 0, last}), MAC: net.HardwareAddr{0x6e, 0, 0, 0, 0, last},
			RTT: time.Millisecond, Hostname: hostname, Names: []string{name, hostname}, Vendor: vendor,
			Kind: friendly, Model: service, FriendlyName: friendly, Services: []string{service},
		}
		res, err := s.RecordScan(ctx, Scan{Started: at, Targets: ref}, []Observation{o}, nil)
		if err != nil {
			t.Fatalf("RecordScan: %v", err)
		}
		for _, sn := range res.Seen {
			d := sn.Device
			for _, v := range append([]string{d.Hostname, d.Vendor, d.Kind, d.Model, d.FriendlyName, d.Addr}, append(d.Names, d.Services...)...) {
				if !clean(v) || len(v) > maxText {
					t.Fatalf("stored %q", v)
				}
			}
			if err := s.SetLabel(ctx, d.ID, ref); err != nil {
				t.Fatal(err)
			}
			got, err := s.Device(ctx, d.ID)
			if err != nil || !clean(got.Label) || utf8.RuneCountInString(got.Label) > MaxLabel {
				t.Fatalf("label %q, %v", got.Label, err)
			}
		}
		_, err = s.Find(ctx, ref)
		var ae *AmbiguousError
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.As(err, &ae) {
			t.Fatalf("Find(%q): %v", ref, err)
		}
	})
}

func clean(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) && s == strings.TrimSpace(s)
}
