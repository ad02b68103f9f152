package app

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"netscanner/internal/devices"
	"netscanner/probe"
	"netscanner/scanner"
)

// These benchmarks drive the real host list, inside the whole app's desktop
// layout, under Fyne's headless test driver. The test driver runs every
// widget Refresh and layout synchronously on the calling goroutine, so
// each iteration includes all the widget work the app asks for: binding
// rows, laying them out, refreshing their labels. What it cannot include
// is the GPU driver's paint of the frame; see the "frame" case.

// benchWindow is the size of the benchmark's window: a small desktop
// window, still above phoneBreakpoint, so the list sits in the split pane.
var benchWindow = fyne.NewSize(800, 600)

// benchMakers are the makers of the benchmark's hosts, with the name
// their devices go by. The last has no MAC: a host behind a router.
var benchMakers = []struct{ oui, vendor, name string }{
	{"00:11:32", "Synology Incorporated", "nas"},
	{"3c:22:fb", "Apple, Inc.", "macbook"},
	{"b8:27:eb", "Raspberry Pi Foundation", "raspberrypi"},
	{"00:1b:a9", "Brother Industries, Ltd.", "printer"},
	{"f0:9f:c2", "Ubiquiti Inc", "ap"},
	{"44:65:0d", "Amazon Technologies Inc.", "echo"},
	{"00:17:88", "Signify Netherlands B.V.", "hue-bridge"},
	{"a4:77:33", "Google, Inc.", "chromecast"},
	{"", "", ""},
}

// benchHost is the i-th host of a busy /16: an address, a round trip
// between 0.3 and 50 ms, and, for most, the name, MAC and maker that
// enrichment finds. Every fourth host has no name, so its address is its
// title.
func benchHost(i int) scanner.Host {
	a := uint32(198)<<24 | uint32(18)<<16 | uint32(i+1)
	h := scanner.Host{
		Addr:    netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}),
		RTT:     300*time.Microsecond + time.Duration(i*7919%50000)*time.Microsecond,
		TTL:     64,
		Method:  probe.Raw,
		Reason:  "echo-reply",
		Gateway: i == 0,
	}
	m := benchMakers[i%len(benchMakers)]
	if m.oui != "" {
		mac, err := net.ParseMAC(fmt.Sprintf("%s:%02x:%02x:%02x", m.oui, byte(i>>16), byte(i>>8), byte(i)))
		if err != nil {
			panic(err)
		}
		h.MAC, h.Vendor, h.MACSource = mac, m.vendor, scanner.MACFromNeighbours
	}
	if i%4 != 3 && m.name != "" {
		h.Hostname = fmt.Sprintf("%s-%05d.lan", m.name, i)
		h.Names = []string{h.Hostname}
	}
	if m.name == "printer" {
		h.Ports = []scanner.Port{{Number: 80, Service: "http"}, {Number: 9100}}
	}
	return h
}

// benchUI is the app in a test window, in the middle of a scan that has
// found rows hosts.
type benchUI struct {
	*UI
	run *scanRun
}

