// Package ssdp finds UPnP devices on the local links (SSDP, UPnP Device
// Architecture 1.1 and 2.0) and reads what their device descriptions say
// they are: friendly name, manufacturer, model name and number, device
// type, and the same of their embedded devices.
//
// One Browser runs one round, started when a scan starts and answered
// while the sweep runs: an M-SEARCH for ssdp:all to 239.255.255.250:1900
// and [ff02::c]:1900 on every link, sent twice, then Config.MX and a
// margin of listening for the answers, which devices spread over MX
// seconds. A LAN where nobody answers costs those two packets per family
// and link, and the listening.
//
// Each answer's LOCATION is fetched once (HTTP GET, Config.FetchTimeout,
// at most MaxDescription bytes) as soon as it arrives, but only when the
// answer comes from an address the scan covers, and only from that
// address: a LOCATION whose host is not exactly the answer's source
// address (a name, another address) is refused (ErrForeignLocation), the
// connection goes to the source address whatever the URL says, and a
// redirect is followed only to the same address, at most twice.
//
// Strings are cleaned as scanner/names cleans names, and everything kept
// is bounded: devices, locations and search targets per device, embedded
// devices, datagram and description sizes.
//
// Sockets are opened, and descriptions dialled, through Config.InNet
// (on the calling thread when it is nil), with scanner/mcast.
package ssdp

import (
	"errors"
	"net/netip"
	"time"

	"netscanner/scanner/mcast"
)

// Defaults for a Config's zero fields.
const (
	DefaultMX           = 1 * time.Second
	DefaultResend       = 250 * time.Millisecond
	DefaultFetchTimeout = 1 * time.Second
	DefaultDuration     = 2500 * time.Millisecond
	DefaultMaxHosts     = 256
	// Port is the SSDP port.
	Port = 1900
)

// Limits on what one round keeps and reads.
const (
	// MaxDescription caps a description document, in bytes; a longer
	// one is refused whole (ErrTooLarge).
	MaxDescription = 64 << 10
	// MaxLocations caps the description URLs fetched per device, and
	// MaxTypes the search targets (ST) kept per device.
	MaxLocations = 4
	MaxTypes     = 16
	// MaxEmbedded caps the embedded devices kept per description, and
	// maxDepth how deep they are looked for.
	MaxEmbedded = 16
	maxDepth    = 4
	// maxDatagram is the largest answer read; a longer one is refused.
	maxDatagram = 8192
	// maxFetches caps the descriptions fetched at once.
	maxFetches = 8
	// maxRedirects caps the redirects followed, all to the same address.
	maxRedirects = 2
)

// The SSDP groups.
var (
	Group4 = netip.MustParseAddr("239.255.255.250")
	Group6 = netip.MustParseAddr("ff02::c")
)

// Reasons a description is not fetched or not read, for Device.Err.
var (
	// ErrForeignLocation: the LOCATION names a host other than the
	// answer's source address, or a host name.
	ErrForeignLocation = errors.New("ssdp: LOCATION is not on the answering address")
	// ErrTooLarge: the description exceeds MaxDescription.
	ErrTooLarge = errors.New("ssdp: description too large")
	// ErrRedirect: a redirect to another address, or too many.
	ErrRedirect = errors.New("ssdp: redirect refused")
)

// Response is one answer to an M-SEARCH, its headers cleaned.
type Response struct {
	Location string // LOCATION: the description's URL
	Server   string // SERVER: "Linux/5.4 UPnP/1.0 MiniDLNA/1.3.0"
	ST       string // ST: the search target answered, such as "upnp:rootdevice"
	USN      string // USN: "uuid:...::upnp:rootdevice"
}

// Description is what a device description says about one device.
type Description struct {
	DeviceType       string // "urn:schemas-upnp-org:device:MediaServer:1"
	FriendlyName     string // "Living Room NAS"
	Manufacturer     string // "Synology"
	ModelName        string // "DS920+"
	ModelNumber      string
	ModelDescription string
	UDN              string // "uuid:..."
	// Embedded are the devices listed below this one, flattened, at
	// most MaxEmbedded; their own Embedded is empty.
	Embedded []Description
}

// Device is everything one address said over SSDP, and its descriptions.
type Device struct {
	Addr   netip.Addr // the answering address; link-local with its link's Name as zone
	Server string     // the first answer's SERVER
	// Types are the search targets its answers named (ST), at most
	// MaxTypes, in arrival order.
	Types []string
	// Locations are the description URLs it gave, at most MaxLocations.
	Locations []string
	// Descriptions are the ones read, in the order of Locations.
	Descriptions []Description
	// Errs says, per location not read, why (ErrForeignLocation,
	// ErrTooLarge, ErrRedirect, a timeout, a parse error).
	Errs []error
}

// Config configures one round.
type Config struct {
	// Links are the links to search (mcast.LocalLinks lists them).
	Links []mcast.Link
	// Scanned says which addresses the scan covers; answers from any
	// other source are dropped unread, and nothing is fetched from
	// them. Link-local IPv6 addresses come with their link's Name as
	// zone. It is required, and called from one goroutine at a time.
	Scanned func(netip.Addr) bool
	// MX is the M-SEARCH's MX (whole seconds, 1 to 5): how long devices
	// may wait before they answer, and so how long the round listens.
	// Zero is DefaultMX.
	MX time.Duration
	// Resend is the wait before the M-SEARCH is repeated; zero is
	// DefaultResend.
	Resend time.Duration
	// FetchTimeout bounds each description fetch; zero is
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Duration bounds the whole round, fetches included; zero is
	// DefaultDuration.
	Duration time.Duration
	// MaxHosts caps the devices kept; zero is DefaultMaxHosts.
	MaxHosts int
	// InNet, when set, runs fn, which opens a socket (UDP, or the TCP
	// connection of a fetch), in the network namespace the scan belongs
	// in (pass scanner.Enrich.InNet); nil opens them on the calling
	// thread for UDP, and wherever the fetch runs for TCP.
	InNet func(fn func()) error
	// OnUpdate, if set, is called whenever a device changes (an answer
	// or a description), with a copy. Calls never overlap.
	OnUpdate func(Device)
}

// Stats says what a round did.
type Stats struct {
	Sent        int           // M-SEARCH datagrams sent
	Received    int           // datagrams read
	Accepted    int           // answers taken
	NotScanned  int           // datagrams from sources the scan does not cover
	Rejected    int           // malformed or oversized answers
	Refused     int           // LOCATIONs refused (ErrForeignLocation)
	Fetched     int           // descriptions read
	FetchFailed int           // descriptions that could not be fetched or read
	Capped      int           // devices, locations or types dropped by a limit
	LastReject  error         // why the last answer was rejected
	Errors      []error       // sockets that could not be opened or used
	Elapsed     time.Duration // how long the round ran
}
