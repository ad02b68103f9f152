package neigh

import (
	"net/netip"
	"strings"
	"testing"
)

const arpHeader = "IP address       HW type     Flags       HW address            Mask     Device\n"

func TestParseProcARP(t *testing.T) {
	in := arpHeader +
		"198.18.5.2       0x1         0x2         b8:27:eb:12:34:56     *        veth0\n" +
		"198.18.5.60      0x1         0x6         dc:a6:32:00:00:01     *        veth0\n" +
		"198.18.5.50      0x1         0x0         00:00:00:00:00:00     *        veth0\n" + // incomplete
		"198.18.5.51      0x1         0x6         00:00:00:00:00:00     *        veth0\n" + // zero MAC
		"198.18.5.70      0x1         0xc         02:00:00:00:00:70     *        veth0\n" + // published (proxy)
		"198.18.6.1       0x18        0x2         80:00:00:48:fe:80:00:00:00:00:00:00:f4:52:14:03:00:7b:cb:a1     *        ib0\n" +
		"198.18.6.2       0x18        0x2         not-an-address        *        fw0\n" + // skipped, not an error
		"198.18.5.2       0x1         0x2         02:00:00:00:00:02     *        wlan0\n" + // same address again: first wins
		"\n"
	got, err := parseProcARP([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Entry{
		"198.18.5.2":  {Interface: "veth0", State: Resolved},
		"198.18.5.60": {Interface: "veth0", State: Permanent},
		"198.18.6.1":  {Interface: "ib0", State: Resolved},
	}
	macs := map[string]string{
		"198.18.5.2":  "b8:27:eb:12:34:56",
		"198.18.5.60": "dc:a6:32:00:00:01",
		"198.18.6.1":  "80:00:00:48:fe:80:00:00:00:00:00:00:f4:52:14:03:00:7b:cb:a1",
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d: %v", len(got), len(want), got)
	}
	for a, w := range want {
		g, ok := got[netip.MustParseAddr(a)]
		if !ok || g.Interface != w.Interface || g.State != w.State || g.MAC.String() != macs[a] {
			t.Errorf("%s: got %+v, want %+v with MAC %s", a, g, w, macs[a])
		}
	}

	// A table with only its header is empty, not an error.
	if got, err := parseProcARP([]byte(arpHeader)); err != nil || len(got) != 0 {
		t.Errorf("header only: %v, %v", got, err)
	}
}

func TestParseProcARPErrors(t *testing.T) {
	for what, in := range map[string]string{
		"empty":         "",
		"no header":     "198.18.5.2 0x1 0x2 b8:27:eb:12:34:56 * veth0\n",
		"short line":    arpHeader + "198.18.5.2 0x1 0x2 b8:27:eb:12:34:56 *\n",
		"long line":     arpHeader + "198.18.5.2 0x1 0x2 b8:27:eb:12:34:56 * veth0 extra\n",
		"bad address":   arpHeader + "198.18.5.256 0x1 0x2 b8:27:eb:12:34:56 * veth0\n",
		"IPv6 address":  arpHeader + "2001:db8::1 0x1 0x2 b8:27:eb:12:34:56 * veth0\n",
		"decimal flags": arpHeader + "198.18.5.2 0x1 2 b8:27:eb:12:34:56 * veth0\n",
		"bad flags":     arpHeader + "198.18.5.2 0x1 0xZ b8:27:eb:12:34:56 * veth0\n",
	} {
		if got, err := parseProcARP([]byte(in)); err == nil {
			t.Errorf("%s: no error, got %v", what, got)
		} else if !strings.HasPrefix(err.Error(), "neigh: /proc/net/arp") {
			t.Errorf("%s: unclear error %q", what, err)
		}
	}
}

func FuzzParseProcARP(f *testing.F) {
	f.Add([]byte(arpHeader + "198.18.5.2       0x1         0x2         b8:27:eb:12:34:56     *        veth0\n"))
	f.Add([]byte(arpHeader + "198.18.5.50 0x1 0x0 00:00:00:00:00:00 * veth0\n198.18.5.60 0x1 0x6 dc:a6:32:00:00:01 * eth1\n"))
	f.Add([]byte(arpHeader))
	f.Add([]byte("IP address\n\x00 0x 0x \xff * x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseProcARP(b)
		if err != nil {
			if got != nil {
				t.Fatal("entries returned with an error")
			}
			return
		}
		for a, e := range got {
			if !a.Is4() || a.Zone() != "" {
				t.Fatalf("address %s", a)
			}
			if len(e.MAC) == 0 || zeroMAC(e.MAC) || e.Interface == "" {
				t.Fatalf("%s: entry %+v", a, e)
			}
			if e.State != Resolved && e.State != Permanent {
				t.Fatalf("%s: state %v", a, e.State)
			}
		}
	})
}
