package scanner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sync/semaphore"

	"netscanner/scanner/targets"
)

// DefaultPorts are the TCP ports a scan tries on every live host: the
// services that tell a home or office device's kind (a printer's ipp and
// jetdirect, a Chromecast's 8009, an iPhone's sync port) and the ones a
// user comes to open (ssh, web consoles, file sharing, remote desktop).
func DefaultPorts() []uint16 {
	return []uint16{22, 53, 80, 139, 443, 445, 554, 631, 8080, 8009, 9100, 62078, 3389}
}

// DefaultPortTimeout is how long one connect may take. A LAN host answers
// a connect in a few milliseconds, open or closed; only a firewall that
// drops the attempt makes it wait, and then no answer is coming.
const DefaultPortTimeout = 500 * time.Millisecond

// services names what usually listens on the ports a scan tries by
// default, with the names of the IANA registry (and of nmap) where there
// is one.
var services = map[uint16]string{
	22:    "ssh",
	53:    "domain",
	80:    "http",
	139:   "netbios-ssn",
	443:   "https",
	445:   "microsoft-ds",
	554:   "rtsp",
	631:   "ipp",
	3389:  "ms-wbt-server",
	8008:  "http-alt",
	8009:  "googlecast",
	8080:  "http-alt",
	9100:  "jetdirect",
	62078: "iphone-sync",
}

// ServiceName returns the service usually found on a TCP port, or "" for
// a port outside the small table of services a scan looks for.
func ServiceName(port uint16) string { return services[port] }

// portResult is what connecting to a host's ports showed.
type portResult struct {
	Open []Port // accepted connects, in the order the ports were given
	// Refused is true when at least one connect was refused: the host
	// answered with a reset, which proves it up, but the port is closed.
	Refused bool
}

// dialFunc opens a TCP connection; net.Dialer.DialContext in production,
// a fake in tests.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// probePorts connects to every port of addr at once, as far as sem
// allows: each connect takes a slot of sem (shared by every host of a
// scan, so that the scan has a bounded number of connects in flight)
// before its goroutine starts, so that a host waiting for slots holds no
// goroutine but the caller's, however many ports it has. A connect takes
// at most timeout. One that is accepted is closed at once: knowing the
// port is open is all a scan wants. A refused connect is a closed port,
// not an open one. Once ctx ends, the ports not yet tried are left
// without a verdict.
func probePorts(ctx context.Context, dial dialFunc, addr netip.Addr, ports []uint16, timeout time.Duration, sem *semaphore.Weighted) portResult {
	results := make(chan connectOutcome, len(ports))
	started := 0
	for _, p := range ports {
		if sem.Acquire(ctx, 1) != nil {
			break // ctx ended
		}
		started++
		go func() {
			defer sem.Release(1)
			results <- connect(ctx, dial, netip.AddrPortFrom(addr, p), timeout)
		}()
	}
	var res portResult
	open := make(map[uint16]bool)
	for range started {
		o := <-results
		open[o.port] = o.open
		res.Refused = res.Refused || o.refused
	}
	for _, p := range ports {
		if open[p] {
			res.Open = append(res.Open, Port{Number: p, Service: ServiceName(p)})
		}
	}
	return res
}

// connectOutcome is what one connect showed.
type connectOutcome struct {
	port    uint16
	open    bool // accepted
	refused bool // reset: closed, but the host is up
}

// connect tries one TCP connect, for at most timeout.
func connect(ctx context.Context, dial dialFunc, dst netip.AddrPort, timeout time.Duration) connectOutcome {
	o := connectOutcome{port: dst.Port()}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := dial(ctx, "tcp", dst.String())
	switch {
	case err == nil:
		c.Close()
		o.open = true
	case errors.Is(err, syscall.ECONNREFUSED):
		o.refused = true
	}
	return o
}

// checkPorts checks a port list given through the API rather than typed,
// and returns it without repeats, in the order of first mention.
func checkPorts(ports []uint16) ([]uint16, error) {
	if slices.Contains(ports, 0) {
		return nil, errors.New("scanner: Enrich.Ports: port 0 cannot be connected to")
	}
	var out []uint16
	seen := make(map[uint16]bool, min(len(ports), targets.MaxPorts+1))
	for _, p := range ports {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) > targets.MaxPorts {
		return nil, fmt.Errorf("scanner: Enrich.Ports: %d ports, at most %d", len(out), targets.MaxPorts)
	}
	return out, nil
}
