package scanner

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"netscanner/probe"
	"netscanner/scanner/dnssd"
	"netscanner/scanner/mcast"
	"netscanner/scanner/names"
	"netscanner/scanner/neigh"
	"netscanner/scanner/ssdp"
	"netscanner/scanner/targets"
)

// enrichEnv is everything enrichment asks of the machine and the network.
// A nil function stands for a source that is not there.
type enrichEnv struct {
	interfaces   func() ([]localIface, error)
	networks     func() ([]Network, error)
	route        func(context.Context, netip.Addr) (neigh.Route, error)
	lookupMAC    func(context.Context, netip.Addr) (net.HardwareAddr, error)
	lookupNames  func(context.Context, netip.Addr) names.Result
	dial         dialFunc
	openAllNodes func(probe.Method) (probe.Conn, error)
	// links lists the links multicast rounds ask on, of those whose
	// prefixes covers accepts; startDNSSD and startSSDP start a round.
	links      func(covers func(netip.Prefix) bool) ([]mcast.Link, error)
	startDNSSD func(context.Context, dnssd.Config) (*dnssd.Browser, error)
	startSSDP  func(context.Context, ssdp.Config) (*ssdp.Browser, error)
}

// systemEnv is this machine, with every socket opened and every kernel
// table read through inNet (Enrich.InNet) when it is set.
func systemEnv(res *names.Resolver, inNet func(func()) error) *enrichEnv {
	if res == nil {
		res = &names.Resolver{Timeout: DefaultNameTimeout}
	}
	if inNet != nil {
		r := *res
		r.InNet = inNet
		res = &r
	}
	dialer := &net.Dialer{}
	return &enrichEnv{
		interfaces: func() ([]localIface, error) { return within(inNet, localInterfaces) },
		networks:   func() ([]Network, error) { return within(inNet, LocalNetworks) },
		route: func(ctx context.Context, a netip.Addr) (neigh.Route, error) {
			return within(inNet, func() (neigh.Route, error) { return neigh.RouteTo(ctx, a) })
		},
		lookupMAC: func(ctx context.Context, a netip.Addr) (net.HardwareAddr, error) {
			return within(inNet, func() (net.HardwareAddr, error) { return neigh.Lookup(ctx, a) })
		},
		lookupNames: res.Lookup,
		dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return within(inNet, func() (net.Conn, error) { return dialer.DialContext(ctx, network, address) })
		},
		openAllNodes: func(m probe.Method) (probe.Conn, error) {
			return within(inNet, func() (probe.Conn, error) { return openAllNodesConn(m) })
		},
		links:      linksFor(inNet),
		startDNSSD: dnssd.Start,
		startSSDP:  ssdp.Start,
	}
}

// within runs fn through inNet, or as is when inNet is nil.
func within[T any](inNet func(func()) error, fn func() (T, error)) (v T, err error) {
	if inNet == nil {
		return fn()
	}
	if nerr := inNet(func() { v, err = fn() }); nerr != nil {
		var zero T
		return zero, fmt.Errorf("scanner: entering the scan's network: %w", nerr)
	}
	return v, err
}

// defaultRouteProbes are addresses whose route is the default route on
// almost any machine (a documentation address and an unassigned global
// one), so asking the kernel how it would reach them names the default
// gateways. Only the routing table is asked; nothing is sent.
var defaultRouteProbes = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2000::1")}

// localView is what enrichment knows about this machine before the scan.
type localView struct {
	self     map[netip.Addr]net.HardwareAddr // own addresses (no zone) and their interface's MAC
	gateways map[netip.Addr]bool             // default gateways (no zone)
	allNodes []localIface                    // interfaces for the ff02::1 probe
}

func newLocalView(ctx context.Context, env *enrichEnv, t *targets.Set, linkLocal bool) localView {
	v := localView{self: map[netip.Addr]net.HardwareAddr{}, gateways: map[netip.Addr]bool{}}
	if env.interfaces != nil {
		// Without the interface list, no host is marked as this machine:
		// a poorer result, not a failed scan.
		if ifs, err := env.interfaces(); err == nil {
			for _, ifc := range ifs {
				for _, p := range ifc.Prefixes {
					v.self[p.Addr().WithZone("")] = ifc.MAC
				}
			}
			if linkLocal {
				v.allNodes = allNodesInterfaces(ifs, t)
			}
		}
	}
	if env.networks != nil {
		if nets, err := env.networks(); err == nil {
			for _, n := range nets {
				if n.Gateway.IsValid() {
					v.gateways[n.Gateway.WithZone("")] = true
				}
			}
		}
	}
	if env.route != nil {
		for _, a := range defaultRouteProbes {
			if r, err := env.route(ctx, a); err == nil && r.Gateway.IsValid() && !r.Gateway.IsUnspecified() {
				v.gateways[r.Gateway.WithZone("")] = true
			}
		}
	}
	return v
}
