package devices

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"netscanner/scanner"
)

func found(addr string, rtt time.Duration) scanner.Event {
	return scanner.Event{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr(addr), RTT: rtt}}
}

func updated(addr, name, vendor string) scanner.Event {
	return scanner.Event{Kind: scanner.HostUpdated, Host: scanner.Host{Addr: netip.MustParseAddr(addr), Hostname: name, Vendor: vendor}}
}

func viewAddrs(m *Model) []string {
	var out []string
	for i := range m.Len() {
		out = append(out, m.At(i).Addr())
	}
	return out
}

// checkView verifies the invariants: view sorted by the model's order,
// every row's pos matches its place, filtered rows have pos -1.
func checkView(t *testing.T, m *Model) {
	t.Helper()
	if !slices.IsSortedFunc(m.view, m.compare) {
		t.Fatalf("view out of order: %v", viewAddrs(m))
	}
	inView := 0
	for i := range m.rows {
		r := &m.rows[i]
		if r.pos >= 0 {
			inView++
			if m.view[r.pos] != int32(i) {
				t.Fatalf("row %s says pos %d, view has %d there", r.addr, r.pos, m.view[r.pos])
			}
		} else if m.matches(r) {
			t.Fatalf("row %s matches the filter but is not shown", r.addr)
		}
	}
	if inView != len(m.view) {
		t.Fatalf("%d rows claim a place, view has %d", inView, len(m.view))
	}
}

func TestModelInsertsInOrder(t *testing.T) {
	m := NewModel()
	ch := m.Apply([]scanner.Event{found("198.18.0.10", 3*time.Millisecond), found("198.18.0.2", time.Millisecond)})
	if !ch.Reset {
		t.Error("new rows did not reset the view")
	}
	ch = m.Apply([]scanner.Event{found("198.18.0.9", 2*time.Millisecond), found("2001:db8::1", 0), found("198.18.0.100", 0)})
	if !ch.Reset {
		t.Error("new rows did not reset the view")
	}
	want := []string{"198.18.0.2", "198.18.0.9", "198.18.0.10", "198.18.0.100", "2001:db8::1"}
	if got := viewAddrs(m); !slices.Equal(got, want) {
		t.Errorf("view = %v, want %v (numeric, IPv4 first)", got, want)
	}
	checkView(t, m)
}

func TestModelUpdateInPlace(t *testing.T) {
	m := NewModel()
	m.Apply([]scanner.Event{found("198.18.0.1", 0), found("198.18.0.2", 0), found("198.18.0.3", 0)})
	ch := m.Apply([]scanner.Event{updated("198.18.0.2", "nas", "Synology"), {Kind: scanner.Progress, Done: 5, Total: 10}})
	if ch.Reset || !slices.Equal(ch.Updated, []int{1}) {
		t.Fatalf("change = %+v, want row 1 updated in place", ch)
	}
	r, pos, _ := m.Find(netip.MustParseAddr("198.18.0.2"))
	if pos != 1 || r.Host.Hostname != "nas" || r.Host.Vendor != "Synology" {
		t.Errorf("row = %+v at %d", r.Host, pos)
	}
	if d, tot := m.Progress(); d != 5 || tot != 10 {
		t.Errorf("progress %d/%d", d, tot)
	}
	// An update never blanks what was known.
	m.Apply([]scanner.Event{updated("198.18.0.2", "", "")})
	if r, _, _ := m.Find(netip.MustParseAddr("198.18.0.2")); r.Host.Hostname != "nas" {
		t.Error("empty update erased the name")
	}
}

