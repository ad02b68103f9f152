package app

import (
	"fmt"
	"io"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"netscanner/internal/devices"
)

// showExportMenu offers the export formats under the export button.
func (u *UI) showExportMenu() {
	menu := fyne.NewMenu("",
		fyne.NewMenuItem("Export as CSV…", func() { u.exportTo("csv") }),
		fyne.NewMenuItem("Export as JSON…", func() { u.exportTo("json") }),
	)
	b := u.w.export
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b).AddXY(0, b.Size().Height)
	widget.ShowPopUpMenuAtPosition(menu, u.win.Canvas(), pos)
}

// exportTo asks where to save the hosts of the last scan, in format.
func (u *UI) exportTo(format string) {
	rows := u.model.Hosts()
	if len(rows) == 0 {
		u.setStatus("Nothing to export yet: run a scan first.", true)
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			dialog.ShowError(err, u.win)
			return
		}
		if w == nil {
			return // cancelled
		}
		if err := u.export(w, format, rows); err != nil {
			dialog.ShowError(err, u.win)
			return
		}
		u.setStatus(fmt.Sprintf("Exported %s to %s.", plural(len(rows), "host"), w.URI().Name()), false)
	}, u.win)
	d.SetFileName(fmt.Sprintf("netscanner-%s.%s", u.opts.Now().Format("2006-01-02-1504"), format))
	d.SetFilter(storage.NewExtensionFileFilter([]string{"." + format}))
	d.Show()
}

// export writes rows to w in format and closes w.
func (u *UI) export(w io.WriteCloser, format string, rows []*devices.Row) error {
	var err error
	switch format {
	case "csv":
		err = devices.WriteCSV(w, rows)
	default:
		err = devices.WriteJSON(w, rows, u.opts.Now())
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// showMissing lists the remembered devices the last scan did not find.
func (u *UI) showMissing() {
	list := widget.NewList(
		func() int { return len(u.missing) },
		func() fyne.CanvasObject {
			t := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			s := widget.NewLabel("")
			s.SizeName = theme.SizeNameCaptionText
			return container.New(&rowTextLayout{}, t, s)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(u.missing) {
				return
			}
			d := u.missing[i]
			c := o.(*fyne.Container)
			c.Objects[0].(*widget.Label).SetText(d.Title())
			sub := d.Addr
			if d.MAC != "" {
				sub += " · " + d.MAC
			}
			sub += " · first seen " + d.FirstSeen.Local().Format("2 Jan 2006") +
				" · last seen " + sinceWords(u.opts.Now().Sub(d.LastSeen))
			c.Objects[1].(*widget.Label).SetText(sub)
		},
	)
	intro := widget.NewLabel("These devices answered an earlier scan of these addresses, but not this one: switched off, asleep, or gone.")
	intro.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Known devices not found", "Close", container.NewBorder(intro, nil, nil, nil, list), u.win)
	size := u.win.Canvas().Size()
	d.Resize(fyne.NewSize(min(560, size.Width-20), min(480, size.Height-40)))
	d.Show()
}

// sinceWords says how long ago something was, roughly.
func sinceWords(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return "just now"
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}
