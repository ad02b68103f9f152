// Package continuity decides whether a device seen under a MAC address
// never met before is a device already known under another one.
//
// Phones and laptops replace their hardware address with a random,
// locally administered one ("private Wi-Fi address"), per network and
// every so often. Keyed by MAC alone, each change would look like a device
// leaving and a new one joining. What survives the change is what the
// device says about itself: its mDNS host name, its NetBIOS name, its
// friendly name, the names of the services it offers. Match weighs that
// evidence against the known devices and links the new address to one of
// them only when the evidence is strong and points at that one alone.
//
// The package is pure logic: no I/O, no clock, no database.
package continuity

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Randomized reports whether mac is a usable unicast address with the
// locally administered bit set: the kind a device makes up for privacy.
func Randomized(mac net.HardwareAddr) bool {
	return len(mac) == 6 && mac[0]&0x01 == 0 && mac[0]&0x02 != 0
}

// Evidence is what one scan learned about a device that may survive a
// change of its MAC address.
type Evidence struct {
	MAC  net.HardwareAddr
	Addr netip.Addr
	// Names are every name the device is known by: mDNS names (ending
	// in .local), NetBIOS names (one label, no dot) and DNS names.
	Names []string
	// FriendlyName is the name the device gives itself in UPnP or
	// DNS-SD records ("Living Room TV").
	FriendlyName string
	// Services are the device's DNS-SD service instances
	// ("Living Room TV._googlecast._tcp") or, when instances are not
	// known, service types ("_googlecast._tcp").
	Services []string
}

// Candidate is a known device a new MAC might belong to.
type Candidate struct {
	ID int64
	Evidence
	// Present is set when the device answered in the same scan under
	// its own address: then it is another device, whatever it shares.
	Present bool
}

// Kind is a sort of evidence.
type Kind string

// Sorts of evidence, strongest first.
const (
	MDNSName     Kind = "mDNS name"
	NetBIOSName  Kind = "NetBIOS name"
	FriendlyName Kind = "friendly name"
	Service      Kind = "service"
	DNSName      Kind = "DNS name"
	ServiceTypes Kind = "service types"
)

// rank orders kinds strongest first, as the constants are listed.
func (k Kind) rank() int {
	return slices.Index([]Kind{MDNSName, NetBIOSName, FriendlyName, Service, DNSName, ServiceTypes}, k)
}

// Weight says how much a sort of evidence counts. A link needs
// linkThreshold, that is one strong fact: a name the device or its owner
// chose (its mDNS or NetBIOS name, its friendly name, a service instance
// such as "Anna's iPhone._companion-link._tcp"). The weak facts, a DNS
// name (a router may derive it from anything) and the set of service
// types (many devices share one), never suffice together; they only
// raise one candidate above another that shares the same strong fact.
func (k Kind) Weight() int {
	switch k {
	case MDNSName, NetBIOSName, FriendlyName, Service:
		return 3
	case DNSName, ServiceTypes:
		return 1
	}
	return 0
}

const linkThreshold = 3

// Fact is one piece of evidence two sightings share.
type Fact struct {
	Kind  Kind
	Value string
}

func (f Fact) String() string { return fmt.Sprintf("%s %s", f.Kind, f.Value) }

// Link says that a new MAC belongs to a known device, and why.
type Link struct {
	ID    int64  // the known device
	Facts []Fact // shared evidence, strongest first
	Score int    // sum of the facts' weights
}

