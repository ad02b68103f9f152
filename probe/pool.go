package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// errStopped is acquire's answer when its stop channel closed first.
var errStopped = errors.New("probe: wait for a slot stopped")

// pool is the machinery shared by the Conns that spend one process or
// socket per request (exec, tcp): at most a fixed number of jobs run at
// once, each on its own goroutine, and their answers go out on one Replies
// channel. Close cancels ctx, waits for every job and then closes replies,
// so no job can send on a closed channel.
//
// A Send takes a slot with acquire, starts its job with spawn, and the job
// gives the slot back with release.
type pool struct {
	method  Method        // names the Conn in errors
	slots   chan struct{} // one token per job holding a slot
	replies chan Reply

	ctx    context.Context // cancelled by close: every job should stop
	cancel context.CancelFunc

	mu     sync.Mutex // orders wg.Add in spawn against close
	closed bool
	wg     sync.WaitGroup // one per job running
}

// newPool returns a pool of size slots whose Replies buffer as many answers.
func newPool(method Method, size int) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &pool{
		method:  method,
		slots:   make(chan struct{}, size),
		replies: make(chan Reply, size),
		ctx:     ctx,
		cancel:  cancel,
	}
}

// errClosed is what Send returns once the Conn is closed.
func (p *pool) errClosed() error {
	return fmt.Errorf("probe %s: %w", p.method, net.ErrClosed)
}

// acquire takes a slot, waiting while every slot is taken. It returns a
// net.ErrClosed error once the pool is closed, ctx's error if ctx ends
// first, and errStopped if stop closes first (a nil stop never does). On
// nil the caller holds a slot and must pass it on with spawn.
func (p *pool) acquire(ctx context.Context, stop <-chan struct{}) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ctx.Done():
		return p.errClosed()
	case <-stop:
		if p.ctx.Err() != nil {
			return p.errClosed()
		}
		return errStopped
	}
}

// release gives back a slot taken by acquire.
func (p *pool) release() { <-p.slots }

// spawn runs job on a goroutine that close waits for. The caller holds a
// slot from acquire, which job must release. If the pool closed meanwhile,
// spawn releases the slot itself, does not run job, and returns a
// net.ErrClosed error.
func (p *pool) spawn(job func()) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.release()
		return p.errClosed()
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		job()
	}()
	return nil
}

// deliver puts r on replies; it gives up, and reports false, when the pool
// closes first.
func (p *pool) deliver(r Reply) bool {
	select {
	case p.replies <- r:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// close stops every job, waits for them to return and closes replies.
// Later calls do nothing.
func (p *pool) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	close(p.replies)
	return nil
}
