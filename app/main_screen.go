package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/assets"
	"netscanner/internal/devices"
	"netscanner/probe"
	"netscanner/scanner"
)

// phoneBreakpoint is the window width below which a desktop window uses
// the phone's one-column layout.
const phoneBreakpoint = 760

// widgets are the long-lived widgets of the main screen. Both layouts are
// built from the same ones, so switching layout loses no state.
type widgets struct {
	network   *widget.Label
	badge     *widget.Button
	settings  *widget.Button
	export    *widget.Button
	targets   *keyEntry
	targetMsg *widget.Label
	scan      *widget.Button
	progress  *progressLine
	status    *widget.Label
	filter    *keyEntry
	sort      *widget.Select
	sortBtn   *widget.Button // the phone's compact stand-in for sort
	list      *hostList
	missing   *widget.Button
	empty     *widget.Label // shown in place of details on desktop
	pane      *fyne.Container
	nav       *container.Navigation
	root      *adaptive
}

// build creates the widgets and puts the window's content together.
func (u *UI) build() {
	w := &u.w
	w.network = widget.NewLabel("Looking for networks…")
	w.network.Truncation = fyne.TextTruncateEllipsis
	w.badge = widget.NewButtonWithIcon("Checking ping…", theme.InfoIcon(), u.showReport)
	w.badge.Importance = widget.LowImportance
	w.settings = widget.NewButtonWithIcon("", theme.SettingsIcon(), u.showSettings)
	w.export = widget.NewButtonWithIcon("", theme.DocumentSaveIcon(), u.showExportMenu)

	w.targets = newKeyEntry(u)
	w.targets.PlaceHolder = "Targets: this network, or 198.18.0.0/24, printer.lan…"
	w.targets.OnChanged = func(string) { u.validateTargets() }
	w.targets.OnSubmitted = func(string) { u.toggleScan() }
	w.targetMsg = widget.NewLabel("")
	w.targetMsg.Wrapping = fyne.TextWrapWord
	w.targetMsg.SizeName = theme.SizeNameCaptionText
	w.targetMsg.Hide()

	w.scan = widget.NewButtonWithIcon("Scan", theme.SearchIcon(), u.toggleScan)
	w.scan.Importance = widget.HighImportance
	w.progress = newProgressLine()
	w.status = widget.NewLabel("Ready to scan.")
	w.status.Truncation = fyne.TextTruncateEllipsis

	w.filter = newKeyEntry(u)
	w.filter.PlaceHolder = "Filter"
	w.filter.Icon = theme.SearchIcon()
	w.filter.OnChanged = func(s string) {
		u.model.SetFilter(s)
		u.w.list.Refresh()
		u.refreshAway()
		u.updateStatus()
	}
	w.list = newHostList(u)
	w.sort = widget.NewSelect(devices.SortNames(), func(s string) {
		for k, name := range devices.SortNames() {
			if name == s {
				u.model.SetSort(devices.SortKey(k))
			}
		}
		u.w.list.Refresh()
	})
	w.sort.SetSelectedIndex(int(devices.SortIP))
	w.sortBtn = widget.NewButtonWithIcon("Sort", theme.MenuDropDownIcon(), u.showSortMenu)
	w.missing = widget.NewButtonWithIcon("", theme.WarningIcon(), u.showMissing)
	w.missing.Importance = widget.LowImportance
	w.missing.Alignment = widget.ButtonAlignLeading
	w.missing.Hide()
	u.buildWatch()

	w.empty = widget.NewLabel("Pick a device to see everything about it.")
	w.empty.Alignment = fyne.TextAlignCenter
	w.empty.Importance = widget.LowImportance
	w.pane = container.NewStack(container.NewCenter(w.empty))

	w.root = newAdaptive(u.opts.Phone || u.mobile, phoneBreakpoint, u.layout)
	u.win.SetContent(w.root)
	u.bindKeys()
	u.validateTargets()
}

