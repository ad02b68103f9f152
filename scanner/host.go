package scanner

import (
	"net"
	"net/netip"
	"time"

	"netscanner/probe"
	"netscanner/scanner/identify"
)

// Reason is a sign of life a host gave: why it counts as up, or what
// else it answered.
type Reason string

// Reasons a host is up, or answered.
const (
	ReasonEchoReply Reason = "echo-reply" // answered an echo request
	ReasonTCPReset  Reason = "tcp-rst"    // refused a TCP connect: up, port closed
	ReasonTCPOpen   Reason = "tcp-open"   // accepted a TCP connect
	ReasonNeighbour Reason = "neighbour"  // the kernel resolved its MAC address during the scan (as Reason: it answered nothing else; silent.go)
	ReasonMDNS      Reason = "mdns"       // answered a multicast DNS query
	ReasonNetBIOS   Reason = "netbios"    // answered a NetBIOS node status query
	ReasonSSDP      Reason = "ssdp"       // answered an SSDP search (identification)
)

// MACSource says where a Host's MAC address came from.
type MACSource string

// Where a Host's MAC address came from.
const (
	// MACFromNeighbours: the kernel's neighbour table (ARP, IPv6
	// neighbour discovery), for hosts on this machine's links.
	MACFromNeighbours MACSource = "neighbour"
	// MACFromNetBIOS: the host's own NetBIOS node status reply; used
	// only where the neighbour table cannot be read, as in an Android
	// app.
	MACFromNetBIOS MACSource = "netbios"
	// MACFromInterface: one of this machine's own interfaces.
	MACFromInterface MACSource = "interface"
)

// Host is one live device and everything learned about it.
type Host struct {
	Addr   netip.Addr
	RTT    time.Duration // first answer's round trip
	TTL    int           // TTL or hop limit of that answer; 0 if unknown
	Method probe.Method  // how it was found
	Reason Reason        // why it counts as up: ReasonEchoReply, ReasonTCPReset, ReasonTCPOpen

	// Filled in by enrichment, which may come after the host was first
	// reported.
	Hostname string           // best name known
	MAC      net.HardwareAddr // nil when unknown or behind a router
	Vendor   string           // maker from the MAC's registry prefix
	Ports    []Port           // open TCP ports
	Self     bool             // this machine
	Gateway  bool             // the default gateway

	Names     []string  // every name known, best (Hostname) first
	MACSource MACSource // where MAC came from
	// Reasons lists every sign of life the host gave, Reason first.
	Reasons []Reason
	// Note says what a user should know about the host that the fields
	// do not, such as why it has no MAC address.
	Note string

	// Filled in by identification (Enrich.Identify): what the host's
	// services and servers say about it (enrich_identify.go).
	Services []identify.Service // DNS-SD services it advertises, with their identity TXT keys
	UPnP     []identify.UPnP    // its UPnP device descriptions
	Web      []identify.Web     // what its web servers said: titles, Server headers, certificates
	SSH      string             // its SSH identification line
	// Identity is what the host is, its model and friendly name and the
	// evidence, from every fact above (and the maker, names and ports);
	// computed each time the host is reported, with identification off
	// too (from what costs no packet).
	Identity identify.Identity
	// Enriched is set on the last HostUpdated of a host: its enrichment
	// is over, and the Host is all the scan will learn about it.
	Enriched bool
	// Implausible marks an answer that is no device: an accepted TCP
	// connect like those of nearly every address scanned, in the same
	// time, as a captive portal or transparent proxy gives (plausible.go).
	// Note says so; the host is not counted in Summary.Alive and gets no
	// enrichment.
	Implausible bool
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
	Total     int          // addresses scanned
	Alive     int          // hosts found
	Method    probe.Method // method used
	Elapsed   time.Duration
	Cancelled bool // the context ended the scan early
	// Neighbours counts the hosts found beyond the targets, and not in
	// Alive: IPv6 link-local neighbours that answered on the scanned
	// LAN (see Enrich.LinkLocal).
	Neighbours int
	// Silent counts the hosts of Alive that answered nothing the sweep
	// sent: on this machine's links, found by the neighbour table
	// (ReasonNeighbour) or, where it cannot be read, by TCP probes.
	Silent int
	// OffLink counts the addresses scanned that lie behind a router (or
	// have no route): a host there counts only if it answers, since the
	// neighbour table never holds it, so one that ignores ping cannot
	// be seen from here. OffLinkNote(OffLink) says so in words.
	OffLink int
	// SilentNote, when not empty, says how hosts that ignore ping were
	// looked for on this machine's links when the neighbour table could
	// not be read, and what that leaves unseen.
	SilentNote string
	// Implausible counts the hosts reported with Host.Implausible set,
	// which Alive leaves out; ImplausibleNote says why, or is empty.
	Implausible     int
	ImplausibleNote string
}

// OffLinkNote explains, for n addresses behind a router, why a device
// there that ignores ping stays unseen; "" for none.
func OffLinkNote(n int) string { return offLinkNote(n) }
