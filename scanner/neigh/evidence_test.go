package neigh

import (
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"netscanner/internal/testnet"
)

// TestConfirmedRules checks the evidence rule on made-up snapshots.
func TestConfirmedRules(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	a := netip.MustParseAddr("198.18.100.5")
	obs := func(nud uint16, m string, from, to time.Duration) Observation {
		o := Observation{Addr: a, NUD: nud, Index: 2}
		if m != "" {
			o.MAC = mac(m)
		}
		if from != 0 || to != 0 {
			o.ConfirmedFrom, o.ConfirmedTo = t0.Add(from), t0.Add(to)
		}
		return o
	}
	snap := func(proc bool, o ...Observation) Snapshot {
		s := Snapshot{Taken: t0, Entries: map[netip.Addr]Observation{}, FromProc: proc}
		for _, x := range o {
			s.Entries[x.Addr] = x
		}
		return s
	}
	const m1, m2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
	a6 := netip.MustParseAddr("2001:db8:100::5")
	obs6 := func(nud uint16, m string, from, to time.Duration) Observation {
		o := obs(nud, m, from, to)
		o.Addr = a6
		return o
	}
	noV6 := func(s Snapshot) Snapshot { s.NoIPv6 = true; return s }
	reach := uint16(netlink.NUD_REACHABLE)
	for _, tt := range []struct {
		name        string
		before, now Snapshot
		want        bool
	}{
		{"new and reachable", snap(false), snap(false, obs(reach, m1, 10*tick, 12*tick)), true},
		{"new and stale (the host asked for us)", snap(false), snap(false, obs(netlink.NUD_STALE, m1, -60*time.Second, -59*time.Second)), true},
		{"new, in probe", snap(false), snap(false, obs(netlink.NUD_PROBE, m1, 0, tick)), true},
		{"was incomplete", snap(false, obs(netlink.NUD_INCOMPLETE, "", -time.Minute, -time.Minute)), snap(false, obs(reach, m1, tick, 2*tick)), true},
		{"was failed", snap(false, obs(netlink.NUD_FAILED, m1, -time.Minute, -time.Minute)), snap(false, obs(reach, m1, tick, 2*tick)), true},
		{"still incomplete", snap(false), snap(false, obs(netlink.NUD_INCOMPLETE, "", 0, tick)), false},
		{"failed", snap(false), snap(false, obs(netlink.NUD_FAILED, m1, 0, tick)), false},
		{"permanent", snap(false), snap(false, obs(netlink.NUD_PERMANENT, m1, 0, tick)), false},
		{"noarp", snap(false), snap(false, obs(netlink.NUD_NOARP, m1, 0, tick)), false},
		{"zero MAC", snap(false), snap(false, obs(reach, "00:00:00:00:00:00", 0, tick)), false},
		{"absent now", snap(false, obs(reach, m1, -time.Second, -time.Second+tick)), snap(false), false},
		// An earlier scan's entry, used by this one: DELAY, not confirmed.
		{"old entry, now delay", snap(false, obs(netlink.NUD_STALE, m1, -20*time.Second, -20*time.Second+2*tick)),
			snap(false, obs(netlink.NUD_DELAY, m1, -20*time.Second-tick, -20*time.Second+3*tick)), false},
		{"old entry, still reachable", snap(false, obs(reach, m1, -5*time.Second, -5*time.Second+tick)),
			snap(false, obs(reach, m1, -5*time.Second-tick, -5*time.Second+2*tick)), false},
		{"old entry, confirmed again", snap(false, obs(reach, m1, -5*time.Second, -5*time.Second+tick)),
			snap(false, obs(reach, m1, 300*time.Millisecond, 300*time.Millisecond+tick)), true},
		// Intervals that touch do not prove a new confirmation.
		{"old entry, intervals touch", snap(false, obs(reach, m1, -tick, tick)), snap(false, obs(reach, m1, tick, 3*tick)), false},
		{"old entry, another MAC", snap(false, obs(reach, m1, -5*time.Second, -5*time.Second+tick)),
			snap(false, obs(netlink.NUD_STALE, m2, -time.Minute, -time.Minute)), true},
		{"proc, new", snap(true), snap(true, obs(reach, m1, 0, 0)), true},
		{"no IPv6 before, confirmed after it", noV6(snap(false)), snap(false, obs6(reach, m1, tick, 2*tick)), true},
		{"no IPv6 before, confirmed earlier", noV6(snap(false)), snap(false, obs6(reach, m1, -5*time.Second, -5*time.Second+tick)), false},
		{"proc, old", snap(true, obs(reach, m1, 0, 0)), snap(true, obs(reach, m1, 0, 0)), false},
	} {
		addr := a
		if _, ok := tt.now.Entries[a6]; ok {
			addr = a6
		}
		if _, got := Confirmed(tt.before, tt.now, addr); got != tt.want {
			t.Errorf("%s: Confirmed = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// evidenceLAN is a bridged LAN with a host that answers only ARP and
// neighbour discovery, one that ignores pings, and absent addresses.
func evidenceLAN(t *testing.T) (*testnet.Bridged, *testnet.BridgedHost, *testnet.BridgedHost) {
	t.Helper()
	b := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "iot", MAC: "24:0a:c4:00:00:22", Addr4: "198.18.100.22", Addr6: "2001:db8:100::22",
			Silence: testnet.OnlyResolves},
		testnet.BridgedSpec{Label: "win", MAC: "00:15:5d:00:00:21", Addr4: "198.18.100.21", Silence: testnet.IgnoresPing},
	)
	return b, b.Host("iot"), b.Host("win")
}

var absent4 = netip.MustParseAddr("198.18.100.99")

// TestEvidenceLAN follows entries through two scans' worth of pings: the
// silent hosts count after the first, nothing counts after a repeat
// that only used the entries, the ARP-only host counts again once
// Reprobe has made the kernel check, and an unplugged host never does.
func TestEvidenceLAN(t *testing.T) {
	b, iot, win := evidenceLAN(t)
	ping := func(addrs ...netip.Addr) {
		for _, a := range addrs {
			_ = b.Scanner.Command(testnet.Root, "ping", "-n", "-q", "-c", "1", "-W", "0.3", a.String()).Run()
		}
	}
	var r *Reader
	var err error
	b.Scanner.Do(func() { r, err = Open() })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Netlink() {
		t.Fatal("root reads /proc, not netlink")
	}
	snap := func() Snapshot {
		t.Helper()
		s, err := r.Snapshot(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	silent := []netip.Addr{iot.Addr4, iot.Addr6, win.Addr4}
	check := func(round string, before, now Snapshot, want map[netip.Addr]bool) {
		t.Helper()
		for a, w := range want {
			o, ok := Confirmed(before, now, a)
			if ok != w {
				t.Errorf("%s: %s confirmed %v, want %v (entry %+v)", round, a, ok, w, now.Entries[a])
			}
			if ok && o.MAC.String() != map[bool]string{true: iot.HW.String(), false: win.HW.String()}[a != win.Addr4] {
				t.Errorf("%s: %s has MAC %s", round, a, o.MAC)
			}
		}
	}

	// First scan: nothing in the table before.
	s0 := snap()
	ping(append(silent, absent4)...)
	s1 := snap()
	check("first scan", s0, s1, map[netip.Addr]bool{iot.Addr4: true, iot.Addr6: true, win.Addr4: true, absent4: false})
	if e := s1.Entries[absent4]; e.Resolved() {
		t.Errorf("absent address resolved: %+v", e)
	}

	// A scan right after finds REACHABLE entries; pings only use them.
	time.Sleep(30 * time.Millisecond)
	s2 := snap()
	ping(silent...)
	s3 := snap()
	check("repeat", s2, s3, map[netip.Addr]bool{iot.Addr4: false, iot.Addr6: false, win.Addr4: false})

	// The ARP-only host is checked again at the kernel's hands; the
	// unplugged one is not there to answer.
	win.Unplug()
	s4 := snap()
	var list []Observation
	for _, a := range silent {
		list = append(list, s4.Entries[a])
	}
	n, err := r.Reprobe(t.Context(), list)
	if err != nil || n != 3 {
		t.Fatalf("Reprobe: %d, %v", n, err)
	}
	time.Sleep(100 * time.Millisecond)
	s5 := snap()
	check("reprobed", s4, s5, map[netip.Addr]bool{iot.Addr4: true, iot.Addr6: true, win.Addr4: false})
	if e := s5.Entries[win.Addr4]; e.NUD != netlink.NUD_PROBE {
		t.Errorf("unplugged host's entry: %+v, want PROBE", e)
	}
	// Still gone when the kernel gives up on it.
	var p Params
	var perr error
	b.Scanner.Do(func() { p, perr = ParamsOf(b.ScannerIf, false) })
	if perr != nil || p != DefaultParams {
		t.Errorf("ParamsOf(%s) = %+v, %v; want the defaults", b.ScannerIf, p, perr)
	}
	time.Sleep(time.Duration(p.UcastSolicit)*p.Retrans + 200*time.Millisecond)
	s6 := snap()
	if _, ok := Confirmed(s4, s6, win.Addr4); ok || s6.Entries[win.Addr4].Resolved() {
		t.Errorf("unplugged host after the probes: %+v", s6.Entries[win.Addr4])
	}

	// The table of the namespace the Reader was opened in, from here.
	if _, ok := snap().Entries[iot.Addr4]; !ok {
		t.Error("the Reader does not read its own namespace")
	}
}

// TestEvidenceUnprivileged runs TestEvidenceHelper as a confined user
// (no capabilities at all): the table reads, Reprobe is refused.
func TestEvidenceUnprivileged(t *testing.T) {
	b, iot, _ := evidenceLAN(t)
	_ = b.Scanner.Command(testnet.Root, "ping", "-n", "-q", "-c", "1", "-W", "0.3", iot.Addr4.String()).Run()
	bin := worldExecutableCopy(t)
	cmd := b.Scanner.Command(testnet.Confined, bin, "-test.run=^TestEvidenceHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "NEIGH_HELPER_ADDR="+iot.Addr4.String(), "NEIGH_HELPER_MAC="+iot.HW.String())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestEvidenceHelper") {
		t.Fatalf("helper as a confined user: %v\n%s", err, out)
	}
}

// TestEvidenceHelper is the part of TestEvidenceUnprivileged that runs
// unprivileged. Run directly, it has nothing to do.
func TestEvidenceHelper(t *testing.T) {
	addr := os.Getenv("NEIGH_HELPER_ADDR")
	if addr == "" {
		t.Skip("run by TestEvidenceUnprivileged")
	}
	if os.Geteuid() == 0 {
		t.Fatal("the helper runs as root")
	}
	r, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	o := s.Entries[netip.MustParseAddr(addr)]
	if !r.Netlink() || !o.Resolved() || o.MAC.String() != os.Getenv("NEIGH_HELPER_MAC") || o.ConfirmedTo.IsZero() {
		t.Fatalf("as uid %d: netlink %v, entry %+v", os.Geteuid(), r.Netlink(), o)
	}
	if _, err := r.Reprobe(t.Context(), []Observation{o}); !errors.Is(err, ErrNotPermitted) || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Reprobe unprivileged: %v, want ErrNotPermitted", err)
	}
}

// TestOpenFallback: netlink refused leaves /proc/net/arp; both refused
// is an *UnavailableError.
func TestOpenFallback(t *testing.T) {
	refused := func() (*netlink.Handle, error) { return nil, fs.ErrPermission }
	arp := func() ([]byte, error) {
		return []byte("IP address       HW type     Flags       HW address            Mask     Device\n" +
			"198.18.5.2       0x1         0x2         b8:27:eb:12:34:56     *        eth0\n"), nil
	}
	r, err := open(source{dial: refused, arp: arp})
	if err != nil || r.Netlink() {
		t.Fatalf("open with /proc only: %v", err)
	}
	s, err := r.Snapshot(t.Context())
	if err != nil || !s.FromProc || !s.Entries[netip.MustParseAddr("198.18.5.2")].Resolved() {
		t.Errorf("proc snapshot: %+v, %v", s, err)
	}
	if _, err := r.Reprobe(t.Context(), nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Reprobe through /proc: %v", err)
	}
	_, err = open(source{dial: refused, arp: func() ([]byte, error) { return nil, fs.ErrPermission }})
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("both refused: %v", err)
	}
}

func TestParamsOfRefuses(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../all", "a/b"} {
		if _, err := ParamsOf(name, false); err == nil {
			t.Errorf("ParamsOf(%q) accepted", name)
		}
	}
	if p, err := ParamsOf("no-such-if0", true); err == nil || p != DefaultParams {
		t.Errorf("missing interface: %+v, %v", p, err)
	}
}

// worldExecutableCopy copies the running test binary where anyone can
// execute it.
func worldExecutableCopy(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "neigh-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "neigh.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