// layout returns the window's content for the phone or desktop layout.
func (u *UI) layout(phone bool) fyne.CanvasObject {
	u.phone = phone
	u.updateBadge()
	u.updateWatchLabel()
	w := &u.w
	if phone {
		// No room for "Show away" under the list: it is in the sort menu.
		sortBox := container.NewBorder(nil, nil, nil, w.sortBtn, w.filter)
		listPane := container.NewBorder(sortBox, w.missing, nil, nil, w.list)
		top := container.NewVBox(
			w.network,
			w.targets,
			w.targetMsg,
			container.NewBorder(nil, nil, nil, container.NewHBox(u.watch.toggle, w.badge, w.settings, w.export), newMinHeight(52, w.scan)),
			w.progress,
			w.status,
		)
		w.nav = container.NewNavigationWithTitle(container.NewBorder(top, nil, nil, nil, listPane), "Netscanner")
		w.nav.OnBack = func() {
			if w.nav.Back() != nil {
				u.closeDetails()
			}
		}
		w.nav.OnForward = nil
		// Creating its renderer resets its stack, so it must exist before
		// any Push, even one that comes before the window is first drawn.
		// MinSize creates it once the widget knows itself.
		w.nav.ExtendBaseWidget(w.nav)
		w.nav.MinSize()
		if u.details != nil {
			w.nav.PushWithTitle(u.details.root, u.details.title.Text)
		}
		return w.nav
	}
	w.nav = nil
	sortBox := container.NewBorder(nil, nil, nil, w.sort, w.filter)
	listFoot := container.NewBorder(nil, nil, nil, u.watch.away, w.missing)
	listPane := container.NewBorder(sortBox, listFoot, nil, nil, w.list)
	logo := widget.NewIcon(fyne.NewStaticResource("icon.png", assets.Icon()))
	title := widget.NewLabelWithStyle("Netscanner", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	tools := container.NewHBox(w.badge, w.settings, w.export)
	header := container.NewBorder(nil, nil, container.NewHBox(newMinWidth(32, logo), title), tools, w.network)
	scanRow := container.NewBorder(nil, nil, nil, container.NewHBox(u.watch.toggle, newMinSize(150, 44, w.scan)), w.targets)
	progress := container.NewVBox(w.progress, w.status)
	top := container.NewVBox(header, widget.NewSeparator(), scanRow, w.targetMsg, progress)

	w.pane.Objects = []fyne.CanvasObject{container.NewCenter(w.empty)}
	if u.details != nil {
		w.pane.Objects = []fyne.CanvasObject{u.details.root}
	}
	split := container.NewHSplit(listPane, w.pane)
	split.Offset = 0.56
	return container.NewBorder(top, nil, nil, nil, split)
}

// showSortMenu offers the orders under the phone's sort button.
func (u *UI) showSortMenu() {
	b := u.w.sortBtn
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b).AddXY(0, b.Size().Height)
	widget.ShowPopUpMenuAtPosition(u.sortMenu(), u.win.Canvas(), pos)
}

// sortMenu is the phone's sort menu: the orders, and "Show away devices",
// for which the phone has no room under its list.
func (u *UI) sortMenu() *fyne.Menu {
	var items []*fyne.MenuItem
	for k, name := range devices.SortNames() {
		item := fyne.NewMenuItem(name, func() { u.w.sort.SetSelectedIndex(k) })
		item.Checked = devices.SortKey(k) == u.model.Sort()
		items = append(items, item)
	}
	away := fyne.NewMenuItem("Show away devices", func() { u.watch.away.SetChecked(!u.watch.away.Checked) })
	away.Checked = u.watch.away.Checked
	items = append(items, fyne.NewMenuItemSeparator(), away)
	return fyne.NewMenu("", items...)
}

// bindKeys wires the desktop keyboard: Enter scans, Escape stops, Ctrl+F
// (Cmd+F on macOS) goes to the filter. Entries and the list forward these
// themselves (see keyEntry and hostList), as the focused widget gets keys
// first.
func (u *UI) bindKeys() {
	c := u.win.Canvas()
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		switch ev.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			u.startScan()
		case fyne.KeyEscape:
			u.stopScan()
		}
	})
	c.AddShortcut(findShortcut(), func(fyne.Shortcut) { u.focusFilter() })
}

// findShortcut is Ctrl+F, or Cmd+F on macOS.
func findShortcut() *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
}

func (u *UI) focusFilter() {
	u.win.Canvas().Focus(u.w.filter)
}

// setNetworks shows the detected networks in the header.
func (u *UI) setNetworks(nets []scanner.Network, err error) {
	u.networks = nets
	switch {
	case err != nil:
		u.w.network.SetText("Networks unknown: " + err.Error())
	case len(nets) == 0:
		u.w.network.SetText("No network found: type targets to scan")
	default:
		s := describeNetwork(nets[0])
		if len(nets) > 1 {
			s += fmt.Sprintf("  (+%d more)", len(nets)-1)
		}
		u.w.network.SetText(s)
	}
	u.validateTargets()
}

// describeNetwork writes a network as the header shows it:
// "wlan0 · 198.18.0.23/24 · gateway 198.18.0.1".
func describeNetwork(n scanner.Network) string {
	var parts []string
	if n.Interface != "" {
		parts = append(parts, n.Interface)
	}
	if n.Addr.IsValid() && n.Prefix.IsValid() {
		parts = append(parts, fmt.Sprintf("%s/%d", n.Addr, n.Prefix.Bits()))
	} else if n.Prefix.IsValid() {
		parts = append(parts, n.Prefix.String())
	}
	if n.Gateway.IsValid() {
		parts = append(parts, "gateway "+n.Gateway.String())
	}
	return strings.Join(parts, " · ")
}

