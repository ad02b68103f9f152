package app

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"netscanner/internal/backend"
	"netscanner/internal/testnet"
	"netscanner/probe"
)

// TestSystemBackendLoopback scans 127.0.0.0/29 through the real backend:
// Linux answers for the whole loopback network, so all six host addresses
// must show up. Nothing leaves this machine.
func TestSystemBackendLoopback(t *testing.T) {
	testnet.Require(t)
	b := backend.NewSystemBackend()
	t.Cleanup(func() { b.Close() })
	u := newTestUI(t, b, filepath.Join(t.TempDir(), "s.json"), Options{})
	// Name lookups would ask the system's DNS server, off this machine:
	// tests send to loopback only. Ports are tried on the loopback hosts.
	set := u.store.Settings()
	set.Lookups = false
	u.store.SetSettings(set)
	if u.report == nil || u.report.Chosen == "" {
		t.Fatalf("no ping method as root: %+v", u.report)
	}
	test.Type(u.w.targets, "127.0.0.0/29")
	if !strings.Contains(u.w.targetMsg.Text, "6 addresses") {
		t.Errorf("target message %q", u.w.targetMsg.Text)
	}
	scan(t, u)
	want := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"}
	if got := addrs(u); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("found %v, want %v (status %q)", got, want, u.w.status.Text)
	}
	for i := range u.model.Len() {
		r := u.model.At(i)
		if r.Host.RTT <= 0 || r.Host.Method == "" {
			t.Errorf("%s: rtt %v method %q", r.Addr(), r.Host.RTT, r.Host.Method)
		}
	}
	if !strings.Contains(u.w.status.Text, "6 hosts found · 6 addresses probed") {
		t.Errorf("status %q", u.w.status.Text)
	}

	rtt, err := b.Ping(t.Context(), probe.Auto, netip.MustParseAddr("127.0.0.1"))
	if err != nil || rtt <= 0 || rtt > time.Second {
		t.Errorf("ping 127.0.0.1: %v, %v", rtt, err)
	}
}
