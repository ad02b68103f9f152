package watch

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"netscanner/scanner"
)

// Kind says what happened to a device.
type Kind string

// The events a Watcher emits.
const (
	// Joined: a device never seen before, in this run or in the store.
	Joined Kind = "joined"
	// Back: a known device answers again after it was away (it had
	// left, or it was last seen before this watcher started and missed
	// the scans in between).
	Back Kind = "back"
	// Left: a present device missed DownAfter scans in a row. A device
	// that misses fewer, as a phone that dozed off does, never leaves.
	Left Kind = "left"
	// Changed: a present device answers with another address, name or
	// identity, or with a new private MAC linked to it by continuity.
	Changed Kind = "changed"
)

// Kinds lists every Kind, in the order a device meets them.
func Kinds() []Kind { return []Kind{Joined, Changed, Left, Back} }

// Event is one thing that happened to one device, emitted as it happens.
type Event struct {
	Kind   Kind
	Time   time.Time // when the scan that saw it started
	Device Device    // the device after the event
	// Changes lists what differs, for Changed: each field's old and new
	// value. Empty for the other kinds.
	Changes []Change
	// Note says in words what a user should know, such as "same device
	// as raspberrypi.local (b8:27:eb:00:00:0a), new private MAC".
	Note string
}

// Field names a device property a Changed event reports.
type Field string

// The fields a Changed event compares. Empty values are never changes: a
// name the device did not give in one scan was not lost.
const (
	FieldAddress      Field = "address"
	FieldMAC          Field = "mac" // continuity linked a new private MAC to the device
	FieldName         Field = "name"
	FieldVendor       Field = "vendor"
	FieldKind         Field = "kind"
	FieldModel        Field = "model"
	FieldFriendlyName Field = "friendly_name"
)

// Change is one field of a device that changed between two scans.
type Change struct {
	Field Field
	Old   string
	New   string
}

func (c Change) String() string {
	return fmt.Sprintf("%s %s -> %s", c.Field, printable(c.Old), printable(c.New))
}

// Device is what the watcher knows about one device: its last sighting
// and its presence.
type Device struct {
	// ID is the store's key for the device ("mac:" and its first MAC, or
	// "ip:" and its address for a device without a visible MAC): it
	// survives a new private MAC that continuity links to the device.
	ID string
	// StoreID is the device's row in the store, for history queries.
	StoreID int64
	// Host is the device as last seen: this scan's host when it
	// answered, else rebuilt from the store (address, MAC, names,
	// maker).
	Host scanner.Host
	// MACs lists every MAC address the device has used, current first.
	MACs []string
	// Label is the name a user gave the device, if any.
	Label string
	// Identity, when identification found it.
	Kind, Model, FriendlyName string
	// Present: the device answered in the last scan, or missed fewer
	// than DownAfter scans since it did.
	Present bool
	// Missed counts the scans in a row that covered the device and that
	// it did not answer; 0 when it answered the last one.
	Missed    int
	FirstSeen time.Time
	LastSeen  time.Time
}

// Name is what a user calls the device: its label, else its friendly
// name, else its best host name, else "".
func (d Device) Name() string {
	for _, s := range []string{d.Label, d.FriendlyName, d.Host.Hostname} {
		if s != "" {
			return s
		}
	}
	return ""
}

// MACOrIP is the device's current hardware address when known, else its
// IP address: the one identifier the integrations label it by.
func (d Device) MACOrIP() string {
	if len(d.Host.MAC) > 0 {
		return d.Host.MAC.String()
	}
	if d.Host.Addr.IsValid() {
		return d.Host.Addr.String()
	}
	return d.ID
}

// Answered is true when the device answered the last scan.
func (d Device) Answered() bool { return d.Present && d.Missed == 0 }

// String is one line for a person: "198.18.100.10 b8:27:eb:00:00:0a
// raspberrypi.local".
func (d Device) String() string {
	parts := []string{}
	if d.Host.Addr.IsValid() {
		parts = append(parts, d.Host.Addr.String())
	}
	if len(d.Host.MAC) > 0 {
		parts = append(parts, d.Host.MAC.String())
	}
	if n := d.Name(); n != "" {
		parts = append(parts, printable(n))
	}
	if len(parts) == 0 {
		parts = append(parts, d.ID)
	}
	return strings.Join(parts, " ")
}

// String is the plain one-line form of an event, as `netscanner watch`
// prints it without --json.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Time.Format(time.RFC3339))
	b.WriteByte(' ')
	fmt.Fprintf(&b, "%-7s ", e.Kind)
	b.WriteString(e.Device.String())
	if len(e.Changes) > 0 {
		cs := make([]string, len(e.Changes))
		for i, c := range e.Changes {
			cs[i] = c.String()
		}
		b.WriteString(": ")
		b.WriteString(strings.Join(cs, ", "))
	}
	if e.Note != "" {
		b.WriteString(" (")
		b.WriteString(printable(e.Note))
		b.WriteByte(')')
	}
	return b.String()
}

// addrString is an address or "".
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// printable is s, quoted when it holds anything that would break a line
// or fool a terminal: names come from the network.
func printable(s string) string {
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		return q
	}
	return s
}
