package scanner

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"
)

func TestDefaultPortsHaveServices(t *testing.T) {
	if len(DefaultPorts()) != 13 {
		t.Errorf("DefaultPorts() = %v", DefaultPorts())
	}
	for _, p := range DefaultPorts() {
		if ServiceName(p) == "" {
			t.Errorf("port %d has no service name", p)
		}
	}
	for p, want := range map[uint16]string{22: "ssh", 53: "domain", 445: "microsoft-ds", 8009: "googlecast",
		62078: "iphone-sync", 3389: "ms-wbt-server", 9100: "jetdirect", 8080: "http-alt", 12345: ""} {
		if got := ServiceName(p); got != want {
			t.Errorf("ServiceName(%d) = %q, want %q", p, got, want)
		}
	}
}

func TestCheckPorts(t *testing.T) {
	got, err := checkPorts([]uint16{80, 22, 80})
	if err != nil || !slices.Equal(got, []uint16{80, 22}) {
		t.Errorf("checkPorts = %v, %v", got, err)
	}
	if _, err := checkPorts([]uint16{80, 0}); err == nil {
		t.Error("port 0 accepted")
	}
	many := make([]uint16, 0, 70000)
	for i := range 70000 {
		many = append(many, uint16(i%2000+1))
	}
	if _, err := checkPorts(many); err == nil || !strings.Contains(err.Error(), "2000 ports") {
		t.Errorf("2000 distinct ports: %v", err)
	}
}

// TestProbePortsLoopback connects to real sockets on loopback: one
// listening, one closed.
func TestProbePortsLoopback(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	open := uint16(l.Addr().(*net.TCPAddr).Port)
	// A port that was free a moment ago; nothing listens there now.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := uint16(l2.Addr().(*net.TCPAddr).Port)
	l2.Close()

	sem := semaphore.NewWeighted(4)
	res := probePorts(t.Context(), (&net.Dialer{}).DialContext, netip.MustParseAddr("127.0.0.1"),
		[]uint16{closed, open}, time.Second, sem)
	if len(res.Open) != 1 || res.Open[0].Number != open || !res.Refused {
		t.Errorf("probePorts = %+v; want only %d open, and %d refused", res, open, closed)
	}
	if !sem.TryAcquire(4) {
		t.Error("slots still taken after probePorts returned")
	}
}

// TestProbePortsFake checks the verdicts on every kind of outcome, the
// order of the open ports, and the bound on connects in flight.
func TestProbePortsFake(t *testing.T) {
	var (
		mu             sync.Mutex
		inFlight, most int
	)
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight--
			mu.Unlock()
		}()
		ap := netip.MustParseAddrPort(address)
		if network != "tcp" || ap.Addr() != netip.MustParseAddr("198.18.7.4") {
			t.Errorf("dial %s %s", network, address)
		}
		time.Sleep(5 * time.Millisecond)
		switch ap.Port() {
		case 22, 9100:
			c, s := net.Pipe()
			s.Close()
			return c, nil
		case 80:
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		case 443:
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}
		}
		<-ctx.Done() // filtered: no answer at all
		return nil, ctx.Err()
	}
	sem := semaphore.NewWeighted(2)
	res := probePorts(t.Context(), dial, netip.MustParseAddr("198.18.7.4"),
		[]uint16{9100, 80, 443, 8080, 22}, 50*time.Millisecond, sem)
	want := []Port{{9100, "jetdirect"}, {22, "ssh"}}
	if !slices.Equal(res.Open, want) || !res.Refused {
		t.Errorf("probePorts = %+v, want open %v and refused", res, want)
	}
	if most > 2 { // every dial has returned: probePorts waited for them
		t.Errorf("%d connects at once, want at most 2", most)
	}

	// Nothing answers and the scan is cancelled: no verdict, no wait.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res = probePorts(ctx, dial, netip.MustParseAddr("198.18.7.4"), []uint16{8080}, time.Hour, sem)
	if len(res.Open) != 0 || res.Refused {
		t.Errorf("cancelled: %+v", res)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal("context not cancelled")
	}
}
