package store

import (
	"net"
	"net/netip"
	"time"

	"netscanner/internal/continuity"
)

// Mode says what a Store may do. It is fixed when the store is opened.
type Mode int

// Modes, from least to most.
const (
	// ModeRead reads history and devices and writes nothing (the CLI's
	// history and devices commands).
	ModeRead Mode = iota
	// ModeEdit may also change labels and import old device memory,
	// but records no scans: what the app does while a watcher owns the
	// history.
	ModeEdit
	// ModeRecord may also record scans and prune. Only one process at a
	// time may hold a database in this mode: Open takes an exclusive lock
	// on the file PATH.lock beside it and fails with a *LockedError when
	// another holds it.
	ModeRecord
)

func (m Mode) String() string {
	switch m {
	case ModeRead:
		return "read"
	case ModeEdit:
		return "edit"
	case ModeRecord:
		return "record"
	}
	return "unknown"
}

// DefaultRetention is how long scan history is kept when Options say
// nothing: 90 days. Devices themselves (label, first and last seen) are
// kept for ever.
const DefaultRetention = 90 * 24 * time.Hour

// Options tune Open. The zero value is a reader with the default
// retention.
type Options struct {
	Mode Mode
	// Retention is how long scan history is kept; 0 means
	// DefaultRetention. Older scans are pruned after each recorded scan,
	// a bounded amount at a time.
	Retention time.Duration
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
}

// Observation is what one scan learned about one host: the store's own
// copy of a scanner.Host's fields (see FromHost), so that history does
// not depend on how the scanner spells them.
type Observation struct {
	Addr     netip.Addr
	MAC      net.HardwareAddr // nil when unknown (a host behind a router)
	RTT      time.Duration    // 0 when unknown
	Hostname string           // best name
	Names    []string         // every name: mDNS (.local), NetBIOS, DNS
	Vendor   string
	// Identity, filled in by identification when it ran.
	Kind         string
	Model        string
	FriendlyName string
	// Services are DNS-SD service instances ("Living Room._googlecast._tcp")
	// or bare types ("_ssh._tcp").
	Services []string
}

// Scan describes one finished (or cancelled) scan.
type Scan struct {
	Started  time.Time
	Finished time.Time
	Targets  string // as the user gave them, or a description
	Method   string // probe method used
	Total    int    // addresses scanned
	// Cancelled scans record who answered but not who did not: an
	// interrupted sweep says nothing about the addresses it never
	// reached.
	Cancelled bool
}

// Device is a device the store knows: one physical device, which may have
// had several MAC addresses (see internal/continuity).
type Device struct {
	ID  int64
	Key string // "mac:aa:bb:…" (the first MAC it had) or "ip:ADDR" for a device with no visible MAC
	// MAC is the address it used last; MACs every address it has used,
	// current first.
	MAC       string
	MACs      []string
	Label     string // the user's name for it
	FirstSeen time.Time
	LastSeen  time.Time

	// The latest non-empty value of each field.
	Addr         string
	Hostname     string
	Names        []string
	Vendor       string
	Kind         string
	Model        string
	FriendlyName string
	Services     []string

	// Present is whether it answered the last scan that covered it;
	// Misses counts the scans in a row that covered it and missed it.
	Present bool
	Misses  int
}

// Title is the best name for the device: label, friendly name, host
// name, address.
func (d *Device) Title() string {
	for _, s := range []string{d.Label, d.FriendlyName, d.Hostname, d.Addr, d.MAC} {
		if s != "" {
			return s
		}
	}
	return d.Key
}

// Match says how an observation was tied to a device.
type Match int

// Matches.
const (
	MatchNew     Match = iota // a device never seen before
	MatchMAC                  // by its MAC address
	MatchAddress              // by address: a device without a visible MAC, or one first known by address
	MatchLinked               // a new private MAC linked to a known device by its evidence (Seen.Link says why)
)

func (m Match) String() string {
	switch m {
	case MatchNew:
		return "new"
	case MatchMAC:
		return "mac"
	case MatchAddress:
		return "address"
	case MatchLinked:
		return "linked"
	}
	return "unknown"
}

// Change is one field of a device that a scan saw with a new value.
type Change struct {
	Field string // "addr", "mac", "hostname", "vendor", "kind", "model", "friendly_name"
	Old   string
	New   string
}

// Seen is a device that answered a recorded scan.
type Seen struct {
	Device Device // after the scan
	Match  Match
	// Link is set for MatchLinked: the evidence, and Link.Describe for
	// the sentence to show ("same device as …, new private MAC").
	Link *continuity.Link
	// MissesBefore is how many scans in a row had missed it before this
	// one: more than 0 means it is back.
	MissesBefore int
	// Changes lists fields that had a value before and now have
	// another; empty for a new device.
	Changes []Change
	// Observations are the indexes, in the slice given to RecordScan, of
	// the observations that were this device (IPv4 and IPv6 sightings
	// of one MAC are one device).
	Observations []int
}

// Missed is a known device that the scan covered and that did not answer.
type Missed struct {
	Device Device // after the scan: Misses counts this scan too
}

// ScanResult is what RecordScan did.
type ScanResult struct {
	ScanID int64
	Seen   []Seen
	Missed []Missed
	// Pruned counts the old scans removed after this one was written.
	Pruned int
}

// LegacyDevice is one device of the app's old JSON memory, to import.
// Its JSON form is that of the old file's "devices" entries.
type LegacyDevice struct {
	Key       string    `json:"key"` // "mac:…" or "ip:…"
	MAC       string    `json:"mac,omitempty"`
	Addr      string    `json:"addr,omitempty"`
	Name      string    `json:"name,omitempty"`
	Vendor    string    `json:"vendor,omitempty"`
	Label     string    `json:"label,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// ImportResult says what ImportLegacy did.
type ImportResult struct {
	Already  bool // this source was imported before; nothing was done
	Imported int  // devices new to the store
	Merged   int  // devices the store knew, their labels and dates merged
}

// Period is a run of consecutive scans that found a device present, or
// absent. A gap in scanning longer than the limit given to Periods also
// ends a period: nobody looked, so nothing is claimed.
type Period struct {
	Start   time.Time // first scan of the run
	End     time.Time // last scan of the run
	Present bool
	Scans   int
}

// RTTSummary sums up a device's round trips over a range of time.
type RTTSummary struct {
	Scans   int // scans that covered the device
	Present int // of which it answered
	// Over the answers with a known round trip; zero when there were
	// none.
	Samples int
	Min     time.Duration
	Median  time.Duration
	P95     time.Duration
	Max     time.Duration
	Mean    time.Duration
}

// Bucket is one slot of a timeline: how many scans covered the device in
// [Start, Start+width) and how many found it.
type Bucket struct {
	Start   time.Time
	Scans   int
	Present int
}

// RTTPoint is one answer's round trip, at the scan's start time.
type RTTPoint struct {
	Time time.Time
	RTT  time.Duration
}
