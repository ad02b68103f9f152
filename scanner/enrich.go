package scanner

// Enrichment: what a scan learns about each host besides the fact that it
// answered.
//
// A host's enrichment starts the moment the sweep finds it, as two jobs
// that run beside the sweep, each on a worker goroutine of its own:
//
//  1. the link job: its MAC address, from the kernel's neighbour table,
//     which the sweep's own request has just filled in (nothing is sent;
//     refused for hosts behind a router, whose frames carry the router's
//     MAC), then its open TCP ports;
//  2. the names job (package names: DNS PTR records, multicast DNS,
//     NetBIOS), which starts once the MAC lookup is over and runs beside
//     the port probes.
//
// Each fact goes back to the goroutine that called Scan as a small
// function that applies it to the host's record there, which then emits
// a HostUpdated carrying everything known so far. Workers never touch a
// Host themselves, and a fact carries the address it was learned for, so
// an answer about one host cannot end up on another. A host's enrichment
// is over when both its jobs are.
//
// Beside them, one more worker sends an echo request to ff02::1 on the
// scanned LAN (local_allnodes.go); every IPv6 host that answers from a
// link-local address joins the scan as a found host with jobs of its own.
//
// Bounds: a sweep can find hundreds of hosts in a second, and a worker,
// its stack and its sockets cost memory however little they do, so the
// scan's goroutine starts at most enrichHosts link jobs and nameLookups
// names jobs at once; the jobs of the hosts found beyond that wait in a
// line (lineUp) as bare addresses, and start, oldest first, as others
// end. A host waiting in line has been reported as found all the same.
// TCP connects, each a goroutine and a socket, are capped scan-wide by a
// semaphore, taken before the goroutine starts. So the memory of a scan
// of a /16 stays that of a few hundred workers, whatever it finds, while
// a home /24, with its tens of hosts, is enriched all at once. After the
// sweep ends, Finished waits at most Enrich.Wait for the jobs still
// running or waiting, then cancels them, drops those not started, and
// reports what had been learned.
//
// Everything enrichment opens or reads goes through Enrich.InNet when it
// is set (enrich_env.go), so a caller scanning another network namespace
// says so once, and the workers' threads need not be in it.

import (
	"time"

	"netscanner/scanner/names"
)

// Defaults for an Enrich's zero fields, and the scan-wide bounds (which
// Enrich's doc names).
const (
	// DefaultEnrichWait is how long Finished waits, after the sweep,
	// for enrichment still running. Most of it ran during the sweep:
	// a host found at the sweep's start is done before the sweep ends.
	DefaultEnrichWait = 1500 * time.Millisecond
	// DefaultNameTimeout bounds one host's name lookups: an mDNS or
	// NetBIOS answer on a LAN takes milliseconds, and a host that does
	// not answer costs exactly this long.
	DefaultNameTimeout = time.Second
	// enrichHosts caps the link jobs (MAC lookup, then port probes) run
	// at once: enough for every live host of a home /24 at once, few
	// enough that the workers of a big sweep's hundreds of hosts, and
	// their stacks, never all exist together. A link job takes
	// milliseconds on a host that answers connects, and a few
	// PortTimeouts at most on one that drops them, so the line moves.
	enrichHosts = 128
	// nameLookups caps the hosts whose names are looked up at once. A
	// /24 at home has dozens of live hosts, most of them silent to
	// NetBIOS; at 32 at a time (names.DefaultLimit) their one-second
	// silences would queue up past the sweep's end. Each lookup holds
	// up to three sockets and four goroutines for up to a second, which
	// is why the hundreds of hosts of a big sweep wait in line for it.
	nameLookups = 128
	// portConnects caps the TCP connects in flight across the scan.
	portConnects = 256
	// macRetries and macRetryGap give the neighbour table a moment
	// when a host's entry is not there the instant its reply is.
	macRetries  = 2
	macRetryGap = 50 * time.Millisecond
	// tailMinJob and tailAfterSweep bound enrichment after the sweep
	// (with Enrich.Wait 0): a job still running then is cut tailMinJob
	// after it started or tailAfterSweep after the sweep ended,
	// whichever is later. The multicast rounds get tailMinRound from
	// their start instead: one round of each, whoever answers.
	tailMinJob     = 200 * time.Millisecond
	tailAfterSweep = 150 * time.Millisecond
	tailMinRound   = 1300 * time.Millisecond
	// bannerTimeout bounds one banner read (connect included): a
	// device's web server answers in milliseconds.
	bannerTimeout = time.Second
)

