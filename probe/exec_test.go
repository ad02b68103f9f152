//go:build linux

package probe

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

func TestFindPing(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runnable := filepath.Join(dir, "runnable")
	if err := os.WriteFile(runnable, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(runnable, link); err != nil {
		t.Fatal(err)
	}

	if _, err := FindPing(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := FindPing(dir); err == nil {
		t.Error("a directory was accepted")
	}
	if _, err := FindPing(plain); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("non-executable file: err = %v, want fs.ErrPermission", err)
	}
	if got, err := FindPing(runnable); err != nil || got != runnable {
		t.Errorf("FindPing(%s) = %q, %v", runnable, got, err)
	}
	if got, err := FindPing(link); err != nil || got != link {
		t.Errorf("FindPing(%s) = %q, %v; a symlink to an executable (busybox style) must do", link, got, err)
	}

	// The default search finds a real ping on this machine.
	got, err := FindPing("")
	if err != nil {
		t.Fatalf("FindPing(\"\"): %v", err)
	}
	want := ""
	for _, p := range pingCandidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			want = p
			break
		}
	}
	if want == "" {
		want, _ = exec.LookPath("ping")
	}
	if got != want {
		t.Errorf("FindPing(\"\") = %q, want %q", got, want)
	}
}

// TestPingArgv pins the exact command line: nothing in it may come from
// anything but a validated address and constants.
func TestPingArgv(t *testing.T) {
	tests := []struct {
		dst     string
		timeout time.Duration
		want    []string
	}{
		{"198.18.1.1", time.Second, []string{"/bin/ping", "-n", "-c", "1", "-W", "1", "198.18.1.1"}},
		{"2001:db8::1", 1500 * time.Millisecond, []string{"/bin/ping", "-n", "-c", "1", "-W", "2", "2001:db8::1"}},
		{"fe80::1%eth0", time.Millisecond, []string{"/bin/ping", "-n", "-c", "1", "-W", "1", "fe80::1%eth0"}},
	}
	for _, tt := range tests {
		got := pingArgv("/bin/ping", styleNumeric, netip.MustParseAddr(tt.dst), tt.timeout)
		if !slices.Equal(got, tt.want) {
			t.Errorf("pingArgv(%s, %v) = %q, want %q", tt.dst, tt.timeout, got, tt.want)
		}
	}
	// toybox has no -n.
	got := pingArgv("/bin/toybox", stylePlain, netip.MustParseAddr("198.18.1.1"), time.Second)
	if want := []string{"/bin/toybox", "-c", "1", "-W", "1", "198.18.1.1"}; !slices.Equal(got, want) {
		t.Errorf("plain style: %q, want %q", got, want)
	}
}

