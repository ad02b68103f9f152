package scanner

import (
	"context"
	"net/netip"
	"netscanner/scanner/targets"
	"testing"
	"time"
)

// TestLateReplyAfterDeadline is the regression test for a false positive
// found by the hostile-router reliability test: a reply that arrived after
// its host's deadline, but was read before the receiver got round to
// giving up on the host (here because emit was slow; in the wild because
// the machine was busy), counted the silent host as alive. Whether it did
// depended on which of two ready select cases Go picked.
func TestLateReplyAfterDeadline(t *testing.T) {
	fast, late := netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("198.18.1.2")
	const timeout = 50 * time.Millisecond
	falsePos := 0
	for range 20 {
		c := newFakeConn(map[netip.Addr]fakeHost{fast: {}, late: {Delay: timeout + 10*time.Millisecond}}, 16, 0, 0)
		targets, err := targets.Parse(context.Background(), []string{"198.18.1.1-2"}, targets.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Scan(context.Background(), c, targets, Config{Timeout: timeout, Rate: 10000}, func(e Event) {
			if e.Kind != HostFound {
				return
			}
			if e.Host.Addr == late {
				falsePos++
			}
			// Keep the receiver busy until late's answer has arrived
			// after its deadline.
			time.Sleep(2 * timeout)
		})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if falsePos > 0 {
		t.Errorf("an answer after the deadline counted in %d of 20 scans", falsePos)
	}
}
