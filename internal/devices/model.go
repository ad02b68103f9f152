package devices

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"netscanner/scanner"
	"netscanner/scanner/identify"
)

// SortKey orders the host list.
type SortKey int

// The orders a user can choose. Every order breaks ties by address, so the
// list never shuffles between two refreshes.
const (
	SortIP    SortKey = iota // address, numerically; IPv4 before IPv6
	SortName                 // best name, A to Z; nameless hosts last
	SortMaker                // maker, A to Z; unknown makers last
	SortRTT                  // fastest first; unknown last
)

// sortNames are the labels of the sort selector, in SortKey order.
var sortNames = []string{"By address", "By name", "By maker", "By speed"}

// SortNames returns the sort selector's labels, in SortKey order.
func SortNames() []string { return slices.Clone(sortNames) }

// String returns the key as the sort selector shows it.
func (k SortKey) String() string {
	if k < 0 || int(k) >= len(sortNames) {
		return sortNames[0]
	}
	return sortNames[k]
}

// Row is one host in the list with what the app adds to it.
type Row struct {
	Host scanner.Host
	Kind Kind // Identity.Kind
	// Identity is what the device is, with the user's label counted as
	// one of its names (package identify).
	Identity identify.Identity
	Label    string // the user's own name for the device, from memory
	Key      string // the device's memory key; see DeviceKey
	New      bool   // memory has never seen this device before
	// Other holds the device's other addresses, in order: those the scan
	// found with the same MAC address, such as the IPv6 link-local
	// address beside the IPv4 one in Host.Addr.
	Other []netip.Addr

	addr   string // Host.Addr as text, kept to spare an allocation per redraw
	name   string // lower-cased Name, the name sort key
	maker  string // lower-cased Host.Vendor, the maker sort key
	search string // lower-cased text the filter looks through
	pos    int32  // position in the view; -1 when filtered out
	stamp  uint32 // the Apply call that last changed this row
	moved  bool   // its sort key changed in the current Apply
	gone   bool   // folded into another row of the same device
}

// Name returns the best name for the host: the user's label, else the
// friendly name the device gave itself (a Chromecast's "Living Room
// TV"), else the name the scan found, else "".
func (r *Row) Name() string {
	if r.Label != "" {
		return r.Label
	}
	if r.Identity.FriendlyName != "" {
		return r.Identity.FriendlyName
	}
	return r.Host.Hostname
}

// Addr returns the host's address as text.
func (r *Row) Addr() string { return r.addr }

// Change tells the list widget what an update did to the view.
type Change struct {
	// Reset means rows were added, removed or moved: refresh the whole
	// list. Updated is then empty.
	Reset bool
	// Updated holds the view positions of rows that changed in place.
	// The slice is reused by the next call.
	Updated []int
}

// Model holds the hosts of one scan and the view the list shows: those that
// pass the filter, in the chosen order.
//
// It is built for tens of thousands of rows arriving in batches: rows live
// in one slice in arrival order, the view is a slice of indices into it,
// and a batch of new rows is sorted on its own and merged into the view in
// one linear pass. Rows that change in place are reported by position so
// that only they are redrawn.
//
// A Model is not safe for concurrent use: the app touches it only on the
// UI goroutine.
type Model struct {
	// Annotate, if set, fills in what memory knows about a row (Label,
	// Key, New) whenever a host is added or changes.
	Annotate func(r *Row)
	// Mobile says the app runs on a phone, which makes "this machine" a
	// phone for the kind guess.
	Mobile bool

	rows    []Row
	index   map[netip.Addr]int32 // every address of every row
	byMAC   map[string]int32     // the row of each MAC; sharedMAC if several
	folded  int                  // rows gone into another
	view    []int32              // indices into rows
	scratch []int32              // second buffer for merging into view
	sortBy  SortKey
	terms   []string // filter words, lower case; all must match

	stamp   uint32
	added   []int32 // rows to insert into the view in this Apply
	changed []int32 // existing rows touched in this Apply
	updated []int   // Change.Updated's backing array

	done, total int
	summary     *scanner.Summary
}

// NewModel returns an empty model sorted by address.
func NewModel() *Model {
	return &Model{index: make(map[netip.Addr]int32), byMAC: make(map[string]int32)}
}

