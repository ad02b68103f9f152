// Package scanner turns a set of targets into a stream of live hosts.
//
// It sends echo requests through an icmpsock.Conn, paced by a token bucket,
// with thousands of probes in flight, and reports each host the moment its
// first answer lands. It knows nothing about user interfaces: the CLI and
// the app are both thin clients of Scan.
package scanner

import (
	"net"
	"net/netip"
	"time"

	"netscanner/icmpsock"
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
}

// DefaultConfig returns the settings a user would choose for a home
// network.
func DefaultConfig() Config {
	return Config{
		Timeout:       time.Second,
		Retries:       1,
		RetryInterval: 250 * time.Millisecond,
		Rate:          DefaultRate,
		MaxHosts:      DefaultMaxHosts,
	}
}

// DefaultRate is requests per second: a /24 goes out in about a quarter of
// a second, a pace a home Wi-Fi access point takes without complaint.
const DefaultRate = 1000

// DefaultMaxHosts is the largest target set scanned without being asked
// for more: a /16.
const DefaultMaxHosts = 65536

// Host is one live device and everything learned about it.
type Host struct {
	Addr   netip.Addr
	RTT    time.Duration   // first answer's round trip
	TTL    int             // TTL or hop limit of that answer; 0 if unknown
	Method icmpsock.Method // how it was found
	Reason string          // why it counts as up: "echo-reply", "tcp-rst", "tcp-open", ...

	// Filled in by enrichment, which may come after the host was first
	// reported.
	Hostname string           // best name known
	MAC      net.HardwareAddr // nil when unknown or behind a router
	Vendor   string           // maker from the MAC's registry prefix
	Ports    []Port           // open TCP ports
	Self     bool             // this machine
	Gateway  bool             // the default gateway

	Names     []string // every name known, best (Hostname) first
	MACSource string   // where MAC came from: MACFromNeighbours, MACFromNetBIOS or MACFromInterface
	// Reasons lists every sign of life the host gave, Reason first:
	// "echo-reply", "tcp-rst", "tcp-open", "neighbour" (the kernel
	// resolved its MAC address), "mdns", "netbios".
	Reasons []string
	// Note says what a user should know about the host that the fields
	// do not, such as why it has no MAC address.
	Note string
	// Enriched is set on the last HostUpdated of a host: its enrichment
	// is over, and the Host is all the scan will learn about it.
	Enriched bool
}

// Port is an open TCP port and the service usually behind it.
type Port struct {
	Number  uint16
	Service string
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	HostFound   EventKind = iota // a host answered for the first time
	HostUpdated                  // enrichment learned more about a host
	Progress                     // addresses finished so far
	Finished                     // the scan is over; Summary is set
)

// Event is one step of a scan, delivered to the caller's callback in order.
type Event struct {
	Kind    EventKind
	Host    Host     // HostFound, HostUpdated
	Done    int      // Progress: addresses answered or given up on
	Total   int      // Progress: addresses in the scan
	Summary *Summary // Finished
}

// Summary closes a scan.
type Summary struct {
	Total     int             // addresses scanned
	Alive     int             // hosts found
	Method    icmpsock.Method // method used
	Elapsed   time.Duration
	Cancelled bool // the context ended the scan early
	// Neighbours counts the hosts found beyond the targets, and not in
	// Alive: IPv6 link-local neighbours that answered on the scanned
	// LAN (see Enrich.LinkLocal).
	Neighbours int
}
