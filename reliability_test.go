package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"netscanner/internal/cli"
	"netscanner/internal/devices"
	"netscanner/internal/testnet"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// This file proves that Netscanner refuses bad input without sending a
// packet or starting a program, and that it does not lie, crash or flood
// under load. Every top-level test is named TestReliability* so that
// `make reliability` runs them all and prints their `reliability:` lines.

// helperArgsEnv names a JSON file holding the arguments that
// TestHelperRunCLI passes to run. Arguments the kernel cannot carry in an
// argv (NUL bytes, strings over 128 KiB) reach the CLI code this way.
const helperArgsEnv = "NETSCANNER_HELPER_ARGS"

// TestHelperRunCLI is not a test: it is the CLI, started by the tests
// below as a subprocess of this test binary. It skips unless asked.
func TestHelperRunCLI(t *testing.T) {
	path := os.Getenv(helperArgsEnv)
	if path == "" {
		t.Skip("runs only as a subprocess of the reliability tests")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	var args []string
	if err := json.Unmarshal(b, &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	os.Exit(cli.Run(context.Background(), args, os.Stdout, os.Stderr))
}

// quietNS is a namespace in which any packet the CLI sends is counted and
// goes nowhere: 198.18.0.0/15 and 2001:db8::/32 are routed out of a veth
// link into a second namespace that has no address and drops everything.
// Neither end has a link-local address and the IPv4 gateway's neighbour
// entry is fixed, so the kernel sends nothing on the link by itself: its
// transmit counter moves only for what the CLI sends.
func quietNS(t *testing.T) *testnet.NS {
	ns, sink := testnet.NewNS(t, "quiet"), testnet.NewNS(t, "sink")
	ns.Run("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", sink.Name)
	ns.Run("ip", "link", "set", "v0", "addrgenmode", "none")
	sink.Run("ip", "link", "set", "v1", "addrgenmode", "none")
	ns.Run("ip", "addr", "add", "198.18.0.1/30", "dev", "v0")
	ns.Run("ip", "-6", "addr", "add", "2001:db8::1/128", "dev", "lo")
	sink.Run("ip", "link", "set", "v1", "up")
	ns.Run("ip", "link", "set", "v0", "up")
	ns.Run("ip", "neigh", "add", "198.18.0.2", "lladdr", "02:00:00:00:00:02", "dev", "v0", "nud", "permanent")
	ns.Run("ip", "route", "add", "198.18.0.0/15", "via", "198.18.0.2")
	ns.Run("ip", "-6", "route", "add", "2001:db8::/32", "dev", "v0")
	return ns
}

// netCounters are the counters that move when anything is sent.
type netCounters map[string]int64

// watched are the counters read from /proc/net/snmp and /proc/net/snmp6,
// plus v0's transmitted packets.
var watched = []string{"Ip.OutRequests", "Icmp.OutMsgs", "Icmp.OutEchos", "Tcp.ActiveOpens",
	"Udp.OutDatagrams", "Ip6OutRequests", "Icmp6OutEchos", "Udp6OutDatagrams", "v0.tx_packets"}

func readCounters(t *testing.T, ns *testnet.NS) netCounters {
	t.Helper()
	c := netCounters{}
	// /proc/net/snmp has pairs of lines: "Ip: names..." then "Ip: values...".
	lines := strings.Split(ns.Run("cat", "/proc/net/snmp"), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(values) || len(names) == 0 {
			t.Fatalf("cannot read /proc/net/snmp near %q", lines[i])
		}
		proto := strings.TrimSuffix(names[0], ":")
		for j := 1; j < len(names); j++ {
			v, _ := strconv.ParseInt(values[j], 10, 64)
			c[proto+"."+names[j]] = v
		}
	}
	for _, l := range strings.Split(ns.Run("cat", "/proc/net/snmp6"), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			c[f[0]] = v
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(ns.Run("cat", "/sys/class/net/v0/statistics/tx_packets")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	c["v0.tx_packets"] = v
	for _, k := range watched {
		if _, ok := c[k]; !ok {
			t.Fatalf("counter %s not found", k)
		}
	}
	return c
}

// diff lists the watched counters that moved from c to d, and the sum of
// their moves.
func (c netCounters) diff(d netCounters) (moved []string, sum int64) {
	for _, k := range watched {
		if d[k] != c[k] {
			moved = append(moved, fmt.Sprintf("%s +%d", k, d[k]-c[k]))
			sum += d[k] - c[k]
		}
	}
	return moved, sum
}

// cliRun is one traced run of the CLI.
type cliRun struct {
	code           int
	stdout, stderr string
	execs          []string // programs executed, the CLI itself first
	moved          []string // counters that moved
	sent           int64    // sum of the watched counters' moves
	elapsed        time.Duration
}

// runTraced runs the CLI with args inside ns under strace, which records
// every program executed, and reports what it printed, sent and ran. With
// helper set, the CLI is this test binary's TestHelperRunCLI, given args
// through a file; otherwise it is bin.
func runTraced(t *testing.T, ns *testnet.NS, bin string, helper bool, args []string) cliRun {
	t.Helper()
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace")
	argv := []string{"strace", "-f", "-qq", "-e", "trace=execve", "-o", trace}
	env := os.Environ()
	if helper {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(args)
		argsFile := filepath.Join(dir, "args.json")
		if err := os.WriteFile(argsFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		argv = append(argv, self, "-test.run=^TestHelperRunCLI$")
		env = append(env, helperArgsEnv+"="+argsFile)
	} else {
		argv = append(argv, bin)
		argv = append(argv, args...)
	}
	before := readCounters(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append(ns.Prefix(testnet.Root), argv...)
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := cliRun{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("%q hung for 30 s", args)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %q: %v", args, err)
	}
	r.moved, r.sent = before.diff(readCounters(t, ns))
	tr, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(tr), "\n") {
		// "1234  execve("/bin/ping", [...], ...) = 0": successful ones only.
		if i := strings.Index(l, "execve(\""); i >= 0 && strings.HasSuffix(strings.TrimSpace(l), "= 0") {
			prog := l[i+len("execve(\""):]
			r.execs = append(r.execs, prog[:strings.IndexByte(prog, '"')])
		}
	}
	return r
}

// badInput is one malformed or hostile command line.
type badInput struct {
	name   string
	args   []string
	want   string // in the error message
	helper bool   // run through TestHelperRunCLI (argv cannot carry it)
}

func badInputs() []badInput {
	long := strings.Repeat("a", 100_000)
	huge := strings.Repeat("1", 1<<20)
	return []badInput{
		// ping: hosts that are not hosts.
		{"ping shell ;", []string{"ping", "a;reboot"}, "shell metacharacter ';'", false},
		{"ping shell $()", []string{"ping", "$(id)"}, "shell metacharacter '$'", false},
		{"ping shell backticks", []string{"ping", "`id`"}, "shell metacharacter '`'", false},
		{"ping shell pipe", []string{"ping", "198.18.1.1|sh"}, "shell metacharacter '|'", false},
		{"ping host -f", []string{"ping", "-f"}, "not defined", false},
		{"ping host -c1", []string{"ping", "-c1"}, "not defined", false},
		{"ping host --help after host", []string{"ping", "198.18.1.1", "--help"}, "flags go before the hosts", false},
		{"ping host -c1 after host", []string{"ping", "198.18.1.1", "-c1"}, "flags go before the hosts", false},
		{"ping zone with shell", []string{"ping", "fe80::1%eth0;x"}, "shell metacharacter", false},
		{"ping zone too long", []string{"ping", "fe80::1%waytoolongforaname"}, "not an interface name", false},
		{"ping zone on global address", []string{"ping", "2001:db8::1%v0"}, "link-local", false},
		{"ping zone on IPv4-mapped", []string{"ping", "::ffff:198.18.1.1%v0"}, "link-local", false},
		{"ping overlong name", []string{"ping", long}, "characters long", false},
		{"ping NUL in address", []string{"ping", "198.18.1.1\x00"}, "NUL", true},
		{"ping NUL in flag", []string{"ping", "--count", "1\x00", "198.18.1.1"}, "invalid value", true},
		{"ping newline", []string{"ping", "198.18.1.1\n198.18.1.2"}, "control character", false},
		{"ping fullwidth digits", []string{"ping", "１９８.18.1.1"}, "punycode", false},
		{"ping prefix /0", []string{"ping", "0.0.0.0/0"}, "every address", false},
		{"ping prefix", []string{"ping", "198.18.1.0/24"}, "is a network", false},
		{"ping broadcast", []string{"ping", "255.255.255.255"}, "--allow-broadcast", false},
		{"ping multicast", []string{"ping", "224.0.0.251"}, "--allow-broadcast", false},
		{"ping link-local without zone", []string{"ping", "fe80::1"}, "as in fe80::1%eth0", false},
		{"ping unspecified", []string{"ping", "::"}, "unspecified", false},
		{"ping URL", []string{"ping", "http://198.18.1.1/"}, "not a valid prefix", false},
		{"ping count 0", []string{"ping", "--count", "0", "198.18.1.1"}, "--count 0", false},
		{"ping count overflow", []string{"ping", "--count", "99999999999999999999", "198.18.1.1"}, "invalid value", false},
		{"ping negative timeout", []string{"ping", "--timeout", "-1s", "198.18.1.1"}, "--timeout", false},
		{"ping interval 0", []string{"ping", "--interval", "0s", "198.18.1.1"}, "--interval", false},
		{"ping unknown method", []string{"ping", "--method", "carrier-pigeon", "198.18.1.1"}, "unknown method", false},
		{"ping empty method", []string{"ping", "--method", "", "198.18.1.1"}, "unknown method", false},
		{"ping flag with newline", []string{"ping", "-a\nb", "198.18.1.1"}, "not defined", false},
		{"ping flag with terminal escape", []string{"ping", "-\x1b[2J", "198.18.1.1"}, "not defined", false},
		{"ping overlong flag value", []string{"ping", "--count", long, "198.18.1.1"}, "invalid value", false},
		// doctor takes nothing.
		{"doctor host", []string{"doctor", "198.18.1.1"}, "unexpected argument", false},
		{"doctor unknown flag", []string{"doctor", "--bogus"}, "not defined", false},
		{"doctor json=maybe", []string{"doctor", "--json=maybe"}, "invalid", false},
		// history and devices: a --db that cannot be a history database.
		{"history db folder", []string{"history", "--db", "/"}, "it is a folder", false},
		{"devices db text file", []string{"devices", "--db", "/etc/passwd"}, "it is not a database", false},
		{"history db under a file", []string{"history", "--db", "/etc/passwd/history.db"}, "is a file, not a folder", false},
		{"history since", []string{"history", "--since", "yesterday"}, "--since", false},
		{"history two devices", []string{"history", "a", "b"}, "one device at a time", false},
		{"devices argument", []string{"devices", "198.18.1.1"}, "unexpected argument", false},
		// scan: flags.
		{"scan rate 0", []string{"scan", "--rate", "0", "198.18.1.1"}, "--rate", false},
		{"scan rate 1e9", []string{"scan", "--rate", "1000000000", "198.18.1.1"}, "--rate", false},
		{"scan rate 1e9 with i-know", []string{"scan", "--rate", "1e9", "--i-know-rate", "198.18.1.1"}, "--rate", false},
		{"scan rate fast without i-know", []string{"scan", "--rate", "200000", "198.18.1.1"}, "--i-know-rate", false},
		{"scan rate NaN", []string{"scan", "--rate", "NaN", "198.18.1.1"}, "--rate", false},
		{"scan rate Inf", []string{"scan", "--rate", "+Inf", "--i-know-rate", "198.18.1.1"}, "--rate", false},
		{"scan rate negative", []string{"scan", "--rate", "-5", "198.18.1.1"}, "--rate", false},
		{"scan negative timeout", []string{"scan", "--timeout", "-1s", "198.18.1.1"}, "--timeout", false},
		{"scan huge timeout", []string{"scan", "--timeout", "8760h", "198.18.1.1"}, "--timeout", false},
		{"scan negative retries", []string{"scan", "--retries", "-1", "198.18.1.1"}, "--retries", false},
		{"scan huge retries", []string{"scan", "--retries", "1000000", "198.18.1.1"}, "--retries", false},
		{"scan negative retry interval", []string{"scan", "--retry-interval", "-5ms", "198.18.1.1"}, "--retry-interval", false},
		{"scan max-hosts 0", []string{"scan", "--max-hosts", "0", "198.18.1.1"}, "--max-hosts", false},
		{"scan max-hosts huge", []string{"scan", "--max-hosts", "99999999999", "198.18.1.1"}, "--max-hosts", false},
		{"scan unknown method", []string{"scan", "--method", "carrier-pigeon", "198.18.1.1"}, "unknown method", false},
		{"scan unknown flag", []string{"scan", "--bogus", "22", "198.18.1.1"}, "not defined", false},
		// scan: targets.
		{"scan /0", []string{"scan", "0.0.0.0/0"}, "every address", false},
		{"scan IPv6 /0", []string{"scan", "::/0"}, "every address", false},
		{"scan /8 over max-hosts", []string{"scan", "--max-hosts", "256", "198.0.0.0/8"}, "more than --max-hosts", false},
		{"scan many small targets over max-hosts", []string{"scan", "--max-hosts", "300", "198.18.1.0/24", "198.18.2.0/24"}, "more than --max-hosts", false},
		{"scan shell ;", []string{"scan", "a;reboot"}, "metacharacter", false},
		{"scan shell $()", []string{"scan", "$(id)"}, "metacharacter", false},
		{"scan target -c1", []string{"scan", "198.18.1.1", "-c1"}, "flags go before the targets", false},
		{"scan target --help", []string{"scan", "198.18.1.1", "--help"}, "flags go before the targets", false},
		{"scan zone with shell", []string{"scan", "fe80::1%eth0;x"}, "", false},
		{"scan zone on global", []string{"scan", "2001:db8::1%v0"}, "link-local", false},
		{"scan reversed range", []string{"scan", "198.18.1.10-5"}, "", false},
		{"scan prefix /33", []string{"scan", "198.18.1.0/33"}, "", false},
		{"scan NUL", []string{"scan", "198.18.1.1\x00"}, "NUL", true},
		{"scan 1 MiB target", []string{"scan", huge}, "long", true},
		{"scan comma list with junk", []string{"scan", "198.18.1.1,$(id)"}, "metacharacter", false},
		{"scan empty target", []string{"scan", ""}, "", false},
		{"scan rate fast for own networks", []string{"scan", "--rate", "20000"}, "--i-know-rate", false},
		{"scan multicast prefix", []string{"scan", "224.0.0.0/30"}, "nothing left to scan", false},
		{"scan multicast alone", []string{"scan", "224.0.0.251"}, "--allow-broadcast", false},
		{"scan broadcast alone", []string{"scan", "255.255.255.255"}, "--allow-broadcast", false},
		{"scan link-local without zone", []string{"scan", "fe80::1"}, "as in fe80::1%eth0", false},
		{"scan link-local prefix", []string{"scan", "fe80::/112"}, "as in fe80::1%eth0", false},
		{"scan format", []string{"scan", "--format", "xml", "198.18.1.1"}, "--format", false},
		{"scan flag with newline", []string{"scan", "-a\nb", "198.18.1.1"}, "not defined", false},
		{"scan overlong flag value", []string{"scan", "--rate", long, "198.18.1.1"}, "invalid value", false},
		// watch: intervals, counts, addresses, URLs and history paths.
		{"watch interval too short", []string{"watch", "--interval", "1s", "198.18.1.1"}, "--interval: bad interval 1s", false},
		{"watch interval too long", []string{"watch", "--interval", "8760h", "198.18.1.1"}, "--interval: bad interval", false},
		{"watch down-after 0", []string{"watch", "--down-after", "0", "198.18.1.1"}, "--down-after", false},
		{"watch metrics URL", []string{"watch", "--metrics", "http://198.18.1.1:9750/", "198.18.1.1"}, "not a URL", false},
		{"watch metrics port", []string{"watch", "--metrics", "198.18.1.1:99999", "198.18.1.1"}, "want 1 to 65535", false},
		{"watch mqtt scheme", []string{"watch", "--mqtt", "http://198.18.1.1/", "198.18.1.1"}, "want mqtt://", false},
		{"watch mqtt wildcard", []string{"watch", "--mqtt", "mqtt://198.18.1.1/a/+/b", "198.18.1.1"}, "wildcards", false},
		{"watch webhook scheme", []string{"watch", "--webhook", "file:///etc/passwd", "198.18.1.1"}, "want http or https", false},
		{"watch webhook newline", []string{"watch", "--webhook", "http://198.18.1.1/\nx", "198.18.1.1"}, "control characters", false},
		{"watch db folder", []string{"watch", "--db", "/", "198.18.1.1"}, "it is a folder", false},
		{"watch db not a database", []string{"watch", "--db", "/proc/version", "198.18.1.1"}, "not a database", false},
		{"watch db empty", []string{"watch", "--db", "", "198.18.1.1"}, "--db: empty path", false},
		// The command itself.
		{"unknown command", []string{"reboot"}, "unknown command", false},
		{"command with NUL", []string{"scan\x00"}, "unknown command", true},
	}
}

// TestReliabilityBadInput runs every bad command line as a real process in
// a namespace where any packet would be counted, under strace: each must
// exit 2 with one clear line on stderr, send nothing and run no program.
func TestReliabilityBadInput(t *testing.T) {
	testnet.Require(t)
	if _, err := exec.LookPath("strace"); err != nil {
		t.Fatal("this test needs strace (apt-get install strace) to prove no program is run")
	}
	bin := buildBinary(t)
	ns := quietNS(t)

	// The instruments must be able to see what they are meant to catch:
	// a real ping through the exec method sends an echo request out of v0
	// and runs /bin/ping.
	t.Run("control", func(t *testing.T) {
		r := runTraced(t, ns, bin, false, []string{"ping", "--method", "exec", "--count", "1", "--timeout", "200ms", "198.18.1.1"})
		if len(r.moved) == 0 || len(r.execs) < 2 {
			t.Fatalf("a real ping went unseen: counters moved %v, programs %v\n%s", r.moved, r.execs, r.stderr)
		}
		t.Logf("a real ping moved %v and ran %v", r.moved, r.execs[1:])
	})

	rows := badInputs()
	var failed, sent, programs int64
	for _, in := range rows {
		ok := t.Run(in.name, func(t *testing.T) {
			r := runTraced(t, ns, bin, in.helper, in.args)
			sent += r.sent
			programs += int64(max(len(r.execs)-1, 0))
			msg := r.stderr
			switch {
			case strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine "):
				t.Errorf("crashed (exit %d):\n%s", r.code, msg)
			case r.code != cli.ExitUsage:
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, cli.ExitUsage, msg)
			}
			if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") || !strings.HasPrefix(msg, "netscanner") {
				t.Errorf("want one line starting with \"netscanner\" on stderr, got %q", msg)
			}
			if !strings.Contains(msg, in.want) {
				t.Errorf("stderr %q does not mention %q", msg, in.want)
			}
			if strings.ContainsFunc(strings.TrimSuffix(msg, "\n"), unicode.IsControl) {
				t.Errorf("stderr holds control characters: %q", msg)
			}
			if len(msg) > 400 {
				t.Errorf("stderr is %d bytes; a clear error is short", len(msg))
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty, got %q", r.stdout)
			}
			if len(r.moved) > 0 {
				t.Errorf("packets were sent: %v", r.moved)
			}
			if len(r.execs) != 1 {
				t.Errorf("programs were run: %v", r.execs)
			}
		})
		if !ok {
			failed++
		}
	}
	line := fmt.Sprintf("reliability: bad-input rows=%d failed=%d packets_sent=%d programs_run=%d",
		len(rows), failed, sent, programs)
	t.Log(line)
	fmt.Println(line)
}

// TestReliabilityQuietStderr checks that a bad command line gets exactly one
// line on stderr, Netscanner's own, from both binaries under the locales
// Debian and Ubuntu ship by default: the GUI binary's subcommands too,
// although Fyne looks the locale up while the program initializes
// (package internal/fynelocale keeps its "Error parsing user locale C"
// away), and the headless binary under any locale at all.
func TestReliabilityQuietStderr(t *testing.T) {
	gui, headless := buildBinary(t), buildHeadless(t)
	locales := []string{"C.UTF-8", "C.utf8", "C", "POSIX", "en_US.UTF-8", ""}
	runs := 0
	for _, bin := range []string{gui, headless} {
		all := locales
		if bin == headless {
			all = append(all, "xx_YY.bogus", "\x01", "de_DE@euro")
		}
		for _, loc := range all {
			for _, env := range [][]string{{"LC_ALL=" + loc, "LANG=" + loc, "LC_MESSAGES="}, {"LC_ALL=", "LC_MESSAGES=", "LANG=" + loc, "LANGUAGE="}} {
				cmd := exec.Command(bin, "doctor", "unexpected")
				cmd.Env = append(os.Environ(), env...)
				var errb bytes.Buffer
				cmd.Stderr = &errb
				_ = cmd.Run()
				runs++
				if got := errb.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "netscanner doctor: ") {
					t.Errorf("%s with %q: want one line of our own on stderr, got:\n%s", filepath.Base(bin), env, got)
				}
			}
		}
	}
	fmt.Printf("reliability: quiet-stderr binaries=2 runs=%d\n", runs)
}

// scanLAN is a kernel-answered /24 for sweeps by the real binary: every
// seventh address is live.
func scanLAN(t *testing.T) (*testnet.LAN, map[netip.Addr]bool) {
	t.Helper()
	prefix := netip.MustParsePrefix("198.18.8.0/24")
	live := map[netip.Addr]bool{}
	var liveList []netip.Addr
	for i, a := 1, prefix.Addr().Next(); i < 255; i, a = i+1, a.Next() {
		if i%7 == 3 {
			live[a] = true
			liveList = append(liveList, a)
		}
	}
	n := testnet.NewKernelLAN(t, prefix, liveList)
	n.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	return n, live
}

// scanResult is one `netscanner scan --json` run.
type scanResult struct {
	code           int
	found          map[netip.Addr]int
	stdout, stderr string
}

// syncBuffer is a bytes.Buffer that a test may read while a process
// writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startScan starts `netscanner scan --json` with prefix argv (such as
// prlimit) inside ns; finish it with waitScan.
func startScan(t *testing.T, ns *testnet.NS, prefix []string, bin string, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	argv := append(append(append([]string{}, prefix...), bin, "scan", "--json"), args...)
	cmd := ns.Command(testnet.Root, argv...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, errb := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, errb
}

func waitScan(t *testing.T, cmd *exec.Cmd, out, errb *syncBuffer) scanResult {
	t.Helper()
	err := cmd.Wait()
	r := scanResult{found: map[netip.Addr]int{}, stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var h struct {
			IP string `json:"ip"`
		}
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", l, err)
		}
		a, err := netip.ParseAddr(h.IP)
		if err != nil {
			t.Fatalf("stdout line %q: %v", l, err)
		}
		r.found[a]++
	}
	return r
}

// compare counts false positives, misses and duplicates of a scan against
// the live set, reporting each.
func (r scanResult) compare(t *testing.T, what string, live map[netip.Addr]bool) (falsePos, missed int) {
	t.Helper()
	for a, c := range r.found {
		if !live[a] {
			falsePos++
			t.Errorf("%s: false positive %s", what, a)
		}
		if c > 1 {
			t.Errorf("%s: %s reported %d times", what, a, c)
		}
	}
	for a := range live {
		if r.found[a] == 0 {
			missed++
			t.Errorf("%s: live %s missed", what, a)
		}
	}
	if r.code != cli.ExitOK || strings.Contains(r.stderr, "panic") {
		t.Errorf("%s: exit %d\nstderr:\n%s", what, r.code, r.stderr)
	}
	return falsePos, missed
}

// TestReliabilityConcurrentScans runs two scans at once over the same
// network from the same namespace, by raw and dgram sockets and by two raw
// sockets: raw sockets see every ICMP packet on the machine, including the
// other scan's answers, and must keep only their own.
func TestReliabilityConcurrentScans(t *testing.T) {
	testnet.Require(t)
	bin := buildBinary(t)
	n, live := scanLAN(t)
	for _, pair := range [][2]string{{"raw", "dgram"}, {"raw", "raw"}, {"dgram", "dgram"}} {
		name := pair[0] + "+" + pair[1]
		t.Run(name, func(t *testing.T) {
			var fp, missed int
			const rounds = 3
			for range rounds {
				c1, o1, e1 := startScan(t, n.Scanner, nil, bin, "--method", pair[0], "198.18.8.0/24")
				c2, o2, e2 := startScan(t, n.Scanner, nil, bin, "--method", pair[1], "198.18.8.0/24")
				for i, r := range []scanResult{waitScan(t, c1, o1, e1), waitScan(t, c2, o2, e2)} {
					f, m := r.compare(t, fmt.Sprintf("%s scan %d (%s)", name, i+1, pair[i]), live)
					fp, missed = fp+f, missed+m
				}
			}
			line := fmt.Sprintf("reliability: concurrent/%s scans=%d live=%d false_positives=%d missed=%d",
				name, 2*rounds, len(live), fp, missed)
			t.Log(line)
			fmt.Println(line)
		})
	}
}

// children lists the child processes of pid.
func children(pid int) []int {
	var kids []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(s); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids
}

// TestReliabilityLimits checks the scan under a 64-descriptor limit, the
// bound on ping processes of the exec method, and that an interrupted scan
// leaves no process behind.
func TestReliabilityLimits(t *testing.T) {
	testnet.Require(t)
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("this test needs prlimit (util-linux)")
	}
	bin := buildBinary(t)
	n, live := scanLAN(t)

	t.Run("nofile 64", func(t *testing.T) {
		// A /26 keeps the exec method, with few pings at once, quick.
		sub := netip.MustParsePrefix("198.18.8.0/26")
		subLive := map[netip.Addr]bool{}
		for a := range live {
			if sub.Contains(a) {
				subLive[a] = true
			}
		}
		for _, m := range []string{"raw", "dgram", "exec", "tcp"} {
			c, o, e := startScan(t, n.Scanner, []string{"prlimit", "--nofile=64:64"}, bin, "--method", m, sub.String())
			r := waitScan(t, c, o, e)
			fp, missed := r.compare(t, "nofile=64 "+m, subLive)
			line := fmt.Sprintf("reliability: limits/nofile64-%s exit=%d false_positives=%d missed=%d", m, r.code, fp, missed)
			t.Log(line)
			fmt.Println(line)
		}
	})

	t.Run("exec pool bound", func(t *testing.T) {
		const bound = 64 // probe.Options.Concurrency's default, which the CLI uses
		c, o, e := startScan(t, n.Scanner, nil, bin, "--method", "exec", "--retries", "0", "198.18.8.0/24")
		peak, samples := 0, 0
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.Wait()
		}()
	sample:
		for {
			select {
			case <-done:
				break sample
			case <-time.After(5 * time.Millisecond):
			}
			// Reading the children of every thread is not atomic: a ping
			// reaped by one thread and its successor started by another
			// can both show up. Counting only the processes that two
			// reads in a row both see counts processes alive together.
			samples++
			first := map[int]bool{}
			for _, k := range children(c.Process.Pid) {
				first[k] = true
			}
			both := 0
			for _, k := range children(c.Process.Pid) {
				if first[k] {
					both++
				}
			}
			peak = max(peak, both)
		}
		if peak > bound {
			t.Errorf("%d ping processes at once, bound %d", peak, bound)
		}
		if peak < 2 {
			t.Errorf("at most %d ping process seen in %d samples: the sampling saw nothing", peak, samples)
		}
		if !strings.Contains(o.String(), "198.18.8.3") {
			t.Errorf("the exec scan found nothing:\n%s\n%s", o.String(), e.String())
		}
		line := fmt.Sprintf("reliability: limits/exec-pool peak_children=%d bound=%d samples=%d", peak, bound, samples)
		t.Log(line)
		fmt.Println(line)
	})

	t.Run("SIGINT", func(t *testing.T) {
		for _, m := range []string{"exec", "raw", "tcp"} {
			c, o, e := startScan(t, n.Scanner, nil, bin, "--method", m, "--timeout", "10s", "--rate", "50", "198.18.8.0/24")
			// Wait until the scan is under way: for exec, ping processes run.
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) && !strings.Contains(e.String(), "scanning") {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond)
			kids := len(children(c.Process.Pid))
			start := time.Now()
			if err := c.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			r := waitScan(t, c, o, e)
			took := time.Since(start)
			pids, err := exec.Command("ip", "netns", "pids", n.Scanner.Name).Output()
			if err != nil {
				t.Fatal(err)
			}
			left := strings.Fields(string(pids))
			if len(left) > 0 {
				t.Errorf("%s: processes left in the namespace after the scan exited: %v", m, left)
			}
			if took > 3*time.Second {
				t.Errorf("%s: took %v to stop after SIGINT", m, took)
			}
			if !strings.Contains(r.stderr, "interrupted") || strings.Contains(r.stderr, "panic") {
				t.Errorf("%s: stderr does not say the scan was interrupted:\n%s", m, r.stderr)
			}
			if m == "exec" && kids == 0 {
				t.Errorf("exec: no ping process ran before SIGINT; the test proves nothing")
			}
			line := fmt.Sprintf("reliability: limits/sigint-%s children_before=%d left_after=%d stop_ms=%d exit=%d",
				m, kids, len(left), took.Milliseconds(), r.code)
			t.Log(line)
			fmt.Println(line)
		}
	})
}