// sharedMAC in Model.byMAC marks a MAC address seen on several IPv4
// addresses: a range extender that rewrites its clients' MACs, or a proxy
// ARP router. Those are different devices, so nothing is folded by it.
const sharedMAC = -1

// Len is the number of rows in the view.
func (m *Model) Len() int { return len(m.view) }

// Total is the number of devices known, filtered out or not.
func (m *Model) Total() int { return len(m.rows) - m.folded }

// At returns the row at view position i. The pointer is valid until the
// next call that changes the model.
func (m *Model) At(i int) *Row { return &m.rows[m.view[i]] }

// Find returns the row for addr, which may be one of the row's Other
// addresses, and its view position, -1 if filtered out.
func (m *Model) Find(addr netip.Addr) (*Row, int, bool) {
	i, ok := m.index[addr]
	if !ok {
		return nil, -1, false
	}
	r := &m.rows[i]
	return r, int(r.pos), true
}

// Progress returns the addresses finished and the addresses in the scan,
// as last reported.
func (m *Model) Progress() (done, total int) { return m.done, m.total }

// Summary returns the scan's summary once it has finished, else nil.
func (m *Model) Summary() *scanner.Summary { return m.summary }

// Sort returns the current order.
func (m *Model) Sort() SortKey { return m.sortBy }

// Hosts returns every row, filtered out or not, ordered by address: what
// an export writes.
func (m *Model) Hosts() []*Row {
	out := make([]*Row, 0, m.Total())
	for i := range m.rows {
		if !m.rows[i].gone {
			out = append(out, &m.rows[i])
		}
	}
	slices.SortFunc(out, func(a, b *Row) int { return a.Host.Addr.Compare(b.Host.Addr) })
	return out
}

// Reset forgets every host, for a new scan. Order and filter stay.
func (m *Model) Reset() {
	clear(m.rows) // drop references held by the old rows
	m.rows = m.rows[:0]
	clear(m.index)
	clear(m.byMAC)
	m.folded = 0
	m.view = m.view[:0]
	m.done, m.total, m.summary = 0, 0, nil
}

// Apply takes a batch of scan events and reports how the view changed.
func (m *Model) Apply(evs []scanner.Event) Change {
	m.begin()
	for i := range evs {
		ev := &evs[i]
		switch ev.Kind {
		case scanner.HostFound, scanner.HostUpdated:
			// An implausible answer is no device (scanner/plausible.go):
			// the Summary says why.
			if ev.Host.Addr.IsValid() && !ev.Host.Implausible {
				m.upsert(&ev.Host)
			}
		case scanner.Progress:
			m.done, m.total = ev.Done, ev.Total
		case scanner.Finished:
			if ev.Summary != nil {
				s := *ev.Summary
				m.summary = &s
			}
		}
	}
	return m.settle()
}

// Touch re-reads memory for the host at addr (after the user renamed it,
// say) and reports how the view changed.
func (m *Model) Touch(addr netip.Addr) Change {
	m.begin()
	if i, ok := m.index[addr]; ok {
		m.update(i, nil)
	}
	return m.settle()
}

// SetSort reorders the view.
func (m *Model) SetSort(k SortKey) {
	if k < SortIP || k > SortRTT {
		k = SortIP
	}
	m.sortBy = k
	m.rebuild()
}

// SetFilter shows only rows whose name, address, MAC, maker, label or kind
// contain every word of text, ignoring case.
func (m *Model) SetFilter(text string) {
	m.terms = strings.Fields(strings.ToLower(text))
	m.rebuild()
}

func (m *Model) begin() {
	m.stamp++
	m.added = m.added[:0]
	m.changed = m.changed[:0]
}

// upsert adds h as a new row or merges it into the row it updates.
func (m *Model) upsert(h *scanner.Host) {
	i, ok := m.index[h.Addr]
	if ok {
		m.update(i, h)
		return
	}
	i = int32(len(m.rows))
	m.rows = append(m.rows, Row{Host: *h, addr: h.Addr.String(), pos: -1, stamp: m.stamp})
	m.index[h.Addr] = i
	m.derive(&m.rows[i])
	m.added = append(m.added, i)
	m.unite(i)
}

