package app

import (
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"netscanner/scanner/identify"
)

// allHyperlinks collects the links below o, in order.
func allHyperlinks(o fyne.CanvasObject) []*hyperlinkT {
	switch v := o.(type) {
	case *hyperlinkT:
		return []*hyperlinkT{v}
	case *fyne.Container:
		var out []*hyperlinkT
		for _, c := range v.Objects {
			out = append(out, allHyperlinks(c)...)
		}
		return out
	}
	return nil
}

// An identified host: its row shows the friendly name and model with the
// kind's icon; its details list the services (the printer's console is a
// link) and say what it was identified as, and why.
func TestIdentityInRowAndDetails(t *testing.T) {
	f := newFake()
	h := &f.hosts[1] // 198.18.0.9, the printer
	h.Hostname, h.Names = "BRN30055C010203.local", []string{"BRN30055C010203.local"}
	h.Services = []identify.Service{{Type: "_ipp._tcp", Instance: "Office printer", Port: 631,
		TXT: map[string]string{"ty": "Brother HL-L2350DW series", "note": "Upstairs"}}}
	h.Identity = identify.Identify(h.IdentityFacts("", false))
	u := newTestUI(t, f, filepath.Join(t.TempDir(), "s.json"), Options{PingEvery: time.Millisecond})
	var opened []string
	u.opts.OpenURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	scan(t, u)

	r, _, ok := u.model.Find(netip.MustParseAddr("198.18.0.9"))
	if !ok || r.Kind != identify.KindPrinter || r.Name() != "Office printer" || r.Identity.Model != "Brother HL-L2350DW" {
		t.Fatalf("row %+v", r)
	}
	row := newHostRow(u.w.list)
	row.set(r)
	if row.name.Text != "Office printer" || !strings.Contains(row.sub.Text, "Brother HL-L2350DW") || row.icon.Resource != u.w.list.icons[identify.KindPrinter] {
		t.Errorf("row shows %q / %q", row.name.Text, row.sub.Text)
	}

	u.openDetails(r.Host.Addr)
	<-f.pinged
	d := u.details
	text := test.RenderObjectToMarkup(d.fields)
	for _, want := range []string{"Identified as", "printer (confidence", "because:", "_ipp._tcp ty=Brother HL-L2350DW series",
		"Model", "Brother HL-L2350DW", "Services", "Office printer (_ipp._tcp) :631"} {
		if !strings.Contains(text, want) {
			t.Errorf("details lack %q", want)
		}
	}
	var svc *hyperlinkT
	for _, l := range allHyperlinks(d.fields) {
		if strings.Contains(l.Text, "_ipp._tcp") {
			svc = l
		}
	}
	if svc == nil {
		t.Fatal("the printer's service is no link")
	}
	svc.OnTapped()
	if len(opened) != 1 || opened[0] != "http://198.18.0.9:631/" {
		t.Errorf("opened %v", opened)
	}
	d.cancel()
	u.idle()
	u.closeDetails()
}
