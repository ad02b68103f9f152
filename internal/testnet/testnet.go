// Package testnet builds small, real networks for tests out of Linux network
// namespaces, veth pairs and routes, and tears them down afterwards.
//
// Every address it hands out lies in 198.18.0.0/15 (RFC 2544, set aside for
// benchmarking) or 2001:db8::/32 (documentation), inside namespaces the test
// created itself, so no packet a test sends can leave this machine.
//
// Building namespaces needs root. Require skips a test that lacks it on a
// developer's machine and fails it when CI=true, where everything must run.
package testnet

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Require skips t unless it runs as root with the ip command at hand. Under
// CI=true it fails instead, so that CI never passes by skipping.
func Require(t testing.TB) {
	t.Helper()
	why := ""
	switch {
	case runtime.GOOS != "linux":
		why = "network namespaces need Linux"
	case os.Geteuid() != 0:
		why = "network namespaces need root (run the tests with sudo, or CI=true as root)"
	default:
		if _, err := exec.LookPath("ip"); err != nil {
			why = "the ip command (iproute2) is not installed"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but this test cannot run: %s", why)
	}
	t.Skip(why)
}

// nsSeq makes namespace names unique within a test binary; the process id
// makes them unique across binaries running at once.
var nsSeq atomic.Int64

// NS is a network namespace owned by one test.
type NS struct {
	Name string // name under /run/netns, unique on this machine
	t    testing.TB
}

// NewNS creates a namespace with its loopback up and registers its removal
// with t.Cleanup. label shows up in the name, to help when reading `ip netns`.
func NewNS(t testing.TB, label string) *NS {
	t.Helper()
	Require(t)
	name := fmt.Sprintf("nst%d-%d-%s", os.Getpid(), nsSeq.Add(1), label)
	if len(name) > 40 {
		name = name[:40]
	}
	ns := &NS{Name: name, t: t}
	mustRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		// Kill what still runs inside, so the namespace really goes away.
		if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			self := strconv.Itoa(os.Getpid())
			for _, pid := range strings.Fields(string(out)) {
				// A test that failed inside Do can leave one of our own
				// threads in the namespace; never kill the test itself.
				if pid != self {
					_ = exec.Command("kill", "-9", pid).Run()
				}
			}
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	})
	ns.Run("ip", "link", "set", "lo", "up")
	// Skip duplicate address detection on links made later, so their
	// link-local addresses (which neighbour discovery needs) work at once.
	ns.Sysctl("net.ipv6.conf.all.accept_dad", "0")
	ns.Sysctl("net.ipv6.conf.default.accept_dad", "0")
	return ns
}

// Run runs a command inside the namespace as root and returns its combined
// output. It fails the test if the command fails.
func (ns *NS) Run(args ...string) string {
	ns.t.Helper()
	return mustRun(ns.t, append([]string{"ip", "netns", "exec", ns.Name}, args...)...)
}

// Sysctl sets a sysctl inside the namespace; key is in dotted form, such as
// net.ipv4.ping_group_range.
func (ns *NS) Sysctl(key, value string) {
	ns.t.Helper()
	ns.Run("sysctl", "-q", "-w", key+"="+value)
}

// Do runs fn on the calling goroutine's thread while that thread is inside
// the namespace. Sockets opened by fn stay in the namespace for their whole
// life, so a test can open a Conn here and use it anywhere.
func (ns *NS) Do(fn func()) {
	ns.t.Helper()
	if err := Do(ns.Name, fn); err != nil {
		ns.t.Fatal(err)
	}
}

// Do is NS.Do for a namespace known by name.
func Do(name string, fn func()) error {
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", name, err)
	}
	fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime will retire it with this
		// goroutine rather than reuse a thread in the wrong namespace.
		return fmt.Errorf("setns back from %s: %w", name, err)
	}
	runtime.UnlockOSThread()
	return nil
}

// User is who a command runs as inside a namespace.
type User int

// Users a test can run a command as.
const (
	// Root is the test's own identity.
	Root User = iota
	// Nobody is uid and gid 65534 with no supplementary groups; the
	// capability bounding set stays intact, so a ping binary with file
	// capabilities still works: a stock desktop user.
	Nobody
	// Confined is Nobody with every capability dropped from the inheritable
	// and bounding sets, so no setuid or file-capability binary can raise
	// privilege: a confined phone app.
	Confined
)

func (u User) String() string {
	return [...]string{"root", "nobody", "confined"}[u]
}

// Prefix returns the argv that runs a command as u inside the namespace.
func (ns *NS) Prefix(u User) []string {
	argv := []string{"ip", "netns", "exec", ns.Name}
	switch u {
	case Nobody:
		argv = append(argv, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")
	case Confined:
		argv = append(argv, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all", "--bounding-set=-all", "--")
	}
	return argv
}

// Command returns an unstarted command that runs args as u inside the
// namespace. The program must be readable and executable by u.
func (ns *NS) Command(u User, args ...string) *exec.Cmd {
	argv := append(ns.Prefix(u), args...)
	return exec.Command(argv[0], argv[1:]...)
}

func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}