func TestModelUpdateMovesRowWhenSortKeyChanges(t *testing.T) {
	m := NewModel()
	m.SetSort(SortName)
	m.Apply([]scanner.Event{updated("198.18.0.1", "bravo", ""), updated("198.18.0.2", "charlie", ""), found("198.18.0.3", 0)})
	if got := viewAddrs(m); !slices.Equal(got, []string{"198.18.0.1", "198.18.0.2", "198.18.0.3"}) {
		t.Fatalf("by name: %v (nameless last)", got)
	}
	ch := m.Apply([]scanner.Event{updated("198.18.0.3", "alpha", "")})
	if !ch.Reset {
		t.Error("a renamed row moved without a reset")
	}
	if got := viewAddrs(m); !slices.Equal(got, []string{"198.18.0.3", "198.18.0.1", "198.18.0.2"}) {
		t.Errorf("after rename: %v", got)
	}
	checkView(t, m)
}

func TestModelSortKeys(t *testing.T) {
	m := NewModel()
	m.Apply([]scanner.Event{
		{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.3"), RTT: 5 * time.Millisecond, Hostname: "Zed", Vendor: "apple"}},
		{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.1"), RTT: 0, Hostname: "", Vendor: "Brother"}},
		{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.2"), RTT: time.Millisecond, Hostname: "adam", Vendor: ""}},
	})
	for _, tc := range []struct {
		k    SortKey
		want []string
	}{
		{SortIP, []string{"198.18.0.1", "198.18.0.2", "198.18.0.3"}},
		{SortName, []string{"198.18.0.2", "198.18.0.3", "198.18.0.1"}},
		{SortMaker, []string{"198.18.0.3", "198.18.0.1", "198.18.0.2"}},
		{SortRTT, []string{"198.18.0.2", "198.18.0.3", "198.18.0.1"}},
	} {
		m.SetSort(tc.k)
		if got := viewAddrs(m); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.k, got, tc.want)
		}
		checkView(t, m)
	}
}

func TestModelFilter(t *testing.T) {
	m := NewModel()
	m.Apply([]scanner.Event{updated("198.18.0.1", "printer", "Brother"), updated("198.18.0.2", "phone", "Apple"), found("198.18.0.22", 0)})
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"", []string{"198.18.0.1", "198.18.0.2", "198.18.0.22"}},
		{"BROTHER", []string{"198.18.0.1"}},
		{"0.2", []string{"198.18.0.2", "198.18.0.22"}},
		{"apple phone", []string{"198.18.0.2"}},
		{"apple printer", nil},
	} {
		m.SetFilter(tc.filter)
		if got := viewAddrs(m); !slices.Equal(got, tc.want) {
			t.Errorf("filter %q: %v, want %v", tc.filter, got, tc.want)
		}
		checkView(t, m)
	}
	// Rows arriving or changing while filtered land where they belong.
	m.SetFilter("apple")
	m.Apply([]scanner.Event{updated("198.18.0.22", "", "Apple"), updated("198.18.0.2", "", "Samsung"), updated("198.18.0.0", "x", "apple")})
	if got := viewAddrs(m); !slices.Equal(got, []string{"198.18.0.0", "198.18.0.22"}) {
		t.Errorf("live filter: %v", got)
	}
	checkView(t, m)
	if m.Total() != 4 {
		t.Errorf("total %d", m.Total())
	}
}

func TestModelAnnotateAndTouch(t *testing.T) {
	m := NewModel()
	labels := map[string]string{}
	m.Annotate = func(r *Row) { r.Key = DeviceKey(&r.Host); r.Label = labels[r.Key] }
	m.Apply([]scanner.Event{found("198.18.0.1", 0), found("198.18.0.2", 0)})
	labels["ip:198.18.0.2"] = "kitchen radio"
	ch := m.Touch(netip.MustParseAddr("198.18.0.2"))
	if ch.Reset || !slices.Equal(ch.Updated, []int{1}) {
		t.Errorf("touch change = %+v", ch)
	}
	if r, _, _ := m.Find(netip.MustParseAddr("198.18.0.2")); r.Name() != "kitchen radio" {
		t.Errorf("name after touch = %q", r.Name())
	}
}