// openSockets counts this process's descriptors that are sockets.
func openSockets(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// TestReliabilityCancelInProcess cancels scans through the raw and dgram
// Conns mid-sweep and checks that Scan returns at once and that closing
// the Conn leaves no socket and no goroutine behind.
func TestReliabilityCancelInProcess(t *testing.T) {
	testnet.Require(t)
	n, _ := scanLAN(t)
	targets, err := targets.Parse(context.Background(), []string{"198.18.8.0/24"}, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []probe.Method{probe.Raw, probe.Dgram} {
		t.Run(string(m), func(t *testing.T) {
			sockets, goroutines := openSockets(t), runtime.NumGoroutine()
			var conn probe.Conn
			n.Scanner.Do(func() {
				if m == probe.Raw {
					conn, err = probe.OpenRaw(probe.Options{})
				} else {
					conn, err = probe.OpenDgram(probe.Options{})
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			during := openSockets(t)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			found := 0
			sum, err := scanner.Scan(ctx, conn, targets, scanner.Config{Timeout: 5 * time.Second, Retries: 2, Rate: 200}, func(e scanner.Event) {
				if e.Kind == scanner.HostFound {
					found++
				}
			})
			stopped := time.Now()
			if err != context.Canceled || !sum.Cancelled {
				t.Errorf("Scan returned %v, cancelled %v; want context.Canceled", err, sum.Cancelled)
			}
			if sum.Elapsed > time.Second {
				t.Errorf("Scan took %v to notice a cancel after 300ms", sum.Elapsed)
			}
			if err := conn.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			closeTook := time.Since(stopped)
			after := openSockets(t)
			// Goroutines of the Conn and the scan end soon after Close.
			var left int
			for range 100 {
				if left = runtime.NumGoroutine() - goroutines; left <= 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if after != sockets {
				t.Errorf("%d sockets before the Conn, %d with it, %d after Close", sockets, during, after)
			}
			if left > 0 {
				t.Errorf("%d goroutines more than before the scan", left)
			}
			line := fmt.Sprintf("reliability: cancel/%s found_before_cancel=%d scan_ms=%d close_ms=%d sockets_before=%d during=%d after=%d goroutines_left=%d",
				m, found, sum.Elapsed.Milliseconds(), closeTook.Milliseconds(), sockets, during, after, max(left, 0))
			t.Log(line)
			fmt.Println(line)
		})
	}
}

// TestReliabilityStoredSettings feeds hostile store files and port lists
// to the app's parsers (the app reads its store at start and the settings
// form reads what the user types): each must be refused, or yield settings
// that pass Settings.Check and text free of control characters. Never a
// panic, never a hang.
func TestReliabilityStoredSettings(t *testing.T) {
	manyDevices := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"version":1,"settings":{},"devices":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"key":"k","addr":"198.18.%d.%d","label":"x"}`, i/256%256, i%256)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	stores := map[string]string{
		"rate 1e9":            `{"version":1,"settings":{"rate":1e9}}`,
		"rate negative":       `{"version":1,"settings":{"rate":-5}}`,
		"rate NaN as string":  `{"version":1,"settings":{"rate":"NaN"}}`,
		"rate 1e400":          `{"version":1,"settings":{"rate":1e400}}`,
		"timeout negative":    `{"version":1,"settings":{"timeout_ms":-5}}`,
		"timeout huge":        `{"version":1,"settings":{"timeout_ms":9223372036854775807}}`,
		"timeout overflow":    `{"version":1,"settings":{"timeout_ms":1e30}}`,
		"retries huge":        `{"version":1,"settings":{"retries":1000000}}`,
		"retries negative":    `{"version":1,"settings":{"retries":-1}}`,
		"method shell":        `{"version":1,"settings":{"method":"raw;reboot"}}`,
		"method $(id)":        `{"version":1,"settings":{"method":"$(id)"}}`,
		"method NUL":          `{"version":1,"settings":{"method":"raw\u0000"}}`,
		"port 0 and 65536":    `{"version":1,"settings":{"ports":[0,65536]}}`,
		"ports 300":           `{"version":1,"settings":{"ports":[` + strings.Repeat("80,", 299) + `81]}}`,
		"version 2":           `{"version":2,"settings":{}}`,
		"truncated":           `{"version":1,"settings":{"rate":`,
		"trailing data":       `{"version":1,"settings":{}} {"version":1}`,
		"not an object":       `[1,2,3]`,
		"deep nesting":        strings.Repeat(`{"a":`, 100000) + `1` + strings.Repeat(`}`, 100000),
		"invalid UTF-8":       "{\"version\":1,\"devices\":[{\"addr\":\"198.18.0.1\",\"label\":\"\xff\xfe\"}]}",
		"label with escapes":  `{"version":1,"devices":[{"addr":"198.18.0.1","label":"\u001b[2J\u0000evil\nline","name":"\u0007"}]}`,
		"label 1 MiB":         `{"version":1,"devices":[{"addr":"198.18.0.1","label":"` + strings.Repeat("é", 1<<19) + `"}]}`,
		"address with zone":   `{"version":1,"devices":[{"addr":"fe80::1%eth0;reboot"}]}`,
		"address hostile":     `{"version":1,"devices":[{"addr":"$(id)","mac":"zz:zz"}]}`,
		"100k devices":        manyDevices(100000),
		"empty":               ``,
		"null":                `null`,
		"settings null":       `{"version":1,"settings":null,"devices":null}`,
		"first seen in 10000": `{"version":1,"devices":[{"addr":"198.18.0.1","first_seen":"9999-12-31T23:59:59Z","last_seen":"0001-01-01T00:00:00Z"}]}`,
	}
	refused := 0
	for name, data := range stores {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			devs, set, err := devices.ParseStore([]byte(data))
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v", took)
			}
			if err != nil {
				refused++
				if strings.Count(err.Error(), "\n") > 0 || len(err.Error()) > 400 {
					t.Errorf("error is not one short line: %q", err)
				}
				return
			}
			if err := set.Check(); err != nil {
				t.Errorf("accepted settings %+v fail Check: %v", set, err)
			}
			if len(devs) > 20000 {
				t.Errorf("%d devices kept", len(devs))
			}
			for _, d := range devs {
				for _, s := range []string{d.Label, d.Name, d.Vendor, d.Addr, d.MAC, d.Key} {
					if strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s) || len(s) > 1024 {
						t.Errorf("device text %q kept as is", s)
					}
				}
			}
		})
	}
	ports := []string{"22;reboot", "0", "65536", "-5", "1-65535", "80-22", "$(id)", "22,,80", "２２", strings.Repeat("1,", 100000)}
	for _, p := range ports {
		if got, err := targets.ParsePorts(p); err == nil {
			if len(got) > targets.MaxPorts || slices.Contains(got, 0) {
				t.Errorf("ParsePorts(%.40q) = %d ports, accepted", p, len(got))
			}
		}
	}
	line := fmt.Sprintf("reliability: stored-settings stores=%d refused=%d repaired=%d port_lists=%d", len(stores), refused, len(stores)-refused, len(ports))
	t.Log(line)
	fmt.Println(line)
}
