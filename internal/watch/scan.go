package watch

import (
	"context"
	"net/netip"

	"netscanner/icmpsock"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// Scanner returns a ScanFunc that sweeps set through conn with
// scanner.Scan and cfg, and collects each host as enrichment last
// updated it. conn serves every scan; the caller closes it after Run.
// The scan covers set's addresses, and IPv6 link-local neighbours too
// when cfg.Enrich looks for them.
func Scanner(conn icmpsock.Conn, set *targets.Set, cfg scanner.Config) ScanFunc {
	linkLocal := cfg.Enrich != nil && cfg.Enrich.LinkLocal
	covered := func(a netip.Addr) bool {
		return set.Contains(a) || linkLocal && a.Is6() && a.IsLinkLocalUnicast()
	}
	return func(ctx context.Context) (Result, error) {
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
