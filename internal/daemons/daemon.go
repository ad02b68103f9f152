// Package daemons starts real Debian daemons inside test network namespaces
// (internal/testnet), each with its own configuration, state, run and log
// directories under the test's temporary directory, and stops them when the
// test ends.
//
// A daemon runs in the foreground as a direct child of the test: the chain
// `ip netns exec NS [unshare -m sh -c MOUNTS] PROGRAM ...` execs all the way
// down, so the pid the test holds is the daemon's own. Daemons that insist
// on fixed paths (avahi-daemon's /run/avahi-daemon, /etc/avahi/services) get
// a private mount namespace with a tmpfs or a bind mount over each, so that
// nothing of this machine's is read or written. Its output (and any log
// files it writes) is kept for failure messages.
//
// One file per daemon beside this one (avahi.go, minidlna.go, ...) knows
// that daemon's configuration; this file knows only how to run one.
package daemons

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// DefaultReadyTimeout is how long Start waits for a daemon to be ready when
// its Spec gives no timeout.
const DefaultReadyTimeout = 15 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// maxLogShown caps how much of each log a failure message quotes (its end).
const maxLogShown = 8 << 10

// Dirs are a daemon's private directories, all under one t.TempDir(),
// created readable by everyone (a daemon that drops privileges must still
// read its configuration) and, for State, Run and Log, writable by everyone
// (it must write there as its own user).
type Dirs struct {
	Root   string // parent of the others
	Config string // configuration files the test writes
	State  string // databases, caches
	Run    string // pid files, sockets
	Log    string // log files; Output is here
}

// Output is the file, in Dirs.Log, that holds the daemon's stdout and
// stderr.
const Output = "output.log"

// NewDirs makes a fresh set of Dirs for one daemon. name only labels them.
func NewDirs(t testing.TB, name string) Dirs {
	t.Helper()
	tmp := t.TempDir()
	// t.TempDir's parent is made 0700; a daemon running as its own user
	// could not reach anything below it.
	for _, p := range []string{filepath.Dir(tmp), tmp} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatalf("daemons: %v", err)
		}
	}
	root := filepath.Join(tmp, name)
	d := Dirs{
		Root:   root,
		Config: filepath.Join(root, "etc"),
		State:  filepath.Join(root, "state"),
		Run:    filepath.Join(root, "run"),
		Log:    filepath.Join(root, "log"),
	}
	for _, p := range []string{root, d.Config, d.State, d.Run, d.Log} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatalf("daemons: %v", err)
		}
	}
	for _, p := range []string{d.State, d.Run, d.Log} {
		// Chmod, not MkdirAll's mode: the umask would take bits away.
		if err := os.Chmod(p, 0o1777); err != nil {
			t.Fatalf("daemons: %v", err)
		}
	}
	return d
}

// WriteFile writes a file below dir (creating its parents) readable by
// everyone, or fails the test.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatalf("daemons: %v", err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatalf("daemons: %v", err)
	}
	return p
}

// Mount is one mount of a private mount namespace.
type Mount struct {
	// Target is the fixed path the daemon insists on. It must exist
	// when it is mounted, unless Mkdir is set.
	Target string
	// Source, if set, is bind-mounted over Target (a directory or file
	// of the test's); empty mounts a fresh tmpfs there.
	Source string
	// Mkdir creates Target first. Use it only below a tmpfs mounted
	// before it (such as /run/avahi-daemon after /run), so that
	// nothing is created on this machine's own file systems.
	Mkdir bool
}

// Check tells whether a started daemon is ready: nil when it is. Start
// calls it every 50 ms until it returns nil or the timeout passes; its
// last error ends up in the failure message.
type Check func(d *Daemon) error

