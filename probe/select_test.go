package probe

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"netscanner/internal/testnet"
)

// TestGather checks the facts read on this machine against what the
// process knows of itself. The test suite runs as root here.
func TestGather(t *testing.T) {
	testnet.Require(t)
	f := Gather()
	if f.UID != os.Getuid() || f.EUID != os.Geteuid() || f.EGID != os.Getegid() {
		t.Errorf("ids = %d/%d/%d, want %d/%d/%d", f.UID, f.EUID, f.EGID, os.Getuid(), os.Geteuid(), os.Getegid())
	}
	if f.EUID != 0 {
		t.Errorf("EUID = %d, want 0 (tests run as root)", f.EUID)
	}
	if !f.CapNetRaw || !f.CapNetRawBounding {
		t.Errorf("root: CapNetRaw = %v, CapNetRawBounding = %v; want both", f.CapNetRaw, f.CapNetRawBounding)
	}
	if f.RangeErr != nil {
		t.Errorf("RangeErr = %v", f.RangeErr)
	}
	b, err := os.ReadFile(pingGroupRangePath)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := parsePingGroupRange(string(b)); f.PingGroupRange != want {
		t.Errorf("PingGroupRange = %v, want %v", f.PingGroupRange, want)
	}
	if f.Executable == "" {
		t.Error("Executable is empty")
	}
	if f.PingPath == "" {
		t.Fatal("no ping binary found; install iputils-ping")
	}
	fi, err := os.Stat(f.PingPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSetuid != 0 != f.PingSetuid {
		t.Errorf("PingSetuid = %v but mode is %v", f.PingSetuid, fi.Mode())
	}
	// Debian ships ping with file capabilities rather than setuid; either
	// way one of the two must be there for a desktop user to ping.
	if !f.PingSetuid && !f.PingCapRaw {
		t.Errorf("%s: neither setuid nor cap_net_raw found", f.PingPath)
	}
}

// TestGatherReadsTheNamespaceRange checks that ping_group_range is read
// from the network namespace the caller is in, not the machine's.
func TestGatherReadsTheNamespaceRange(t *testing.T) {
	ns := testnet.NewNS(t, "facts")
	ns.Sysctl("net.ipv4.ping_group_range", "7 4242")
	var f Facts
	ns.Do(func() { f = Gather() })
	if f.PingGroupRange != [2]int64{7, 4242} {
		t.Errorf("PingGroupRange = %v, want [7 4242]", f.PingGroupRange)
	}
}

func TestOpenUnknownMethod(t *testing.T) {
	for _, m := range []Method{"carrier-pigeon", "RAW", " dgram"} {
		c, r, err := Open(context.Background(), Options{Method: m})
		if err == nil || c != nil || r != nil {
			t.Errorf("Open(%q) = %v, %v, %v; want only an error", m, c, r, err)
			continue
		}
		if !strings.Contains(err.Error(), string(m)) {
			t.Errorf("Open(%q): error %q does not name the method", m, err)
		}
	}
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _, err := Open(ctx, Options{})
	if c != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context = %v, %v; want context.Canceled", c, err)
	}
}

// TestOpenAuto checks the order of preference inside a fresh namespace,
// where root may use everything: with ping sockets allowed Auto takes
// dgram, the least privilege; with them off it falls to raw and the
// report explains why dgram failed.
func TestOpenAuto(t *testing.T) {
	ns := testnet.NewNS(t, "auto")
	for _, tt := range []struct {
		rng    string
		chosen Method
	}{
		{"0 2147483647", Dgram},
		{"1 0", Raw},
	} {
		ns.Sysctl("net.ipv4.ping_group_range", tt.rng)
		var (
			c   Conn
			r   *Report
			err error
		)
		ns.Do(func() { c, r, err = Open(context.Background(), Options{}) })
		if err != nil {
			t.Fatalf("range %s: Open: %v", tt.rng, err)
		}
		if c.Method() != tt.chosen || r.Chosen != tt.chosen || r.Forced {
			t.Errorf("range %s: conn %s, report %s (forced %v); want %s", tt.rng, c.Method(), r.Chosen, r.Forced, tt.chosen)
		}
		c.Close()
		if len(r.Methods) != len(Methods()) {
			t.Fatalf("range %s: report has %d methods, want %d:\n%s", tt.rng, len(r.Methods), len(Methods()), r)
		}
		dg, _ := r.Status(Dgram)
		if tt.chosen == Raw {
			if dg.OK || !strings.Contains(dg.Reason, "'1 0'") || !strings.Contains(dg.Fix, "sysctl") {
				t.Errorf("dgram verdict does not explain the range: %+v", dg)
			}
		}
		ch, _ := r.Status(tt.chosen)
		if !ch.OK || !ch.IPv6 {
			t.Errorf("range %s: chosen %s verdict %+v; want OK and IPv6 (::1 is up)", tt.rng, tt.chosen, ch)
		}
		if tcp, _ := r.Status(TCP); !strings.HasPrefix(tcp.Reason, "not tried") {
			t.Errorf("tcp was not needed, want it marked not tried: %+v", tcp)
		}
	}
}

// TestOpenForced checks that a forced method that cannot work returns a
// *MethodError with the verdict's reason and fix.
func TestOpenForced(t *testing.T) {
	ns := testnet.NewNS(t, "forced")
	ns.Sysctl("net.ipv4.ping_group_range", "1 0")
	var (
		c   Conn
		r   *Report
		err error
	)
	ns.Do(func() { c, r, err = Open(context.Background(), Options{Method: Dgram}) })
	if c != nil {
		c.Close()
		t.Fatal("dgram opened although ping_group_range is '1 0'")
	}
	var me *MethodError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want *MethodError", err, err)
	}
	if me.Method != Dgram || !strings.Contains(me.Reason, "net.ipv4.ping_group_range is '1 0'") || !strings.Contains(me.Fix, "sysctl") {
		t.Errorf("MethodError = %+v", me)
	}
	if r == nil || !r.Forced || r.Chosen != "" || len(r.Methods) != 1 {
		t.Errorf("report = %+v", r)
	}

	ns.Do(func() { c, r, err = Open(context.Background(), Options{Method: Raw}) })
	if err != nil {
		t.Fatalf("forced raw as root: %v", err)
	}
	defer c.Close()
	if c.Method() != Raw || r.Chosen != Raw || !r.Forced {
		t.Errorf("forced raw: conn %s, report %+v", c.Method(), r)
	}
}

// TestDiagnose checks that Diagnose gives a real verdict for every method.
func TestDiagnose(t *testing.T) {
	ns := testnet.NewNS(t, "diag")
	ns.Sysctl("net.ipv4.ping_group_range", "1 0")
	var r *Report
	ns.Do(func() { r = Diagnose(context.Background(), Options{}) })
	want := map[Method]bool{Dgram: false, Raw: true, Exec: true, TCP: true}
	for _, m := range Methods() {
		st, ok := r.Status(m)
		if !ok {
			t.Errorf("%s missing from the report", m)
			continue
		}
		if st.OK != want[m] || strings.HasPrefix(st.Reason, "not tried") {
			t.Errorf("%s: %+v; want OK=%v and a tried verdict", m, st, want[m])
		}
	}
	if r.Chosen != Raw {
		t.Errorf("Chosen = %q, want raw\n%s", r.Chosen, r)
	}
	s := r.String()
	for _, w := range []string{"using: raw", "net.ipv4.ping_group_range", "enable with: sudo sysctl"} {
		if !strings.Contains(s, w) {
			t.Errorf("report text lacks %q:\n%s", w, s)
		}
	}
}