// Enrich says what a scan learns about each live host. The zero value
// learns only what costs no packet: the MAC address and its maker, and
// whether a host is this machine or the gateway. DefaultEnrich turns on
// everything.
//
// A host's enrichment starts the moment it is found, as long as fewer
// than 128 hosts are being enriched: every host of a home network is
// enriched at once. The hosts a big sweep finds beyond that wait their
// turn, in the order found (already reported by HostFound), so that a
// scan's memory stays bounded however many hosts answer; the same goes
// for name lookups (128 hosts at once) and TCP connects (256 at once
// across the scan).
type Enrich struct {
	// Names looks up each host's names: DNS PTR records, multicast DNS
	// and NetBIOS, through Resolver.
	Names bool
	// Resolver does the name lookups; nil means one with
	// DefaultNameTimeout and the system's DNS.
	Resolver *names.Resolver
	// Ports are the TCP ports tried on each host, such as DefaultPorts();
	// none when empty. A port counts as open only if the connect is
	// accepted; a refused one is closed (and proves the host up).
	Ports []uint16
	// PortTimeout bounds one connect; 0 means DefaultPortTimeout.
	PortTimeout time.Duration
	// Identify says what each host is (Host.Identity's sources): one
	// DNS-SD browse and one SSDP search, started with the scan on the
	// links the targets reach and answered while it runs, with UPnP
	// descriptions fetched from the devices that answer; and the
	// banners of the web and SSH ports the port probes find open. Off,
	// none of that traffic is sent (Host.Identity is still worked out
	// from the maker, names and ports).
	Identify bool
	// LinkLocal sends one echo request to ff02::1, the all-nodes group,
	// on each interface whose network the targets cover, and adds every
	// IPv6 host that answers from a link-local address: hosts no sweep
	// can enumerate. It needs a Conn of the dgram or raw method.
	LinkLocal bool
	// InNet, when set, runs fn, which opens a socket or reads one of
	// the kernel's network tables, in the network the scan belongs to:
	// a network namespace other than the process's, say, which InNet
	// enters on a locked thread for the call. Every socket and table
	// read of enrichment goes through it (a socket stays in the
	// namespace it was opened in), and so do the Resolver's. Nil runs fn
	// as is, in the network of whichever thread runs it: the process's.
	// The sweep's own Conn is the caller's to open where it belongs.
	InNet func(fn func()) error
	// Wait bounds how long Scan waits after the sweep for enrichment
	// still running or waiting its turn before it reports Finished; 0
	// means DefaultEnrichWait. Work still running then is cut short,
	// work still waiting never starts, and what had been learned is
	// reported. With Wait 0, a job still running when the sweep ends
	// gets tailMinJob from its start, or tailAfterSweep, whichever ends
	// later, and no longer: an answer on a LAN takes milliseconds, so a
	// host found at the sweep's end need not hold the scan up for the
	// full budget of a silent one.
	Wait time.Duration

	// env is the machine enrichment asks; nil means this one. Tests
	// substitute fakes.
	env *enrichEnv
	// silent is the sweep's judge of silent on-link hosts, whose
	// undecided addresses enrichment's TCP probes settle (silent.go).
	silent *silentFinder
}

// DefaultEnrich returns the enrichment a user expects from a LAN scan:
// names, the default ports, the IPv6 link-local neighbours and
// identification.
func DefaultEnrich() *Enrich {
	return &Enrich{Names: true, Ports: DefaultPorts(), LinkLocal: true, Identify: true}
}
