package watch

import (
	"context"
	"net/netip"

	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// Opener opens the probe connection for one scan.
type Opener func(ctx context.Context) (probe.Conn, error)

// Scanner returns a ScanFunc that opens a connection with open, sweeps
// set through it with scanner.Scan and cfg, collects each host as
// enrichment last updated it, and closes the connection: between scans,
// minutes apart, a watcher holds no socket and no reader that wakes. The
// scan covers set's addresses, and IPv6 link-local neighbours too when
// cfg.Enrich looks for them.
func Scanner(open Opener, set *targets.Set, cfg scanner.Config) ScanFunc {
	linkLocal := cfg.Enrich != nil && cfg.Enrich.LinkLocal
	covered := func(a netip.Addr) bool {
		return set.Contains(a) || linkLocal && a.Is6() && a.IsLinkLocalUnicast()
	}
	return func(ctx context.Context) (Result, error) {
		conn, err := open(ctx)
		if err != nil {
			return Result{Targets: set.String(), Covered: covered}, err
		}
		defer conn.Close()
		var (
			order []netip.Addr
			hosts = map[netip.Addr]scanner.Host{}
		)
		sum, err := scanner.Scan(ctx, conn, set, cfg, func(e scanner.Event) {
			switch e.Kind {
			case scanner.HostFound, scanner.HostUpdated:
				if _, ok := hosts[e.Host.Addr]; !ok {
					order = append(order, e.Host.Addr)
				}
				hosts[e.Host.Addr] = e.Host
			}
		})
		res := Result{Summary: sum, Targets: set.String(), Covered: covered}
		for _, a := range order {
			res.Hosts = append(res.Hosts, hosts[a])
		}
		if err == nil && sum.Cancelled {
			err = ctx.Err()
		}
		return res, err
	}
}
