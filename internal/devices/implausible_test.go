package devices

import (
	"net/netip"
	"testing"

	"netscanner/scanner"
)

// TestModelSkipsImplausible: an answer the scan flagged as no device (a
// captive portal accepting every connect, scanner/plausible.go) is no row
// of the app's list nor of the CSV export; real hosts beside it are.
func TestModelSkipsImplausible(t *testing.T) {
	m := NewModel()
	fake := scanner.Host{Addr: netip.MustParseAddr("198.18.9.1"), Reason: scanner.ReasonTCPOpen, Implausible: true, Note: scanner.ImplausibleHostNote}
	m.Apply([]scanner.Event{
		{Kind: scanner.HostFound, Host: fake},
		{Kind: scanner.HostUpdated, Host: fake},
		found("198.18.9.2", 0),
	})
	if got := viewAddrs(m); len(got) != 1 || got[0] != "198.18.9.2" {
		t.Errorf("rows %v, want only 198.18.9.2", got)
	}
}
