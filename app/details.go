package app

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/devices"
	"netscanner/internal/wol"
	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/identify"
)

// detailsView shows everything known about one host, with a live ping
// graph that runs while the view is open.
type detailsView struct {
	u       *UI
	addr    netip.Addr
	root    fyne.CanvasObject
	icon    *widget.Icon
	title   *widget.Label
	marks   *widget.Label
	fields  *fyne.Container
	label   *widget.Entry
	copyMAC *widget.Button
	wake    *widget.Button
	graph   *pingGraph
	pingErr *widget.Label
	history *historyView // presence and round trips over the last day and week (timeline.go)
	cancel  context.CancelFunc
}

// openDetails shows the details of the host at addr and starts pinging it:
// in the side pane on desktop, as a new page on a phone.
func (u *UI) openDetails(addr netip.Addr) {
	if _, _, ok := u.model.Find(addr); !ok {
		return
	}
	if u.details != nil {
		if u.phone && u.w.nav != nil {
			u.w.nav.Back()
		}
		u.closeDetails()
	}
	d := u.newDetails(addr)
	u.details, u.selected = d, addr
	d.refresh()
	if u.phone && u.w.nav != nil {
		u.w.nav.PushWithTitle(d.root, d.title.Text)
	} else {
		u.w.pane.Objects = []fyne.CanvasObject{d.root}
		u.w.pane.Refresh()
	}
	u.w.list.Refresh()
	d.startPing()
}

// closeDetails stops the ping graph and empties the side pane.
func (u *UI) closeDetails() {
	d := u.details
	if d == nil {
		return
	}
	d.cancel()
	u.details, u.selected = nil, netip.Addr{}
	if !u.phone {
		u.w.pane.Objects = []fyne.CanvasObject{container.NewCenter(u.w.empty)}
		u.w.pane.Refresh()
	}
	u.w.list.Refresh()
}

func (u *UI) newDetails(addr netip.Addr) *detailsView {
	d := &detailsView{u: u, addr: addr, cancel: func() {}}
	d.icon = widget.NewIcon(theme.QuestionIcon())
	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.SizeName = theme.SizeNameSubHeadingText
	d.title.Truncation = fyne.TextTruncateEllipsis
	d.marks = widget.NewLabel("")
	d.marks.Importance = widget.HighImportance
	d.fields = container.New(layout.NewFormLayout())

	d.label = widget.NewEntry()
	d.label.PlaceHolder = "Your name for this device"
	d.label.OnSubmitted = func(string) { d.saveLabel() }
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), d.saveLabel)

	// A phone has room for three short buttons in a row, not three long ones.
	ipText, macText := "Copy IP", "Copy MAC"
	if u.phone {
		ipText, macText = "IP", "MAC"
	}
	copyAddr := widget.NewButtonWithIcon(ipText, theme.ContentCopyIcon(), func() {
		u.copy(addr.String())
	})
	d.copyMAC = widget.NewButtonWithIcon(macText, theme.ContentCopyIcon(), func() {
		if r, _, ok := u.model.Find(addr); ok && len(r.Host.MAC) > 0 {
			u.copy(r.Host.MAC.String())
		}
	})
	d.wake = widget.NewButtonWithIcon("Wake", theme.MediaPlayIcon(), d.wakeUp)

	d.graph = newPingGraph()
	d.pingErr = widget.NewLabel("")
	d.pingErr.Importance = widget.DangerImportance
	d.pingErr.Wrapping = fyne.TextWrapWord
	d.pingErr.Hide()
	d.history = newHistoryView(u)

	head := container.NewBorder(nil, nil, newMinWidth(40, d.icon), nil, container.NewVBox(d.title, d.marks))
	if !u.phone {
		closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), u.closeDetails)
		closeBtn.Importance = widget.LowImportance
		head = container.NewBorder(nil, nil, newMinWidth(40, d.icon), closeBtn, container.NewVBox(d.title, d.marks))
	}
	body := container.NewVBox(
		head,
		container.NewGridWithColumns(3, copyAddr, d.copyMAC, d.wake),
		container.NewBorder(nil, nil, nil, save, d.label),
		newMinHeight(130, d.graph),
		d.pingErr,
		d.fields,
		d.history.root,
	)
	d.root = container.NewVScroll(container.NewPadded(body))
	return d
}

