// Package dnssd browses the local links for DNS-SD services (RFC 6763)
// over multicast DNS (RFC 6762), IPv4 and IPv6, and says which services
// each scanned host announces about itself: printers with their model,
// Chromecasts with their friendly name, AirPlay speakers, NAS boxes.
//
// One Browser runs one round, started when a scan starts and answered
// while the sweep runs. It asks every link once (and once again, for a
// lost packet) for the service types of _services._dns-sd._udp.local and
// of DefaultTypes; it then asks for the new types the answers name, and
// asks each answering host directly for what its answers left out (SRV,
// TXT, address records), so answers split over several packets come
// together. A round ends when nothing new has been heard, and nothing
// sent, for Config.Quiet, or after Config.Duration: a link where nobody
// answers costs two query packets per family and Quiet after the second.
//
// Queries go from port 5353, shared with a system responder if there is
// one, so that answers come in full (RFC 6762 section 6): the first asks
// for unicast answers (the QU bit), which a responder sends even for
// records it multicast a moment ago, the second for multicast ones, heard
// on the group. When port 5353 cannot be had (or Config.NoMulticastListen
// says not to), queries go from an ephemeral port per link as a "legacy"
// querier's, which responders answer by unicast in at most 512 bytes, so
// each packet asks little.
//
// # Whose service is it
//
// Every answer comes from the network and may lie. What a packet says is
// kept apart per source address, and a service is credited to address X
// only if X itself sent its SRV record and an address record (A or AAAA)
// mapping the SRV target to X; the records may come in separate packets,
// but all from X. A host that announces a service for an address it does
// not send from credits nobody (Stats.Foreign counts such records), and
// a packet from an address the caller does not scan is dropped unread
// (Stats.NotScanned). A _device-info._tcp record, which has no SRV, is
// credited to its sender once the sender has announced an address record
// for itself. So a dual-stack host's services are credited to each address
// it answered from (its IPv4 address, its IPv6 link-local address), not to
// addresses it only names.
//
// Names and TXT values are cleaned as scanner/names cleans names, and
// everything kept is bounded: TXT keys (only IdentityKeys are kept),
// services per host, hosts, service types and datagram size.
//
// Sockets are opened through Config.InNet (on the thread that calls Start
// when it is nil), with scanner/mcast.
package dnssd

import (
	"net/netip"
	"time"

	"netscanner/scanner/mcast"
)

// Defaults for a Config's zero fields.
const (
	DefaultDuration = 2 * time.Second
	DefaultQuiet    = 400 * time.Millisecond
	DefaultResend   = 250 * time.Millisecond
	DefaultMaxHosts = 1024
	// DefaultPort is the multicast DNS port.
	DefaultPort = 5353
)

// Limits on what one round keeps.
const (
	// MaxServicesPerHost caps the service instances kept per source,
	// and MaxServices those of all sources together.
	MaxServicesPerHost = 32
	MaxServices        = 2048
	// MaxTypes caps the service types asked for in one round.
	MaxTypes = 64
	// MaxNamesPerHost caps the host names a source may give addresses
	// for, and MaxAddrsPerName the addresses kept per name.
	MaxNamesPerHost = 8
	MaxAddrsPerName = 8
	// MaxValueLen caps a kept TXT value, in bytes.
	MaxValueLen = 128
	// maxDatagram is the largest datagram read; a longer one is
	// rejected whole.
	maxDatagram = 9000
	// maxTries is how many times a host is asked directly for what its
	// answers left out.
	maxTries = 3
)

// The multicast DNS groups.
var (
	Group4 = netip.MustParseAddr("224.0.0.251")
	Group6 = netip.MustParseAddr("ff02::fb")
)

// MetaQuery is the DNS-SD name whose PTR records list service types.
const MetaQuery = "_services._dns-sd._udp.local."

// DefaultTypes are the service types every round asks for, besides those
// MetaQuery returns: the ones that tell what a home device is.
var DefaultTypes = []string{
	"_googlecast._tcp", "_airplay._tcp", "_raop._tcp", "_ipp._tcp", "_ipps._tcp",
	"_printer._tcp", "_pdl-datastream._tcp", "_scanner._tcp", "_uscan._tcp", "_device-info._tcp",
	"_hap._tcp", "_homekit._tcp", "_spotify-connect._tcp", "_sonos._tcp", "_amzn-wplay._tcp",
	"_companion-link._tcp", "_smb._tcp", "_afpovertcp._tcp", "_adisk._tcp", "_ssh._tcp",
	"_sftp-ssh._tcp", "_http._tcp", "_https._tcp", "_workstation._tcp", "_daap._tcp",
	"_rfb._tcp", "_nvstream._tcp", "_androidtvremote2._tcp", "_matter._tcp", "_hue._tcp",
	"_esphomelib._tcp", "_home-assistant._tcp", "_mqtt._tcp", "_axis-video._tcp", "_rtsp._tcp",
}

