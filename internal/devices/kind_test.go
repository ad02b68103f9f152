package devices

import (
	"testing"

	"netscanner/scanner"
)

func TestGuessKind(t *testing.T) {
	ports := func(ns ...uint16) []scanner.Port {
		var out []scanner.Port
		for _, n := range ns {
			out = append(out, scanner.Port{Number: n})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		h      scanner.Host
		label  string
		mobile bool
		want   Kind
	}{
		{"self on desktop", scanner.Host{Self: true}, "", false, KindComputer},
		{"self on phone", scanner.Host{Self: true}, "", true, KindPhone},
		{"gateway", scanner.Host{Gateway: true, Vendor: "Apple"}, "", false, KindRouter},
		{"iphone by name", scanner.Host{Hostname: "Johns-iPhone", Vendor: "Apple, Inc."}, "", false, KindPhone},
		{"iphone by port", scanner.Host{Vendor: "Apple, Inc.", Ports: ports(62078)}, "", false, KindPhone},
		{"macbook", scanner.Host{Hostname: "annas-macbook-air", Vendor: "Apple, Inc."}, "", false, KindComputer},
		{"apple alone is too little", scanner.Host{Vendor: "Apple, Inc."}, "", false, KindUnknown},
		{"brother printer", scanner.Host{Hostname: "BRN3C2AF4", Vendor: "Brother Industries"}, "", false, KindPrinter},
		{"hp printer by ports", scanner.Host{Vendor: "Hewlett Packard", Ports: ports(80, 631, 9100)}, "", false, KindPrinter},
		{"mikrotik", scanner.Host{Vendor: "Routerboard.com"}, "", false, KindRouter},
		{"roku", scanner.Host{Vendor: "Roku, Inc"}, "", false, KindTV},
		{"chromecast", scanner.Host{Hostname: "chromecast", Vendor: "Google, Inc.", Ports: ports(8008, 8009)}, "", false, KindTV},
		{"windows pc", scanner.Host{Hostname: "desktop-7hk2", Ports: ports(135, 445, 3389)}, "", false, KindComputer},
		{"label decides", scanner.Host{Vendor: "Espressif"}, "living room tv", false, KindTV},
		{"nothing known", scanner.Host{}, "", false, KindUnknown},
		{"tie is unknown", scanner.Host{Ports: ports(22, 7000)}, "", false, KindUnknown},
	} {
		if got := GuessKind(&tc.h, tc.label, tc.mobile); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := range KindCount {
		s := Kind(k).String()
		if seen[s] {
			t.Errorf("two kinds called %q", s)
		}
		seen[s] = true
	}
	if KindTV.Label() != "TV or media player" || KindPrinter.Label() != "printer" {
		t.Errorf("labels %q, %q", KindTV.Label(), KindPrinter.Label())
	}
	if Kind(99).String() != "unknown" {
		t.Error("out-of-range kind has a name")
	}
}
