package store

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"netscanner/scanner"
	"netscanner/scanner/identify"
)

func TestFromHost(t *testing.T) {
	h := &scanner.Host{
		Addr: netip.MustParseAddr("198.18.100.30"), MAC: mustMAC("f4:f5:d8:00:00:30"), RTT: 3 * time.Millisecond,
		Hostname: "Chromecast-Ultra.local", Names: []string{"Chromecast-Ultra.local"}, Vendor: "Google",
		Services: []identify.Service{{Type: "_googlecast._tcp", Instance: "Living Room TV"}, {Type: "_http._tcp"}, {}},
		Identity: identify.Identity{Kind: identify.KindStreamingStick, Model: "Chromecast Ultra", FriendlyName: "Living Room TV"},
	}
	o := FromHost(h)
	if o.Kind != "streaming-stick" || o.Model != "Chromecast Ultra" || o.FriendlyName != "Living Room TV" || o.RTT != 3*time.Millisecond ||
		!slices.Equal(o.Services, []string{"Living Room TV._googlecast._tcp", "_http._tcp"}) || o.Vendor != "Google" {
		t.Errorf("FromHost = %+v", o)
	}
	h.MAC[0] = 0 // the observation owns its copies
	if o.MAC[0] != 0xf4 {
		t.Error("FromHost shares the host's MAC")
	}
	if k := FromHost(&scanner.Host{Addr: h.Addr}).Kind; k != "" {
		t.Errorf("unknown kind stored as %q", k)
	}
}