// Spec says how to run one daemon.
type Spec struct {
	// Name labels messages, such as "avahi-daemon".
	Name string
	// NS is the network namespace the daemon runs in.
	NS *testnet.NS
	// Dirs are the daemon's directories, from NewDirs; its output goes
	// to Dirs.Log/Output.
	Dirs Dirs
	// Argv is the program and its arguments. The program must run in
	// the foreground (not fork away), so that its pid is the one kept.
	Argv []string
	// Env is added to the test's environment.
	Env []string
	// Mounts, if any, run the daemon in a private mount namespace
	// (unshare -m) with these mounts, made in order.
	Mounts []Mount
	// LogFiles are further files the daemon logs to, relative to
	// Dirs.Log or absolute; Log and LogContains read them too.
	LogFiles []string
	// Ready says when the daemon is ready; nil means as soon as it is
	// started.
	Ready Check
	// Timeout bounds the wait for Ready; zero is DefaultReadyTimeout.
	Timeout time.Duration
}

// Daemon is a running daemon, stopped by t.Cleanup.
type Daemon struct {
	Name string
	Pid  int // the daemon's own process id
	Dirs Dirs
	NS   *testnet.NS

	logFiles []string
	cmd      *exec.Cmd
	done     chan struct{} // closed once the process is reaped
	waitErr  error         // set before done is closed
}

// Start starts s's daemon, waits until it is ready and registers its stop
// with t.Cleanup. It fails the test, quoting the daemon's log, if the
// daemon cannot start, exits, or is not ready in time.
func Start(t testing.TB, s Spec) *Daemon {
	t.Helper()
	testnet.Require(t)
	if s.NS == nil || len(s.Argv) == 0 || s.Dirs.Log == "" {
		t.Fatalf("daemons: %s: Spec needs NS, Argv and Dirs", s.Name)
	}
	if _, err := exec.LookPath(s.Argv[0]); err != nil {
		t.Fatalf("daemons: %s: %v (install its Debian package; scripts/deps.sh lists them)", s.Name, err)
	}
	out, err := os.OpenFile(filepath.Join(s.Dirs.Log, Output), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("daemons: %s: %v", s.Name, err)
	}
	defer out.Close()

	argv := []string{"ip", "netns", "exec", s.NS.Name}
	if len(s.Mounts) > 0 {
		// The shell mounts, then execs the daemon: positional arguments
		// carry every path, so nothing is quoted into the script.
		const script = `while [ "$1" != "--" ]; do
  if [ "$3" = mkdir ]; then mkdir -p -m 0755 "$1" || exit 97; fi
  if [ ! -e "$1" ]; then echo "daemons: mount target $1 does not exist" >&2; exit 97; fi
  if [ -n "$2" ]; then mount --bind "$2" "$1" || exit 97
  else mount -t tmpfs -o mode=0755,size=16m tmpfs "$1" || exit 97; fi
  shift 3
done
shift
exec "$@"`
		argv = append(argv, "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh")
		for _, m := range s.Mounts {
			if !filepath.IsAbs(m.Target) || m.Target == "/" {
				t.Fatalf("daemons: %s: mount target %q: want an absolute path below /", s.Name, m.Target)
			}
			mkdir := "-"
			if m.Mkdir {
				mkdir = "mkdir"
			}
			argv = append(argv, m.Target, m.Source, mkdir)
		}
		argv = append(argv, "--")
	}
	argv = append(argv, s.Argv...)

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dirs.Root
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), s.Env...)
	// Its own process group, so that Stop's SIGKILL also reaches any
	// helper process the daemon started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("daemons: %s: %v", s.Name, err)
	}
	d := &Daemon{Name: s.Name, Pid: cmd.Process.Pid, Dirs: s.Dirs, NS: s.NS, cmd: cmd, done: make(chan struct{})}
	for _, f := range s.LogFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(s.Dirs.Log, f)
		}
		d.logFiles = append(d.logFiles, f)
	}
	go func() {
		d.waitErr = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Logf("daemons: %s: %v", d.Name, err)
		}
		if t.Failed() {
			t.Logf("daemons: %s (pid %d) log:\n%s", d.Name, d.Pid, d.Log())
		}
	})

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	if err := d.waitReady(s.Ready, timeout); err != nil {
		t.Fatalf("daemons: %s: %v\nlog:\n%s", s.Name, err, d.Log())
	}
	return d
}

