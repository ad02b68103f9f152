// Package backend is what the app asks of the network, without a widget
// in sight: the Backend interface, the SystemBackend that really scans
// (packages scanner and probe), the DemoBackend that replays an export,
// and the checks the target field runs as the user types. Its tests need
// no window.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"netscanner/internal/settings"
	"netscanner/internal/wol"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// Backend is everything the app needs from the network. The app itself
// knows nothing about sockets: the real Backend is built on packages
// scanner, probe and wol; tests and the demo mode bring their own.
//
// Every method may block and is called off the UI goroutine.
type Backend interface {
	// Networks lists the networks this machine is on: what a scan covers
	// when the user names no targets.
	Networks() ([]scanner.Network, error)
	// Method says which ping method a scan would use with method (Auto or
	// forced), which others work, and how to enable those that do not.
	Method(ctx context.Context, method probe.Method) *probe.Report
	// Scan sweeps targets, reporting through emit as scanner.Scan does,
	// and returns its summary.
	Scan(ctx context.Context, targets *targets.Set, s settings.Settings, emit func(scanner.Event)) (scanner.Summary, error)
	// Ping sends one echo request to addr by method and returns the round
	// trip time, or an error such as probe.ErrTimeout when ctx ends
	// first.
	Ping(ctx context.Context, method probe.Method, addr netip.Addr) (time.Duration, error)
	// WakeOnLAN sends a magic packet for mac to dst (a broadcast address
	// and port).
	WakeOnLAN(ctx context.Context, mac net.HardwareAddr, dst netip.AddrPort) error
}

// SystemBackend is the Backend that really scans, through package
// scanner. It keeps one Pinger per method open for the live ping graph;
// Close releases them.
type SystemBackend struct {
	mu      sync.Mutex
	pingers map[probe.Method]*probe.Pinger
}

// NewSystemBackend returns a Backend on this machine's network.
func NewSystemBackend() *SystemBackend {
	return &SystemBackend{pingers: map[probe.Method]*probe.Pinger{}}
}

// Networks lists this machine's IPv4 networks.
func (b *SystemBackend) Networks() ([]scanner.Network, error) {
	return scanner.LocalNetworks()
}

// Method opens every method once and reports each verdict.
func (b *SystemBackend) Method(ctx context.Context, method probe.Method) *probe.Report {
	return probe.Diagnose(ctx, probe.Options{Method: method})
}

// Scan opens a Conn by the settings' method and runs scanner.Scan on it,
// with the scanner's enrichment (names, MACs, makers, ports, this machine
// and the gateway) as the settings ask.
func (b *SystemBackend) Scan(ctx context.Context, targets *targets.Set, s settings.Settings, emit func(scanner.Event)) (scanner.Summary, error) {
	conn, _, err := probe.Open(ctx, probe.Options{Method: s.Method, Timeout: s.Timeout})
	if err != nil {
		return scanner.Summary{}, err
	}
	defer conn.Close()
	return scanner.Scan(ctx, conn, targets, s.Config(), emit)
}

// Ping sends one echo request through a Pinger kept open for method.
func (b *SystemBackend) Ping(ctx context.Context, method probe.Method, addr netip.Addr) (time.Duration, error) {
	p, err := b.pinger(ctx, method)
	if err != nil {
		return 0, err
	}
	r, err := p.Ping(ctx, addr)
	if err != nil {
		b.drop(method, p) // a broken Pinger is reopened on the next call
		return 0, err
	}
	if r.Err != nil {
		return 0, r.Err
	}
	return r.RTT, nil
}

func (b *SystemBackend) pinger(ctx context.Context, method probe.Method) (*probe.Pinger, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pingers == nil {
		return nil, errors.New("backend closed")
	}
	if p, ok := b.pingers[method]; ok {
		return p, nil
	}
	conn, _, err := probe.Open(ctx, probe.Options{Method: method})
	if err != nil {
		return nil, fmt.Errorf("opening a ping socket: %w", err)
	}
	p := probe.NewPinger(conn)
	b.pingers[method] = p
	return p, nil
}

func (b *SystemBackend) drop(method probe.Method, p *probe.Pinger) {
	b.mu.Lock()
	if b.pingers[method] == p {
		delete(b.pingers, method)
	}
	b.mu.Unlock()
	_ = p.Close() // already failing; its error adds nothing
}

// WakeOnLAN sends a magic packet.
func (b *SystemBackend) WakeOnLAN(ctx context.Context, mac net.HardwareAddr, dst netip.AddrPort) error {
	return wol.SendMagic(ctx, mac, dst)
}

// Close closes the Pingers. The backend refuses pings afterwards.
func (b *SystemBackend) Close() error {
	b.mu.Lock()
	ps := b.pingers
	b.pingers = nil
	b.mu.Unlock()
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}