// update merges h (if not nil) into row i and notes the change.
func (m *Model) update(i int32, h *scanner.Host) {
	r := &m.rows[i]
	oldName, oldMaker, oldRTT := r.name, r.maker, r.Host.RTT
	switch {
	case h == nil:
	case h.Addr == r.Host.Addr:
		mergeHost(&r.Host, h)
	default: // news about one of the row's Other addresses
		fillHost(&r.Host, h)
	}
	m.derive(r)
	switch m.sortBy {
	case SortName:
		r.moved = r.moved || r.name != oldName
	case SortMaker:
		r.moved = r.moved || r.maker != oldMaker
	case SortRTT:
		r.moved = r.moved || r.Host.RTT != oldRTT
	}
	m.touched(i)
	if h != nil {
		m.unite(i)
	}
}

// touched notes that row i changed in this batch. New rows are in added
// already.
func (m *Model) touched(i int32) {
	if r := &m.rows[i]; r.stamp != m.stamp {
		r.stamp = m.stamp
		m.changed = append(m.changed, i)
	}
}

// unite folds row i and the row that already holds its MAC address into
// one: a device found by its IPv4 address and again as an IPv6 neighbour
// is one device, and one row. Two IPv4 addresses behind one MAC are
// different devices (see sharedMAC) and stay apart.
func (m *Model) unite(i int32) {
	key, ok := macKey(m.rows[i].Host.MAC)
	if !ok {
		return
	}
	j, known := m.byMAC[key]
	switch {
	case !known:
		m.byMAC[key] = i
	case j == i || j == sharedMAC:
	case m.rows[j].gone || !sameMAC(&m.rows[j], key):
		m.byMAC[key] = i // that row's MAC has changed since
	case m.rows[i].hasIPv4() && m.rows[j].hasIPv4():
		m.byMAC[key] = sharedMAC
	default:
		m.byMAC[key] = m.fold(i, j)
	}
}

// fold merges rows a and b of one device into the one with the better
// address (see betterAddr), marks the other gone, and returns the row kept.
func (m *Model) fold(a, b int32) int32 {
	keep, drop := a, b
	if betterAddr(m.rows[b].Host.Addr, m.rows[a].Host.Addr) {
		keep, drop = b, a
	}
	k, d := &m.rows[keep], &m.rows[drop]
	fillHost(&k.Host, &d.Host)
	k.Other = append(k.Other, d.Host.Addr)
	k.Other = append(k.Other, d.Other...)
	slices.SortFunc(k.Other, netip.Addr.Compare)
	for _, a := range append(d.Other, d.Host.Addr) {
		m.index[a] = keep
	}
	if k.Label == "" {
		k.Label = d.Label
	}
	m.derive(k)
	k.moved = true // its name, maker or kind may have changed: place it anew
	m.touched(keep)

	*d = Row{gone: true, pos: d.pos, stamp: d.stamp} // drop what it held
	m.touched(drop)
	m.folded++
	return keep
}

// betterAddr reports whether a names a device better than b: IPv4 before
// IPv6, a global IPv6 address before a link-local one.
func betterAddr(a, b netip.Addr) bool {
	rank := func(x netip.Addr) int {
		switch {
		case x.Is4() || x.Is4In6():
			return 0
		case !x.IsLinkLocalUnicast():
			return 1
		}
		return 2
	}
	return rank(a) < rank(b)
}

func (r *Row) hasIPv4() bool {
	if r.Host.Addr.Is4() {
		return true
	}
	return slices.ContainsFunc(r.Other, netip.Addr.Is4)
}

// macKey returns the map key of a MAC address that names one device.
func macKey(mac net.HardwareAddr) (string, bool) {
	if !UsableMAC(mac) {
		return "", false
	}
	return string(mac), true
}

func sameMAC(r *Row, key string) bool { return string(r.Host.MAC) == key }

