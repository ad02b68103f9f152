package probe

import (
	"context"
	"errors"
	"net/netip"
	"sync"
)

// Pinger gives one blocking round trip at a time on top of a Conn, for
// callers such as a command-line ping. Many goroutines may call Ping at once;
// they share the Conn and each gets its own answer.
type Pinger struct {
	conn Conn

	mu      sync.Mutex
	nextSeq uint16
	waiting map[probeKey]chan Reply

	done chan struct{} // closed when the demultiplexer has stopped
}

type probeKey struct {
	addr netip.Addr
	seq  uint16
}

// NewPinger starts demultiplexing c's replies. The Pinger owns c from now on:
// close it with the Pinger's Close.
func NewPinger(c Conn) *Pinger {
	p := &Pinger{conn: c, waiting: make(map[probeKey]chan Reply), done: make(chan struct{})}
	go p.demux()
	return p
}

// Method reports the method of the underlying Conn.
func (p *Pinger) Method() Method { return p.conn.Method() }

// Ping sends one echo request to dst and waits for its answer until ctx is
// done. It returns the reply, or a Reply whose Err is ErrTimeout when ctx
// expired first. A non-nil error means the request could not be sent or the
// Pinger was closed.
func (p *Pinger) Ping(ctx context.Context, dst netip.Addr) (Reply, error) {
	dst = dst.Unmap()
	ch := make(chan Reply, 1)
	p.mu.Lock()
	// Skip sequence numbers still in use for this address, so that two
	// callers never wait on the same key.
	var key probeKey
	for {
		p.nextSeq++
		key = probeKey{dst, p.nextSeq}
		if _, busy := p.waiting[key]; !busy {
			break
		}
	}
	p.waiting[key] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiting, key)
		p.mu.Unlock()
	}()

	if err := p.conn.Send(ctx, dst, key.seq); err != nil {
		var se *SendError
		if errors.As(err, &se) {
			return Reply{Addr: dst, Seq: key.seq, Method: p.conn.Method(), Err: err}, nil
		}
		return Reply{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return Reply{Addr: dst, Seq: key.seq, Method: p.conn.Method(), Err: ErrTimeout}, nil
	case <-p.done:
		return Reply{}, errors.New("probe: pinger closed")
	}
}

// demux hands each reply to the caller waiting for its address and sequence.
// Replies nobody waits for (late, duplicate) are dropped here.
func (p *Pinger) demux() {
	defer close(p.done)
	for r := range p.conn.Replies() {
		p.mu.Lock()
		ch, ok := p.waiting[probeKey{r.Addr, r.Seq}]
		if ok {
			delete(p.waiting, probeKey{r.Addr, r.Seq})
		}
		p.mu.Unlock()
		if ok {
			ch <- r // buffered, and removed from the map: never blocks
		}
	}
}

// Close closes the underlying Conn.
func (p *Pinger) Close() error {
	err := p.conn.Close()
	<-p.done
	return err
}