func TestCheckExecTarget(t *testing.T) {
	for _, s := range []string{"198.18.1.1", "2001:db8::1", "fe80::1%eth0", "fe80::1%wlan0.100", "fe80::1%br-lan_2"} {
		if err := checkExecTarget(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s rejected: %v", s, err)
		}
	}
	// netip accepts any zone text; none of these may reach an argv.
	for _, s := range []string{"fe80::1%eth0;reboot", "fe80::1%$(id)", "fe80::1%`id`", "fe80::1% -f",
		"fe80::1%a|b", "fe80::1%eth0\nx", "fe80::1%averyveryverylongname"} {
		a, err := netip.ParseAddr(s)
		if err != nil {
			t.Fatalf("netip no longer parses %q (%v): pick another example", s, err)
		}
		if err := checkExecTarget(a); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if err := checkExecTarget(netip.Addr{}); err == nil {
		t.Error("the zero Addr was accepted")
	}
}

// collect reads replies until every wanted key has one or wait passes,
// then keeps listening until wait for anything unwanted.
func collect(t *testing.T, c Conn, wait time.Duration) map[netip.Addr][]Reply {
	t.Helper()
	got := map[netip.Addr][]Reply{}
	deadline := time.After(wait)
	for {
		select {
		case r, ok := <-c.Replies():
			if !ok {
				return got
			}
			got[r.Addr] = append(got[r.Addr], r)
		case <-deadline:
			return got
		}
	}
}

// TestExecRouted pings the routed test network through the real ping
// binary, run inside the scanner's namespace.
func TestExecRouted(t *testing.T) {
	n := testnet.NewRouted(t)
	c, err := openExec(Options{Timeout: time.Second}, n.Scanner.Prefix(testnet.Root))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Method() != Exec {
		t.Errorf("Method() = %v", c.Method())
	}

	live, live6, dead, unr := n.Live[0], n.LiveV6[0], n.Dead[0], n.Unreachable[0]
	ctx := context.Background()
	for i, a := range []netip.Addr{live, live6, dead, unr} {
		if err := c.Send(ctx, a, uint16(100+i)); err != nil {
			t.Fatalf("Send %s: %v", a, err)
		}
	}
	// ping -W 1 gives up after a second; the slack covers a loaded machine.
	got := collect(t, c, 4*time.Second)

	for i, a := range []netip.Addr{live, live6} {
		rs := got[a]
		if len(rs) != 1 {
			t.Errorf("%s: got %d replies %+v, want 1", a, len(rs), rs)
			continue
		}
		r := rs[0]
		if r.Err != nil || r.Reason != "echo-reply" || r.From != a || r.Seq != uint16(100+i) ||
			r.Method != Exec || r.TTL != 64 || r.RTT <= 0 {
			t.Errorf("%s: reply %+v, want an echo reply from it with seq %d, TTL 64 and an RTT", a, r, 100+i)
		}
	}
	if rs := got[dead]; len(rs) != 0 {
		t.Errorf("dead %s answered: %+v", dead, rs)
	}
	rs := got[unr]
	if len(rs) != 1 {
		t.Fatalf("unreachable %s: got %+v, want one error", unr, rs)
	}
	var ie *ICMPError
	if r := rs[0]; !errors.Is(r.Err, ErrUnreachable) || !errors.As(r.Err, &ie) ||
		r.From != netip.MustParseAddr("198.18.0.2") || r.Seq != 103 || r.Reason != "" {
		t.Errorf("unreachable %s: reply %+v (err %v), want ErrUnreachable from the router", unr, r, r.Err)
	} else if ie.Type != 3 || ie.Code != 1 || ie.Text != "host unreachable" {
		t.Errorf("ICMP error %+v, want host unreachable (type 3 code 1)", ie)
	}

	// A zone full of shell syntax is refused before any process starts.
	if err := c.Send(ctx, netip.MustParseAddr("fe80::1%x;reboot"), 1); err == nil {
		t.Error("a zone with shell metacharacters was accepted")
	}
}

// TestExecNoRoute: a namespace without routes makes ping refuse at once,
// which Conn reports as an unreachable SendError.
func TestExecNoRoute(t *testing.T) {
	ns := testnet.NewNS(t, "noroute")
	c, err := openExec(Options{Timeout: time.Second}, ns.Prefix(testnet.Root))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst := netip.MustParseAddr("198.18.0.9")
	if err := c.Send(context.Background(), dst, 7); err != nil {
		t.Fatal(err)
	}
	rs := collect(t, c, 3*time.Second)[dst]
	var se *SendError
	if len(rs) != 1 || !errors.Is(rs[0].Err, ErrUnreachable) || !errors.As(rs[0].Err, &se) || rs[0].Seq != 7 {
		t.Fatalf("got %+v, want one SendError matching ErrUnreachable", rs)
	}
}

// children lists this process's child processes, from /proc.
func children() []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(self) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestExecConcurrency checks that no more ping processes run than
// Options.Concurrency allows, and that Send's wait for a slot obeys ctx.
func TestExecConcurrency(t *testing.T) {
	n := testnet.NewRouted(t)
	c, err := openExec(Options{Timeout: time.Second, Concurrency: 2}, n.Scanner.Prefix(testnet.Root))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := children(); len(got) != 0 {
		t.Fatalf("children before the test: %v", got)
	}

	// Watch the children while the Sends run.
	stop, most := make(chan struct{}), make(chan int)
	go func() {
		m := 0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				most <- m
				return
			case <-tick.C:
				m = max(m, len(children()))
			}
		}
	}()
	// Dead hosts keep each ping alive for its full second.
	for i, a := range n.Dead[:6] {
		if err := c.Send(context.Background(), a, uint16(i)); err != nil {
			t.Fatalf("Send %s: %v", a, err)
		}
	}
	// The pool is full again now: a Send must give up when its ctx does.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err = c.Send(ctx, n.Dead[6], 6)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send on a full pool with an expiring ctx: %v, want context.DeadlineExceeded", err)
	}
	c.Close()
	close(stop)
	if m := <-most; m != 2 {
		t.Errorf("at most %d ping processes ran at once, want exactly 2", m)
	}
}