// Because lists the evidence for the link, for a person to read:
// "mDNS name pixel-7.local, friendly name Pixel 7".
func (l Link) Because() string {
	parts := make([]string, len(l.Facts))
	for i, f := range l.Facts {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

// Describe says what the link means to a user, naming the known device
// by title: "same device as Pixel 7, new private MAC (mDNS name
// pixel-7.local)".
func (l Link) Describe(title string) string {
	return fmt.Sprintf("same device as %s, new private MAC (%s)", title, l.Because())
}

// Match links e, seen under a MAC no known device has, to the one known
// device the evidence points at. It links only a randomized MAC, only to
// a device absent from the scan, only on evidence of weight
// linkThreshold or more, and only when no other candidate scores as high:
// a tie is two devices that look alike, and then neither is linked.
func Match(e Evidence, known []Candidate) (Link, bool) {
	if !Randomized(e.MAC) {
		return Link{}, false
	}
	mine := facts(e)
	if len(mine) == 0 {
		return Link{}, false
	}
	var best Link
	tie := false
	for _, c := range known {
		if c.Present || (len(c.MAC) > 0 && macEqual(c.MAC, e.MAC)) {
			continue
		}
		l := Link{ID: c.ID}
		theirs := facts(c.Evidence)
		for _, f := range mine {
			if slices.Contains(theirs, f) {
				l.Facts = append(l.Facts, f)
				l.Score += f.Kind.Weight()
			}
		}
		switch {
		case l.Score > best.Score:
			best, tie = l, false
		case l.Score == best.Score && l.Score > 0:
			tie = true
		}
	}
	if tie || best.Score < linkThreshold {
		return Link{}, false
	}
	slices.SortStableFunc(best.Facts, func(a, b Fact) int { return a.Kind.rank() - b.Kind.rank() })
	return best, true
}

// facts turns evidence into comparable facts, normalized so that case
// and a trailing dot do not matter. Names that only restate the address
// ("198-18-0-7.example.net") say nothing about the device and are left
// out, as are the generic names many devices share.
func facts(e Evidence) []Fact {
	var out []Fact
	add := func(k Kind, v string) {
		f := Fact{k, v}
		if v != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, n := range e.Names {
		n = normName(n)
		if n == "" || generic(n) || (e.Addr.IsValid() && mentionsAddr(n, e.Addr)) {
			continue
		}
		switch {
		case strings.HasSuffix(n, ".local"):
			add(MDNSName, n)
		case !strings.Contains(n, "."):
			add(NetBIOSName, n)
		default:
			add(DNSName, n)
		}
	}
	if fn := normText(e.FriendlyName); fn != "" && !generic(fn) {
		add(FriendlyName, fn)
	}
	var types []string
	for _, s := range e.Services {
		s = normName(s)
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "_") { // a type only: weak, compared as a set
			types = append(types, s)
			continue
		}
		add(Service, s)
	}
	if len(types) > 0 {
		slices.Sort(types)
		add(ServiceTypes, strings.Join(slices.Compact(types), " "))
	}
	return out
}

func normName(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

func normText(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// generic reports whether n is a name devices carry before their owner
// picks one; many devices on one network may share it, so it proves
// nothing.
func generic(n string) bool {
	switch strings.TrimSuffix(n, ".local") {
	case "android", "iphone", "ipad", "localhost", "unknown", "espressif", "esp32", "esp8266",
		"raspberrypi", "galaxy", "macbook", "macbook-pro", "macbook-air", "workgroup":
		return true
	}
	return false
}

// mentionsAddr reports whether name spells out addr, as the reverse DNS of
// many providers and routers does (198-18-0-7, 7.0.18.198, 198.18.0.7).
func mentionsAddr(name string, addr netip.Addr) bool {
	if !addr.Is4() {
		return false
	}
	a := addr.As4()
	forms := []string{
		fmt.Sprintf("%d-%d-%d-%d", a[0], a[1], a[2], a[3]),
		fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]),
		fmt.Sprintf("%d.%d.%d.%d", a[3], a[2], a[1], a[0]),
		fmt.Sprintf("%d-%d-%d-%d", a[3], a[2], a[1], a[0]),
	}
	for _, f := range forms {
		if strings.Contains(name, f) {
			return true
		}
	}
	return false
}

func macEqual(a, b net.HardwareAddr) bool { return slices.Equal(a, b) }
