package app

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/assets"
	"netscanner/internal/devices"
)

// hostList is the list of hosts: a widget.List over the model, which only
// ever builds the rows on screen, so ten thousand hosts cost no more to
// draw than twenty.
type hostList struct {
	widget.List
	u     *UI
	icons [devices.KindCount]fyne.Resource
}

func newHostList(u *UI) *hostList {
	l := &hostList{u: u}
	for k := range devices.KindCount {
		if svg, err := assets.DeviceIcon(devices.Kind(k).String()); err == nil {
			l.icons[k] = theme.NewThemedResource(fyne.NewStaticResource(devices.Kind(k).String()+".svg", svg))
		} else {
			l.icons[k] = theme.QuestionIcon()
		}
	}
	l.Length = u.listLen // the scan's rows, then the absent devices (app/away.go)
	l.CreateItem = func() fyne.CanvasObject { return newHostRow(l) }
	l.UpdateItem = func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < u.model.Len() {
			o.(*hostRow).set(u.model.At(id))
		} else if a := id - u.model.Len(); a < len(u.watch.absent) {
			o.(*hostRow).setAway(&u.watch.absent[a], u.opts.Now())
		}
	}
	// The list's own selection would point at the wrong row after the
	// next re-sort, so it is cleared at once and the open host is marked
	// by address instead (see hostRow.set).
	l.OnSelected = func(id widget.ListItemID) {
		l.UnselectAll()
		if id < u.model.Len() {
			u.openDetails(u.model.At(id).Host.Addr)
		} else if a := id - u.model.Len(); a < len(u.watch.absent) {
			u.openAway(u.watch.absent[a])
		}
	}
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey stops a scan on Escape, opens the focused row on Enter, and
// moves through the list otherwise.
func (l *hostList) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		l.u.stopScan()
	case fyne.KeyReturn, fyne.KeyEnter:
		l.List.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	default:
		l.List.TypedKey(ev)
	}
}

// hostRow is one row: kind icon, best name, address and maker, marks, and
// the response time.
type hostRow struct {
	widget.BaseWidget
	list    *hostList
	bg      *canvas.Rectangle
	icon    *widget.Icon
	name    *widget.Label
	sub     *widget.Label
	marks   *widget.Label
	rtt     *widget.Label
	content fyne.CanvasObject
}

func newHostRow(l *hostList) *hostRow {
	r := &hostRow{list: l}
	r.bg = canvas.NewRectangle(theme.Color(theme.ColorNameSelection))
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.bg.Hide()
	r.icon = widget.NewIcon(l.icons[devices.KindUnknown])
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.sub = widget.NewLabel("")
	r.sub.Truncation = fyne.TextTruncateEllipsis
	r.sub.SizeName = theme.SizeNameCaptionText
	r.marks = widget.NewLabel("")
	r.marks.Importance = widget.HighImportance
	r.marks.SizeName = theme.SizeNameCaptionText
	r.rtt = widget.NewLabel("")
	r.rtt.Alignment = fyne.TextAlignTrailing
	r.rtt.TextStyle.Monospace = true
	texts := container.New(&rowTextLayout{}, r.name, r.sub)
	r.marks.Alignment = fyne.TextAlignTrailing
	right := container.New(&rowTextLayout{}, newMinWidth(64, r.rtt), r.marks)
	r.content = container.NewStack(r.bg, container.NewBorder(nil, nil, newMinWidth(36, r.icon), right, texts))
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer draws the row's content.
func (r *hostRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.content)
}

// set shows row.
func (r *hostRow) set(row *devices.Row) {
	r.grey(false)
	if res := r.list.icons[row.Kind]; r.icon.Resource != res {
		r.icon.SetResource(res)
	}
	title := row.Name()
	sub := row.Addr()
	if title == "" {
		title = row.Addr()
		sub = ""
	}
	// The model says more than the maker ("Chromecast Ultra", not
	// "Google, Inc."); the maker stands in when no model is known.
	if what := cmp.Or(row.Identity.Model, row.Host.Vendor); what != "" {
		if sub != "" {
			sub += " · "
		}
		sub += what
	}
	if sub == "" {
		sub = row.Kind.Label()
	}
	marks := rowMarks(row)
	if r.list.u.phone && marks != "" {
		// No room for a column of marks beside the name on a phone: they
		// go after the address, which must stay whole, before the maker.
		if rest, ok := strings.CutPrefix(sub, row.Addr()); ok && title != row.Addr() {
			sub = row.Addr() + " · " + marks + rest
		} else {
			sub = marks + " · " + sub
		}
		marks = ""
	}
	setText(r.name, title)
	setText(r.sub, sub)
	setText(r.marks, marks)
	setText(r.rtt, formatRTT(row.Host.RTT))
	if row.Host.Addr == r.list.u.selected {
		r.bg.FillColor = theme.Color(theme.ColorNameSelection)
		r.bg.Show()
		r.bg.Refresh()
	} else {
		r.bg.Hide()
	}
}

// setText changes l's text only when it differs: every list refresh binds
// each row on screen again, and shaping a label's text (to truncate it)
// is most of what binding a row costs.
func setText(l *widget.Label, text string) {
	if l.Text != text {
		l.SetText(text)
	}
}

// rowMarks are the short marks after a row's name.
func rowMarks(r *devices.Row) string {
	var m []string
	if r.Host.Self {
		m = append(m, "this device")
	}
	if r.Host.Gateway {
		m = append(m, "gateway")
	}
	if r.New {
		m = append(m, "new")
	}
	return strings.Join(m, " · ")
}

// formatRTT writes a round trip for a list: two significant digits below
// ten milliseconds, whole milliseconds above.
func formatRTT(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < 100*time.Microsecond:
		return "<0.1 ms"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}

// rowTextLayout stacks the name and the line under it tightly: a plain
// VBox would leave a full padding between two lines that belong together.
type rowTextLayout struct{}

func (rowTextLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 2 {
		return
	}
	pad := theme.Padding()
	top := objs[0].MinSize().Height
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(size.Width, top))
	objs[1].Move(fyne.NewPos(0, top-3*pad))
	objs[1].Resize(fyne.NewSize(size.Width, objs[1].MinSize().Height))
}

func (rowTextLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) != 2 {
		return fyne.Size{}
	}
	a, b := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(max(a.Width, b.Width), a.Height+b.Height-4*theme.Padding())
}