// TestModelRandomBatches checks the invariants under random batches of
// finds and updates, with a filter and every order.
func TestModelRandomBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []SortKey{SortIP, SortName, SortMaker, SortRTT} {
		m := NewModel()
		m.SetSort(k)
		m.SetFilter("a")
		for range 50 {
			var evs []scanner.Event
			for range rng.IntN(40) {
				a := netip.AddrFrom4([4]byte{198, 18, byte(rng.IntN(4)), byte(rng.IntN(256))})
				h := scanner.Host{Addr: a, RTT: time.Duration(rng.IntN(5)) * time.Millisecond}
				if rng.IntN(2) == 0 {
					h.Hostname = fmt.Sprintf("%c%d", 'a'+rng.IntN(3), rng.IntN(9))
				}
				kind := scanner.HostFound
				if rng.IntN(2) == 0 {
					kind = scanner.HostUpdated
				}
				evs = append(evs, scanner.Event{Kind: kind, Host: h})
			}
			m.Apply(evs)
			checkView(t, m)
		}
	}
}

// BenchmarkModelApply feeds 65,536 hosts (a /16) to the model in batches
// of 256, as a fast scan delivers them every 100 ms, in a shuffled order,
// half of them then enriched in place.
func BenchmarkModelApply(b *testing.B) {
	const n = 65536
	evs := make([]scanner.Event, n)
	for i := range evs {
		evs[i] = scanner.Event{Kind: scanner.HostFound, Host: scanner.Host{
			Addr: netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}),
			RTT:  time.Duration(i%997) * time.Microsecond,
		}}
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	for _, k := range []SortKey{SortIP, SortRTT} {
		b.Run(k.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := NewModel()
				m.SetSort(k)
				for i := 0; i < n; i += 256 {
					m.Apply(evs[i : i+256])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
		})
	}
}

func withMAC(ev scanner.Event, mac string) scanner.Event {
	m, err := net.ParseMAC(mac)
	if err != nil {
		panic(err)
	}
	ev.Host.MAC = m
	return ev
}

// A device found by its IPv4 address and again as an IPv6 link-local
// neighbour is one row, whichever address learns the MAC first.
func TestModelFoldsOneDeviceByMAC(t *testing.T) {
	const mac = "00:11:32:a4:9c:10"
	v4, v6 := netip.MustParseAddr("198.18.100.12"), netip.MustParseAddr("fe80::211:32ff:fea4:9c10%eth0")
	orders := map[string][][]scanner.Event{
		"v4 first, MAC later": {
			{found("198.18.100.12", 2*time.Millisecond), found("198.18.100.1", time.Millisecond)},
			{withMAC(found(v6.String(), 9*time.Millisecond), mac)},
			{withMAC(updated("198.18.100.12", "nas", "Synology"), mac)},
		},
		"v6 first": {
			{withMAC(found(v6.String(), 9*time.Millisecond), mac), found("198.18.100.1", time.Millisecond)},
			{found("198.18.100.12", 2*time.Millisecond)},
			{withMAC(updated("198.18.100.12", "nas", "Synology"), mac)},
		},
		"one batch": {
			{
				found("198.18.100.12", 2*time.Millisecond), found("198.18.100.1", time.Millisecond),
				withMAC(found(v6.String(), 9*time.Millisecond), mac),
				withMAC(updated("198.18.100.12", "nas", "Synology"), mac),
			},
		},
	}
	for name, batches := range orders {
		t.Run(name, func(t *testing.T) {
			for _, k := range []SortKey{SortIP, SortName, SortRTT} {
				m := NewModel()
				m.SetSort(k)
				for _, b := range batches {
					m.Apply(b)
					checkView(t, m)
				}
				if m.Total() != 2 || m.Len() != 2 || len(m.Hosts()) != 2 {
					t.Fatalf("%v: total %d, shown %d, hosts %d; want 2 devices", k, m.Total(), m.Len(), len(m.Hosts()))
				}
				r4, p4, _ := m.Find(v4)
				r6, p6, ok := m.Find(v6)
				if !ok || r4 != r6 || p4 != p6 || p4 < 0 {
					t.Fatalf("%v: %s and %s are not the same shown row", k, v4, v6)
				}
				if r4.Host.Addr != v4 || !slices.Equal(r4.Other, []netip.Addr{v6}) {
					t.Errorf("%v: row addr %s, other %v; want %s with %s", k, r4.Host.Addr, r4.Other, v4, v6)
				}
				if r4.Host.RTT != 2*time.Millisecond || r4.Host.Hostname != "nas" || r4.Host.MAC.String() != mac {
					t.Errorf("%v: merged host %+v keeps the wrong answer", k, r4.Host)
				}
			}
		})
	}
}