// mergeHost copies what next knows into h, keeping what only h knows:
// enrichment reports fill in fields, they never blank them.
func mergeHost(h, next *scanner.Host) {
	if next.RTT > 0 {
		h.RTT = next.RTT
	}
	if next.TTL > 0 {
		h.TTL = next.TTL
	}
	if next.Method != "" {
		h.Method = next.Method
	}
	if next.Reason != "" {
		h.Reason = next.Reason
	}
	if next.Hostname != "" {
		h.Hostname = next.Hostname
	}
	if len(next.MAC) > 0 {
		h.MAC = next.MAC
	}
	if next.Vendor != "" {
		h.Vendor = next.Vendor
	}
	if len(next.Ports) > 0 {
		h.Ports = next.Ports
	}
	if len(next.Names) > 0 {
		h.Names = next.Names
	}
	if next.MACSource != "" {
		h.MACSource = next.MACSource
	}
	if len(next.Reasons) > 0 {
		h.Reasons = next.Reasons
	}
	if next.Note != "" {
		h.Note = next.Note
	}
	if len(next.Services) > 0 {
		h.Services = next.Services
	}
	if len(next.UPnP) > 0 {
		h.UPnP = next.UPnP
	}
	if len(next.Web) > 0 {
		h.Web = next.Web
	}
	if next.SSH != "" {
		h.SSH = next.SSH
	}
	if len(next.Identity.Evidence) > 0 {
		// The scan's latest identity is worked out from all it knew.
		h.Identity = next.Identity
	}
	h.Enriched = h.Enriched || next.Enriched
	h.Self = h.Self || next.Self
	h.Gateway = h.Gateway || next.Gateway
}

// fillHost copies into h what only other knows: what one address of a
// device tells about another. h keeps its own answer (RTT, TTL, method,
// reason); names, MAC, maker, ports and signs of life are pooled.
func fillHost(h, other *scanner.Host) {
	if h.Hostname == "" {
		h.Hostname = other.Hostname
	}
	if len(h.MAC) == 0 {
		h.MAC, h.MACSource = other.MAC, other.MACSource
	}
	if h.Vendor == "" {
		h.Vendor = other.Vendor
	}
	if h.Note == "" {
		h.Note = other.Note
	}
	h.Names = union(h.Names, other.Names)
	h.Reasons = union(h.Reasons, other.Reasons)
	if len(other.Ports) > 0 {
		ports := slices.Clone(h.Ports)
		for _, p := range other.Ports {
			if !slices.ContainsFunc(ports, func(q scanner.Port) bool { return q.Number == p.Number }) {
				ports = append(ports, p)
			}
		}
		slices.SortFunc(ports, func(a, b scanner.Port) int { return cmp.Compare(a.Number, b.Number) })
		h.Ports = ports
	}
	if len(h.Services) == 0 && len(other.Services) > 0 {
		h.Services, h.Identity = other.Services, identify.Identity{}
	}
	if len(h.UPnP) == 0 && len(other.UPnP) > 0 {
		h.UPnP, h.Identity = other.UPnP, identify.Identity{}
	}
	if len(h.Web) == 0 && len(other.Web) > 0 {
		h.Web, h.Identity = other.Web, identify.Identity{}
	}
	if h.SSH == "" && other.SSH != "" {
		h.SSH, h.Identity = other.SSH, identify.Identity{}
	}
	h.Self = h.Self || other.Self
	h.Gateway = h.Gateway || other.Gateway
}

// union returns a followed by the words of b it lacks. It never writes
// into a's backing array, which an earlier event may share.
func union[T comparable](a, b []T) []T {
	out := a
	for _, w := range b {
		if !slices.Contains(out, w) {
			if len(out) == len(a) {
				out = slices.Clip(out)
			}
			out = append(out, w)
		}
	}
	return out
}

// derive recomputes everything the row holds besides its Host.
func (m *Model) derive(r *Row) {
	if m.Annotate != nil {
		m.Annotate(r)
	}
	r.Identity = Identify(&r.Host, r.Label, m.Mobile)
	r.Kind = r.Identity.Kind
	r.name = strings.ToLower(r.Name())
	r.maker = strings.ToLower(r.Host.Vendor)

	var b strings.Builder
	b.Grow(len(r.name) + len(r.maker) + len(r.addr) + 64)
	b.WriteString(r.name)
	b.WriteByte('\n')
	b.WriteString(strings.ToLower(r.Host.Hostname))
	b.WriteByte('\n')
	b.WriteString(r.addr)
	b.WriteByte('\n')
	for _, a := range r.Other {
		b.WriteString(a.String())
		b.WriteByte('\n')
	}
	if len(r.Host.MAC) > 0 {
		b.WriteString(r.Host.MAC.String())
		b.WriteByte('\n')
	}
	b.WriteString(r.maker)
	b.WriteByte('\n')
	if r.Identity.Model != "" {
		b.WriteString(strings.ToLower(r.Identity.Model))
		b.WriteByte('\n')
	}
	b.WriteString(r.Kind.String())
	if l := r.Kind.Label(); l != r.Kind.String() {
		b.WriteByte('\n')
		b.WriteString(strings.ToLower(l))
	}
	if r.Host.Self {
		b.WriteString("\nthis device")
	}
	if r.Host.Gateway {
		b.WriteString("\ngateway")
	}
	if r.New {
		b.WriteString("\nnew")
	}
	r.search = b.String()
}