// TestExecCloseKills checks that Close ends every ping at once and waits
// for it: no child survives.
func TestExecCloseKills(t *testing.T) {
	n := testnet.NewRouted(t)
	// ping -W 30 would wait half a minute for the dead hosts.
	c, err := openExec(Options{Timeout: 30 * time.Second}, n.Scanner.Prefix(testnet.Root))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range n.Dead[:3] {
		if err := c.Send(context.Background(), a, uint16(i)); err != nil {
			t.Fatal(err)
		}
	}
	var pids []int
	for range 200 {
		if pids = children(); len(pids) == 3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(pids) != 3 {
		t.Fatalf("want 3 ping children, have %v", pids)
	}
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Close took %v: it waited for ping instead of killing it", d)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("child %d still exists after Close (kill 0: %v)", pid, err)
		}
	}
	if _, ok := <-c.Replies(); ok {
		t.Error("Replies delivered after Close")
	}
	if err := c.Send(context.Background(), n.Dead[0], 9); err == nil {
		t.Error("Send after Close succeeded")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOpenExecProbe checks OpenExec's verdict on ping in the situations a
// user meets: root, a plain user with ping's file capability, a confined
// app whose bounding set forbids it, a copy of ping without privileges,
// and a namespace whose loopback is down.
func TestOpenExecProbe(t *testing.T) {
	ns := testnet.NewNS(t, "probe")
	for _, u := range []testnet.User{testnet.Root, testnet.Nobody} {
		c, err := openExec(Options{}, ns.Prefix(u))
		if err != nil {
			t.Errorf("as %v: %v", u, err)
			continue
		}
		c.Close()
	}

	_, err := openExec(Options{}, ns.Prefix(testnet.Confined))
	var me *MethodError
	if !errors.As(err, &me) || me.Method != Exec || !strings.Contains(err.Error(), "Operation not permitted") {
		t.Errorf("confined: err = %v, want a MethodError quoting setpriv's failure", err)
	}

	// A copy of ping loses its file capability; nobody cannot use it.
	dir, err := os.MkdirTemp("", "probe-ping")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	system, err := FindPing("")
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(dir, "ping")
	if out, err := exec.Command("cp", system, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.Chmod(cp, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = openExec(Options{PingPath: cp}, ns.Prefix(testnet.Nobody))
	if !errors.Is(err, ErrPingDenied) || !errors.As(err, &me) || !strings.Contains(me.Reason, "Operation not permitted") {
		t.Errorf("unprivileged copy: err = %v, want ErrPingDenied quoting ping", err)
	}

	// With loopback down, ping sends its request and gets no answer: that
	// proves nothing about its output, so exec is refused, saying why.
	ns.Run("ip", "link", "set", "lo", "down")
	_, err = openExec(Options{}, ns.Prefix(testnet.Root))
	if !errors.Is(err, ErrPingRejected) || !errors.As(err, &me) || !strings.Contains(me.Reason, "127.0.0.1 never answered") {
		t.Errorf("loopback down: err = %v, want ErrPingRejected saying that 127.0.0.1 never answered", err)
	}
}
