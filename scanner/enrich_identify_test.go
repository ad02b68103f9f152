package scanner

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"netscanner/scanner/dnssd"
	"netscanner/scanner/identify"
)

// The rules read only TXT keys the DNS-SD browse keeps: a rule on a key
// the browse drops could never fire.
func TestRulesTXTKeysKept(t *testing.T) {
	for _, k := range identify.Default().TXTKeys() {
		if !slices.Contains(dnssd.IdentityKeys, k) {
			t.Errorf("the rules read TXT key %q, which dnssd.IdentityKeys drops: add it there", k)
		}
	}
	types := append(slices.Clone(dnssd.DefaultTypes), identifyTypes()...)
	for _, typ := range identify.Default().ServiceTypes() {
		if !slices.Contains(types, typ) {
			t.Errorf("the browse does not ask for %s", typ)
		}
	}
	if n := len(types); n > dnssd.MaxTypes {
		t.Errorf("%d types asked for, more than dnssd.MaxTypes", n)
	}
}

// IdentityFacts reads a host as package identify wants it.
func TestIdentityFacts(t *testing.T) {
	h := Host{Vendor: "Brother industries, LTD.", MAC: []byte{0x30, 0x05, 0x5c, 1, 2, 3},
		Names: []string{"BRN30055C010203", "printer.local", "printer.lan"}, Reasons: []Reason{ReasonNetBIOS},
		Ports: []Port{{Number: 631}, {Number: 9100}}, SSH: "SSH-2.0-x"}
	f := h.IdentityFacts("Office printer", false)
	want := []identify.Name{{Name: "BRN30055C010203", Source: identify.NameFromNetBIOS}, {Name: "printer.local", Source: identify.NameFromMDNS},
		{Name: "printer.lan", Source: identify.NameFromDNS}, {Name: "Office printer", Source: identify.NameFromLabel}}
	if !slices.Equal(f.Names, want) || !slices.Equal(f.Ports, []uint16{631, 9100}) || f.RandomMAC || f.SSH != "SSH-2.0-x" {
		t.Errorf("facts %+v", f)
	}
	h.MAC[0] |= 0x02
	if f := h.IdentityFacts("", true); !f.RandomMAC || f.Vendor != "" || !f.Mobile {
		t.Errorf("randomized MAC: %+v", f)
	}
	identifyHost(&h)
	if h.Identity.Kind != identify.KindPrinter {
		t.Errorf("identity %+v", h.Identity)
	}
}

// The extra types pass the browse's own check: a type it refused would
// stop the whole round.
func TestIdentifyTypesValid(t *testing.T) {
	_, err := dnssd.Start(t.Context(), dnssd.Config{Scanned: func(netip.Addr) bool { return false }, Types: identifyTypes()})
	if !errors.Is(err, dnssd.ErrNoLinks) {
		t.Errorf("types %v: %v", identifyTypes(), err)
	}
}

// TestEnrichTail: with Wait left at 0, a job still running when the sweep
// ends is cut once it has had tailMinJob, or tailAfterSweep has passed
// (whichever is later), instead of waiting out its own budget; every
// host is still closed and reported with what was known. A job that
// answers in time keeps its answer.
func TestEnrichTail(t *testing.T) {
	f := homeLAN()
	f.silent = true
	conn := newFakeConn(map[netip.Addr]fakeHost{ip("198.18.7.2"): {}, ip("198.18.7.3"): {}}, 16, 0, 0)
	defer conn.Close()
	rec := newRecorder(t)
	e := &Enrich{Names: true, Ports: []uint16{9999}, env: f.env()}
	e.env.dial = func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }
	var swept time.Time
	emit := func(ev Event) {
		if ev.Kind == Progress && ev.Done == ev.Total && swept.IsZero() {
			swept = time.Now()
		}
		rec.emit(ev)
	}
	sum, err := Scan(t.Context(), conn, mustTargets(t, "198.18.7.2-3"), fastSweep(e), emit)
	end := time.Now()
	got := rec.check(sum, err)
	if swept.IsZero() {
		t.Fatal("no progress event for the sweep's end")
	}
	// Silent lookups and connects never end by themselves: only the
	// tail's cut ends them, within tailMinJob of the sweep's end plus
	// scheduling slack, far below DefaultEnrichWait.
	if tail := end.Sub(swept); tail > tailMinJob+tailAfterSweep+500*time.Millisecond {
		t.Errorf("enrichment ran %v after the sweep", tail)
	}
	if !slices.Equal(got[ip("198.18.7.2")].MAC, macPi) {
		t.Errorf("what was learnt before the cut is lost: %+v", got)
	}
	if f.nameLookups.Load() == 0 {
		t.Error("no name lookup ran")
	}
}
