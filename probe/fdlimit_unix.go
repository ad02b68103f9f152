//go:build unix

package probe

import (
	"os"

	"golang.org/x/sys/unix"
)

// fdReserve is how many descriptors fdConcurrency leaves for everything
// else the program has open or opens during a scan: its sockets, files,
// the runtime's poller, a GUI's connections.
const fdReserve = 16

// fdConcurrency caps want so that want probes, each holding up to perProbe
// file descriptors at once, fit under the soft RLIMIT_NOFILE next to what
// is open already. Without the cap a process started under `ulimit -n 64`
// fails to start most ping processes or TCP connects with EMFILE, and the
// hosts behind them look silent: a scan that lies. It never returns less
// than 1.
func fdConcurrency(want, perProbe int) int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY || lim.Cur > 1<<20 {
		return want
	}
	open := 3 + fdReserve // stdio and a guess, where /proc is missing
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		open = len(fds)
	}
	room := int(lim.Cur) - open - fdReserve
	return max(1, min(want, room/perProbe))
}
