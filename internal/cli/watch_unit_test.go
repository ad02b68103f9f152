package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/store"
	"netscanner/internal/testnet"
)

// TestWatchUserUnit's user manager (Debian package systemd, which also has
// systemctl), and who runs it.
const (
	systemdBinary = "/lib/systemd/systemd"
	nobodyID      = 65534
)

// requireUserManager skips t where a systemd user manager cannot be
// started, and fails it instead under CI=true, where CI installs systemd.
// It returns the cgroup2 mount point and the hierarchy path of its root.
func requireUserManager(t *testing.T) (mnt, root string) {
	t.Helper()
	why := ""
	if _, err := os.Stat(systemdBinary); err != nil {
		why = systemdBinary + " is missing (Debian package systemd)"
	} else if _, err := exec.LookPath("systemctl"); err != nil {
		why = "systemctl is missing (Debian package systemd)"
	} else if _, err := exec.LookPath("setpriv"); err != nil {
		why = "setpriv is missing (Debian package util-linux)"
	} else if _, err := exec.LookPath("nsenter"); err != nil {
		why = "nsenter is missing (Debian package util-linux)"
	} else if mnt, root = cgroup2Mount(); mnt == "" {
		why = "no cgroup2 file system is mounted; a systemd user manager needs one"
	}
	if why == "" {
		return mnt, root
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but this test cannot run: %s", why)
	}
	t.Skip(why)
	return "", ""
}

// cgroup2Mount returns where this process sees the cgroup2 hierarchy
// (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host) and the
// hierarchy path of that mount's root.
func cgroup2Mount() (mnt, root string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) >= 1 && g[0] == "cgroup2" {
			return f[4], f[3]
		}
	}
	return "", ""
}

