// Package scanner turns a set of targets into a stream of live hosts.
//
// It sends echo requests through an probe.Conn, paced by a token bucket,
// with thousands of probes in flight, and reports each host the moment its
// first answer lands. It knows nothing about user interfaces: the CLI and
// the app are both thin clients of Scan. What may be scanned (the target
// grammar, ports, limits) is package targets'.
//
// Files by job:
//
//	scanner.go        Config and its defaults
//	host.go           what a scan reports: Host, Reason, MACSource, Event, Summary
//	engine.go         the sweep: pacing, retries, matching replies, timeouts
//	enrich.go         Enrich: what a scan learns about each host, and its bounds
//	enrich_env.go     what enrichment asks of the machine (injectable for tests)
//	enrich_loop.go    enrichment's plumbing: lining up jobs beside the sweep
//	enrich_jobs.go    the jobs: MAC address, names, ports, and the facts they add
//	enrich_ports.go   TCP connects and the services behind ports
//	silent.go         on-link hosts that answer nothing: the neighbour table as evidence
//	local_networks.go this machine's IPv4 networks and the default targets
//	local_allnodes.go IPv6 link-local neighbours through ff02::1
package scanner

import (
	"time"

	"netscanner/scanner/targets"
)

// Config tunes a scan. The zero value is filled in with DefaultConfig's
// values.
type Config struct {
	// Timeout is how long to wait for an answer after a host's last
	// request.
	Timeout time.Duration
	// Retries is how many more requests a silent host gets.
	Retries int
	// RetryInterval is the gap between requests to one host. Retries go
	// out early, while the first request's deadline is still open, so a
	// host that drops its first request costs no extra scan time.
	RetryInterval time.Duration
	// Rate caps requests per second across the whole scan.
	Rate float64
	// MaxHosts refuses target sets larger than this.
	MaxHosts int
	// Enrich, when set, makes every host found say what it is: its MAC
	// address and maker, its names, its open ports, whether it is this
	// machine or the gateway; and finds the IPv6 link-local neighbours
	// no sweep can enumerate. Nil sweeps and nothing more.
	Enrich *Enrich
	// IgnoreNeighbours stops the sweep from reporting the hosts on this
	// machine's links that answer nothing it sends but whose addresses
	// the kernel resolved meanwhile (ReasonNeighbour; see silent.go):
	// then only answers count.
	IgnoreNeighbours bool

	// silent is the machine the sweep asks about silent hosts; nil means
	// this one. Tests substitute fakes.
	silent *silentEnv
}

// DefaultConfig returns the settings a user would choose for a home
// network.
func DefaultConfig() Config {
	return Config{
		Timeout:       time.Second,
		Retries:       1,
		RetryInterval: 250 * time.Millisecond,
		Rate:          DefaultRate,
		MaxHosts:      targets.DefaultMaxHosts,
	}
}

// DefaultRate is requests per second: a /24 goes out in about a quarter of
// a second, a pace a home Wi-Fi access point takes without complaint.
const DefaultRate = 1000