// waitReady polls ready until it passes, the daemon exits or timeout ends.
func (d *Daemon) waitReady(ready Check, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.done:
			return fmt.Errorf("exited before it was ready: %v", d.waitErr)
		default:
		}
		if ready == nil {
			return nil
		}
		err := ready(d)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		select {
		case <-d.done:
			return fmt.Errorf("exited before it was ready: %v (last check: %v)", d.waitErr, err)
		case <-tick.C:
		}
	}
}

// Exited reports whether the daemon has exited, and with what error.
func (d *Daemon) Exited() (bool, error) {
	select {
	case <-d.done:
		return true, d.waitErr
	default:
		return false, nil
	}
}

// Stop sends the daemon SIGTERM, then SIGKILL (to its process group) if it
// has not exited after a grace period, and waits for it. Calling it again
// does nothing. It reports only a daemon that would not die.
func (d *Daemon) Stop() error {
	select {
	case <-d.done:
		return nil
	default:
	}
	_ = syscall.Kill(d.Pid, syscall.SIGTERM)
	select {
	case <-d.done:
		// Helpers it left behind, if any, go with the group.
		_ = syscall.Kill(-d.Pid, syscall.SIGKILL)
		return nil
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-d.Pid, syscall.SIGKILL)
	_ = syscall.Kill(d.Pid, syscall.SIGKILL)
	select {
	case <-d.done:
		return fmt.Errorf("did not stop within %v of SIGTERM; killed", stopGrace)
	case <-time.After(stopGrace):
		return fmt.Errorf("pid %d survives SIGKILL", d.Pid)
	}
}

// Log returns the end of the daemon's output and of each of its log
// files, each under a header line, for failure messages.
func (d *Daemon) Log() string {
	var b strings.Builder
	for _, f := range append([]string{filepath.Join(d.Dirs.Log, Output)}, d.logFiles...) {
		data, err := os.ReadFile(f)
		fmt.Fprintf(&b, "--- %s", f)
		switch {
		case err != nil:
			fmt.Fprintf(&b, ": %v\n", err)
			continue
		case len(data) > maxLogShown:
			fmt.Fprintf(&b, " (last %d of %d bytes)", maxLogShown, len(data))
			data = data[len(data)-maxLogShown:]
		}
		b.WriteString("\n")
		b.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// LogContains reports whether the daemon's output or one of its log
// files holds substr.
func (d *Daemon) LogContains(substr string) bool {
	for _, f := range append([]string{filepath.Join(d.Dirs.Log, Output)}, d.logFiles...) {
		if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, []byte(substr)) {
			return true
		}
	}
	return false
}

// LogLine is a Check that passes once the daemon's output or a log file
// holds substr.
func LogLine(substr string) Check {
	return func(d *Daemon) error {
		if d.LogContains(substr) {
			return nil
		}
		return fmt.Errorf("no %q in its log yet", substr)
	}
}

// PortOpen is a Check that passes once a TCP connect to addr (host:port)
// from inside the daemon's namespace succeeds.
func PortOpen(addr string) Check {
	return func(d *Daemon) error {
		var err error
		if nerr := testnet.Do(d.NS.Name, func() {
			var c net.Conn
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			if c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr); err == nil {
				c.Close()
			}
		}); nerr != nil {
			return nerr
		}
		return err
	}
}

// UDPBound is a Check that passes once some socket in the daemon's
// namespace is bound to UDP port (any address): ss lists it.
func UDPBound(port int) Check {
	return func(d *Daemon) error {
		out, err := exec.Command("ip", "netns", "exec", d.NS.Name, "ss", "-Hnlu", fmt.Sprintf("sport = :%d", port)).Output()
		if err != nil {
			return fmt.Errorf("ss: %w", err)
		}
		if len(bytes.TrimSpace(out)) == 0 {
			return fmt.Errorf("nothing bound to UDP port %d yet", port)
		}
		return nil
	}
}

// All is a Check that passes once every one of checks passes.
func All(checks ...Check) Check {
	return func(d *Daemon) error {
		var errs []error
		for _, c := range checks {
			if err := c(d); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
