package testnet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// SSDPReply is one datagram an SSDPResponder sends.
type SSDPReply struct {
	// Raw is the datagram, such as "HTTP/1.1 200 OK\r\nLOCATION: ...".
	Raw []byte
	// To overrides where it goes; by default, back to the searcher.
	To netip.AddrPort
	// After delays it, counted from the search.
	After time.Duration
}

// SSDPHandler answers one datagram read on port 1900 (an M-SEARCH, or
// anything else) with any number of replies; nil for none.
type SSDPHandler func(req []byte, from netip.AddrPort) []SSDPReply

// SSDPResponder is an SSDP responder in a host's namespace that answers
// exactly as its handler says: answers whose LOCATION names another host,
// garbage, floods. It reads on port 1900 of both families, joined to
// 239.255.255.250 and ff02::c on its interface, and answers from there.
type SSDPResponder struct {
	t      testing.TB
	c4, c6 net.PacketConn
	wg     sync.WaitGroup
	closed atomic.Bool
	reads  atomic.Int64
}

// StartSSDPResponder starts a responder on ifname in ns, stopped by
// t.Cleanup.
func StartSSDPResponder(t testing.TB, ns *NS, ifname string, h SSDPHandler) *SSDPResponder {
	t.Helper()
	r := &SSDPResponder{t: t}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
		return errors.Join(err, serr)
	}}
	var err error
	ns.Do(func() {
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(ifname); err != nil {
			return
		}
		if r.c4, err = lc.ListenPacket(t.Context(), "udp4", "0.0.0.0:1900"); err != nil {
			return
		}
		if err = ipv4.NewPacketConn(r.c4).JoinGroup(ifi, &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250)}); err != nil {
			return
		}
		if r.c6, err = lc.ListenPacket(t.Context(), "udp6", "[::]:1900"); err != nil {
			return
		}
		err = ipv6.NewPacketConn(r.c6).JoinGroup(ifi, &net.UDPAddr{IP: net.ParseIP("ff02::c")})
	})
	if err != nil {
		r.close()
		t.Fatalf("SSDP responder in %s: %v", ns.Name, err)
	}
	for _, c := range []net.PacketConn{r.c4, r.c6} {
		r.wg.Go(func() { r.serve(c, h) })
	}
	t.Cleanup(r.close)
	return r
}

// Reads counts the datagrams read.
func (r *SSDPResponder) Reads() int { return int(r.reads.Load()) }

func (r *SSDPResponder) close() {
	r.closed.Store(true)
	for _, c := range []net.PacketConn{r.c4, r.c6} {
		if c != nil {
			c.Close()
		}
	}
	r.wg.Wait()
}

func (r *SSDPResponder) serve(c net.PacketConn, h SSDPHandler) {
	buf := make([]byte, 9000)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		r.reads.Add(1)
		src := from.(*net.UDPAddr).AddrPort()
		req := append([]byte(nil), buf[:n]...)
		for _, rep := range h(req, src) {
			r.wg.Go(func() {
				time.Sleep(rep.After)
				if r.closed.Load() {
					return
				}
				to := rep.To
				if !to.IsValid() {
					to = src
				}
				if _, err := c.WriteTo(rep.Raw, net.UDPAddrFromAddrPort(to)); err != nil && !errors.Is(err, net.ErrClosed) {
					r.t.Errorf("SSDP responder: send to %s: %v", to, err)
				}
			})
		}
	}
}

// HTTPServer is a web server a test runs in a namespace.
type HTTPServer struct {
	srv      *http.Server
	requests atomic.Int64
}

// StartHTTP serves h on addr (host:port) in ns until the test ends.
func StartHTTP(t testing.TB, ns *NS, addr string, h http.Handler) *HTTPServer {
	t.Helper()
	var (
		ln  net.Listener
		err error
	)
	ns.Do(func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("HTTP server in %s: %v", ns.Name, err)
	}
	s := &HTTPServer{}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(w, req)
	}), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		s.srv.Close()
		<-done
	})
	return s
}

// Requests counts the requests served.
func (s *HTTPServer) Requests() int { return int(s.requests.Load()) }