// IdentityKeys are the TXT keys (compared case-insensitively, kept in lower
// case) that say what a device is; other keys are dropped. They are: md
// (model: Chromecast, HomeKit), fn (friendly name: Chromecast), ty and
// product (printer make and model), usb_mfg and usb_mdl (printer IEEE 1284
// ids), model (AirPlay, _device-info, NAS), am (AirPlay/RAOP model), rpmd
// (companion-link model), note (printer location), manufacturer, mfg, mdl,
// vendor, ci (HomeKit accessory category), n (Amazon device name),
// displaymodel, osxvers and srcvers (Apple software versions); and those
// package identify's rules read: app and gen (Shelly), friendly_name,
// platform, board and project_name (ESPHome), location_name and version
// (Home Assistant), modelid (Hue), mn and vn (Thread border routers),
// path and adminurl (where a service's page is). A test in package
// scanner checks that every key the rules read is here.
var IdentityKeys = []string{
	"md", "fn", "ty", "product", "usb_mfg", "usb_mdl", "model", "am", "rpmd", "note",
	"manufacturer", "mfg", "mdl", "vendor", "ci", "n", "displaymodel", "osxvers", "srcvers",
	"app", "gen", "friendly_name", "platform", "board", "project_name", "location_name", "version",
	"modelid", "mn", "vn", "path", "adminurl",
}

// Service is one DNS-SD service instance a host announced about itself.
type Service struct {
	// Type is the service type without domain, such as "_googlecast._tcp".
	Type string
	// Instance is the instance name, unescaped and cleaned, such as
	// "Living Room TV".
	Instance string
	// Host is the SRV target without its trailing dot, such as
	// "Chromecast-Ultra-1a2b.local"; empty for a record without SRV
	// (_device-info._tcp).
	Host string
	// Port is the SRV port; 0 without SRV.
	Port uint16
	// TXT holds the identity-bearing TXT keys (IdentityKeys, lower
	// case) with their cleaned values; nil when there are none.
	TXT map[string]string
}

// Config configures one browse round.
type Config struct {
	// Links are the links to browse (mcast.LocalLinks lists them).
	Links []mcast.Link
	// Scanned says which addresses the scan covers; answers from any
	// other source are dropped unread. Link-local IPv6 addresses come
	// with their link's Name as zone. It is required, and called from one
	// goroutine at a time.
	Scanned func(netip.Addr) bool
	// Duration bounds the round; zero is DefaultDuration.
	Duration time.Duration
	// Quiet ends the round early once nothing new was heard, and
	// nothing sent, for that long; zero is DefaultQuiet.
	Quiet time.Duration
	// Resend is the wait before a query is repeated; zero is
	// DefaultResend.
	Resend time.Duration
	// Types are service types to ask for besides DefaultTypes, in the
	// form "_name._tcp".
	Types []string
	// MaxHosts caps the sources whose answers are kept; zero is
	// DefaultMaxHosts.
	MaxHosts int
	// NoMulticastListen leaves port 5353 alone: queries go as a legacy
	// querier's, from ephemeral ports, and only their unicast answers
	// are heard.
	NoMulticastListen bool
	// InNet, when set, runs fn, which opens a socket, in the network
	// namespace the scan belongs in (pass scanner.Enrich.InNet); nil
	// opens sockets on the thread that calls Start.
	InNet func(fn func()) error
	// OnUpdate, if set, is called whenever a host's list of services
	// changes, with the whole new list. Calls never overlap; a slow
	// OnUpdate holds up the round.
	OnUpdate func(addr netip.Addr, services []Service)
}

// Stats says what a round did, for tests, traces and the packets list.
type Stats struct {
	Sent       int           // query datagrams sent
	Received   int           // datagrams read
	Accepted   int           // responses taken (from a scanned source, well-formed)
	NotScanned int           // datagrams from sources the scan does not cover
	Rejected   int           // malformed, oversized or otherwise refused responses
	Foreign    int           // address records naming an address other than their sender's
	Capped     int           // records dropped by a limit
	Truncated  int           // responses with the TC bit
	LastReject error         // why the last rejected response was rejected
	Listening  bool          // whether the shared socket on port 5353 was had (else legacy queries)
	Errors     []error       // sockets that could not be opened or used
	Elapsed    time.Duration // how long the round ran
}
