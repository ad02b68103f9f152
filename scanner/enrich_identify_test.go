package scanner

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

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