// refresh shows what the model now knows about the host.
func (d *detailsView) refresh() {
	r, _, ok := d.u.model.Find(d.addr)
	if !ok {
		return
	}
	h := &r.Host
	d.icon.SetResource(d.u.w.list.icons[r.Kind])
	title := r.Name()
	if title == "" {
		title = r.Addr()
	}
	d.title.SetText(title)
	if nav := d.u.w.nav; d.u.phone && nav != nil && d.u.details == d {
		nav.SetCurrentTitle(title) // the page follows the name the scan learns
	}
	d.marks.SetText(rowMarks(r))
	if d.marks.Text == "" {
		d.marks.Hide()
	} else {
		d.marks.Show()
	}
	if d.label.Text == "" && !d.labelFocused() {
		d.label.SetText(r.Label)
	}

	var objs []fyne.CanvasObject
	row := func(key string, value fyne.CanvasObject) {
		k := widget.NewLabelWithStyle(key, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		objs = append(objs, k, value)
	}
	text := func(s string) fyne.CanvasObject {
		l := widget.NewLabel(s)
		l.Selectable = true
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	row("Address", text(r.Addr()))
	if len(r.Other) > 0 {
		other := make([]string, len(r.Other))
		for i, a := range r.Other {
			other[i] = a.String()
		}
		row("Also at", text(strings.Join(other, "\n")))
	}
	names := h.Hostname
	if len(h.Names) > 0 {
		names = strings.Join(h.Names, ", ")
	}
	row("Names", text(orDash(names)))
	mac := "unknown: behind a router, or not seen yet"
	if len(h.MAC) > 0 {
		mac = h.MAC.String()
	}
	row("MAC", text(mac))
	row("Maker", text(orDash(h.Vendor)))
	row("Kind", text(r.Kind.Label()))
	if r.Identity.Model != "" {
		row("Model", text(r.Identity.Model))
	}
	if len(r.Identity.Services) > 0 {
		row("Services", d.servicesView(r.Identity.Services))
	}
	row("Identified as", text(identifiedAs(r.Identity)))
	resp := formatRTT(h.RTT)
	if h.TTL > 0 {
		resp += " · TTL " + strconv.Itoa(h.TTL)
	}
	row("Response", text(resp))
	reasons := string(h.Reason)
	if len(h.Reasons) > 0 {
		reasons = joinReasons(h.Reasons)
	}
	row("Found by", text(orDash(joinNonEmpty(" · ", foundWords(*h), reasons))))
	if h.Note != "" {
		row("Note", text(h.Note))
	}
	row("Open ports", d.portsView(h.Ports))
	if dev, ok := d.u.store.Device(r.Key); ok {
		row("First seen", text(dev.FirstSeen.Local().Format("2 Jan 2006 15:04")))
		row("Last seen", text(dev.LastSeen.Local().Format("2 Jan 2006 15:04")))
	} else {
		row("Memory", text("first time seen"))
	}
	d.fields.Objects = objs
	d.fields.Refresh()
	d.history.show(r.Key)

	if len(h.MAC) > 0 {
		d.copyMAC.Enable()
	} else {
		d.copyMAC.Disable()
	}
	if _, err := d.wakeTarget(h); err == nil {
		d.wake.Enable()
	} else {
		d.wake.Disable()
	}
}

func (d *detailsView) labelFocused() bool {
	return d.u.win.Canvas().Focused() == d.label
}

// portsView lists open ports; web consoles (http and https) are links.
func (d *detailsView) portsView(ports []scanner.Port) fyne.CanvasObject {
	if len(ports) == 0 {
		return widget.NewLabel("none found")
	}
	box := container.NewVBox()
	for _, p := range ports {
		text := strconv.Itoa(int(p.Number))
		if p.Service != "" {
			text += " " + p.Service
		}
		if u := portURL(d.addr, p); u != nil {
			link := widget.NewHyperlink(text, u)
			link.OnTapped = func() {
				if err := d.u.opts.OpenURL(u); err != nil {
					d.u.setStatus("Could not open "+u.String()+": "+err.Error(), true)
				}
			}
			box.Add(link)
			continue
		}
		box.Add(widget.NewLabel(text))
	}
	return box
}

// portURL returns the web address of a port that serves http or https,
// or nil.
func portURL(addr netip.Addr, p scanner.Port) *url.URL {
	scheme := ""
	switch {
	case p.Service == "https" || p.Number == 443 || p.Number == 8443:
		scheme = "https"
	case p.Service == "http" || p.Service == "http-alt" || p.Number == 80 || p.Number == 8080 || p.Number == 8000:
		scheme = "http"
	default:
		return nil
	}
	host := netip.AddrPortFrom(addr.WithZone(""), p.Number).String()
	if (scheme == "http" && p.Number == 80) || (scheme == "https" && p.Number == 443) {
		host = addr.WithZone("").String()
		if addr.Is6() {
			host = "[" + host + "]"
		}
	}
	return &url.URL{Scheme: scheme, Host: host, Path: "/"}
}

// methodWords names a ping method for people.
// foundWords says which evidence found h: the scan's method, or the
// kernel's neighbour table (ARP, neighbour discovery) or TCP probes for a
// host that ignored it.
func foundWords(h scanner.Host) string {
	switch {
	case h.Reason == scanner.ReasonNeighbour && h.Addr.Unmap().Is4():
		return "its answer to ARP (it ignores ping)"
	case h.Reason == scanner.ReasonNeighbour:
		return "its answer to neighbour discovery (it ignores ping)"
	case (h.Reason == scanner.ReasonTCPOpen || h.Reason == scanner.ReasonTCPReset) && h.Method != probe.TCP:
		return "a TCP connection (it ignores ping)"
	}
	return methodWords(h.Method)
}

func methodWords(m probe.Method) string {
	switch m {
	case probe.Dgram:
		return "ICMP (datagram socket)"
	case probe.Raw:
		return "ICMP (raw socket)"
	case probe.Exec:
		return "the ping program"
	case probe.TCP:
		return "a TCP connection"
	}
	return string(m)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func joinNonEmpty(sep string, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}

// saveLabel stores the label typed for the host.
func (d *detailsView) saveLabel() {
	r, _, ok := d.u.model.Find(d.addr)
	if !ok {
		return
	}
	label := devices.CleanLabel(d.label.Text)
	d.u.store.SetLabel(&r.Host, label, d.u.opts.Now())
	if err := d.u.store.Save(); err != nil {
		d.u.setStatus(err.Error(), true)
	} else if label == "" {
		d.u.setStatus("Label removed.", false)
	} else {
		d.u.setStatus(fmt.Sprintf("Saved %q for %s.", label, r.Addr()), false)
	}
	ch := d.u.model.Touch(d.addr)
	d.u.applyChange(ch)
	d.label.SetText(label)
	d.refresh()
	if d.u.phone && d.u.w.nav != nil {
		d.u.w.nav.SetCurrentTitle(d.title.Text)
	}
}

// applyChange redraws what a model change touched: with one Refresh,
// which binds again only the rows on screen. List.RefreshItem would not
// save that work: it refreshes the whole list before its one row (Fyne
// 2.7), so a batch of 256 updates that called it per row took over a
// second.
func (u *UI) applyChange(ch devices.Change) {
	if ch.Reset || len(ch.Updated) > 0 {
		u.w.list.Refresh()
	}
}

// wakeTarget returns where a magic packet for h goes: the broadcast
// address of the local network h is on. Hosts without a MAC, or not on a
// network of this machine, cannot be woken.
func (d *detailsView) wakeTarget(h *scanner.Host) (netip.AddrPort, error) {
	if len(h.MAC) != 6 || !devices.UsableMAC(h.MAC) {
		return netip.AddrPort{}, errors.New("no MAC address known")
	}
	for _, n := range d.u.networks {
		if n.Prefix.Contains(h.Addr) {
			b, err := wol.Broadcast(n.Prefix)
			if err != nil {
				return netip.AddrPort{}, err
			}
			return netip.AddrPortFrom(b, wol.WakePort), nil
		}
	}
	return netip.AddrPort{}, errors.New("not on this machine's network")
}

// wakeUp sends a Wake-on-LAN packet to the host.
func (d *detailsView) wakeUp() {
	r, _, ok := d.u.model.Find(d.addr)
	if !ok {
		return
	}
	dst, err := d.wakeTarget(&r.Host)
	if err != nil {
		d.u.setStatus("Cannot wake it: "+err.Error(), true)
		return
	}
	mac := r.Host.MAC
	u := d.u
	ctx := u.ctx
	u.goWork(func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := u.backend.WakeOnLAN(ctx, mac, dst)
		fyne.Do(func() {
			if err != nil {
				u.setStatus("Wake-on-LAN failed: "+err.Error(), true)
				return
			}
			u.setStatus(fmt.Sprintf("Wake-on-LAN packet sent to %s via %s.", mac, dst), false)
		})
	})
}

// copy puts text on the clipboard and says so.
func (u *UI) copy(text string) {
	u.app.Clipboard().SetContent(text)
	u.setStatus("Copied "+text+".", false)
}

// startPing pings the host every PingEvery while the view is open and
// plots the answers.
func (d *detailsView) startPing() {
	u := d.u
	ctx, cancel := context.WithCancel(u.ctx)
	d.cancel = cancel
	method, addr, every := u.store.Settings().Method, d.addr, u.opts.PingEvery
	u.goWork(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			pctx, pcancel := context.WithTimeout(ctx, max(every, time.Second))
			rtt, err := u.backend.Ping(pctx, method, addr)
			pcancel()
			if ctx.Err() != nil {
				return
			}
			fyne.Do(func() {
				if ctx.Err() != nil {
					return // closed meanwhile
				}
				d.graph.Add(rtt, err != nil)
				quiet := err == nil || errors.Is(err, probe.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
				if quiet {
					d.pingErr.Hide()
				} else {
					d.pingErr.SetText("Ping failed: " + err.Error())
					d.pingErr.Show()
				}
			})
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// joinReasons lists a host's signs of life for its details.
func joinReasons(rs []scanner.Reason) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ", ")
}

// servicesView lists the host's services (DNS-SD, UPnP, web servers);
// those a browser opens (http, https, IPP printers' consoles) are links.
func (d *detailsView) servicesView(svcs []identify.Service) fyne.CanvasObject {
	box := container.NewVBox()
	for _, s := range svcs {
		text := s.Type
		if s.Instance != "" {
			text = s.Instance + " (" + s.Type + ")"
		}
		if s.Port != 0 {
			text += " :" + strconv.Itoa(int(s.Port))
		}
		for _, k := range []string{"ty", "md", "model", "note"} {
			if v := s.TXT[k]; v != "" && !strings.Contains(text, v) {
				text += " · " + v
			}
		}
		if u, err := url.Parse(s.URL(d.addr)); err == nil && u.Scheme != "" {
			link := widget.NewHyperlink(text, u)
			link.Wrapping = fyne.TextWrapWord
			link.OnTapped = func() {
				if err := d.u.opts.OpenURL(u); err != nil {
					d.u.setStatus("Could not open "+u.String()+": "+err.Error(), true)
				}
			}
			box.Add(link)
			continue
		}
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	return box
}

// identifiedAs says what the host was identified as and why: the kind
// with its confidence, then each piece of evidence, strongest first.
func identifiedAs(id identify.Identity) string {
	var b strings.Builder
	if id.Kind == identify.KindUnknown {
		b.WriteString("unknown: too little evidence")
	} else {
		fmt.Fprintf(&b, "%s (confidence %.0f%%)", id.Kind.Label(), id.Confidence*100)
	}
	if len(id.Evidence) == 0 {
		b.WriteString("; nothing it said points at a kind")
		return b.String()
	}
	b.WriteString(" because:")
	for _, e := range id.Evidence {
		b.WriteString("\n• ")
		b.WriteString(e.String())
	}
	return b.String()
}
