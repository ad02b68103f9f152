package devices

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"netscanner/assets"
	"netscanner/scanner"
	"netscanner/scanner/identify"
)

// Rows take their kind from package identify, with the user's label as a
// name and this machine as a phone in the phone app.
func TestIdentify(t *testing.T) {
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
		{"hp printer by ports", scanner.Host{Vendor: "Hewlett Packard", Ports: ports(80, 631, 9100)}, "", false, KindPrinter},
		{"label decides", scanner.Host{Vendor: "Espressif"}, "living room tv", false, KindTV},
		{"nothing known", scanner.Host{}, "", false, KindUnknown},
	} {
		if got := Identify(&tc.h, tc.label, tc.mobile).Kind; got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// The scan's own identity is kept when nothing the app knows
	// changes it.
	h := scanner.Host{Identity: identify.Identity{Kind: identify.KindNAS, Model: "Synology DS920+", Evidence: []identify.Evidence{{Rule: "x"}}}}
	if id := Identify(&h, "", false); id.Model != "Synology DS920+" {
		t.Errorf("scan's identity dropped: %+v", id)
	}
	if id := Identify(&h, "Printer", false); id.Kind != KindPrinter {
		t.Errorf("label ignored: %+v", id)
	}
}

func TestKindWords(t *testing.T) {
	if KindCount != len(identify.Kinds()) || KindTV.Label() != "TV" || KindPrinter.String() != "printer" {
		t.Error("kinds")
	}
}

// Every kind has its icon, and each is an SVG the app can draw.
func TestKindIcons(t *testing.T) {
	for _, k := range identify.Kinds() {
		b, err := assets.DeviceIcon(k.String())
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if !bytes.HasPrefix(b, []byte("<svg")) || !bytes.Contains(b, []byte(`viewBox="0 0 24 24"`)) {
			t.Errorf("%s: not a 24×24 SVG", k)
		}
	}
}

// The exports carry what a device is: its model and friendly name.
func TestExportIdentity(t *testing.T) {
	m := NewModel()
	h := scanner.Host{Addr: netip.MustParseAddr("198.18.0.21"), Services: []identify.Service{{Type: "_googlecast._tcp", Port: 8009,
		TXT: map[string]string{"md": "Chromecast Ultra", "fn": "Living Room TV"}}}}
	m.Apply([]scanner.Event{{Kind: scanner.HostFound, Host: h}})
	r := m.At(0)
	if r.Kind != identify.KindStreamingStick || r.Name() != "Living Room TV" {
		t.Fatalf("row %s %q", r.Kind, r.Name())
	}
	var csvOut, jsonOut bytes.Buffer
	if err := WriteCSV(&csvOut, []*Row{r}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&jsonOut, []*Row{r}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csvOut.String(), ",Chromecast Ultra,Living Room TV") ||
		!strings.Contains(jsonOut.String(), `"model": "Chromecast Ultra"`) && !strings.Contains(jsonOut.String(), `"model":"Chromecast Ultra"`) {
		t.Errorf("exports:\n%s\n%s", csvOut.String(), jsonOut.String())
	}
}
