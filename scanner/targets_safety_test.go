package scanner

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

// TestTargetsSkipSpecial checks that a sweep never sends to a multicast
// group, the limited broadcast or the unspecified address unless the user
// typed that address alone, and that prefixes skip their directed
// broadcast. Found by the reliability review: 224.0.0.0/30 and
// 255.255.255.254/31 were scanned in full.
func TestTargetsSkipSpecial(t *testing.T) {
	for _, tt := range []struct {
		in      []string
		want    string // Targets.String()
		n       int
		note    string // in a note; "" for none
		without []string
	}{
		{[]string{"224.0.0.0/30"}, "", 0, "", nil},
		{[]string{"223.255.255.254-224.0.0.2"}, "223.255.255.254/31", 2, "skipped 3 multicast addresses", []string{"224.0.0.1"}},
		{[]string{"224.0.0.1"}, "224.0.0.1", 1, "", nil},
		{[]string{"224.0.0.0/30", "224.0.0.1"}, "224.0.0.1", 1, "skipped 1 multicast address", []string{"224.0.0.2"}},
		{[]string{"255.255.255.255"}, "255.255.255.255", 1, "", nil},
		{[]string{"255.255.255.254/31"}, "255.255.255.254", 1, "skipped 1 broadcast address", []string{"255.255.255.255"}},
		{[]string{"239.255.255.250"}, "239.255.255.250", 1, "", nil},
		{[]string{"ff02::/126"}, "", 0, "", nil},
		{[]string{"ff02::1"}, "ff02::1", 1, "", nil},
		{[]string{"0.0.0.0-0.0.0.3"}, "0.0.0.1-3", 3, "skipped 1 unspecified address", []string{"0.0.0.0"}},
		{[]string{"::/126"}, "::1-::3", 3, "skipped 1 unspecified address", []string{"::"}},
		{[]string{"198.18.1.0/24"}, "198.18.1.0/24", 254, "", []string{"198.18.1.0", "198.18.1.255"}},
	} {
		ts, err := ParseTargets(context.Background(), tt.in, TargetOptions{})
		if tt.n == 0 {
			if err == nil {
				t.Errorf("%q: got %v, want a refusal: nothing is left to scan", tt.in, ts)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if ts.Len() != tt.n || (tt.want != "" && !strings.Contains(ts.String(), tt.want)) {
			t.Errorf("%q: %v (%d addresses), want %s (%d)", tt.in, ts, ts.Len(), tt.want, tt.n)
		}
		notes := strings.Join(ts.Notes(), "; ")
		if (tt.note == "") != (notes == "") || !strings.Contains(notes, tt.note) {
			t.Errorf("%q: notes %q, want %q", tt.in, notes, tt.note)
		}
		for _, a := range tt.without {
			if ts.Contains(netip.MustParseAddr(a)) {
				t.Errorf("%q: %s would be scanned", tt.in, a)
			}
		}
	}
}
