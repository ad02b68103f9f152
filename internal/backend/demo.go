package backend

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"netscanner/internal/devices"
	"netscanner/internal/settings"
	"netscanner/internal/wol"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

//go:embed demo_hosts.json
var demoHosts []byte

// DemoBackend replays the hosts of a JSON export as if a scan found them.
// It sends nothing: it exists for screenshots, demonstrations and trying
// the app on a machine without a network. Run the app with
// NETSCANNER_DEMO=1 for the built-in sample, or NETSCANNER_DEMO=file.json
// for an export of your own.
type DemoBackend struct {
	hosts   []scanner.Host
	network scanner.Network
}

// NewDemoBackend reads hosts from the JSON export at src, or the built-in
// sample when src is "1".
func NewDemoBackend(src string) (*DemoBackend, error) {
	var r io.Reader = bytes.NewReader(demoHosts)
	if src != "1" {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		defer f.Close()
		r = f
	}
	hosts, err := devices.ReadHosts(r)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if len(hosts) == 0 {
		return nil, errors.New("demo: the file lists no hosts")
	}
	b := &DemoBackend{hosts: hosts}
	self := hosts[0].Addr
	for _, h := range hosts {
		if h.Self {
			self = h.Addr
		}
	}
	bits := 24
	if self.Is6() {
		bits = 120
	}
	p := netip.PrefixFrom(self, bits).Masked()
	b.network = scanner.Network{Interface: "wlan0", Addr: self, Prefix: p, Scan: p}
	for _, h := range hosts {
		if h.Gateway {
			b.network.Gateway = h.Addr
		}
	}
	return b, nil
}

// Networks returns the one network the sample lives on.
func (b *DemoBackend) Networks() ([]scanner.Network, error) {
	return []scanner.Network{b.network}, nil
}

// Method reports a machine where unprivileged ICMP sockets work.
func (b *DemoBackend) Method(_ context.Context, method probe.Method) *probe.Report {
	f := probe.Facts{UID: 1000, EUID: 1000, EGID: 1000, PingGroupRange: [2]int64{0, 2147483647},
		CapNetRawBounding: true, PingPath: "/usr/bin/ping", PingCapRaw: true}
	r := &probe.Report{Chosen: probe.Dgram, Facts: f, Forced: method != probe.Auto && method != ""}
	for _, m := range probe.Methods() {
		var openErr error = probe.ErrNotTried
		if m == probe.Dgram {
			openErr = nil
		}
		r.Methods = append(r.Methods, probe.Explain(f, m, openErr))
	}
	return r
}

// Scan walks the targets at a pace that lets the list fill visibly,
// reporting the sample's hosts among them, then their names and makers as
// enrichment would.
func (b *DemoBackend) Scan(ctx context.Context, targets *targets.Set, _ settings.Settings, emit func(scanner.Event)) (scanner.Summary, error) {
	start := time.Now()
	sum := scanner.Summary{Total: targets.Len(), Method: probe.Dgram}
	byAddr := make(map[netip.Addr]scanner.Host, len(b.hosts))
	for _, h := range b.hosts {
		byAddr[h.Addr] = h
	}
	var found []scanner.Host
	done := 0
	finish := func(err error) (scanner.Summary, error) {
		sum.Elapsed, sum.Alive, sum.Cancelled = time.Since(start), len(found), err != nil
		emit(scanner.Event{Kind: scanner.Progress, Done: done, Total: sum.Total})
		emit(scanner.Event{Kind: scanner.Finished, Summary: &sum})
		return sum, err
	}
	for a := range targets.All() {
		if h, ok := byAddr[a]; ok {
			found = append(found, h)
			emit(scanner.Event{Kind: scanner.HostFound, Host: scanner.Host{
				Addr: h.Addr, RTT: h.RTT, TTL: h.TTL, Method: probe.Dgram, Reason: scanner.ReasonEchoReply,
				Self: h.Self, Gateway: h.Gateway,
			}})
		}
		done++
		if done%8 == 0 {
			emit(scanner.Event{Kind: scanner.Progress, Done: done, Total: sum.Total})
			select {
			case <-ctx.Done():
				return finish(ctx.Err())
			case <-time.After(30 * time.Millisecond):
			}
		}
	}
	for _, h := range found {
		emit(scanner.Event{Kind: scanner.HostUpdated, Host: h})
	}
	return finish(nil)
}

// Ping answers for the sample's hosts after about their recorded round
// trip, and times out for any other address.
func (b *DemoBackend) Ping(ctx context.Context, _ probe.Method, addr netip.Addr) (time.Duration, error) {
	for _, h := range b.hosts {
		if h.Addr != addr {
			continue
		}
		rtt := time.Duration(float64(max(h.RTT, 50*time.Microsecond)) * (0.7 + 0.9*rand.Float64()))
		if rand.IntN(30) == 0 {
			break // now and then a ping is lost, as on Wi-Fi
		}
		select {
		case <-ctx.Done():
			return 0, probe.ErrTimeout
		case <-time.After(rtt):
			return rtt, nil
		}
	}
	<-ctx.Done()
	return 0, probe.ErrTimeout
}

// WakeOnLAN builds the packet and sends nothing.
func (b *DemoBackend) WakeOnLAN(_ context.Context, mac net.HardwareAddr, _ netip.AddrPort) error {
	_, err := wol.MagicPacket(mac)
	return err
}
