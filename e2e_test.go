package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"netscanner/internal/cli"
	"netscanner/internal/testnet"
)

// TestE2E builds the real binary once and runs it in test networks as each
// kind of user, checking that the method the selector picks works and that
// the user is told why.
func TestE2E(t *testing.T) {
	testnet.Require(t)
	bin := buildBinary(t)

	t.Run("root forced raw", func(t *testing.T) {
		n := testnet.NewRouted(t)
		res := runPing(t, n, testnet.Root, bin, "--method", "raw")
		res.check(t, n, "raw")
	})

	t.Run("confined with ping sockets picks dgram", func(t *testing.T) {
		n := testnet.NewRouted(t)
		n.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
		res := runPing(t, n, testnet.Confined, bin)
		res.check(t, n, "dgram")
		if strings.Contains(res.stderr, "hint:") {
			t.Errorf("dgram is the best method, yet a hint was printed:\n%s", res.stderr)
		}
	})

	t.Run("nobody without ping sockets picks exec", func(t *testing.T) {
		if _, err := os.Stat("/bin/ping"); err != nil {
			t.Fatal("this test needs iputils ping at /bin/ping")
		}
		n := testnet.NewRouted(t)
		n.Scanner.Sysctl("net.ipv4.ping_group_range", "1 0")
		res := runPing(t, n, testnet.Nobody, bin)
		res.check(t, n, "exec")
		res.wantHint(t)
	})

	t.Run("confined without ping sockets falls to tcp", func(t *testing.T) {
		n := testnet.NewRouted(t)
		n.Scanner.Sysctl("net.ipv4.ping_group_range", "1 0")
		res := runPing(t, n, testnet.Confined, bin)
		res.check(t, n, "tcp")
		res.wantHint(t)

		var out, errb bytes.Buffer
		cmd := n.Scanner.Command(testnet.Confined, bin, "doctor")
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("doctor: %v\n%s%s", err, out.String(), errb.String())
		}
		doc := out.String()
		t.Logf("doctor as confined:\n%s", doc)
		for _, w := range []string{
			"using: tcp",
			"net.ipv4.ping_group_range is '1 0' and your group is 65534",
			"sudo sysctl -w net.ipv4.ping_group_range=",
			"raw sockets need root or CAP_NET_RAW",
			"capability bounding set lacks CAP_NET_RAW",
		} {
			if !strings.Contains(doc, w) {
				t.Errorf("doctor output lacks %q:\n%s", w, doc)
			}
		}
	})
}

// buildBinary builds the app, netscanner, as `make build` does, into a
// directory every user may enter, so that nobody can run it.
func buildBinary(t *testing.T) string {
	return buildInto(t, "netscanner", nil, "-tags", "migrated_fynedo")
}

// buildInto runs `go build args... -o DIR/name .` with env added, where
// DIR is a fresh directory every user may enter, and returns the binary.
func buildInto(t *testing.T, name string, env []string, args ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the binary: %v", err)
	}
	dir, err := os.MkdirTemp("", "netscanner-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	cmd := exec.Command(goTool, append(append([]string{"build"}, args...), "-o", bin, ".")...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// pingResult is one run of `netscanner ping --json`.
type pingResult struct {
	code   int
	lines  map[netip.Addr][]pingJSON
	stdout string
	stderr string
}

// runPing pings every live host, one dead, one unreachable and one live
// IPv6 host, once each, as u inside n's scanner namespace.
func runPing(t *testing.T, n *testnet.Routed, u testnet.User, bin string, flags ...string) pingResult {
	t.Helper()
	args := append([]string{bin, "ping", "--json", "--count", "1", "--timeout", "1s"}, flags...)
	for _, a := range append(append([]netip.Addr{}, n.Live...), n.Dead[0], n.Unreachable[0], n.LiveV6[0]) {
		args = append(args, a.String())
	}
	var out, errb bytes.Buffer
	cmd := n.Scanner.Command(u, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := pingResult{lines: make(map[netip.Addr][]pingJSON), stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l pingJSON
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v\nstderr:\n%s", sc.Text(), err, res.stderr)
		}
		a, err := netip.ParseAddr(l.IP)
		if err != nil {
			t.Fatalf("line %q: bad ip: %v", sc.Text(), err)
		}
		res.lines[a] = append(res.lines[a], l)
	}
	t.Logf("as %s: exit %d\nstdout:\n%s\nstderr:\n%s", u, res.code, res.stdout, res.stderr)
	return res
}

// check verifies one line per address: replies by method from every live
// host, a timeout from the dead one, and an unreachable error from the
// unreachable one.
func (r pingResult) check(t *testing.T, n *testnet.Routed, method string) {
	t.Helper()
	if r.code != cli.ExitOK {
		t.Errorf("exit %d, want %d (some hosts answer)", r.code, cli.ExitOK)
	}
	if !strings.Contains(r.stderr, "netscanner ping: method "+method+" (") {
		t.Errorf("stderr does not announce method %s:\n%s", method, r.stderr)
	}
	one := func(a netip.Addr) (pingJSON, bool) {
		ls := r.lines[a]
		if len(ls) != 1 {
			t.Errorf("%s: %d lines, want 1", a, len(ls))
			return pingJSON{}, false
		}
		if ls[0].Seq != 1 || ls[0].Method != method {
			t.Errorf("%s: seq %d method %q, want seq 1 by %s", a, ls[0].Seq, ls[0].Method, method)
		}
		return ls[0], true
	}
	for _, a := range append(append([]netip.Addr{}, n.Live...), n.LiveV6[0]) {
		if l, ok := one(a); ok && (l.Error != nil || l.RTTms == nil || *l.RTTms < 0) {
			t.Errorf("live %s: %+v, want a reply with an rtt", a, describe(l))
		}
	}
	if l, ok := one(n.Dead[0]); ok && (l.Error == nil || *l.Error != "timeout" || l.RTTms != nil) {
		t.Errorf("dead %s: %s, want error \"timeout\"", n.Dead[0], describe(l))
	}
	if l, ok := one(n.Unreachable[0]); ok && (l.Error == nil || !strings.Contains(strings.ToLower(*l.Error), "unreachable")) {
		t.Errorf("unreachable %s: %s, want an unreachable error", n.Unreachable[0], describe(l))
	}
	if len(r.lines) != len(n.Live)+3 {
		t.Errorf("lines for %d addresses, want %d", len(r.lines), len(n.Live)+3)
	}
}

// wantHint checks that a run that fell below dgram says how to enable it.
func (r pingResult) wantHint(t *testing.T) {
	t.Helper()
	if !strings.Contains(r.stderr, "hint: ICMP datagram sockets are off: net.ipv4.ping_group_range is '1 0'") ||
		!strings.Contains(r.stderr, "sudo sysctl -w net.ipv4.ping_group_range=") {
		t.Errorf("no dgram hint on stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "hint") {
		t.Errorf("the hint leaked into --json stdout:\n%s", r.stdout)
	}
}

// pingJSON is one line of `netscanner ping --json`, as a script reads it.
type pingJSON struct {
	IP     string   `json:"ip"`
	Seq    int      `json:"seq"`
	RTTms  *float64 `json:"rtt_ms"`
	TTL    *int     `json:"ttl"`
	Method string   `json:"method"`
	Error  *string  `json:"error"`
}

func describe(l pingJSON) string {
	b, _ := json.Marshal(l)
	return string(b)
}
