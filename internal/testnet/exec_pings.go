package testnet

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PingProgram is one ping implementation a user's machine may have, ready
// for a test to run as any User: its path and every directory above it are
// world-readable and executable.
type PingProgram struct {
	// Name says which ping it is: "iputils", "busybox-ping",
	// "busybox-ping6", "toybox" or "inetutils".
	Name string
	// Path is the program to run, an absolute path. Busybox and toybox
	// pick their applet by the name they are run as, so theirs are
	// symlinks named ping or ping6.
	Path string
}

// InetutilsDebEnv names the environment variable that may point at a
// downloaded inetutils-ping .deb; see InetutilsPing.
const InetutilsDebEnv = "NETSCANNER_INETUTILS_DEB"

// inetutilsCache is where scripts/deps.sh leaves the inetutils-ping .deb.
const inetutilsCache = "/var/cache/netscanner"

// PingPrograms returns every ping a user may have: iputils' (the system
// ping, with its file capability), the busybox ping and ping6 applets,
// toybox's ping and GNU inetutils' ping, the last three from private
// directories that the test removes when it ends. A missing busybox or
// toybox, or an inetutils that cannot be fetched, skips the test (fails it
// under CI=true).
func PingPrograms(t testing.TB) []PingProgram {
	t.Helper()
	Require(t)
	iputils, err := exec.LookPath("ping")
	if err == nil {
		iputils, err = filepath.EvalSymlinks(iputils)
	}
	if err != nil || !isIputils(iputils) {
		skipOrFail(t, fmt.Sprintf("iputils ping is not the system ping (%s, %v)", iputils, err))
	}
	progs := []PingProgram{{Name: "iputils", Path: iputils}}
	for _, applet := range []struct{ name, multi, as string }{
		{"busybox-ping", "busybox", "ping"},
		{"busybox-ping6", "busybox", "ping6"},
		{"toybox", "toybox", "ping"},
	} {
		progs = append(progs, PingProgram{Name: applet.name, Path: Applet(t, applet.multi, applet.as)})
	}
	return append(progs, PingProgram{Name: "inetutils", Path: InetutilsPing(t)})
}

// Applet returns a symlink named applet to the multi-call binary multi
// (busybox, toybox) in a private directory that the test removes when it
// ends: run by that path, the binary acts as that applet. A missing
// binary skips the test (fails it under CI=true).
func Applet(t testing.TB, multi, applet string) string {
	t.Helper()
	bin, err := exec.LookPath(multi)
	if err != nil {
		skipOrFail(t, multi+" is not installed")
	}
	link := filepath.Join(PrivateDir(t, multi), applet)
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// isIputils tells whether the ping at path is iputils'.
func isIputils(path string) bool {
	out, _ := exec.Command(path, "-V").CombinedOutput()
	return bytes.Contains(out, []byte("iputils"))
}

// InetutilsPing returns the path of GNU inetutils' ping, unpacked into a
// private directory the test removes when it ends. It is never installed:
// the package replaces iputils-ping. The .deb comes from $NETSCANNER_INETUTILS_DEB,
// else /var/cache/netscanner/inetutils-ping_*.deb (where scripts/deps.sh
// puts it), else `apt-get download inetutils-ping` into a temporary
// directory. Failing all three skips the test (fails it under CI=true).
// dpkg-deb -x keeps the package's setuid bit, so an unprivileged user can
// run the result as a user runs the installed one.
func InetutilsPing(t testing.TB) string {
	t.Helper()
	Require(t)
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		skipOrFail(t, "dpkg-deb is not installed, so inetutils' ping cannot be unpacked")
	}
	deb := os.Getenv(InetutilsDebEnv)
	if deb == "" {
		found, _ := filepath.Glob(filepath.Join(inetutilsCache, "inetutils-ping_*.deb"))
		if len(found) > 0 {
			deb = found[len(found)-1]
		}
	}
	if deb == "" {
		dl := PrivateDir(t, "inetutils-deb")
		cmd := exec.Command("apt-get", "download", "inetutils-ping")
		cmd.Dir = dl
		if out, err := cmd.CombinedOutput(); err != nil {
			skipOrFail(t, fmt.Sprintf("cannot fetch inetutils-ping (set %s, or run scripts/deps.sh): apt-get download: %v: %s",
				InetutilsDebEnv, err, lastLine(out)))
		}
		found, _ := filepath.Glob(filepath.Join(dl, "inetutils-ping_*.deb"))
		if len(found) == 0 {
			skipOrFail(t, "apt-get download inetutils-ping left no .deb in "+dl)
		}
		deb = found[0]
	}
	root := PrivateDir(t, "inetutils")
	if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x %s: %v: %s", deb, err, out)
	}
	// The extracted tree's directories keep the package's modes (0755).
	for _, p := range []string{"bin/ping", "usr/bin/ping"} {
		if fi, err := os.Stat(filepath.Join(root, p)); err == nil && fi.Mode().IsRegular() {
			return filepath.Join(root, p)
		}
	}
	t.Fatalf("%s holds no bin/ping", deb)
	return ""
}

// PrivateDir makes a directory of the test's own that every user may
// enter (t.TempDir's are 0700, which an unprivileged user cannot), under
// the system's temporary directory, and removes it when the test ends.
func PrivateDir(t testing.TB, label string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "netscanner-"+label+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// skipOrFail skips t with why, or fails it under CI=true, where everything
// must run.
func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but this test cannot run: %s", why)
	}
	t.Skip(why)
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}