// newBenchUI opens the app at benchWindow's size and feeds it rows hosts
// as a scan does: in batches of 256 through applyBatch, each host found
// bare and then enriched.
func newBenchUI(b *testing.B, rows int) *benchUI {
	b.Helper()
	a := test.NewTempApp(b)
	w := a.NewWindow("Netscanner")
	u, err := New(a, w, newFake(), Options{StorePath: filepath.Join(b.TempDir(), "s.json"), PingEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	u.idle()
	w.Resize(benchWindow)
	// The scan is only pretended: no worker runs, nothing to cancel.
	run := &scanRun{cancel: func() {}, done: make(chan struct{}), known: map[string]bool{}, started: time.Now()}
	u.run = run
	u.model.Annotate = func(r *devices.Row) { u.annotate(run, r) }
	b.Cleanup(u.Close)
	bu := &benchUI{UI: u, run: run}
	bu.fill(rows)
	if u.phone {
		b.Fatal("the benchmark window got the phone layout")
	}
	return bu
}

// fill forgets the hosts shown and feeds the first n hosts anew.
func (u *benchUI) fill(n int) {
	u.model.Reset()
	u.w.list.Refresh()
	var evs []scanner.Event
	for i := 0; i < n; i += 256 {
		evs = evs[:0]
		for j := i; j < min(i+256, n); j++ {
			h := benchHost(j)
			evs = append(evs, scanner.Event{Kind: scanner.HostFound, Host: scanner.Host{
				Addr: h.Addr, RTT: h.RTT, TTL: h.TTL, Method: h.Method, Reason: h.Reason, Gateway: h.Gateway}})
		}
		for j := i; j < min(i+256, n); j++ {
			h := benchHost(j)
			h.Enriched = true
			evs = append(evs, scanner.Event{Kind: scanner.HostUpdated, Host: h})
		}
		u.applyBatch(u.run, evs)
	}
}

// boundRows returns the host rows the list has on screen by the row id
// each shows, which its list item's position gives.
func boundRows(l *hostList) map[int]*hostRow {
	pad := l.Theme().Size(theme.SizeNamePadding)
	out := make(map[int]*hostRow)
	var walk func(parent, o fyne.CanvasObject)
	walk = func(parent, o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch o := o.(type) {
		case *hostRow:
			pitch := o.Size().Height + pad
			out[int(math.Round(float64(parent.Position().Y/pitch)))] = o
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(o, c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(o).Objects() {
				walk(o, c)
			}
		}
	}
	walk(nil, l)
	return out
}

// checkRows fails b unless the list shows at least a screenful of rows,
// the first being first, and each shows its host's name (or address) and
// round trip as the model holds them.
func checkRows(b *testing.B, u *benchUI, first int) {
	b.Helper()
	rows := boundRows(u.w.list)
	if len(rows) < 5 {
		b.Fatalf("the list shows %d rows", len(rows))
	}
	lowest := math.MaxInt
	for id, r := range rows {
		lowest = min(lowest, id)
		if id >= u.model.Len() {
			b.Fatalf("row %d shown, the model has %d", id, u.model.Len())
		}
		m := u.model.At(id)
		title := m.Name()
		if title == "" {
			title = m.Addr()
		}
		if r.name.Text != title || r.rtt.Text != formatRTT(m.Host.RTT) {
			b.Fatalf("row %d shows %q %q, the model holds %q %q", id, r.name.Text, r.rtt.Text, title, formatRTT(m.Host.RTT))
		}
	}
	if lowest != first {
		b.Fatalf("the first row shown is %d, want %d", lowest, first)
	}
}

// BenchmarkHostListScroll scrolls the list of rows hosts, either a whole
// screen at a time (every visible row is bound to a new host) or one row
// at a time (a wheel's small step: one new row, the rest moved). The
// "frame" case also paints the whole window with Fyne's software painter
// after each screenful.
//
// A virtualized list costs the same per step whatever the number of
// rows; a frame at 60 Hz has 16.7 ms.
func BenchmarkHostListScroll(b *testing.B) {
	for _, rows := range []int{100, 10_000} {
		for _, step := range []string{"screen", "row", "frame"} {
			b.Run(fmt.Sprintf("rows=%d/step=%s", rows, step), func(b *testing.B) {
				u := newBenchUI(b, rows)
				l := u.w.list
				if l.Length() != rows {
					b.Fatalf("list length %d, want %d", l.Length(), rows)
				}
				var pitch float32
				for _, r := range boundRows(l) {
					pitch = r.Size().Height + l.Theme().Size(theme.SizeNamePadding)
					break
				}
				screen := l.Size().Height
				// The last offset that still fills the screen.
				end := pitch*float32(rows) - screen - pitch
				delta := float32(math.Floor(float64(screen/pitch))) * pitch
				if step == "row" {
					delta = pitch
				}
				frame := step == "frame"
				var off float32
				b.ReportAllocs()
				for b.Loop() {
					off += delta
					if off > end {
						off = 0
					}
					l.ScrollToOffset(off)
					if frame {
						u.win.Canvas().Capture()
					}
				}
				checkRows(b, u, int(math.Floor(float64(l.GetScrollOffset()/pitch))))
				b.ReportMetric(float64(len(boundRows(l))), "rows-shown")
				if off != 0 && l.GetScrollOffset() == 0 {
					b.Fatal("the list did not scroll")
				}
			})
		}
	}
}

// BenchmarkHostListBatch applies one batch of 256 events, as a scan's
// flusher delivers them every 100 ms, to a list of rows hosts, through the
// app's own applyBatch: the model update, the list refresh it asks for,
// the status line.
//
//   - "updates": 256 hosts already listed (all 100 of the small list) get
//     a new round trip. The order (by address) does not change; the app
//     refreshes the list once, which binds again only the rows on screen.
//     (It once called List.RefreshItem per row, and since Fyne's
//     RefreshItem refreshes the whole widget first, a batch took 1.4 s.)
//   - "mixed": 128 hosts found and 128 already listed enriched, as the
//     middle of a scan delivers them. New rows refresh the whole list.
//     The list grows by 128 rows per batch; every 20 batches it is filled
//     anew from rows hosts, untimed.
func BenchmarkHostListBatch(b *testing.B) {
	for _, rows := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("rows=%d/updates", rows), func(b *testing.B) {
			benchUpdates(b, rows, func(u *benchUI, evs []scanner.Event) { u.applyBatch(u.run, evs) })
		})
		b.Run(fmt.Sprintf("rows=%d/mixed", rows), func(b *testing.B) {
			const refill = 20
			u := newBenchUI(b, rows)
			batches := make([][]scanner.Event, refill)
			for k := range batches {
				for j := range 128 {
					h := benchHost(rows + k*128 + j)
					batches[k] = append(batches[k], scanner.Event{Kind: scanner.HostFound, Host: scanner.Host{
						Addr: h.Addr, RTT: h.RTT, TTL: h.TTL, Method: h.Method, Reason: h.Reason}})
				}
				for j := range 128 {
					i := (k*128 + j) * 7 % rows
					batches[k] = append(batches[k], scanner.Event{Kind: scanner.HostUpdated, Host: scanner.Host{
						Addr: benchHost(i).Addr, RTT: time.Duration(k+1) * time.Millisecond}})
				}
			}
			round := 0
			b.ReportAllocs()
			for b.Loop() {
				if round == refill {
					b.StopTimer()
					u.fill(rows)
					round = 0
					b.StartTimer()
				}
				u.applyBatch(u.run, batches[round])
				round++
			}
			if got, want := u.model.Len(), rows+128*round; got != want || u.w.list.Length() != want {
				b.Fatalf("model has %d rows, list %d, want %d", got, u.w.list.Length(), want)
			}
			checkRows(b, u, 0)
		})
	}
}

// benchUpdates times apply on batches of 256 hosts already listed (all
// of them when there are fewer), each with a new round trip. In the
// address order the rows do not move, so the model reports them as
// changed in place.
func benchUpdates(b *testing.B, rows int, apply func(*benchUI, []scanner.Event)) {
	u := newBenchUI(b, rows)
	// Batch k updates the hosts whose index is k modulo batches: spread
	// across the list, as enrichment answers come.
	batches := max(1, rows/256)
	evs := make([][]scanner.Event, batches)
	for i := range rows {
		if k := i % batches; len(evs[k]) < 256 {
			evs[k] = append(evs[k], scanner.Event{Kind: scanner.HostUpdated, Host: scanner.Host{Addr: benchHost(i).Addr}})
		}
	}
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		batch := evs[round%batches]
		rtt := 100*time.Millisecond + time.Duration(round%100)*time.Millisecond
		for i := range batch {
			batch[i].Host.RTT = rtt
		}
		apply(u, batch)
		round++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(evs[0])), "ns/event")
	// Batch 0 holds host 0, the top row: the model must hold its last
	// round trip, and checkRows that the row on screen shows it.
	last := (round - 1) / batches * batches
	if got, want := u.model.At(0).Host.RTT, 100*time.Millisecond+time.Duration(last%100)*time.Millisecond; got != want {
		b.Fatalf("top row's round trip in the model = %v, want %v", got, want)
	}
	checkRows(b, u, 0)
}
