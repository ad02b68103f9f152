//go:build unix

package probe

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFDConcurrency is the regression test for scans under `ulimit -n 64`:
// the exec and tcp methods ran 64 probes at once, most failed with EMFILE,
// and their hosts were reported silent.
func TestFDConcurrency(t *testing.T) {
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = 64
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)

	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	for _, per := range []int{1, 4} {
		got := fdConcurrency(64, per)
		if got < 1 || got*per > 64-len(fds) {
			t.Errorf("fdConcurrency(64, %d) = %d with %d descriptors open under a limit of 64", per, got, len(fds))
		}
	}
	if got := fdConcurrency(2, 1); got != 2 {
		t.Errorf("fdConcurrency(2, 1) = %d, want 2: a small pool fits", got)
	}
	lim.Cur = uint64(len(fds) + 1)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if got := fdConcurrency(64, 4); got != 1 {
		t.Errorf("with no room left fdConcurrency = %d, want 1", got)
	}
}