// TestWatchUserUnit installs packaging/netscanner-watch.service as its
// header comment says, for nobody, under a real systemd user manager
// running inside a bridged LAN's scanner namespace: the unit starts the
// static binary from ~/.local/bin, the watcher scans the namespace's own
// network (the unit gives no targets), serves metrics on 127.0.0.1:9750,
// records the history in the XDG default place, and `systemctl --user
// stop` ends it with SIGTERM and a clean exit 0 well within
// TimeoutStopSec.
//
// The user manager runs as nobody, as a user's own manager runs as that
// user. What logind and user@.service give it on a desktop, the test
// gives it by hand: a cgroup delegated to nobody (Delegate=yes), a cgroup2
// file system to see it through, and an XDG_RUNTIME_DIR. /run/systemd is
// a fresh tmpfs holding only an empty /run/systemd/system, so the manager
// believes it was booted by systemd and finds no system manager or
// journald to talk to: the unit's output goes to /dev/null, and so does
// the manager's own log (it falls back to /dev/console, which nobody
// cannot open).
//
// SAFETY: `watch` without targets scans the networks of wherever it
// runs, so the manager, and everything it starts, runs inside the
// scanner namespace (ip netns exec), which the test checks before it
// enables the unit. Nothing the watcher sends can leave the test LAN.
func TestWatchUserUnit(t *testing.T) {
	testnet.Require(t)
	cgMount, cgRoot := requireUserManager(t)
	bin := buildWatchBinary(t)
	rootDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	unit, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(rootDir)), "packaging", "netscanner-watch.service"))
	if err != nil {
		t.Fatal(err)
	}

	hosts := []testnet.BridgedSpec{
		{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10"},
		{Label: "printer", MAC: "9c:7b:ef:00:00:0c", Addr4: "198.18.100.12"},
		{Label: "nas", MAC: "00:11:32:00:00:20", Addr4: "198.18.100.20"},
	}
	lan := testnet.NewBridged(t, hosts...)
	// nobody's ICMP datagram sockets: the dgram method.
	lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")

	// nobody's home and runtime folder, in a folder nobody may pass
	// through (t.TempDir's parents are root's and closed to others).
	base, err := os.MkdirTemp("", "netscanner-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	home, run := filepath.Join(base, "home"), filepath.Join(base, "run")
	installed := filepath.Join(home, ".local", "bin", "netscanner-cli")
	unitPath := filepath.Join(home, ".config", "systemd", "user", "netscanner-watch.service")
	for _, d := range []string{run, filepath.Dir(installed), filepath.Dir(unitPath)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	binBytes, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(installed, binBytes, 0o755); err != nil {
		t.Fatal(err)
	}
	// install -Dm0644, verbatim.
	if err := os.WriteFile(unitPath, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{home, run} {
		if err := filepath.WalkDir(d, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, nobodyID, nobodyID)
		}); err != nil {
			t.Fatal(err)
		}
	}

	// A cgroup delegated to nobody, as user@.service's Delegate=yes does:
	// the folder and the files through which the manager moves its
	// processes and enables controllers.
	cgName := fmt.Sprintf("netscanner-unit-test-%d", os.Getpid())
	cgDir := filepath.Join(cgMount, cgName)
	if err := os.Mkdir(cgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control"} {
		if err := os.Chown(filepath.Join(cgDir, p), nobodyID, nobodyID); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { removeCgroup(t, cgDir) })

	// ip netns exec gives the manager its own mount namespace (slave to
	// ours, so nothing mounted there shows here) and a fresh /sys, which
	// has no cgroup file system: it gets one, which sees the whole
	// hierarchy, and moves into the delegated cgroup before it becomes
	// nobody.
	script := strings.Join([]string{
		"set -e",
		"mount -t cgroup2 cgroup2 /sys/fs/cgroup",
		"echo $$ > " + shellQuote(filepath.Join("/sys/fs/cgroup", cgRoot, cgName, "cgroup.procs")),
		"mkdir -p /run/systemd",
		"mount -t tmpfs -o mode=0755 tmpfs /run/systemd",
		"mkdir /run/systemd/system",
		"exec setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i" +
			" PATH=/usr/local/bin:/usr/bin:/bin HOME=" + shellQuote(home) + " XDG_RUNTIME_DIR=" + shellQuote(run) +
			" USER=nobody LOGNAME=nobody LANG=C.UTF-8 " +
			systemdBinary + " --user",
	}, "\n")
	manager := lan.Scanner.Command(testnet.Root, "sh", "-c", script)
	var managerLog syncBuffer
	manager.Stdout, manager.Stderr = &managerLog, &managerLog
	manager.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := manager.Start(); err != nil {
		t.Fatal(err)
	}
	pid := manager.Process.Pid // ip netns exec, sh, setpriv and env exec: the manager
	managerDone := make(chan error, 1)
	go func() { managerDone <- manager.Wait() }()

	// systemctl runs as nobody in the manager's mount and network
	// namespaces. Outside its mount namespace there is no
	// /run/systemd/system, so systemctl would think the machine offline
	// (is-system-running says "offline") and enable the unit client-side,
	// without the reload that lets default.target want it; the stopped
	// unit would then be garbage-collected at once, its exit status lost.
	systemctl := func(timeout time.Duration, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		argv := append([]string{"nsenter", "--target", strconv.Itoa(pid), "--mount", "--net", "--",
			"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "systemctl", "--user", "--no-pager"}, args...)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "XDG_RUNTIME_DIR=" + run, "LANG=C.UTF-8"}
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	mustSystemctl := func(args ...string) string {
		t.Helper()
		out, err := systemctl(30*time.Second, args...)
		if err != nil {
			t.Fatalf("systemctl --user %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	managerGone := false
	t.Cleanup(func() {
		if !managerGone {
			if out, err := systemctl(10*time.Second, "exit"); err != nil {
				t.Logf("systemctl --user exit: %v\n%s", err, out)
			}
			select {
			case <-managerDone:
			case <-time.After(15 * time.Second):
				t.Errorf("the user manager did not exit within 15s of systemctl --user exit; killing it")
				syscall.Kill(-pid, syscall.SIGKILL)
				syscall.Kill(pid, syscall.SIGKILL)
				<-managerDone
			}
		}
		// What the manager started died with it, or is killed here.
		killCgroup(t, cgDir)
		if out, err := exec.Command("ip", "netns", "pids", lan.Scanner.Name).Output(); err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("processes left in the scanner namespace: %q, %v", out, err)
		}
		if t.Failed() {
			t.Logf("user manager's output (its generators'):\n%s", managerLog.String())
		}
	})

	// The manager is up once its private socket is there.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if fi, err := os.Stat(filepath.Join(run, "systemd", "private")); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			if _, err := systemctl(5*time.Second, "list-units"); err == nil {
				break
			}
		}
		select {
		case err := <-managerDone:
			managerGone = true
			t.Fatalf("systemd --user exited: %v\n%s", err, managerLog.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd --user did not come up within 15s\n%s", managerLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Before anything scans: the manager is systemd, nobody's, and inside
	// the scanner namespace, not ours.
	checkProc(t, "the user manager", pid, lan.Scanner.Name, systemdBinary)
	if out, _ := systemctl(10*time.Second, "is-system-running", "--wait"); out != "running" {
		t.Logf("systemctl --user is-system-running: %s", out)
	}

	mustSystemctl("daemon-reload")
	if out := mustSystemctl("enable", "--now", "netscanner-watch"); out != "" {
		t.Logf("systemctl --user enable --now: %s", out)
	}
	if _, err := os.Lstat(filepath.Join(home, ".config", "systemd", "user", "default.target.wants", "netscanner-watch.service")); err != nil {
		t.Errorf("enable did not hook the unit into default.target: %v", err)
	}
	// enable reloaded the manager: default.target wants the unit now, as
	// at the next login.
	if out := mustSystemctl("show", "-p", "WantedBy", "--value", "netscanner-watch"); !slices.Contains(strings.Fields(out), "default.target") {
		t.Errorf("WantedBy=%s, want default.target", out)
	}
	status := func() string { out, _ := systemctl(10*time.Second, "status", "netscanner-watch"); return out }
	deadline = time.Now().Add(10 * time.Second)
	for {
		out, _ := systemctl(5*time.Second, "is-active", "netscanner-watch")
		if out == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unit is %q, not active, after 10s\n%s", out, status())
		}
		time.Sleep(100 * time.Millisecond)
	}
	mainPID, err := strconv.Atoi(mustSystemctl("show", "-p", "MainPID", "--value", "netscanner-watch"))
	if err != nil || mainPID <= 0 {
		t.Fatalf("MainPID %d, %v", mainPID, err)
	}
	// sh -c 'exec ...' becomes the watcher: the binary from ~/.local/bin.
	deadline = time.Now().Add(5 * time.Second)
	for exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", mainPID)); exe != installed; exe, _ = os.Readlink(fmt.Sprintf("/proc/%d/exe", mainPID)) {
		if time.Now().After(deadline) {
			t.Fatalf("the unit's main process runs %q, want %s\n%s", exe, installed, status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	checkProc(t, "the watcher", mainPID, lan.Scanner.Name, installed)

	// The metrics, on the namespace's loopback, count every host after
	// the scan the watcher makes at start.
	client := &http.Client{Transport: &http.Transport{DialContext: daemons.DialIn(lan.Scanner.Name)}, Timeout: 5 * time.Second}
	metrics := func() map[string]string {
		resp, err := client.Get("http://127.0.0.1:9750/metrics")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		m := map[string]string{}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if name, v, ok := strings.Cut(sc.Text(), " "); ok && !strings.HasPrefix(name, "#") {
				m[name] = v
			}
		}
		return m
	}
	deadline = time.Now().Add(30 * time.Second)
	var m map[string]string
	for {
		m = metrics()
		if n, err := strconv.Atoi(m["netscanner_devices_present"]); err == nil && n >= len(hosts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics after 30s: devices present %q (want %d), scans %q\n%s",
				m["netscanner_devices_present"], len(hosts), m["netscanner_scans_total"], status())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("metrics: devices present %s, scans %s, errors %s", m["netscanner_devices_present"], m["netscanner_scans_total"], m["netscanner_scan_errors_total"])
	// The hosts, and the scanner itself: no one else is on the LAN.
	if m["netscanner_devices_present"] != strconv.Itoa(len(hosts)+1) || m["netscanner_scans_total"] != "1" || m["netscanner_scan_errors_total"] != "0" {
		t.Errorf("metrics: devices present %q (want %d), scans %q (want 1), scan errors %q (want 0)",
			m["netscanner_devices_present"], len(hosts)+1, m["netscanner_scans_total"], m["netscanner_scan_errors_total"])
	}

	// The history, where the XDG default puts it (the unit has no --db),
	// readable beside the running recorder.
	db := filepath.Join(home, ".local", "share", "netscanner", "history.db")
	st, err := store.Open(context.Background(), db, store.Options{Mode: store.ModeRead})
	if err != nil {
		t.Fatalf("history at the XDG default: %v\n%s", err, status())
	}
	devs, err := st.Devices(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var macs []string
	for _, d := range devs {
		macs = append(macs, d.MAC)
	}
	for _, h := range hosts {
		if !slices.Contains(macs, h.MAC) {
			t.Errorf("the history lacks %s (%s): %v", h.Label, h.MAC, macs)
		}
	}

	// systemctl stop: SIGTERM, the scan being written finishes, exit 0,
	// well within TimeoutStopSec=30s (systemctl would wait that long and
	// then SIGKILL, which the result would show).
	start := time.Now()
	if out, err := systemctl(40*time.Second, "stop", "netscanner-watch"); err != nil {
		t.Fatalf("systemctl --user stop: %v\n%s", err, out)
	}
	took := time.Since(start)
	t.Logf("systemctl --user stop took %v", took.Round(time.Millisecond))
	if took >= 30*time.Second {
		t.Errorf("stop took %v, TimeoutStopSec is 30s", took)
	}
	show := mustSystemctl("show", "-p", "ActiveState", "-p", "Result", "-p", "ExecMainCode", "-p", "ExecMainStatus", "-p", "NRestarts", "netscanner-watch")
	props := map[string]string{}
	for _, l := range strings.Split(show, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			props[k] = v
		}
	}
	// ExecMainCode 1 is CLD_EXITED: an exit, not death by a signal.
	want := map[string]string{"ActiveState": "inactive", "Result": "success", "ExecMainCode": "1", "ExecMainStatus": "0", "NRestarts": "0"}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("after stop, %s=%s, want %s\n%s", k, props[k], v, show)
		}
	}
	if err := syscall.Kill(mainPID, 0); err == nil {
		t.Errorf("the watcher (pid %d) still runs after stop", mainPID)
	}
}

// checkProc checks that process pid runs exe as nobody inside the named
// network namespace, which is not the test's own.
func checkProc(t *testing.T, what string, pid int, nsName, exe string) {
	t.Helper()
	var ns syscall.Stat_t
	if err := syscall.Stat("/run/netns/"+nsName, &ns); err != nil {
		t.Fatal(err)
	}
	got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("net:[%d]", ns.Ino); got != want || got == self {
		// Stop at once: it may scan the networks outside the test.
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("%s (pid %d) is in network namespace %s, want %s (%s); the test's own is %s", what, pid, got, want, nsName, self)
	}
	if e, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || !sameFile(e, exe) {
		t.Errorf("%s (pid %d) runs %q, want %s (%v)", what, pid, e, exe, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "Uid:" && (f[1] != "65534" || f[2] != "65534") {
			t.Errorf("%s (pid %d) runs as uid %s (effective %s), want nobody", what, pid, f[1], f[2])
		}
	}
}

// killCgroup kills whatever still runs in the cgroup tree at dir, and
// reports it: the user manager should have stopped it all.
func killCgroup(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				t.Errorf("process %d (%s) left in %s; killing it", pid, bytes.TrimSpace(comm), p)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		return nil
	})
}

// removeCgroup removes the cgroup tree at dir, deepest first, once the
// processes in it are gone.
func removeCgroup(t *testing.T, dir string) {
	t.Helper()
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		var err error
		for try := 0; try < 50; try++ {
			if err = os.Remove(dirs[i]); err == nil || os.IsNotExist(err) {
				break
			}
			time.Sleep(20 * time.Millisecond) // a killed process takes a moment to leave
		}
		if err != nil && !os.IsNotExist(err) {
			t.Errorf("removing cgroup %s: %v", dirs[i], err)
		}
	}
}

// sameFile reports whether paths a and b name one file, such as
// /usr/lib/systemd/systemd and /lib/systemd/systemd on a merged-/usr
// system.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