// Once folded, news about the other address fills gaps but never replaces
// what the row's own address said, and the filter finds the row by either.
func TestModelFoldedRowUpdates(t *testing.T) {
	const mac = "00:11:32:a4:9c:10"
	m := NewModel()
	m.Apply([]scanner.Event{
		withMAC(found("198.18.100.12", 2*time.Millisecond), mac),
		withMAC(found("fe80::1%eth0", 9*time.Millisecond), mac),
	})
	ev := updated("fe80::1%eth0", "nas-v6", "Synology")
	ev.Host.RTT = 7 * time.Millisecond
	ev.Host.Ports = []scanner.Port{{Number: 445}}
	ch := m.Apply([]scanner.Event{withMAC(ev, mac)})
	if ch.Reset || !slices.Equal(ch.Updated, []int{0}) {
		t.Errorf("change = %+v, want row 0 updated in place", ch)
	}
	r, _, _ := m.Find(netip.MustParseAddr("198.18.100.12"))
	if r.Host.RTT != 2*time.Millisecond || r.Host.Hostname != "nas-v6" || r.Host.Vendor != "Synology" || len(r.Host.Ports) != 1 {
		t.Errorf("row = %+v", r.Host)
	}
	m.SetFilter("fe80::1")
	if m.Len() != 1 {
		t.Errorf("filter by the other address shows %d rows, want 1", m.Len())
	}
	checkView(t, m)
}

// Several IPv4 addresses behind one MAC (a range extender rewriting its
// clients' MACs) are different devices: nothing folds into them.
func TestModelSharedMACStaysApart(t *testing.T) {
	const mac = "74:83:c2:1a:4e:01"
	m := NewModel()
	m.Apply([]scanner.Event{
		withMAC(found("198.18.100.20", 0), mac),
		withMAC(found("198.18.100.21", 0), mac),
		withMAC(found("fe80::2%eth0", 0), mac),
	})
	if m.Total() != 3 || m.Len() != 3 {
		t.Errorf("total %d, shown %d; want 3 separate rows", m.Total(), m.Len())
	}
	checkView(t, m)
}

// Random arrivals of a few devices under several addresses each: the view
// stays consistent and each device with a MAC ends as one row.
func TestModelRandomFolds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		m := NewModel()
		m.SetSort(SortKey(round % 4))
		var evs []scanner.Event
		for d := range 5 {
			mac := fmt.Sprintf("02:00:00:00:00:%02x", d)
			v4 := fmt.Sprintf("198.18.100.%d", 10+d)
			v6 := fmt.Sprintf("fe80::%x%%eth0", 10+d)
			evs = append(evs, found(v4, time.Duration(rng.IntN(5))*time.Millisecond),
				withMAC(updated(v4, fmt.Sprint("host", d), ""), mac),
				withMAC(found(v6, 0), mac), withMAC(updated(v6, "", "Maker"), mac))
		}
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		for len(evs) > 0 {
			n := 1 + rng.IntN(len(evs))
			m.Apply(evs[:n])
			checkView(t, m)
			evs = evs[n:]
		}
		if m.Total() != 5 || m.Len() != 5 {
			t.Fatalf("round %d: total %d, shown %d, want 5", round, m.Total(), m.Len())
		}
		for i := range m.Len() {
			if r := m.At(i); !r.Host.Addr.Is4() || len(r.Other) != 1 {
				t.Fatalf("round %d: row %s other %v", round, r.Host.Addr, r.Other)
			}
		}
	}
}
