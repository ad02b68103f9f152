package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"netscanner/probe"
)

// methodPurpose says in a few words what each method is and costs.
func methodPurpose(m probe.Method) string {
	switch m {
	case probe.Dgram:
		return "ICMP datagram sockets: real pings without special rights."
	case probe.Raw:
		return "Raw ICMP sockets: real pings, for root or CAP_NET_RAW."
	case probe.Exec:
		return "The system ping program: works, but one process per ping is slow."
	case probe.TCP:
		return "TCP connections: no ICMP at all; misses devices with every port closed."
	}
	return ""
}

// reportSummary is the first paragraph of the report: what is used and
// whether something better can be had.
func reportSummary(r *probe.Report) string {
	if r == nil {
		return "Still checking which ping methods work here."
	}
	if r.Chosen == "" {
		return "No way to ping works on this machine. The steps below say how to enable one."
	}
	s := fmt.Sprintf("Scans use %s.", methodWords(r.Chosen))
	if r.Forced {
		s += " You chose it in Settings."
	}
	switch r.Chosen {
	case probe.Exec, probe.TCP:
		s += " A better method can be enabled: see its command below."
	}
	return s
}

// reportView lays the report out: one card per method with its verdict,
// the reason, and the command that enables it, ready to copy.
func (u *UI) reportView(r *probe.Report) fyne.CanvasObject {
	intro := widget.NewLabel(reportSummary(r))
	intro.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(intro)
	if r == nil {
		return box
	}
	for _, st := range r.Methods {
		icon := theme.CancelIcon()
		verdict := "does not work"
		if st.OK {
			icon, verdict = theme.ConfirmIcon(), "works"
			if st.IPv6 {
				verdict += ", IPv6 too"
			}
		}
		if strings.HasPrefix(st.Reason, "not tried") {
			// Open stops at the first method that works; the rest are
			// judged from the facts alone.
			verdict = "would not work (not tried)"
			if st.OK {
				verdict = "would work (not tried)"
			}
		}
		if st.Method == r.Chosen {
			verdict += " · in use"
		}
		head := widget.NewLabelWithStyle(fmt.Sprintf("%s: %s", st.Method, verdict), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		what := widget.NewLabel(methodPurpose(st.Method))
		what.Wrapping = fyne.TextWrapWord
		what.SizeName = theme.SizeNameCaptionText
		reason := widget.NewLabel(st.Reason)
		reason.Wrapping = fyne.TextWrapWord
		item := container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(icon), nil, head), what, reason)
		if st.Fix != "" {
			fix := widget.NewLabelWithStyle(st.Fix, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
			fix.Selectable = true
			fix.Wrapping = fyne.TextWrapWord
			cp := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { u.copy(st.Fix) })
			item.Add(widget.NewLabel("To enable it, run:"))
			item.Add(container.NewBorder(nil, nil, nil, cp, fix))
		}
		box.Add(widget.NewCard("", "", item))
	}
	return box
}

// showReport explains the ping methods behind the badge.
func (u *UI) showReport() {
	content := container.NewVScroll(u.reportView(u.report))
	d := dialog.NewCustom("How Netscanner pings", "Close", content, u.win)
	size := u.win.Canvas().Size()
	d.Resize(fyne.NewSize(min(640, size.Width-20), min(560, size.Height-40)))
	d.Show()
}