func (m *Model) matches(r *Row) bool {
	if r.gone {
		return false
	}
	for _, t := range m.terms {
		if !strings.Contains(r.search, t) {
			return false
		}
	}
	return true
}

// settle brings the view up to date after a batch and says what changed.
func (m *Model) settle() Change {
	m.updated = m.updated[:0]
	removed := 0
	for _, i := range m.changed {
		r := &m.rows[i]
		match := m.matches(r)
		switch {
		case r.pos >= 0 && (!match || r.moved):
			r.pos = -2 // drop from the view below
			removed++
			if match {
				m.added = append(m.added, i)
			}
		case r.pos < 0 && match:
			m.added = append(m.added, i)
		case r.pos >= 0:
			m.updated = append(m.updated, int(r.pos))
		}
		r.moved = false
	}
	keep := m.added[:0]
	for _, i := range m.added {
		m.rows[i].moved = false
		if m.matches(&m.rows[i]) {
			keep = append(keep, i)
		}
	}
	m.added = keep
	if removed == 0 && len(m.added) == 0 {
		return Change{Updated: m.updated}
	}

	if removed > 0 {
		v := m.view[:0]
		for _, i := range m.view {
			if m.rows[i].pos == -2 {
				m.rows[i].pos = -1
				continue
			}
			v = append(v, i)
		}
		m.view = v
	}
	if len(m.added) > 0 {
		slices.SortFunc(m.added, m.compare)
		m.view, m.scratch = m.merge(m.scratch[:0], m.view, m.added), m.view
	}
	m.renumber()
	m.updated = m.updated[:0]
	return Change{Reset: true}
}

// merge appends the union of the sorted index lists a (the view) and b
// (the few rows added) to out. Each row of b finds its place in a by
// binary search and the run of a before it is copied whole, so a batch
// costs O(len(b)·log len(a)) comparisons plus one copy of the view.
func (m *Model) merge(out, a, b []int32) []int32 {
	out = slices.Grow(out, len(a)+len(b))
	after := func(e, x int32) int { // rows sort uniquely: never equal
		if m.compare(e, x) < 0 {
			return -1
		}
		return 1
	}
	for _, x := range b {
		i, _ := slices.BinarySearchFunc(a, x, after)
		out = append(out, a[:i]...)
		out = append(out, x)
		a = a[i:]
	}
	return append(out, a...)
}

// rebuild recomputes the view from scratch: after a new filter or order.
func (m *Model) rebuild() {
	m.view = m.view[:0]
	for i := range m.rows {
		r := &m.rows[i]
		r.pos = -1
		if m.matches(r) {
			m.view = append(m.view, int32(i))
		}
	}
	slices.SortFunc(m.view, m.compare)
	m.renumber()
}

func (m *Model) renumber() {
	for p, i := range m.view {
		m.rows[i].pos = int32(p)
	}
}

// compare orders rows a and b by the current sort key, then by address.
func (m *Model) compare(a, b int32) int {
	ra, rb := &m.rows[a], &m.rows[b]
	c := 0
	switch m.sortBy {
	case SortName:
		c = compareText(ra.name, rb.name)
	case SortMaker:
		c = compareText(ra.maker, rb.maker)
	case SortRTT:
		c = compareRTT(ra.Host.RTT, rb.Host.RTT)
	}
	if c != 0 {
		return c
	}
	return ra.Host.Addr.Compare(rb.Host.Addr)
}

// compareText sorts A to Z with empty text last.
func compareText(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}

// compareRTT sorts fastest first with unknown (zero) last.
func compareRTT(a, b time.Duration) int {
	switch {
	case a == b:
		return 0
	case a <= 0:
		return 1
	case b <= 0:
		return -1
	}
	return cmp.Compare(a, b)
}
