//go:build linux

package scanner

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// netFollower runs enrichment's socket-opening calls in the network
// namespace of the thread that called Scan.
//
// A program that is in one namespace throughout needs none of this, and
// gets a nil netFollower. But a caller may enter another namespace on a
// locked thread (as tests do, with setns) and call Scan there: the sweep's
// Conn was opened there, and enrichment must look and send there too, or
// it would probe the process's own network instead. Its workers run on
// other threads, so every call that opens a socket or reads a kernel
// table goes through do, which enters the caller's namespace for it. A
// socket stays in the namespace it was opened in, so only the opening
// needs the thread.
type netFollower struct {
	ns       *os.File // the caller's namespace
	dev, ino uint64   // its identity, to tell whether a thread is in it
}

// followCallerNet returns a netFollower for the calling thread's network
// namespace, or nil when every thread of the process is in it already
// (then so is every thread the runtime starts later, each a clone of
// one of them), or when /proc cannot tell, as in a sandbox without
// namespaces to be in.
func followCallerNet() (*netFollower, error) {
	var mine unix.Stat_t
	if unix.Stat("/proc/thread-self/ns/net", &mine) != nil {
		return nil, nil
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, nil
	}
	elsewhere := false
	for _, task := range tasks {
		var st unix.Stat_t
		// A thread that exits meanwhile fails the stat; it runs nothing.
		if unix.Stat("/proc/self/task/"+task.Name()+"/ns/net", &st) == nil && (st.Dev != mine.Dev || st.Ino != mine.Ino) {
			elsewhere = true
			break
		}
	}
	if !elsewhere {
		return nil, nil
	}
	f, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("scanner: open the caller's network namespace: %w", err)
	}
	return &netFollower{ns: f, dev: uint64(mine.Dev), ino: mine.Ino}, nil
}

// errNoNamespace reports that do could not enter the caller's namespace;
// the call was not made, since made elsewhere it would look at, or send
// into, the wrong network.
var errNoNamespace = errors.New("scanner: cannot enter the caller's network namespace")

// do runs fn in the followed namespace, or as is for a nil netFollower.
func (f *netFollower) do(fn func()) error {
	if f == nil {
		fn()
		return nil
	}
	runtime.LockOSThread()
	var here unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &here); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("%w: %w", errNoNamespace, err)
	}
	if uint64(here.Dev) == f.dev && here.Ino == f.ino { // this thread is there already
		fn()
		runtime.UnlockOSThread()
		return nil
	}
	back, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("%w: %w", errNoNamespace, err)
	}
	defer back.Close()
	if err := unix.Setns(int(f.ns.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("%w: %w", errNoNamespace, err)
	}
	fn()
	if err := unix.Setns(int(back.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime retires it with this
		// goroutine rather than reuse a thread in the wrong namespace.
		return nil
	}
	runtime.UnlockOSThread()
	return nil
}

// close releases the namespace handle.
func (f *netFollower) close() {
	if f != nil {
		f.ns.Close()
	}
}
