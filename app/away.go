package app

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/devices"
	"netscanner/scanner"
)

// grey shows the row as an absent device's, or as a live one's again.
func (r *hostRow) grey(on bool) {
	if on == (r.sub.Importance == widget.LowImportance) { // the name's may differ: see setAway
		return
	}
	name, other, marks := widget.MediumImportance, widget.MediumImportance, widget.HighImportance
	if on {
		name, other, marks = widget.LowImportance, widget.LowImportance, widget.LowImportance
	}
	r.name.Importance, r.sub.Importance, r.rtt.Importance, r.marks.Importance = name, other, other, marks
	for _, l := range []*widget.Label{r.name, r.sub, r.rtt, r.marks} {
		l.Refresh()
	}
}

// setAway shows a known device that is absent: greyed, with when it was
// last seen.
func (r *hostRow) setAway(d *devices.Device, now time.Time) {
	r.grey(true)
	h := awayHost(d)
	kind := devices.Identify(&h, d.Label, false).Kind
	r.icon.SetResource(theme.NewDisabledResource(r.list.icons[kind]))
	parts := []string{d.Addr}
	if d.Vendor != "" {
		parts = append(parts, d.Vendor)
	}
	parts = append(parts, "last seen "+devices.Ago(now, d.LastSeen))
	setText(r.name, d.Title())
	setText(r.sub, strings.Join(parts, " · "))
	marks := "away"
	if r.list.u.phone {
		marks = "" // no column for it: the greyed row says it
	}
	setText(r.marks, marks)
	setText(r.rtt, "–")
	selected := false
	if a, err := netip.ParseAddr(d.Addr); err == nil && a == r.list.u.selected {
		selected = true
		r.bg.FillColor = theme.Color(theme.ColorNameSelection)
		r.bg.Show()
		r.bg.Refresh()
	} else {
		r.bg.Hide()
	}
	// Grey on the selection's colour is unreadable: the open one's name
	// stays dark.
	imp := widget.LowImportance
	if selected {
		imp = widget.MediumImportance
	}
	if r.name.Importance != imp {
		r.name.Importance = imp
		r.name.Refresh()
	}
}

// awayHost is what memory keeps of a device, as a host: enough to guess
// its kind for the icon.
func awayHost(d *devices.Device) scanner.Host {
	h := scanner.Host{Hostname: d.Name, Vendor: d.Vendor}
	if a, err := netip.ParseAddr(d.Addr); err == nil {
		h.Addr = a
	}
	if m, err := net.ParseMAC(d.MAC); err == nil {
		h.MAC = m
	}
	if d.Name != "" {
		h.Names = []string{d.Name}
	}
	return h
}

// openAway shows what is known of an absent device: its memory and its
// history. Should it answer a scan meanwhile, the view fills in as a live
// host's does.
func (u *UI) openAway(dev devices.Device) {
	addr, _ := netip.ParseAddr(dev.Addr)
	if u.details != nil {
		if u.phone && u.w.nav != nil {
			u.w.nav.Back()
		}
		u.closeDetails()
	}
	d := u.newDetails(addr)
	h := awayHost(&dev)
	id := devices.Identify(&h, dev.Label, false)
	d.icon.SetResource(theme.NewDisabledResource(u.w.list.icons[id.Kind]))
	d.title.SetText(dev.Title())
	d.marks.SetText("away · last seen " + devices.Ago(u.opts.Now(), dev.LastSeen))
	d.marks.Importance = widget.LowImportance
	var objs []fyne.CanvasObject
	row := func(key, value string) {
		k := widget.NewLabelWithStyle(key, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		v := widget.NewLabel(value)
		v.Selectable = true
		v.Wrapping = fyne.TextWrapWord
		objs = append(objs, k, v)
	}
	row("Last address", orDash(dev.Addr))
	row("Names", orDash(dev.Name))
	row("MAC", orDash(dev.MAC))
	row("Maker", orDash(dev.Vendor))
	row("Kind", id.Kind.Label())
	if dev.Label != "" {
		row("Your label", dev.Label)
	}
	row("First seen", dev.FirstSeen.Local().Format("2 Jan 2006 15:04"))
	row("Last seen", dev.LastSeen.Local().Format("2 Jan 2006 15:04"))
	d.fields = container.New(layout.NewFormLayout(), objs...)

	head := container.NewBorder(nil, nil, newMinWidth(40, d.icon), nil, container.NewVBox(d.title, d.marks))
	if !u.phone {
		closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), u.closeDetails)
		closeBtn.Importance = widget.LowImportance
		head = container.NewBorder(nil, nil, newMinWidth(40, d.icon), closeBtn, container.NewVBox(d.title, d.marks))
	}
	d.root = container.NewVScroll(container.NewPadded(container.NewVBox(head, d.fields, d.history.root)))
	u.details, u.selected = d, addr
	if u.phone && u.w.nav != nil {
		u.w.nav.PushWithTitle(d.root, d.title.Text)
	} else {
		u.w.pane.Objects = []fyne.CanvasObject{d.root}
		u.w.pane.Refresh()
	}
	u.w.list.Refresh()
	d.history.show(dev.Key)
}

// selectAway opens the details of Options.Select when the scan did not
// find it but it is a known device shown away, and scrolls the list to
// its greyed row.
func (u *UI) selectAway() {
	a := u.opts.Select
	if !a.IsValid() || u.run != nil {
		return
	}
	for i, d := range u.watch.absent {
		if zoned, err := netip.ParseAddr(d.Addr); err != nil || zoned.WithZone("") != a {
			continue
		}
		u.opts.Select = netip.Addr{}
		u.openAway(d)
		u.w.list.ScrollTo(u.model.Len() + i)
		u.trace("details open: %s (away)", a)
		return
	}
}
