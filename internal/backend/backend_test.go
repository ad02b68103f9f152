package backend

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"netscanner/internal/settings"
	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// TestSystemBackendLoopback scans 127.0.0.0/29 through the real backend,
// without a window: Linux answers for the whole loopback network, so all
// six host addresses must be found. Nothing leaves this machine.
func TestSystemBackendLoopback(t *testing.T) {
	testnet.Require(t)
	b := NewSystemBackend()
	t.Cleanup(func() { b.Close() })
	set, err := targets.Parse(t.Context(), []string{"127.0.0.0/29"}, TargetOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := settings.DefaultSettings()
	s.Lookups = false // names would ask the system's DNS server, off this machine
	var found []string
	sum, err := b.Scan(t.Context(), set, s, func(e scanner.Event) {
		if e.Kind == scanner.HostFound {
			found = append(found, e.Host.Addr.String())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(found)
	if want := "127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6"; strings.Join(found, " ") != want || sum.Alive != 6 {
		t.Errorf("found %v (%d alive), want %s", found, sum.Alive, want)
	}
	rtt, err := b.Ping(t.Context(), probe.Auto, netip.MustParseAddr("127.0.0.1"))
	if err != nil || rtt <= 0 || rtt > time.Second {
		t.Errorf("ping 127.0.0.1: %v, %v", rtt, err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := b.Ping(t.Context(), probe.Auto, netip.MustParseAddr("127.0.0.1")); err == nil {
		t.Error("a closed backend still pings")
	}
}

func TestDemoSampleLoads(t *testing.T) {
	b, err := NewDemoBackend("1")
	if err != nil {
		t.Fatal(err)
	}
	nets, _ := b.Networks()
	if len(nets) != 1 || !nets[0].Gateway.IsValid() || !nets[0].Scan.Contains(nets[0].Addr) {
		t.Errorf("demo network %+v", nets)
	}
	if r := b.Method(t.Context(), "auto"); r.Chosen == "" || len(r.Methods) != 4 {
		t.Errorf("demo report %+v", r)
	}
}

// TestCheckTargets is the target field's check: the command line's rules
// and words, without a lookup while the user types.
func TestCheckTargets(t *testing.T) {
	nets := []scanner.Network{{Interface: "wlan0", Prefix: netip.MustParsePrefix("198.18.100.0/24")}}
	for _, tt := range []struct {
		spec    string
		count   int
		pending bool
		err     string
	}{
		{spec: "198.18.100.0/24", count: 254},
		{spec: "198.18.100.250-255", count: 5}, // the LAN's broadcast address is skipped
		{spec: "printer.invalid", pending: true},
		{spec: "198.18.100.255", err: "is the broadcast address of 198.18.100.0/24"},
		{spec: "fe80::1", err: "as in fe80::1%eth0"},
		{spec: "198.18.0.1;reboot", err: "shell metacharacter"},
	} {
		c := CheckTargets(tt.spec, nets)
		switch {
		case tt.err != "":
			if c.Err == nil || !strings.Contains(c.Err.Error(), tt.err) {
				t.Errorf("%q: %+v, want an error containing %q", tt.spec, c, tt.err)
			}
		case c.Err != nil || c.Count != tt.count || c.Pending != tt.pending:
			t.Errorf("%q: %+v, want %d addresses, pending %v", tt.spec, c, tt.count, tt.pending)
		}
	}
}
