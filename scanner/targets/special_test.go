package targets

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
		allow   bool // Options.AllowBroadcast
	}{
		{[]string{"224.0.0.0/30"}, "", 0, "", nil, false},
		{[]string{"223.255.255.254-224.0.0.2"}, "223.255.255.254/31", 2, "skipped 3 multicast addresses", []string{"224.0.0.1"}, false},
		{[]string{"224.0.0.1"}, "224.0.0.1", 1, "", nil, true},
		{[]string{"224.0.0.0/30", "224.0.0.1"}, "224.0.0.1", 1, "skipped 1 multicast address", []string{"224.0.0.2"}, true},
		{[]string{"255.255.255.255"}, "255.255.255.255", 1, "", nil, true},
		{[]string{"255.255.255.254/31"}, "255.255.255.254", 1, "skipped 1 broadcast address", []string{"255.255.255.255"}, false},
		{[]string{"239.255.255.250"}, "239.255.255.250", 1, "", nil, true},
		{[]string{"ff02::/126"}, "", 0, "", nil, false},
		{[]string{"ff02::1"}, "ff02::1", 1, "", nil, true},
		{[]string{"0.0.0.0-0.0.0.3"}, "0.0.0.1-3", 3, "skipped 1 unspecified address", []string{"0.0.0.0"}, false},
		{[]string{"::/126"}, "::1-::3", 3, "skipped 1 unspecified address", []string{"::"}, false},
		{[]string{"198.18.1.0/24"}, "198.18.1.0/24", 254, "", []string{"198.18.1.0", "198.18.1.255"}, false},
	} {
		ts, err := Parse(context.Background(), tt.in, Options{AllowBroadcast: tt.allow})
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

// TestTargetsRefuseBroadcastAlone checks the rule of issue 12: a broadcast
// or multicast address typed alone is refused, with a message naming
// --allow-broadcast, unless AllowBroadcast is set; the directed broadcast
// of one of this machine's networks counts, and a range or wider prefix
// over it skips it. Before, 198.18.100.250-255 on a /24 LAN sent to .255
// and credited the broadcast address with whoever answered.
func TestTargetsRefuseBroadcastAlone(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("198.18.100.7/24")}
	for _, tt := range []struct {
		in      string
		allow   bool
		err     string // "" for accepted
		n       int
		without string
	}{
		{in: "224.0.0.251", err: `target "224.0.0.251": is a multicast group; every member answers for it, so it is sent to only with --allow-broadcast`},
		{in: "ff02::1", err: "is a multicast group"},
		{in: "255.255.255.255", err: "is the broadcast address of the link"},
		{in: "198.18.100.255", err: `target "198.18.100.255": is the broadcast address of 198.18.100.0/24; every host on it answers for it, so it is sent to only with --allow-broadcast`},
		{in: "198.18.100.255", allow: true, n: 1},
		{in: "224.0.0.251", allow: true, n: 1},
		{in: "198.18.100.250-255", n: 5, without: "198.18.100.255"},
		{in: "198.18.100.0/23", n: 509, without: "198.18.100.255"},
		{in: "198.18.101.255", n: 1}, // not a broadcast address of a network of ours
	} {
		ts, err := Parse(context.Background(), []string{tt.in}, Options{Networks: lan, AllowBroadcast: tt.allow})
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s (allow %v): %v, %v; want an error containing %q", tt.in, tt.allow, ts, err, tt.err)
			}
			continue
		case err != nil:
			t.Errorf("%s (allow %v): %v", tt.in, tt.allow, err)
			continue
		}
		if ts.Len() != tt.n {
			t.Errorf("%s: %d addresses (%v), want %d", tt.in, ts.Len(), ts, tt.n)
		}
		if tt.without != "" {
			if ts.Contains(netip.MustParseAddr(tt.without)) {
				t.Errorf("%s: %s would be scanned", tt.in, tt.without)
			}
			if notes := strings.Join(ts.Notes(), "; "); !strings.Contains(notes, "broadcast address of this machine's networks") {
				t.Errorf("%s: notes %q do not say the broadcast address was skipped", tt.in, notes)
			}
		}
	}
}

// TestParseHost checks ping's host rule: Parse's words for a single
// address or name, and refusals of networks, ranges and the unspecified
// address.
func TestParseHost(t *testing.T) {
	for _, tt := range []struct {
		in, addr, name, err string
	}{
		{in: "198.18.0.7", addr: "198.18.0.7"},
		{in: "fe80::1%eth0", addr: "fe80::1%eth0"},
		{in: "printer.lan.", name: "printer.lan"},
		{in: "", err: "empty host"},
		{in: "-c", err: "starts with '-'"},
		{in: "198.18.0.0/24", err: "is a network; ping takes single hosts"},
		{in: "198.18.0.1-5", err: "is a range; ping takes single hosts"},
		{in: "0.0.0.0", err: "is the unspecified address"},
		{in: "fe80::1", err: "as in fe80::1%eth0"},
		{in: "fe80::1%eth0;id", err: "shell metacharacter"},
		{in: "fe80::1%waytoolongforaname", err: "is not an interface name"},
		{in: "224.0.0.1", err: "--allow-broadcast"},
		{in: "host.123", err: "all digits"},
	} {
		a, name, err := ParseHost(tt.in, Options{})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseHost(%q) = %v, %q, %v; want an error containing %q", tt.in, a, name, err, tt.err)
			}
			continue
		}
		if err != nil || (tt.addr != "" && a.String() != tt.addr) || name != tt.name {
			t.Errorf("ParseHost(%q) = %v, %q, %v; want %s %q", tt.in, a, name, err, tt.addr, tt.name)
		}
	}
}

// TestCheckZone is the one zone rule, which exec's argv check relies on.
func TestCheckZone(t *testing.T) {
	for z, ok := range map[string]bool{"eth0": true, "br-lan": true, "wlp2s0.5": true, "a_b": true, "123456789012345": true,
		"": false, "1234567890123456": false, "eth0;id": false, "eth 0": false, "-": true, "é": false, "$(id)": false} {
		if err := CheckZone(z); (err == nil) != ok {
			t.Errorf("CheckZone(%q) = %v, want ok %v", z, err, ok)
		}
	}
}
