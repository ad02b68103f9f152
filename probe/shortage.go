package probe

import (
	"context"
	"errors"
	"syscall"
	"time"
)

// shortage reports whether err is this machine running short of
// descriptors or processes for a moment (EMFILE, ENFILE, EAGAIN from fork
// or socket), rather than anything about the destination. A probe that
// fails so has proved nothing, and must be tried again rather than leave
// its host looking silent.
func shortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.EAGAIN)
}

// shortageWait sleeps before the next try after a shortage: 10 ms, then
// twice as long each time, at most 200 ms. It returns false if ctx ended
// first.
func shortageWait(ctx context.Context, try int) bool {
	d := min(10*time.Millisecond<<min(try, 5), 200*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
