package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

func TestParseHosts(t *testing.T) {
	in := `# simulated LAN
198.18.4.7  350ms 1   # a phone
198.18.4.9

2001:db8:4::2 1s 0 2
`
	got, err := parseHosts(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr]testnet.Behavior{
		netip.MustParseAddr("198.18.4.7"):    {Delay: 350 * time.Millisecond, DropFirst: 1},
		netip.MustParseAddr("198.18.4.9"):    {},
		netip.MustParseAddr("2001:db8:4::2"): {Delay: time.Second, Duplicate: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for a, b := range want {
		if got[a] != b {
			t.Errorf("%s: got %+v, want %+v", a, got[a], b)
		}
	}
}

func TestParseHostsErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"# only a comment\n",
		"198.18.4.300\n",
		"198.18.4.7 fast\n",
		"198.18.4.7 -1s\n",
		"198.18.4.7 1s x\n",
		"198.18.4.7 1s -1\n",
		"198.18.4.7 1s 1 1 1\n",
		"198.18.4.7\n198.18.4.7\n",
	} {
		if _, err := parseHosts(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb strings.Builder
	if code := run([]string{"-netns", "x"}, &out, &errb); code != 2 {
		t.Errorf("missing -hosts: exit %d, want 2", code)
	}
	if code := run([]string{"-netns", "x", "-hosts", "/nonexistent/hosts"}, &out, &errb); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}