// setReport shows the ping method on the badge.
func (u *UI) setReport(r *probe.Report) {
	u.report = r
	u.updateBadge()
}

// updateBadge shows the method on the badge: in words on desktop, as a
// coloured mark alone on a phone, where the header has no room for more.
func (u *UI) updateBadge() {
	if u.report == nil {
		return
	}
	text, imp := badgeText(u.report)
	if u.phone {
		text = ""
	}
	u.w.badge.Text = text
	switch imp {
	case widget.SuccessImportance:
		u.w.badge.Icon = theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case widget.WarningImportance:
		u.w.badge.Icon = theme.NewWarningThemedResource(theme.WarningIcon())
	default:
		u.w.badge.Icon = theme.NewErrorThemedResource(theme.ErrorIcon())
	}
	u.w.badge.Refresh()
}

// badgeText names the method in use and how good it is: both ICMP socket
// kinds are as good as it gets, the ping program is slow, and TCP misses
// hosts that only answer pings.
func badgeText(r *probe.Report) (string, widget.Importance) {
	if r == nil || r.Chosen == "" {
		return "No ping method", widget.DangerImportance
	}
	switch r.Chosen {
	case probe.Dgram, probe.Raw:
		return "ICMP · " + string(r.Chosen), widget.SuccessImportance
	case probe.Exec:
		return "ping program", widget.WarningImportance
	}
	return "TCP only", widget.DangerImportance
}

// setStatus shows a one-line message under the progress bar.
func (u *UI) setStatus(text string, bad bool) {
	u.w.status.SetText(text)
	imp := widget.MediumImportance
	if bad {
		imp = widget.DangerImportance
	}
	if u.w.status.Importance != imp {
		u.w.status.Importance = imp
		u.w.status.Refresh()
	}
}

// keyEntry is an Entry that passes Escape and Ctrl+F to the app instead of
// swallowing them, as a focused Entry gets every key first.
type keyEntry struct {
	widget.Entry
	u *UI
}

func newKeyEntry(u *UI) *keyEntry {
	e := &keyEntry{u: u}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey stops a scan on Escape and edits text otherwise.
func (e *keyEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		e.u.stopScan()
		return
	}
	e.Entry.TypedKey(ev)
}

// TypedShortcut moves to the filter on Ctrl+F.
func (e *keyEntry) TypedShortcut(s fyne.Shortcut) {
	if s.ShortcutName() == findShortcut().ShortcutName() {
		e.u.focusFilter()
		return
	}
	e.Entry.TypedShortcut(s)
}

// sizeLayout gives its objects at least a minimum size; zero leaves that
// dimension to the objects.
type sizeLayout struct{ w, h float32 }

func (l sizeLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l sizeLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(l.w, l.h)
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

func newMinSize(w, h float32, o fyne.CanvasObject) *fyne.Container {
	return container.New(sizeLayout{w, h}, o)
}

func newMinHeight(h float32, o fyne.CanvasObject) *fyne.Container { return newMinSize(0, h, o) }
func newMinWidth(w float32, o fyne.CanvasObject) *fyne.Container  { return newMinSize(w, 0, o) }

// adaptive shows the phone or the desktop layout by the width it gets,
// rebuilding its content when the width crosses the breakpoint.
type adaptive struct {
	widget.BaseWidget
	phoneOnly  bool
	breakpoint float32
	build      func(phone bool) fyne.CanvasObject
}

func newAdaptive(phoneOnly bool, breakpoint float32, build func(bool) fyne.CanvasObject) *adaptive {
	a := &adaptive{phoneOnly: phoneOnly, breakpoint: breakpoint, build: build}
	a.ExtendBaseWidget(a)
	return a
}

// CreateRenderer starts in the phone layout until the first Layout says
// how wide the window is.
func (a *adaptive) CreateRenderer() fyne.WidgetRenderer {
	r := &adaptiveRenderer{a: a, phone: true}
	r.content = a.build(true)
	return r
}

type adaptiveRenderer struct {
	a       *adaptive
	phone   bool
	content fyne.CanvasObject
}

func (r *adaptiveRenderer) Layout(size fyne.Size) {
	phone := r.a.phoneOnly || size.Width < r.a.breakpoint
	if phone != r.phone {
		r.phone = phone
		r.content = r.a.build(phone)
	}
	r.content.Move(fyne.NewPos(0, 0))
	r.content.Resize(size)
}

// MinSize lets the window narrow down to a phone's width: below the
// breakpoint the phone layout takes over.
func (r *adaptiveRenderer) MinSize() fyne.Size {
	m := r.content.MinSize()
	return fyne.NewSize(min(m.Width, 340), m.Height)
}

func (r *adaptiveRenderer) Refresh()                     { r.content.Refresh() }
func (r *adaptiveRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.content} }
func (r *adaptiveRenderer) Destroy()                     {}
